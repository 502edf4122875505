import FerryCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// Closes points in time by freezing the file systems mounted from the replicated disks
/// (FIFREEZE, what fsfreeze(8) does): the kernel writes out their dirty data and holds
/// every new write until the thaw, so that the blocks read in between are the disks at one
/// instant — and a file system that needs no journal replay to mount. The freeze lasts as
/// long as reading what was written since the last round: the agent reads most of it
/// before it freezes (`TrackedReplication`).
public final class FileSystemFreezer: PointInTimeFreezer, Sendable {
    struct Mount: Sendable, Equatable {
        var device: String
        var mountPoint: String
    }

    let mounts: [Mount]
    public let scope: String
    /// Mount points whose file system has no freeze (EOPNOTSUPP), found at the first try.
    private let unfreezable = Mutex<Set<String>>([])

    // _IOWR('X', 119, int) and _IOWR('X', 120, int), from <linux/fs.h>.
    private static let freezeRequest: UInt = 0xC004_5877
    private static let thawRequest: UInt = 0xC004_5878

    /// The freezer of the file systems mounted from `disks` (whole disks or partitions of
    /// them), nil when none is mounted. Thaws them first: an agent killed while it held a
    /// freeze leaves them frozen, and the service that restarts it is what thaws them.
    public init?(disks: [String]) {
        let mounts = Self.mounts(on: disks)
        guard !mounts.isEmpty else { return nil }
        self.mounts = mounts
        scope = "the file systems on \(disks.joined(separator: ", ")) (\(mounts.map(\.mountPoint).joined(separator: ", ")))"
        for mount in mounts { _ = Self.request(Self.thawRequest, mount.mountPoint) }
    }

    public func freeze(limit: Duration) throws -> any FrozenPointInTime {
        // Written out before the freeze, the dirty data does not lengthen it.
        sync()
        var frozen: [Mount] = []
        for mount in mounts where !unfreezable.withLock({ $0.contains(mount.mountPoint) }) {
            guard Self.request(Self.freezeRequest, mount.mountPoint) == 0 else {
                let code = errno
                if code == EOPNOTSUPP {
                    // A file system with no freeze (vfat: a UEFI machine's /boot/efi, written to
                    // only when the boot loader changes): its writes are still followed and
                    // sent, it is just not held still while a point closes. Passed over from
                    // now on rather than failing every point of the machine.
                    unfreezable.withLock { _ = $0.insert(mount.mountPoint) }
                    continue
                }
                for done in frozen.reversed() { _ = Self.request(Self.thawRequest, done.mountPoint) }
                throw FreezeFailed(mountPoint: mount.mountPoint, reason: String(cString: strerror(code)))
            }
            frozen.append(mount)
        }
        let hold = Hold(mounts: frozen)
        DispatchQueue.global().asyncAfter(deadline: .now() + AgentPass.seconds(limit)) { _ = hold.thaw() }
        return hold
    }

    struct FreezeFailed: Error, CustomStringConvertible {
        var mountPoint: String
        var reason: String
        var description: String { "\(mountPoint) cannot be frozen: \(reason)" }
    }

    private final class Hold: FrozenPointInTime, Sendable {
        let instant = Date()
        private let mounts: Mutex<[Mount]?>

        init(mounts: [Mount]) { self.mounts = Mutex(mounts) }

        func thaw() -> Bool {
            guard let mounts = self.mounts.withLock({ held -> [Mount]? in defer { held = nil }; return held }) else { return false }
            for mount in mounts.reversed() { _ = FileSystemFreezer.request(FileSystemFreezer.thawRequest, mount.mountPoint) }
            return true
        }
    }

    fileprivate static func request(_ request: UInt, _ mountPoint: String) -> Int32 {
        let fd = open(mountPoint, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { return -1 }
        defer { close(fd) }
        var unused: Int32 = 0
        return ioctl(fd, request, &unused)
    }

    /// The mount points of file systems whose device is one of `disks` or a partition of
    /// one, once per file system (a bind mount freezes the same one), from /proc/self/mountinfo.
    static func mounts(on disks: [String], mountInfo: String? = try? String(contentsOfFile: "/proc/self/mountinfo", encoding: .utf8)) -> [Mount] {
        var numbers: [String: String] = [:]  // "8:1" → "/dev/sda"
        for disk in disks {
            let name = URL(fileURLWithPath: disk).resolvingSymlinksInPath().lastPathComponent
            let base = "/sys/class/block/\(name)"
            if let number = Self.firstLine("\(base)/dev") { numbers[number] = disk }
            for entry in (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? [] where entry.hasPrefix(name) {
                if let number = Self.firstLine("\(base)/\(entry)/dev") { numbers[number] = "/dev/\(entry)" }
            }
        }
        return parse(mountInfo: mountInfo ?? "", devices: numbers)
    }

    /// `devices`: "major:minor" → device name.
    static func parse(mountInfo: String, devices: [String: String]) -> [Mount] {
        var seen = Set<String>()
        var mounts: [Mount] = []
        for line in mountInfo.split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count > 4, let device = devices[String(fields[2])], !seen.contains(String(fields[2])) else { continue }
            seen.insert(String(fields[2]))
            mounts.append(Mount(device: device, mountPoint: unescape(String(fields[4]))))
        }
        return mounts
    }

    /// mountinfo writes a space, tab, newline and backslash in a path as \040, \011, \012, \134.
    private static func unescape(_ path: String) -> String {
        var result = ""
        var rest = Substring(path)
        while let slash = rest.firstIndex(of: "\\") {
            result += rest[..<slash]
            let code = rest[rest.index(after: slash)...].prefix(3)
            if code.count == 3, let value = UInt8(code, radix: 8) {
                result += String(UnicodeScalar(value))
                rest = rest[rest.index(slash, offsetBy: 4)...]
            } else {
                result += "\\"
                rest = rest[rest.index(after: slash)...]
            }
        }
        return result + rest
    }

    private static func firstLine(_ path: String) -> String? {
        (try? String(contentsOfFile: path, encoding: .utf8))?.split(separator: "\n").first.map(String.init)
    }
}
