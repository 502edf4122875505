import FerryCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A cheap sign that a raw disk may have changed: for an image file its size and
/// modification time; for a block device the kernel's count of sectors written to it
/// (/sys/class/block/NAME/stat), which moves with every write.
enum DiskChangeStamp {
    static func stamp(path: String, sysRoot: URL = URL(fileURLWithPath: "/sys")) throws -> ChangeStamp {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let code = errno
            throw BlockReaderError.io(disk: path, operation: "stat", errno: code, message: String(cString: strerror(code)))
        }
        if (info.st_mode & S_IFMT) == S_IFBLK {
            let name = URL(fileURLWithPath: path).resolvingSymlinksInPath().lastPathComponent
            let statPath = sysRoot.appendingPathComponent("class/block/\(name)/stat").path
            guard let text = try? String(contentsOfFile: statPath, encoding: .utf8) else {
                throw BlockReaderError.corrupt(disk: path, reason: "block device has no \(statPath) to tell writes from")
            }
            // Field 7 is "sectors written" (Documentation/block/stat.rst).
            let fields = text.split(separator: " ")
            guard fields.count >= 7 else { throw BlockReaderError.corrupt(disk: path, reason: "\(statPath) has \(fields.count) fields, not 11 or more") }
            return ChangeStamp("written:\(fields[6])")
        }
        return ChangeStamp("size:\(info.st_size) mtime:\(info.st_mtim.tv_sec).\(info.st_mtim.tv_nsec)")
    }
}

extension PhysicalSourceAdapter: ChangeTrackingSource {
    public func changeStamp(of disk: DiskFacts, configuration: AdapterConfiguration) throws -> ChangeStamp {
        try DiskChangeStamp.stamp(path: disk.locator)
    }
}
