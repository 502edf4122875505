import ArgumentParser
import FerryCore
import FerryKit

struct SnapshotExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export", abstract: "Write a snapshot's disk as a sparse raw image.")

    @Argument(help: "The snapshot's id (pit-…).")
    var id: String

    @Option(help: "Which disk of the snapshot (0 is the first).")
    var disk = 0

    @Option(name: [.customShort("o"), .customLong("out")], help: ArgumentHelp("Where to write the raw image.", valueName: "file"))
    var out: String

    @OptionGroup var global: GlobalOptions

    func run() throws {
        let store = try StagingStore(workspace: global.openWorkspace())
        try store.exportRaw(snapshotID: id, diskIndex: disk, to: out)
        print("Exported disk \(disk) of snapshot \(id) to \(out)")
    }
}
