import ArgumentParser
import FerryCore
import FerryKit

struct AdaptersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "adapters",
        abstract: "List the source and target adapters, their capabilities and options."
    )

    @OptionGroup var global: GlobalOptions

    func run() throws {
        // Every plugin on the path: this is where a broken one shows.
        let installed = try InstalledAdapters.load(workspaceRoot: global.workspaceURL)
        let descriptors = installed.registry.descriptors
        let broken = installed.plugins.broken
        switch global.output {
        case .json:
            try Output.json(descriptors.map { AdapterListing($0, path: installed.pluginPath(of: $0.name)) } + broken.map(AdapterListing.init))
        case .text:
            Output.table(
                ["NAME", "KIND", "VERSION", "ORIGIN", "STATUS", "CAPABILITIES"],
                descriptors.map { d in
                    [d.name, d.kind.rawValue, d.version, installed.pluginPath(of: d.name) == nil ? "built-in" : "external",
                     d.availability.isAvailable ? "available" : "not built",
                     d.capabilities.isEmpty ? "-" : d.capabilities.map(\.rawValue).joined(separator: ",")]
                } + broken.map { [$0.name, "-", "-", "external", "broken", "-"] }
            )
            for d in descriptors {
                print("\n\(d.name): \(d.summary)")
                if let path = installed.pluginPath(of: d.name) { print("  external: \(path)") }
                if case .unavailable(let reason) = d.availability { print("  not available: \(reason)") }
                for option in d.options {
                    var line = "  --\(option.name) <\(option.type)>  \(option.help)"
                    if let value = option.defaultValue { line += " (default: \(value))" }
                    if option.isRequired { line += " (required)" }
                    print(line)
                }
            }
            for plugin in broken {
                print("\n\(plugin.name): broken, not loaded\n  external: \(plugin.path)\n  \(plugin.reason)")
            }
        }
    }
}

/// The JSON shape of one adapter in `ferry adapters --output json`.
struct AdapterListing: Encodable {
    struct Option: Encodable {
        var name: String
        var type: String
        var `default`: String?
        var required: Bool
        var help: String
    }

    var name: String
    var kind: String?
    var version: String?
    var summary: String
    var available: Bool
    /// A plugin that was found but failed its handshake; `unavailableReason` says why.
    var broken = false
    var unavailableReason: String?
    var capabilities: [String]
    var options: [Option]
    /// "built-in" or "external".
    var origin: String
    /// The executable of an external adapter.
    var path: String?

    init(_ d: AdapterDescriptor, path: String? = nil) {
        origin = path == nil ? "built-in" : "external"
        self.path = path
        name = d.name
        kind = d.kind.rawValue
        version = d.version
        summary = d.summary
        available = d.availability.isAvailable
        if case .unavailable(let reason) = d.availability { unavailableReason = reason }
        capabilities = d.capabilities.map(\.rawValue)
        options = d.options.map { Option(name: $0.name, type: $0.type.description, default: $0.defaultValue, required: $0.isRequired, help: $0.help) }
    }

    init(_ plugin: BrokenPlugin) {
        name = plugin.name
        summary = ""
        available = false
        broken = true
        unavailableReason = plugin.reason
        capabilities = []
        options = []
        origin = "external"
        path = plugin.path
    }
}
