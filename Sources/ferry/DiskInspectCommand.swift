import ArgumentParser
import FerryCore
import FerryKit

struct DiskInspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a disk's format, size, allocated bytes, partitions and file systems."
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "A raw image, a block device, a .vmdk, or a .vmx, .ovf or .ova (with --disk).")
    var source: String

    @Option(help: "Which disk of a .vmx, .ovf or .ova: its index (0 is the first) or its name.")
    var disk: String?

    func run() throws {
        let opened = try DiskSource.open(source, disk: disk)
        let inspection = try DiskInspection.inspect(opened.reader, format: opened.format, disk: source)
        if global.output == .json {
            try Output.json(inspection)
            return
        }
        print("\(source): \(inspection.format)")
        print("  virtual size:    \(Output.bytes(inspection.virtualSize)) (\(inspection.virtualSize) bytes)")
        print("  allocated:       \(Output.bytes(inspection.allocatedBytes))")
        print("  partition table: \(inspection.partitionTable?.rawValue.uppercased() ?? "none")")
        if let fs = inspection.fileSystem { print("  file system:     \(Self.describe(fs))") }
        guard !inspection.partitions.isEmpty else { return }
        print()
        Output.table(
            ["#", "TYPE", "START", "SIZE", "BOOT", "FILE SYSTEM"],
            inspection.partitions.map { p in
                [String(p.number), p.typeName, String(p.offset), Output.bytes(p.size), p.bootable ? "*" : "",
                 p.fileSystem.map(Self.describe) ?? "-"]
            }
        )
    }

    static func describe(_ fs: FileSystemInfo) -> String {
        var text = fs.version ?? fs.type
        if let label = fs.label { text += " label=\(label)" }
        if let uuid = fs.uuid { text += " uuid=\(uuid)" }
        return text
    }
}
