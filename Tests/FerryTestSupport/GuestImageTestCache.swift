import Foundation
import SandboxTarget
#if canImport(Glibc)
import Glibc
#endif

/// Where the tests keep the Debian guest disks they build (a minute or two each): one folder
/// for the whole test run, so each profile is built once per run and from the builder as it
/// is now. The in-process tests open it as a `GuestImageCache`; the `ferry` processes the CLI
/// tests start get it as $FERRY_GUEST_CACHE. The next run removes it once this process has
/// ended. $FERRY_TEST_GUEST_CACHE names a folder to keep the disks in between runs instead
/// (a disk is keyed by its builder's recipe, so a changed builder still builds anew). The
/// downloaded .debs are shared with the user's own guest cache (`packages` is a link to it),
/// so a run downloads only what changed.
public enum GuestImageTestCache {
    public static let directory: URL = {
        let temporary = FileManager.default.temporaryDirectory
        let folder: URL
        if let kept = ProcessInfo.processInfo.environment["FERRY_TEST_GUEST_CACHE"], !kept.isEmpty {
            folder = URL(fileURLWithPath: kept, isDirectory: true)
        } else {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: temporary.path)) ?? [] where name.hasPrefix("ferry-guest-disks-") {
                guard let pid = Int32(name.dropFirst("ferry-guest-disks-".count)), kill(pid, 0) != 0 else { continue }
                try? GuestImageCache.remove(temporary.appendingPathComponent(name))
            }
            folder = temporary.appendingPathComponent("ferry-guest-disks-\(getpid())", isDirectory: true)
        }
        try? FileManager.default.createDirectory(at: sharedPackages, withIntermediateDirectories: true)
        try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let packages = folder.appendingPathComponent("packages")
        if (try? FileManager.default.destinationOfSymbolicLink(atPath: packages.path)) == nil, !FileManager.default.fileExists(atPath: packages.path) {
            try? FileManager.default.createSymbolicLink(at: packages, withDestinationURL: sharedPackages)
        }
        return folder
    }()

    public static var environment: [String: String] { ["FERRY_GUEST_CACHE": directory.path] }

    /// The user's guest cache's .debs, where `ferry` keeps them: $FERRY_GUEST_CACHE/packages,
    /// else $XDG_CACHE_HOME/ferry/guests/packages, else ~/.cache/ferry/guests/packages.
    static var sharedPackages: URL {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["FERRY_GUEST_CACHE"], !path.isEmpty { return URL(fileURLWithPath: path, isDirectory: true).appendingPathComponent("packages") }
        let base = environment["XDG_CACHE_HOME"].flatMap { $0.isEmpty ? nil : URL(fileURLWithPath: $0, isDirectory: true) }
            ?? FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache", isDirectory: true)
        return base.appendingPathComponent("ferry/guests/packages", isDirectory: true)
    }
}
