import ArgumentParser
import FerryCore
import FerryKit
import Foundation
import SandboxTarget

struct DiskInspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a disk's format, size, allocated bytes, partitions and file systems; with --os, the system on it.",
        discussion: """
            --os boots the Machine Converter's appliance (this machine's kernel under QEMU, about \
            10 s) with the disk attached read-only, and shows what a conversion starts from: the \
            OS, kernels and whether their initramfs holds each target's drivers, the bootloader \
            and its root=, fstab, the network configuration, hypervisor tools, cloud-init, and \
            whether the converter can convert it. A disk that is not a raw image is first copied \
            to a sparse raw file in the temporary folder. The disk is never changed.
            """
    )

    @OptionGroup var global: GlobalOptions

    @Argument(help: "A raw image, a block device, a .vmdk, or a .vmx, .ovf or .ova (with --disk).")
    var source: String

    @Option(help: "Which disk of a .vmx, .ovf or .ova: its index (0 is the first) or its name.")
    var disk: String?

    @Flag(help: "Also look at the system on the disk (OS, kernels, drivers, bootloader, fstab, network), as the Machine Converter does.")
    var os = false

    /// The disk's layout and, with --os, its system and whether it boots on each target as it
    /// is (the JSON of `--output json`; nil where that cannot be told).
    struct Shown: Encodable {
        var disk: DiskInspection
        var system: GuestInspection?

        func encode(to encoder: any Encoder) throws {
            try disk.encode(to: encoder)  // the layout's fields stay at the top, as without --os
            var container = encoder.container(keyedBy: Key.self)
            try container.encodeIfPresent(system, forKey: .system)
            if let system {
                let verdicts = Dictionary(uniqueKeysWithValues: TargetPlatform.allCases.map { ($0.rawValue, system.bootability(on: $0)) })
                try container.encode(verdicts, forKey: .bootsAsIs)
            }
        }

        enum Key: String, CodingKey { case system, bootsAsIs }
    }

    func run() throws {
        let opened = try DiskSource.open(source, disk: disk)
        let inspection = try DiskInspection.inspect(opened.reader, format: opened.format, disk: source)
        if os, inspection.partitionTable == nil, inspection.fileSystem == nil {
            throw CommandRefusal("\(source) has no partition table and no file system Ferry recognises: there is no system on it to look at")
        }
        let system = os ? try inspectSystem(opened) : nil
        if global.output == .json {
            try Output.json(Shown(disk: inspection, system: system))
            return
        }
        defer { if let system { print(); Self.printSystem(system) } }
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

    /// The appliance reads raw images only: anything else is copied to a sparse raw file first.
    private func inspectSystem(_ opened: DiskSource) throws -> GuestInspection {
        let appliance = ConverterAppliance()
        if opened.format == "raw", FileManager.default.fileExists(atPath: source), !source.hasPrefix("/dev/") {
            return try appliance.inspect(diskAt: source)
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-inspect-\(UUID().uuidString.prefix(8))", isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let copy = folder.appendingPathComponent("disk.raw").path
        try SparseRawWriter().write(opened.reader, to: copy, progress: nil)
        return try appliance.inspect(diskAt: copy)
    }

    static func printSystem(_ system: GuestInspection) {
        print("System: \(system.summary)")
        if let os = system.operatingSystem { print("  OS:             \(os.prettyName) (family \(os.family.rawValue), \(os.distribution) \(os.version))") }
        if let root = system.rootDevice { print("  root:           \(Self.partitionName(root))") }
        print("  firmware:       \(system.firmware ?? "-")")
        for kernel in system.kernels {
            let drivers = kernel.drivers.map { d in "\(d.name)=\(d.availableAtBoot ? "at boot" : d.availability == .missing ? "missing" : "module, not in initramfs")" }
            print("  kernel:         \(kernel.version) (\(drivers.joined(separator: ", ")))")
        }
        if let bootloader = system.bootloader {
            print("  bootloader:     \(bootloader.name) \(bootloader.configPath ?? "") root=\(bootloader.rootArgument ?? "?")")
        }
        print("  initramfs tool: \(system.initramfsTool ?? "none")")
        for entry in system.fstab { print("  fstab:          \(entry.spec) \(entry.mountPoint) \(entry.type)") }
        if let network = system.network {
            print("  network:        \(network.tools.joined(separator: ", "))")
            for interface in network.interfaces {
                print("    \(interface.name): \(interface.method) \(interface.addresses.joined(separator: " ")) (\(interface.file))")
            }
            for rule in network.namingRules { print("    naming rule \(rule.file): \(rule.match) -> \(rule.name)") }
        }
        print("  hypervisor:     \(system.hypervisorTools.isEmpty ? "none" : system.hypervisorTools.joined(separator: ", "))")
        print("  cloud-init:     \(system.cloudInit ? "yes" : "no"); first-boot hooks: \(system.firstBootHooks.isEmpty ? "none" : system.firstBootHooks.joined(separator: ", "))")
        if let hostname = system.hostname { print("  hostname:       \(hostname)") }
        for platform in TargetPlatform.allCases {
            let label = "boots on \(platform.rawValue):"
            let verdict = system.bootability(on: platform).map { $0 ? "yes" : (system.convertible ? "no, until converted" : "no") } ?? "unknown (no kernel the converter can read)"
            print("  \(label)\(String(repeating: " ", count: max(1, 16 - label.count)))\(verdict) (\(platform.summary))")
        }
        print("  convertible:    \(system.convertible ? "yes" : "no: " + system.reasons.joined(separator: "; "))")
    }

    /// The appliance sees the disk as /dev/vda: its partition N is the disk's partition N.
    static func partitionName(_ device: String) -> String {
        if device == "/dev/vda" { return "the whole disk" }
        if device.hasPrefix("/dev/vda"), let number = Int(device.dropFirst("/dev/vda".count)) { return "partition \(number)" }
        return device
    }

    static func describe(_ fs: FileSystemInfo) -> String {
        var text = fs.version ?? fs.type
        if let label = fs.label { text += " label=\(label)" }
        if let uuid = fs.uuid { text += " uuid=\(uuid)" }
        return text
    }
}
