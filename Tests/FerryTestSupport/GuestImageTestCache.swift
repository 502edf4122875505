import Foundation

/// Where the tests keep the Debian guest disks they build (minutes each): one folder for the
/// whole test run and the next ones on this machine, passed to `ferry` as $FERRY_GUEST_CACHE.
/// A disk is keyed by its builder's version, so a changed builder builds anew.
public enum GuestImageTestCache {
    public static let directory: URL = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-test-guest-cache", isDirectory: true)

    public static var environment: [String: String] { ["FERRY_GUEST_CACHE": directory.path] }
}
