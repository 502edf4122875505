import ArgumentParser
import FerryCore
import FerryKit

struct SourceAddCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Register source servers found by a source adapter, with their facts and disks.",
        discussion: """
            ferry source add --adapter physical --local
            ferry source add --adapter physical --disk web1.img --facts web1.json
            ferry source add --adapter vmware --path web1.vmx   (or a .vmdk, .ovf, .ova)
            ferry source add --adapter qcow2 --option path=web1.qcow2   (an external adapter)
            """
    )

    @OptionGroup var global: GlobalOptions

    @Option(help: "The source adapter: physical, vmware, or an external one (see `ferry adapters`).")
    var adapter: String

    @Option(help: "physical: a raw disk image or a block device.")
    var disk: String?

    @Flag(help: "physical: this machine.")
    var local = false

    @Option(help: "physical: a JSON file with the machine's facts.")
    var facts: String?

    @Option(help: "physical: the machine's name.")
    var hostname: String?

    @Option(help: "vmware: a .vmx, .vmdk, .ovf or .ova file.")
    var path: String?

    @Option(name: .customLong("option"), help: ArgumentHelp("Any adapter option, as name=value (repeatable).", valueName: "name=value"))
    var options: [String] = []

    func run() async throws {
        let workspace = try global.openWorkspace()
        let source = try InstalledAdapters.source(named: adapter, workspaceRoot: global.workspaceURL)
        var values: [String: String] = [:]
        if let disk { values["disk"] = disk }
        if local { values["local"] = "true" }
        if let facts { values["facts"] = facts }
        if let hostname { values["hostname"] = hostname }
        if let path { values["path"] = path }
        values.merge(try OptionPairs.parse(options)) { $1 }
        let configuration = try AdapterConfiguration(values, for: source.descriptor)
        let machines = try await source.discoverMachines(configuration: configuration)
        let servers = machines.map { SourceServer(adapter: adapter, facts: $0) }
        for server in servers { try workspace.sourceServers.save(server) }
        switch global.output {
        case .json:
            try Output.json(servers)
        case .text:
            Output.table(
                ["ID", "HOSTNAME", "OS", "CPUS", "MEMORY", "DISKS"],
                servers.map { s in
                    [s.id, s.facts.hostname, s.facts.operatingSystem.name.isEmpty ? s.facts.operatingSystem.family : s.facts.operatingSystem.name,
                     String(s.facts.cpuCount), Output.bytes(s.facts.memoryBytes),
                     s.facts.disks.map { "\($0.name) \(Output.bytes($0.sizeBytes))" }.joined(separator: ", ")]
                }
            )
        }
    }
}
