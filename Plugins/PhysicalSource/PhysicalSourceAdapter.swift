import Foundation
import FerryKit

/// Physical machines and raw disks: raw image files and block devices.
public struct PhysicalSourceAdapter: SourceAdapter {
    public init() {}

    public let descriptor = AdapterDescriptor(
        name: "physical",
        kind: .source,
        version: "0.1.0",
        summary: "Physical machines and raw disks: raw image files and block devices, read-only",
        capabilities: [.discovery, .blockRead],
        options: [
            AdapterOption(name: "disk", type: .path, isRequired: true, help: "a raw disk image file or a block device"),
            AdapterOption(name: "hostname", type: .string, help: "the machine's name (default: the image's file name)"),
        ]
    )

    /// One machine with the one disk named by the `disk` option.
    public func discoverMachines(configuration: AdapterConfiguration) async throws -> [MachineFacts] {
        guard let path = configuration["disk"] else {
            throw AdapterError.missingOption(adapter: descriptor.name, option: "disk", help: "a raw disk image file or a block device")
        }
        let reader = try RawDiskReader(path: path)
        let name = URL(fileURLWithPath: path).lastPathComponent
        let hostname = configuration["hostname"] ?? URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        return [MachineFacts(hostname: hostname, disks: [DiskFacts(name: name, sizeBytes: reader.size, locator: path, isBoot: true)])]
    }

    public func openDisk(_ disk: DiskFacts, configuration: AdapterConfiguration) throws -> any BlockReader {
        try RawDiskReader(path: disk.locator)
    }
}
