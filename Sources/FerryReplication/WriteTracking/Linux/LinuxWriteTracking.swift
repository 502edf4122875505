import FerryCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

extension WriteTracking {
    /// This machine's writes to `disks` (block devices), from the kernel's block layer trace,
    /// with its mounted file systems frozen to close points in time.
    public static func linux(disks: [String]) throws -> WriteTracking {
        let trackers: [any WriteTracker] = try disks.map { disk in
            var info = stat()
            guard stat(disk, &info) == 0, info.st_mode & S_IFMT == S_IFBLK else {
                throw BlockTraceWriteTracker.Unavailable(description: "\(disk) is not a block device")
            }
            return try BlockTraceWriteTracker(device: disk)
        }
        return WriteTracking(trackers: trackers, freezer: FileSystemFreezer(disks: disks))
    }
}
