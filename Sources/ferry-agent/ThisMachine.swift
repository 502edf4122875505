import FerryCore
import FerryReplication
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import PhysicalSource

/// This machine as the agent sees it from inside: its facts from /proc and /sys (never the
/// workbench's), and its disks, block devices read in place.
enum ThisMachine {
    static func discover(disks: [String] = []) async throws -> AgentMachine {
        let physical = PhysicalSourceAdapter(diskImages: BlockDevicesOnly())
        return try await AgentMachine.local(through: physical, configuration: try AdapterConfiguration(["local": "true"], for: physical.descriptor),
                                            paths: disks, hostname: nil)
    }

    /// "4 GiB", "512 MiB": as the installer shows a disk.
    static func size(_ bytes: UInt64) -> String {
        if bytes >= 1 << 30, bytes % (1 << 30) == 0 { return "\(bytes >> 30) GiB" }
        if bytes >= 1 << 30 { return String(format: "%.1f GiB", Double(bytes) / Double(1 << 30)) }
        return "\(bytes >> 20) MiB"
    }
}

/// The agent reads block devices byte for byte, directly (`DirectDeviceReader`): it has no
/// image formats to open (those are the workbench's) and needs no partition table to
/// replicate a disk. A regular file (a test's image) is read as it is.
struct BlockDevicesOnly: DiskImageReading {
    func openImage(at path: String) throws -> DiskImage? {
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFBLK else { return nil }
        return DiskImage(format: "block device", reader: try DirectDeviceReader(path: path))
    }
    func layout(of reader: any BlockReader, disk: String) throws -> DiskLayout {
        DiskLayout(partitionScheme: nil, partitions: [], fileSystemType: nil)
    }
}
