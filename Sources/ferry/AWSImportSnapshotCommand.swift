import AWSTarget
import ArgumentParser
import FerryCore
import FerryKit
import Foundation
import PhysicalSource

struct AWSImportSnapshotCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import-snapshot",
        abstract: "Upload a raw disk image as an EBS snapshot through the EBS direct APIs.",
        discussion: """
            Sends every 512 KiB block that holds data (zero blocks are skipped). With --parent the \
            snapshot builds on that one: blocks the image holds are written over the parent's, \
            and parent blocks that are now empty are zeroed. Prints the snapshot id, what was \
            sent and the rate.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: ArgumentHelp("A raw disk image or block device.", valueName: "image"))
    var image: String

    @Option(help: "The snapshot's name (default: the image's file name).")
    var name: String?

    @Option(help: ArgumentHelp("A snapshot to build on (snap-…): an incremental import.", valueName: "snapshot-id"))
    var parent: String?

    @Option(help: "Blocks uploaded at once.")
    var concurrency: Int = 8

    @OptionGroup var connection: AWSConnectionOptions

    struct Result: Encodable {
        var snapshotID: String
        var image: String
        var imageBytes: UInt64
        var blocksUploaded: Int
        var bytesSent: UInt64
        var seconds: Double
        var megabytesPerSecond: Double
    }

    func run() async throws {
        var options = connection.adapterOptions
        options["upload-concurrency"] = String(concurrency)
        let adapter = AWSTargetAdapter(options: options)
        let reader = try FileRegionReader(path: image)
        let parentVolume = parent.map { ImportedVolume(id: $0, kind: .snapshot, sizeBytes: reader.size) }
        let request = VolumeImportRequest(name: name ?? URL(fileURLWithPath: image).lastPathComponent, source: reader, parent: parentVolume)
        let started = Date()
        let imported = try await adapter.importSnapshot(request)
        let seconds = Date().timeIntervalSince(started)
        let result = Result(
            snapshotID: imported.snapshotID, image: image, imageBytes: reader.size, blocksUploaded: imported.blocksUploaded,
            bytesSent: imported.bytesSent, seconds: seconds, megabytesPerSecond: Double(imported.bytesSent) / 1_048_576 / max(seconds, 1e-9)
        )
        switch global.output {
        case .json:
            try Output.json(result)
        case .text:
            print("Imported \(image) as \(result.snapshotID)")
            print("  sent \(result.blocksUploaded) blocks (\(Output.bytes(result.bytesSent)) of \(Output.bytes(result.imageBytes))) in \(String(format: "%.2f", seconds)) s, \(String(format: "%.1f", result.megabytesPerSecond)) MiB/s")
        }
    }
}
