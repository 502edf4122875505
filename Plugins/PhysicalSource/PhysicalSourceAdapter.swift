import FerryCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Physical machines and raw disks: the machine Ferry runs on, raw image files and block
/// devices, all read-only.
public struct PhysicalSourceAdapter: SourceAdapter {
    /// Reads image formats (qcow2) and partition tables: the engine's parsers, handed in so
    /// that this adapter depends on the core alone.
    public let diskImages: any DiskImageReading

    public init(diskImages: any DiskImageReading) {
        self.diskImages = diskImages
    }

    public let descriptor = AdapterDescriptor(
        name: "physical",
        kind: .source,
        version: "0.2.0",
        summary: "Physical machines and raw disks: this machine's facts and disks, raw image files and block devices, read-only",
        capabilities: [.discovery, .blockRead, .changeTracking],
        options: [
            AdapterOption(name: "disk", type: .path, help: "a raw or qcow2 disk image file, or a block device (one machine with that disk)"),
            AdapterOption(name: "local", type: .boolean, defaultValue: "false", help: "discover the machine Ferry runs on: OS, CPUs, memory, NICs, disks"),
            AdapterOption(name: "facts", type: .path, help: "a JSON file with the machine's facts (hostname, operatingSystem, cpuCount, memoryBytes, networkInterfaces, bootMode)"),
            AdapterOption(name: "hostname", type: .string, help: "the machine's name (default: the image's file name)"),
            AdapterOption(name: "include-all-devices", type: .boolean, defaultValue: "false", help: "with local: also list loop, ram and read-only devices"),
        ]
    )

    public func discoverMachines(configuration: AdapterConfiguration) async throws -> [MachineFacts] {
        var facts: MachineFacts
        if configuration.boolean("local") == true {
            facts = LocalMachine(includeAllDevices: configuration.boolean("include-all-devices") == true).facts()
        } else if let path = configuration["disk"] {
            facts = try imageFacts(path: path)
        } else {
            throw AdapterError.missingOption(adapter: descriptor.name, option: "disk", help: "a raw disk image or block device (or local=true for this machine)")
        }
        if let factsPath = configuration["facts"] {
            facts = try MachineFactsFile.load(path: factsPath).applied(to: facts)
        }
        if let hostname = configuration["hostname"] { facts.hostname = hostname }
        return [facts]
    }

    /// A raw image or device; a qcow2 file (a KVM host's disk, a sandbox instance's) is read
    /// through its clusters.
    public func openDisk(_ disk: DiskFacts, configuration: AdapterConfiguration) throws -> any BlockReader {
        // A disk of this machine is read past its page cache: a file system writes through
        // its files' pages, and a buffered read of the device may return a block as it was.
        var info = stat()
        if stat(disk.locator, &info) == 0, info.st_mode & S_IFMT == S_IFBLK { return try DirectDeviceReader(path: disk.locator) }
        if let image = try diskImages.openImage(at: disk.locator) { return image.reader }
        return try FileRegionReader(path: disk.locator)
    }

    /// What a raw image tells about its machine: its one disk with the size and partition
    /// table, the boot mode the partition table implies, and the OS family its file
    /// systems suggest.
    public func imageFacts(path: String) throws -> MachineFacts {
        let image = try diskImages.openImage(at: path)
        let reader: any BlockReader = try image?.reader ?? FileRegionReader(path: path)
        let url = URL(fileURLWithPath: path)
        let layout = try diskImages.layout(of: reader, disk: path)
        var model = image.map { "\($0.format) image" } ?? "raw image"
        var bootMode: BootMode?
        if let scheme = layout.partitionScheme {
            model += ", \(scheme.uppercased()) with \(layout.partitions.count) partition\(layout.partitions.count == 1 ? "" : "s")"
            let hasESP = layout.partitions.contains { $0.typeName == "EFI System" }
            bootMode = hasESP ? .uefi : (scheme == "mbr" ? .legacyBIOS : nil)
        }
        let fileSystems = layout.fileSystemTypes
        let family = fileSystems.contains("ntfs") ? "windows"
            : fileSystems.contains(where: { ["ext2", "ext3", "ext4", "xfs", "swap"].contains($0) }) ? "linux" : "unknown"
        return MachineFacts(
            hostname: url.deletingPathExtension().lastPathComponent,
            operatingSystem: OperatingSystem(family: family),
            disks: [DiskFacts(name: url.lastPathComponent, sizeBytes: reader.size, locator: path, model: model, isBoot: true)],
            bootMode: bootMode
        )
    }
}
