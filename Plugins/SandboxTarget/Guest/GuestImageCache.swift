import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Finished guest disks, shared by every workspace and test on this machine: a Debian image
/// takes minutes to build and is the same each time. A disk exists only under its final name,
/// `<profile>-<recipe version>.raw` (built under a temporary name and renamed), so a build
/// killed half way leaves nothing that looks finished. Builds of a profile take an `flock` of
/// their own, which the kernel releases however the holder ends: two processes never build the
/// same profile at once, and whoever holds the lock may delete what a dead build left.
/// Callers copy the disk (it is shared); they never move or change it.
public struct GuestImageCache: Sendable {
    typealias Build = @Sendable (_ profile: GuestProfile, _ path: String, _ workDirectory: URL, _ packageCache: URL, _ log: (String) -> Void) throws -> Void

    public let directory: URL
    let packageCache: URL
    let version: @Sendable (GuestProfile) throws -> String
    let build: Build

    public init(directory: URL) {
        self.init(directory: directory, packageCache: directory.appendingPathComponent("packages", isDirectory: true))
    }

    /// With the real builders; tests share one package cache between throwaway disk caches.
    init(directory: URL, packageCache: URL) {
        self.init(directory: directory, packageCache: packageCache, version: Self.recipeVersion, build: Self.realBuild)
    }

    /// With any builder: tests of the locking and renaming use a quick fake one.
    init(directory: URL, packageCache: URL, version: @escaping @Sendable (GuestProfile) throws -> String, build: @escaping Build) {
        self.directory = directory
        self.packageCache = packageCache
        self.version = version
        self.build = build
    }

    /// $FERRY_GUEST_CACHE, else $XDG_CACHE_HOME/ferry/guests, else ~/.cache/ferry/guests.
    public static var defaultDirectory: URL {
        let environment = ProcessInfo.processInfo.environment
        if let path = environment["FERRY_GUEST_CACHE"], !path.isEmpty { return URL(fileURLWithPath: path, isDirectory: true) }
        if let path = environment["XDG_CACHE_HOME"], !path.isEmpty {
            return URL(fileURLWithPath: path, isDirectory: true).appendingPathComponent("ferry/guests", isDirectory: true)
        }
        return FileManager.default.homeDirectoryForCurrentUser.appendingPathComponent(".cache/ferry/guests", isDirectory: true)
    }

    /// The finished disk of `profile`, built first if missing (under the profile's lock).
    public func disk(for profile: GuestProfile, log: (String) -> Void) throws -> String {
        let name = "\(profile.rawValue)-\(try version(profile)).raw"
        let path = directory.appendingPathComponent(name).path
        if FileManager.default.fileExists(atPath: path) { return path }

        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let lock = try ProfileLock(path: directory.appendingPathComponent(".\(profile.rawValue).lock").path) {
            log("waiting for another process that is building the \(profile.rawValue) guest image")
        }
        defer { lock.release() }
        // The process that held the lock may just have finished it.
        if FileManager.default.fileExists(atPath: path) { return path }

        let workDirectory = directory.appendingPathComponent(".\(profile.rawValue).work", isDirectory: true)
        try removeLeftovers(of: profile, keeping: name, workDirectory: workDirectory, log: log)
        try build(profile, path, workDirectory, packageCache, log)
        guard FileManager.default.fileExists(atPath: path) else {
            throw SandboxError.guestBuild(profile: profile.rawValue, step: "build its disk", output: "the builder returned without writing \(path)")
        }
        return path
    }

    /// Under the lock nobody else builds this profile: its temporary disks are a dead build's,
    /// and the disks of earlier recipe versions will never be asked for again.
    private func removeLeftovers(of profile: GuestProfile, keeping name: String, workDirectory: URL, log: (String) -> Void) throws {
        try BuildDirectory.remove(workDirectory)
        for file in (try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? []
        where Self.profile(ofDisk: file) == profile && file != name {
            log(file.contains(DebianGuestBuilder.temporaryMarker) ? "removing \(file), left by a build that did not finish" : "removing \(file), an earlier version")
            try? FileManager.default.removeItem(at: directory.appendingPathComponent(file))
        }
    }

    /// The profile whose disk (finished or temporary) `file` is: the longest profile name it starts with.
    static func profile(ofDisk file: String) -> GuestProfile? {
        guard file.contains(".raw") else { return nil }
        return GuestProfile.allCases.filter { file.hasPrefix($0.rawValue + "-") }.max { $0.rawValue.count < $1.rawValue.count }
    }

    // MARK: The real builders

    /// The Debian recipe's digest; for busybox, the host kernel it copies and its own files.
    static func recipeVersion(_ profile: GuestProfile) throws -> String {
        switch profile {
        case .busybox:
            let kernel = try BaseImageBuilder.hostKernel().version
            let text = [GuestFiles.initramfsInit, GuestFiles.guestInit, GuestFiles.dhcpScript, GuestFiles.grubConfig,
                        BaseImageBuilder.modules.joined(separator: ","), BaseImageBuilder.grubModules.joined(separator: ","),
                        "\(BaseImageBuilder.diskSize)"].joined(separator: "\n")
            let digest = SHA256.hash(data: Data(text.utf8)).prefix(6).map { String(format: "%02x", $0) }.joined()
            return "k\(kernel)-\(digest)"
        case .debianWordPress, .vmwareDebian:
            return DebianGuestRecipe(profile: profile).version
        }
    }

    static let realBuild: Build = { profile, path, workDirectory, packageCache, log in
        switch profile {
        case .busybox:
            // BaseImageBuilder writes in place: give it the temporary name and rename here.
            let temporary = DebianGuestBuilder.temporaryPath(for: path)
            defer { unlink(temporary) }
            try BaseImageBuilder().build(diskAt: temporary, workDirectory: workDirectory, log: log)
            guard rename(temporary, path) == 0 else {
                throw SandboxError.baseImage("cannot rename \(temporary) to \(path): \(String(cString: strerror(errno)))")
            }
        case .debianWordPress, .vmwareDebian:
            try DebianGuestBuilder(profile: profile).build(diskAt: path, workDirectory: workDirectory, packageCache: packageCache, log: log)
        }
    }
}

/// An exclusive `flock` on a file, held until `release` or the process's end.
struct ProfileLock {
    private let descriptor: Int32

    init(path: String, whileWaiting: () -> Void) throws {
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw SandboxError.commandFailed(command: "open \(path)", status: errno, output: String(cString: strerror(errno)))
        }
        if flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            whileWaiting()
            while flock(descriptor, LOCK_EX) != 0 {
                guard errno == EINTR else {
                    let message = String(cString: strerror(errno))
                    close(descriptor)
                    throw SandboxError.commandFailed(command: "flock \(path)", status: errno, output: message)
                }
            }
        }
    }

    /// Closing the descriptor releases the lock; the file stays (deleting it would let a
    /// waiter and a newcomer lock two different files).
    func release() { close(descriptor) }
}
