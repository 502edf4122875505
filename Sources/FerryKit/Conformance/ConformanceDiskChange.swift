import FerryCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// How the conformance kit may write to a disk, to see that a change stamp follows writes.
/// The kit writes only when given one of these: the disks of `ferry adapter test` are a
/// user's, and only the user can say they are scratch copies.
public struct ConformanceDiskChange: Sendable {
    /// What it does, in words, for the check's detail.
    public var summary: String
    /// Writes to `disk`; returns what it wrote, or throws why it could not.
    public var apply: @Sendable (DiskFacts) throws -> String

    public init(summary: String, apply: @escaping @Sendable (DiskFacts) throws -> String) {
        self.summary = summary
        self.apply = apply
    }

    /// For disks whose locator is a file: rewrites the file's middle byte with its own value,
    /// so that the file is written (its modification time moves) and reads exactly as before,
    /// whatever its format. The write is repeated, for up to 2 s, until the modification
    /// time moves: file systems keep it in clock ticks (milliseconds to a second), and a
    /// write within the tick of the file's last change leaves it as it was.
    public static let rewriteMiddleByte = ConformanceDiskChange(summary: "the middle byte of each disk's file rewritten with its own value") { disk in
        let path = disk.locator
        var info = stat()
        guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw ConformanceDiskChangeError("disk '\(disk.name)': its locator \(path.debugDescription) is not a file the kit can write to")
        }
        let fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw ConformanceDiskChangeError("disk '\(disk.name)': \(path) cannot be opened for writing: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let offset = off_t(info.st_size / 2)
        var byte: UInt8 = 0
        guard pread(fd, &byte, 1, offset) == 1 else {
            throw ConformanceDiskChangeError("disk '\(disk.name)': byte \(offset) of \(path) cannot be read: \(String(cString: strerror(errno)))")
        }
        let before = info.st_mtim
        let deadline = Date().addingTimeInterval(2)
        while true {
            guard pwrite(fd, &byte, 1, offset) == 1 else {
                throw ConformanceDiskChangeError("disk '\(disk.name)': byte \(offset) of \(path) cannot be written: \(String(cString: strerror(errno)))")
            }
            var now = stat()
            if fstat(fd, &now) == 0, now.st_mtim.tv_sec != before.tv_sec || now.st_mtim.tv_nsec != before.tv_nsec {
                return "byte \(offset) of \(path) rewritten with its own value"
            }
            guard Date() < deadline else {
                throw ConformanceDiskChangeError("disk '\(disk.name)': writing to \(path) for 2 s did not move its modification time")
            }
            usleep(5_000)
        }
    }
}

struct ConformanceDiskChangeError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
