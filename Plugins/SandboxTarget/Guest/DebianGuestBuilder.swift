import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Builds a Debian 12 guest disk for a profile: mmdebstrap installs Debian's packages into a
/// folder (from this machine's own apt sources), `mke2fs -d` copies the folder into the ext4
/// partition of a sparse raw disk, and GRUB's boot code goes before it. Nothing is mounted.
/// The guest boots through its own GRUB, kernel and initramfs, as an installed system does.
public struct DebianGuestBuilder: Sendable {
    public let profile: GuestProfile
    /// Where this machine's apt sources are read from (a test points it at an unreachable archive).
    var aptDirectory = "/etc/apt"

    public init(profile: GuestProfile) {
        precondition(profile != .busybox, "the busybox image is built by BaseImageBuilder")
        self.profile = profile
    }

    /// Writes a bootable raw disk to `path` (sparse; built under a temporary name beside it and
    /// renamed at the end, so `path` never holds half a disk), using `workDirectory` (created,
    /// removed after), reusing the .debs of earlier builds in `packageCache`.
    public func build(diskAt path: String, workDirectory: URL, packageCache: URL, log: (String) -> Void) throws {
        let recipe = DebianGuestRecipe(profile: profile)
        let started = Date()
        guard geteuid() == 0 else {
            throw failure("run mmdebstrap", "mmdebstrap --mode=root installs packages in a chroot and needs root; this process runs as uid \(geteuid())")
        }
        let mmdebstrap = try HostCommand.require("mmdebstrap", package: "mmdebstrap", purpose: "build the \(profile.rawValue) guest image")
        let mke2fs = try HostCommand.require("mke2fs", package: "e2fsprogs", purpose: "build the guest's root file system")
        let grubMkimage = try HostCommand.require("grub-mkimage", package: "grub-pc-bin", purpose: "build the guest's bootloader")
        let sources = HostAptSources.read(aptDirectory: aptDirectory, suite: DebianGuestRecipe.suite)
        guard !sources.entries.isEmpty else {
            throw failure("read this machine's apt sources", "no `deb` entry for \(DebianGuestRecipe.suite) in \(aptDirectory)/sources.list or \(aptDirectory)/sources.list.d")
        }

        try BuildDirectory.recreate(workDirectory)
        defer { try? BuildDirectory.remove(workDirectory) }
        try FileManager.default.createDirectory(at: packageCache, withIntermediateDirectories: true)
        let root = workDirectory.appendingPathComponent("root", isDirectory: true)
        let early = workDirectory.appendingPathComponent("early", isDirectory: true)
        let late = workDirectory.appendingPathComponent("late", isDirectory: true)
        try Self.stage(recipe.earlyFiles, in: early)
        try Self.stage(recipe.lateFiles, in: late)

        let cached = Self.debCount(packageCache)
        log("\(profile.rawValue): installing \(recipe.packages.count) Debian packages and their dependencies with mmdebstrap from \(sources.entries.map(\.uri).uniqued().joined(separator: ", ")) (\(cached) .debs cached)")
        let arguments = Self.mmdebstrapArguments(recipe: recipe, sources: sources, root: root, early: early, late: late, packageCache: packageCache)
        let (executable, prefix) = Self.diesWithThisProcess(mmdebstrap)
        let result = try HostCommand.run(executable, prefix + arguments)
        guard result.status == 0 else {
            let tail = Self.lastLines(result.output, 25)
            if Self.looksUnreachable(result.output) {
                throw failure("download Debian packages from \(sources.entries.map(\.uri).uniqued().joined(separator: ", ")) (is Debian's archive reachable from this machine?)", tail)
            }
            throw failure("install Debian's packages with mmdebstrap (exit \(result.status))", tail)
        }
        log("\(profile.rawValue): packages installed in \(Self.seconds(since: started)) s (\(Self.debCount(packageCache)) .debs cached)")

        guard let kernelVersion = Self.kernelVersion(root: root) else {
            throw failure("find the guest's kernel", "no vmlinuz-* with an initrd.img-* in \(root.path)/boot")
        }
        try Data(recipe.grubConfig(kernelVersion: kernelVersion).utf8).write(to: root.appendingPathComponent("boot/grub/grub.cfg"))
        let grubModules = root.appendingPathComponent("usr/lib/grub/i386-pc").path
        let earlyConfig = workDirectory.appendingPathComponent("grub-early.cfg")
        try Data(DebianGuestRecipe.grubEarlyConfig.utf8).write(to: earlyConfig)
        let coreImage = workDirectory.appendingPathComponent("core.img").path
        try HostCommand.check(grubMkimage, [
            "-O", "i386-pc", "-d", grubModules, "-c", earlyConfig.path, "-p", "(hd0,msdos1)/boot/grub", "-o", coreImage,
        ] + DebianGuestRecipe.grubCoreModules)

        let temporary = Self.temporaryPath(for: path)
        defer { unlink(temporary) }
        log("\(profile.rawValue): writing the \(DebianGuestRecipe.diskSize >> 30) GiB disk (kernel \(kernelVersion))")
        try MBRBootDisk.writeFileSystem(mke2fs: mke2fs, rootDirectory: root.path, diskAt: temporary, size: DebianGuestRecipe.diskSize)
        try MBRBootDisk.writeBootloader(
            diskAt: temporary, size: DebianGuestRecipe.diskSize, bootImage: grubModules + "/boot.img",
            coreImage: try Data(contentsOf: URL(fileURLWithPath: coreImage))
        )
        guard rename(temporary, path) == 0 else {
            throw failure("move the finished disk to \(path)", String(cString: strerror(errno)))
        }
        log("\(profile.rawValue): disk \(path) built in \(Self.seconds(since: started)) s")
    }

    /// If this process is killed, mmdebstrap must not run on (with apt, dpkg and maintainer
    /// scripts of its own) in the work folder that the next build deletes and reuses. Killing
    /// mmdebstrap alone is not enough: it forks. So it runs as the first process of a PID
    /// namespace of its own (unshare --pid --kill-child), whose end makes the kernel kill every
    /// process in it, and unshare gets SIGKILL when this process ends (setpriv --pdeathsig; a
    /// death signal survives exec). Both are util-linux, essential on Debian.
    static func diesWithThisProcess(_ program: String) -> (executable: String, prefix: [String]) {
        guard let setpriv = HostCommand.find("setpriv"), let unshare = HostCommand.find("unshare") else { return (program, []) }
        return (setpriv, ["--pdeathsig", "KILL", "--", unshare, "--pid", "--kill-child=SIGKILL", "--", program])
    }

    /// The name a disk is built under before it is renamed to `path`: beside it (same file
    /// system, so the rename is atomic), marked with the builder's pid.
    static func temporaryPath(for path: String) -> String { path + ".partial-\(getpid())" }
    static let temporaryMarker = ".partial-"

    private func failure(_ step: String, _ output: String) -> SandboxError {
        .guestBuild(profile: profile.rawValue, step: step, output: output)
    }

    /// mmdebstrap in root mode into a folder. The hooks (shell, `$1` is the new system):
    /// setup — the cached .debs into apt's archive folder (hard links where possible) and the
    /// host's keyrings that the sources name; essential — Ferry's early files; customize — the
    /// new .debs back to the cache, Ferry's other files, the customize script in the chroot.
    static func mmdebstrapArguments(recipe: DebianGuestRecipe, sources: HostAptSources, root: URL, early: URL, late: URL, packageCache: URL) -> [String] {
        let cache = shellQuoted(packageCache.path)
        var arguments = [
            "--mode=root", "--variant=minbase", "--format=directory",
            // Keep the essential packages' .debs so the customize hook can cache them too.
            "--skip=essential/unlink",
            // The tree is copied into a disk image afterwards; a crash restarts the build, so
            // dpkg's fsyncs would only cost time.
            "--dpkgopt=force-unsafe-io",
            "--aptopt=Acquire::Retries \"3\"",
            "--include=" + recipe.packages.joined(separator: ","),
            "--setup-hook=mkdir -p \"$1/var/cache/apt/archives\" && for f in \(cache)/*.deb; do [ -e \"$f\" ] || continue; ln \"$f\" \"$1/var/cache/apt/archives/\" 2>/dev/null || cp \"$f\" \"$1/var/cache/apt/archives/\"; done",
        ]
        for keyring in sources.entries.compactMap(\.signedBy).uniqued() where keyring.hasPrefix("/") && FileManager.default.fileExists(atPath: keyring) {
            let quoted = shellQuoted(keyring)
            arguments.append("--setup-hook=mkdir -p \"$1\"$(dirname \(quoted)) && cp \(quoted) \"$1\"\(quoted)")
        }
        arguments += [
            "--essential-hook=cp -a \(shellQuoted(early.path))/. \"$1/\"",
            // New .debs to the cache under a temporary name, then renamed: a concurrent build
            // of the other profile never sees half a file.
            "--customize-hook=for f in \"$1\"/var/cache/apt/archives/*.deb; do [ -e \"$f\" ] || continue; n=${f##*/}; [ -e \(cache)/\"$n\" ] && continue; t=\(cache)/\".$n.$$.tmp\"; { ln \"$f\" \"$t\" 2>/dev/null || cp \"$f\" \"$t\"; } && mv -f \"$t\" \(cache)/\"$n\"; done",
            "--customize-hook=cp -a \(shellQuoted(late.path))/. \"$1/\"",
            "--customize-hook=chroot \"$1\" /bin/sh /tmp/ferry-customize.sh && rm -f \"$1/tmp/ferry-customize.sh\"",
            DebianGuestRecipe.suite, root.path,
        ]
        arguments += sources.entries.map(\.oneLine)
        return arguments
    }

    /// Writes `files` under `folder` as they will be in the guest (root-owned, given modes).
    static func stage(_ files: [DebianGuestRecipe.File], in folder: URL) throws {
        for file in files {
            let url = folder.appendingPathComponent(String(file.path.drop(while: { $0 == "/" })))
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(file.contents.utf8).write(to: url)
            try FileManager.default.setAttributes([.posixPermissions: file.mode], ofItemAtPath: url.path)
        }
    }

    /// The version of the kernel linux-image-amd64 installed (the newest if several).
    static func kernelVersion(root: URL) -> String? {
        let boot = root.appendingPathComponent("boot").path
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: boot)) ?? [])
            .filter { $0.hasPrefix("vmlinuz-") }.map { String($0.dropFirst("vmlinuz-".count)) }
            .filter { FileManager.default.fileExists(atPath: boot + "/initrd.img-" + $0) }
            .sorted { $0.compare($1, options: .numeric) == .orderedAscending }
        return versions.last
    }

    /// What apt prints when it cannot reach an archive (DNS, connection, HTTP errors).
    static func looksUnreachable(_ output: String) -> Bool {
        ["Temporary failure resolving", "Could not resolve", "Failed to fetch", "Could not connect", "Unable to connect",
         "Connection timed out", "Network is unreachable", "No route to host", "apt-get update failed", "Some index files failed to download"]
            .contains { output.contains($0) }
    }

    static func debCount(_ folder: URL) -> Int {
        ((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).filter { $0.hasSuffix(".deb") }.count
    }

    static func lastLines(_ text: String, _ count: Int) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).suffix(count).joined(separator: "\n")
    }

    static func seconds(since date: Date) -> Int { Int(Date().timeIntervalSince(date).rounded()) }

    static func shellQuoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }
}

extension Sequence where Element: Hashable {
    /// The elements in order, each once.
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}
