import ArgumentParser
import FerryCore
import FerryKit

struct SourceListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List the source servers of the workspace.")

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let servers = try global.openWorkspace().sourceServers.list()
        switch global.output {
        case .json:
            try Output.json(servers)
        case .text:
            if servers.isEmpty {
                print("No source servers yet. Install the agent on a machine (ferry agent) or add one (ferry source add).")
                return
            }
            Output.table(
                ["ID", "HOSTNAME", "ADAPTER", "LIFECYCLE", "REPLICATION", "DISKS"],
                servers.map { s in
                    [s.id, s.facts.hostname, s.adapter, s.lifecycleState.rawValue, s.dataReplicationState.rawValue,
                     Output.bytes(s.facts.disks.reduce(0) { $0 + $1.sizeBytes })]
                }
            )
        }
    }
}
