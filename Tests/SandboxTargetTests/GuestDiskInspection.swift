import Foundation
import FerryTestSupport
@testable import SandboxTarget
#if canImport(Glibc)
import Glibc
#endif

/// The Debian guest disks of this test run, built once through GuestImageCache in the run's
/// folder (GuestImageTestCache), which the CLI tests' `ferry` processes share.
enum GuestDisks {
    private static let cache = GuestImageCache(directory: GuestImageTestCache.directory)

    static func disk(_ profile: GuestProfile) throws -> String {
        try cache.disk(for: profile) { print("[\(profile.rawValue)] \($0)") }
    }

    /// GRUB's boot code and the partition table's signature are in the first sector.
    static func isBootSectorOf(_ path: String) throws -> Bool {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        let sector = try handle.read(upToCount: 512) ?? Data()
        return sector.count == 512 && sector[510] == 0x55 && sector[511] == 0xaa && sector[446] == 0x80 && sector.prefix(440).contains { $0 != 0 }
    }
}

/// A guest disk's root file system read in place with debugfs (no mount).
struct GuestDisk {
    let device: String

    init(_ path: String) throws {
        device = "\(path)?offset=\(MBRBootDisk.partitionOffset)"
    }

    func cat(_ path: String) throws -> String {
        Self.withoutBanner(try HostCommand.check(try debugfs(), ["-R", "cat \(path)", device]))
    }

    func exists(_ path: String) throws -> Bool {
        let output = try HostCommand.run(try debugfs(), ["-R", "stat \(path)", device]).output
        return output.contains("Inode:") && !output.contains("File not found")
    }

    func ls(_ path: String) throws -> [String] {
        Self.withoutBanner(try HostCommand.check(try debugfs(), ["-R", "ls -p \(path)", device])).split(separator: "\n")
            .compactMap { $0.split(separator: "/", omittingEmptySubsequences: false).dropFirst(5).first.map(String.init) }
            .filter { !$0.isEmpty && $0 != "." && $0 != ".." }
    }

    /// e2fsck -fn: the file system mke2fs wrote is consistent.
    func check() throws -> Bool {
        let e2fsck = try HostCommand.require("e2fsck", package: "e2fsprogs", purpose: "check a guest disk")
        return try HostCommand.run(e2fsck, ["-fn", device]).status == 0
    }

    /// The files of /boot/initrd.img-*, dumped with debugfs and listed with lsinitramfs.
    func initramfsFiles() throws -> [String] {
        let lsinitramfs = try HostCommand.require("lsinitramfs", package: "initramfs-tools-core", purpose: "list a guest's initramfs")
        guard let name = try ls("/boot").first(where: { $0.hasPrefix("initrd.img-") }) else { return [] }
        let copy = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-initrd-\(UUID().uuidString)").path
        defer { unlink(copy) }
        try HostCommand.check(try debugfs(), ["-R", "dump /boot/\(name) \(copy)", device])
        return try HostCommand.check(lsinitramfs, [copy]).split(separator: "\n").map(String.init)
    }

    /// debugfs prints its version line first (on stderr, which HostCommand collects too).
    private static func withoutBanner(_ output: String) -> String {
        guard output.hasPrefix("debugfs "), let newline = output.firstIndex(of: "\n") else { return output }
        return String(output[output.index(after: newline)...])
    }

    private func debugfs() throws -> String {
        try HostCommand.require("debugfs", package: "e2fsprogs", purpose: "read a guest disk")
    }
}
