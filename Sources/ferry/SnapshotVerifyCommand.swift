import ArgumentParser
import FerryCore
import FerryKit

struct SnapshotVerifyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "verify", abstract: "Re-read and re-hash every chunk of a snapshot.")

    @Argument(help: "The snapshot's id (pit-…).")
    var id: String

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let result = try StagingStore(workspace: global.openWorkspace()).verify(snapshotID: id)
        switch global.output {
        case .json: try Output.json(result)
        case .text:
            for failure in result.failures { print("FAILED \(failure)") }
            print(result.isIntact ? "Snapshot \(id) is intact: \(result.blocksChecked) blocks re-hashed" : "Snapshot \(id) is damaged: \(result.failures.count) of \(result.blocksChecked) blocks failed")
        }
        if !result.isIntact { throw ExitCode(2) }
    }
}
