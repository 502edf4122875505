import ArgumentParser
import FerryCore
import FerryKit
import Foundation

struct SnapshotExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "export", abstract: "Write a snapshot's disk as a sparse raw image.")

    @Argument(help: "The snapshot's id (pit-…).")
    var id: String

    @Option(help: "Which disk of the snapshot (0 is the first).")
    var disk = 0

    // `-o`/`--to` as in `disk export`: `--output` is the format everywhere.
    @Option(name: [.customShort("o"), .customLong("to")], help: ArgumentHelp("Where to write the raw image.", valueName: "file"))
    var to: String?

    /// The spelling of earlier versions, still accepted so that scripts keep working; hidden,
    /// because it is too close to `--output`.
    @Option(name: .customLong("out"), help: .hidden)
    var deprecatedOut: String?

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        if to != nil, deprecatedOut != nil { throw ValidationError("--out is the old name of --to: give one of them") }
        if to == nil, deprecatedOut == nil { throw ValidationError("Missing expected argument '--to <file>' (or -o <file>)") }
    }

    func run() throws {
        if deprecatedOut != nil { FileHandle.standardError.write(Data("warning: --out is deprecated; use --to (or -o)\n".utf8)) }
        let file = to ?? deprecatedOut ?? ""
        let store = try StagingStore(workspace: global.openWorkspace())
        try store.exportRaw(snapshotID: id, diskIndex: disk, to: file)
        print("Exported disk \(disk) of snapshot \(id) to \(file)")
    }
}
