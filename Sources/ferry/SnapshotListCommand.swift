import ArgumentParser
import FerryCore
import FerryKit

struct SnapshotListCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List snapshots, newest first.")

    @Argument(help: "Only this source server's snapshots (s-…).")
    var server: String?

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let workspace = try global.openWorkspace()
        if let server { _ = try workspace.sourceServers.find(id: server) }
        let snapshots = try StagingStore(workspace: workspace).snapshots(sourceServerID: server)
        switch global.output {
        case .json:
            try Output.json(snapshots)
        case .text:
            if snapshots.isEmpty {
                print("No snapshots yet: they are committed at the end of each replication pass.")
                return
            }
            Output.table(
                ["ID", "SOURCE SERVER", "TAKEN AT", "DISKS"],
                snapshots.map { s in
                    [s.id, s.sourceServerID, s.takenAt.ISO8601Format(),
                     s.disks.map { "\($0.diskIndex): \(Output.bytes($0.sizeBytes)), \($0.allocatedBlockCount) blocks" }.joined(separator: "; ")]
                }
            )
        }
    }
}
