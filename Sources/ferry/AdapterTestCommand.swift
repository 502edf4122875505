import ArgumentParser
import FerryCore
import FerryKit
import Foundation

struct AdapterTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Run the conformance kit against an adapter, built in or external.",
        discussion: """
            ferry adapter test physical --option disk=web1.img
            ferry adapter test vmware --option path=web1.vmx
            ferry adapter test qcow2 --option path=web1.qcow2      (a plugin on FERRY_PLUGIN_PATH)
            Exits with status 1 when a check fails.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The adapter's name (see `ferry adapters`).")
    var name: String

    @Option(name: .customLong("option"), help: ArgumentHelp("An adapter option, as name=value (repeatable).", valueName: "name=value"))
    var options: [String] = []

    @Flag(help: "Only the structural checks: the descriptor and discovery.")
    var structural = false

    @Flag(help: "The disks are scratch copies: to check that change stamps follow writes, rewrite the middle byte of each disk's file with its own value (the disk reads as before).")
    var writeToDisks = false

    func run() async throws {
        let installed = try InstalledAdapters.load(workspaceRoot: global.workspaceURL, only: [name])
        var checks: [ConformanceCheck]
        var origin = "built-in"
        if let broken = installed.plugins.broken.first(where: { $0.name == name }), (try? installed.registry.adapter(named: name)) == nil {
            origin = "external: \(broken.path)"
            checks = [ConformanceCheck(id: "handshake", title: "plugin handshake", outcome: .fail, detail: broken.reason, isStructural: true)]
        } else {
            let adapter = try installed.adapter(named: name)
            if let path = installed.pluginPath(of: name) {
                origin = "external: \(path)"
                checks = [ConformanceCheck(id: "handshake", title: "plugin handshake", outcome: .pass,
                                           detail: "speaks plugin protocol \(PluginProtocol.currentVersion) and describes itself as '\(name)'", isStructural: true)]
            } else {
                checks = []
            }
            let configuration = try AdapterConfiguration(try OptionPairs.parse(options), for: adapter.descriptor)
            var kit = AdapterConformanceKit(adapter: adapter, configuration: configuration, structuralOnly: structural,
                                            diskChange: writeToDisks ? .rewriteMiddleByte : nil)
            kit.diskChangeRefusal = "pass --write-to-disks, on scratch copies, to let the kit rewrite one byte of each disk's file with its own value"
            checks += await kit.run()
        }
        let failed = checks.filter { $0.outcome == .fail }
        switch global.output {
        case .json:
            try Output.json(ConformanceReport(adapter: name, origin: origin, passed: failed.isEmpty, checks: checks))
        case .text:
            print("Conformance of adapter '\(name)' (\(origin))")
            for check in checks {
                print("\(check.outcome.rawValue.uppercased().padding(toLength: 4, withPad: " ", startingAt: 0))  \(check.title)")
                print("      \(check.detail)")
            }
            let passed = checks.filter { $0.outcome == .pass }.count
            print("\(passed) passed, \(failed.count) failed, \(checks.count - passed - failed.count) skipped")
        }
        if !failed.isEmpty { throw ExitCode(1) }
    }
}

/// The JSON shape of `ferry adapter test --output json`.
struct ConformanceReport: Encodable {
    var adapter: String
    var origin: String
    var passed: Bool
    var checks: [ConformanceCheck]
}

/// `--option name=value` arguments as a dictionary.
enum OptionPairs {
    static func parse(_ options: [String]) throws -> [String: String] {
        var values: [String: String] = [:]
        for option in options {
            guard let equals = option.firstIndex(of: "=") else { throw ValidationError("--option '\(option)' must be name=value") }
            values[String(option[..<equals])] = String(option[option.index(after: equals)...])
        }
        return values
    }
}
