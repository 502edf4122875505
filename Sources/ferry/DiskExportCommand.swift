import ArgumentParser
import FerryCore
import FerryKit
import Foundation
import VMwareSource

struct DiskExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Copy a disk into a new image: sparse raw, streamOptimized VMDK or qcow2.",
        discussion: "vmdk means streamOptimized, the subformat other hypervisors import."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "A raw image, a block device, a .vmdk, or a .vmx, .ovf or .ova (with --disk); or nothing with --adapter.")
    var source: String?

    @Option(help: ArgumentHelp("Read the disk through this source adapter (built in or external) instead of from a file.", valueName: "name"))
    var adapter: String?

    @Option(name: .customLong("option"), help: ArgumentHelp("With --adapter: an adapter option, as name=value (repeatable).", valueName: "name=value"))
    var options: [String] = []

    // -o, as qemu-img and cp users expect; --output is taken by the output format.
    @Option(name: [.customShort("o"), .customLong("to")], help: "The image to write.")
    var destination: String

    @Option(help: "raw, vmdk or qcow2.")
    var format: ExportFormat = .raw

    @Option(help: "Which disk of a .vmx, .ovf or .ova, or of what --adapter finds: its index (0 is the first) or its name.")
    var disk: String?

    enum ExportFormat: String, ExpressibleByArgument, CaseIterable {
        case raw, vmdk, qcow2
    }

    struct Result: Encodable {
        var source: String
        var sourceFormat: String
        var output: String
        var format: String
        var virtualSize: UInt64
        var outputFileSize: UInt64
        var seconds: Double
    }

    func run() async throws {
        let opened: DiskSource
        switch (source, adapter) {
        case (let path?, nil):
            opened = try DiskSource.open(path, disk: disk)
        case (nil, let name?):
            opened = try await DiskSource.open(adapter: name, options: try OptionPairs.parse(options), disk: disk, workspaceRoot: global.workspaceURL)
        default:
            throw ValidationError("name a disk image, or --adapter NAME with its --option values (not both)")
        }
        let source = self.source ?? "adapter \(adapter ?? "")"
        let writer: any DiskImageWriter = switch format {
        case .raw: SparseRawWriter()
        case .vmdk: StreamOptimizedWriter()
        case .qcow2: QCOW2Writer()
        }
        let started = Date()
        let showProgress = global.output == .text && isatty(STDERR_FILENO) == 1
        var progress: (@Sendable (DiskCopyProgress) -> Void)?
        if showProgress { progress = { update in Self.show(update, since: started) } }
        // Minutes of reads and writes, waiting on the batch reads: not on the cooperative pool.
        let (reader, destination, report) = (opened.reader, self.destination, progress)
        try await BlockingWork.run { try writer.write(reader, to: destination, progress: report) }
        if showProgress { FileHandle.standardError.write(Data("\n".utf8)) }
        let written = (try? FileManager.default.attributesOfItem(atPath: destination)[.size] as? NSNumber)?.uint64Value ?? 0
        let result = Result(source: source, sourceFormat: opened.format, output: destination, format: writer.format,
                            virtualSize: opened.reader.size, outputFileSize: written, seconds: Date().timeIntervalSince(started))
        if global.output == .json {
            try Output.json(result)
        } else {
            print("Exported \(source) (\(result.sourceFormat), \(Output.bytes(result.virtualSize))) to \(destination) as \(result.format) in \(String(format: "%.1f", result.seconds)) s")
        }
    }

    /// One line on the terminal, rewritten in place: percent, bytes, rate, ETA.
    @Sendable static func show(_ progress: DiskCopyProgress, since started: Date) {
        let percent = progress.bytesTotal == 0 ? 100 : Double(progress.bytesDone) * 100 / Double(progress.bytesTotal)
        let elapsed = Date().timeIntervalSince(started)
        let rate = elapsed > 0 ? Double(progress.bytesDone) / elapsed : 0
        let eta = rate > 0 ? Double(progress.bytesTotal - progress.bytesDone) / rate : 0
        let line = String(format: "%5.1f%%", percent) + "  \(Output.bytes(progress.bytesDone)) of \(Output.bytes(progress.bytesTotal))"
            + "  \(Output.bytes(UInt64(rate)))/s  ETA \(Int(eta)) s   "
        FileHandle.standardError.write(Data(("\r" + line).utf8))
    }
}
