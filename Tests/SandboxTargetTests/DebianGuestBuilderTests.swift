import Foundation
@testable import SandboxTarget
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The Debian guest images, read offline (debugfs, lsinitramfs): each is built once per test
/// run through GuestImageCache, and the cache's locking and renaming is tested with a quick
/// fake builder. DebianGuestBuilderBootTests.swift boots them with a plain QEMU.
@Suite(.serialized)
struct DebianGuestBuilderTests {
    // MARK: The images

    @Test func debianWordPressBootsOnVirtioByLabelWithNetworkdAndTheBootProtocol() throws {
        let disk = try GuestDisks.disk(.debianWordPress)
        #expect(try GuestDisks.isBootSectorOf(disk))
        let image = try GuestDisk(disk)
        #expect(try image.check())
        #expect(try image.cat("/etc/fstab").contains("LABEL=root\t/\text4"))
        let grub = try image.cat("/boot/grub/grub.cfg")
        #expect(grub.contains("root=LABEL=root ro console=ttyS0,115200"))
        #expect(!grub.contains("quiet"))
        #expect(try image.cat("/etc/systemd/network/50-ferry-dhcp.network").contains("DHCP=ipv4"))
        #expect(try image.cat("/etc/ferry/guest.conf").contains("HOSTNAME_FROM_METADATA=yes"))
        #expect(try image.cat("/etc/initramfs-tools/conf.d/ferry.conf").contains("MODULES=most"))
        #expect(try image.exists("/etc/systemd/system/multi-user.target.wants/systemd-networkd.service"))
        try expectCommonSystem(image)

        let initramfs = try image.initramfsFiles()
        for module in ["virtio_blk.ko", "virtio_pci.ko", "virtio_net.ko", "ext4.ko"] {
            #expect(initramfs.contains { $0.hasSuffix("/" + module) }, "\(module) in the initramfs")
        }
        #expect(initramfs.contains { $0.hasSuffix("scripts/init-top/ferry-kernel-started") })
    }

    @Test func vmwareDebianIsShapedLikeAVMwareVM() throws {
        let disk = try GuestDisks.disk(.vmwareDebian)
        #expect(try GuestDisks.isBootSectorOf(disk))
        let image = try GuestDisk(disk)
        #expect(try image.check())
        #expect(try image.cat("/etc/fstab").contains("/dev/sda1\t/\text4"))
        #expect(!(try image.cat("/etc/fstab")).contains("LABEL="))
        #expect(try image.cat("/boot/grub/grub.cfg").contains("root=/dev/sda1 ro console=ttyS0,115200"))
        let network = VMwareGuestNetwork.standard
        let interfaces = try image.cat("/etc/network/interfaces")
        #expect(interfaces.contains("iface ens192 inet static"))
        #expect(interfaces.contains("address \(network.address)/\(network.prefixLength)"))
        #expect(interfaces.contains("gateway \(network.gateway)"))
        #expect(network.subnet == "10.0.0.0/24")
        #expect(try image.cat("/etc/systemd/network/10-ferry-vmxnet3.link").contains("Driver=vmxnet3"))
        #expect(try image.cat("/etc/hostname") == "ip-10-0-0-36\n")
        #expect(try image.cat("/etc/ferry/guest.conf").contains("HOSTNAME_FROM_METADATA=no"))
        #expect(try image.cat("/etc/resolv.conf").contains("nameserver \(network.nameServer)"))
        #expect(try image.exists("/etc/systemd/system/multi-user.target.wants/open-vm-tools.service"))
        #expect(try image.exists("/usr/bin/vmtoolsd"))
        #expect(!(try image.exists("/etc/systemd/system/multi-user.target.wants/systemd-networkd.service")))
        try expectCommonSystem(image)

        // VMware's drivers and no virtio: booted on virtio, this system cannot find its root disk.
        let initramfs = try image.initramfsFiles()
        for module in ["vmw_pvscsi.ko", "sd_mod.ko", "ext4.ko", "vmxnet3.ko", "jbd2.ko"] {
            #expect(initramfs.contains { $0.hasSuffix("/" + module) }, "\(module) in the initramfs")
        }
        #expect(!initramfs.contains { $0.contains("/virtio") }, "no virtio driver in the initramfs")
        #expect(initramfs.contains { $0.hasSuffix("scripts/init-top/ferry-kernel-started") })
        #expect(initramfs.contains { $0.hasSuffix("10-ferry-vmxnet3.link") })
    }

    /// What both profiles share: the web stack, the first-boot services, no SSH host keys.
    private func expectCommonSystem(_ image: GuestDisk) throws {
        #expect(try image.cat("/usr/lib/os-release").contains("VERSION_CODENAME=bookworm"))
        for unit in ["ferry-guest.service", "ferry-wordpress-setup.service", "apache2.service", "mariadb.service", "ssh.service"] {
            #expect(try image.exists("/etc/systemd/system/multi-user.target.wants/\(unit)"), "\(unit) enabled")
        }
        #expect(try image.exists("/etc/apache2/sites-enabled/wordpress.conf"))
        #expect(!(try image.exists("/etc/apache2/sites-enabled/000-default.conf")))
        #expect(try image.exists("/usr/share/wordpress/xmlrpc.php"))
        #expect(try image.exists("/usr/share/wordpress/wp-content/themes/twentytwentythree/style.css"))
        #expect(!(try image.exists("/etc/wordpress/config-default.php")), "WordPress is configured on the first boot, not in the image")
        #expect(try image.cat("/etc/mysql/mariadb.conf.d/60-ferry-small.cnf").contains("innodb_buffer_pool_size"))
        #expect(try image.ls("/etc/ssh").allSatisfy { !$0.hasPrefix("ssh_host_") })
        #expect(try image.exists("/boot/grub/i386-pc/normal.mod"))
        #expect(try image.ls("/var/cache/apt/archives").allSatisfy { !$0.hasSuffix(".deb") })
        #expect(!(try image.exists("/tmp/ferry-customize.sh")))
        #expect(try image.cat("/usr/local/sbin/ferry-guest").contains("FERRY-BOOT-READY"))
        // The initramfs checks the root file system (FSTYPE=ext4: its fsck hook cannot probe / in the chroot).
        #expect(try image.initramfsFiles().contains { $0.hasSuffix("sbin/e2fsck") })
    }

    // MARK: Apt sources

    @Test func hostAptSourcesReadDeb822AndOneLineEntriesOfTheGuestRelease() throws {
        let etc = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-apt-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: etc) }
        try FileManager.default.createDirectory(at: etc.appendingPathComponent("sources.list.d"), withIntermediateDirectories: true)
        try """
        Types: deb deb-src
        # a comment
        URIs: http://mirror.example/debian
        Suites: trixie trixie-updates
        Components: main contrib
        Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

        Types: deb
        URIs: http://disabled.example/debian
        Suites: trixie
        Components: main
        Enabled: no
        """.write(to: etc.appendingPathComponent("sources.list.d/debian.sources"), atomically: true, encoding: .utf8)
        try """
        deb [arch=amd64 signed-by=/etc/apt/keyrings/sec.gpg] http://security.example/debian-security trixie-security main # security
        deb-src http://mirror.example/debian trixie main
        deb http://third-party.example/apt stable main
        """.write(to: etc.appendingPathComponent("sources.list"), atomically: true, encoding: .utf8)
        let sources = HostAptSources.read(aptDirectory: etc.path, hostCodename: "trixie", suite: "bookworm")
        #expect(sources.entries.map(\.oneLine) == [
            "deb [signed-by=/etc/apt/keyrings/sec.gpg] http://security.example/debian-security bookworm-security main",
            "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://mirror.example/debian bookworm main contrib",
            "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://mirror.example/debian bookworm-updates main contrib",
        ])
        // This machine's own sources give the guest at least its main suite.
        #expect(HostAptSources.read(suite: "bookworm").entries.contains { $0.suite == "bookworm" })
    }

    // MARK: The cache

    @Test func cacheBuildsOnceAndAFailedBuildLeavesNothingFinished() throws {
        let folder = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let builds = Counter()
        let failNext = Counter()
        let cache = GuestImageCache(directory: folder, packageCache: folder.appendingPathComponent("packages"), version: { _ in "r1-test" }) { _, path, work, _, _ in
            builds.increment()
            try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
            let temporary = DebianGuestBuilder.temporaryPath(for: path)
            try Data("half".utf8).write(to: URL(fileURLWithPath: temporary))
            if failNext.value > 0 { failNext.decrement(); throw SandboxError.guestBuild(profile: "test", step: "fail", output: "") }
            usleep(300_000) // long enough for the other thread to wait on the lock
            try Data("disk".utf8).write(to: URL(fileURLWithPath: temporary))
            #expect(rename(temporary, path) == 0)
        }

        failNext.increment()
        #expect(throws: SandboxError.self) { try cache.disk(for: .vmwareDebian, log: { _ in }) }
        let left = try FileManager.default.contentsOfDirectory(atPath: folder.path)
        #expect(!left.contains("vmware-debian-r1-test.raw"))
        #expect(left.contains { $0.hasPrefix("vmware-debian-r1-test.raw.partial-") })

        // Two callers at once: one builds, the other waits and gets the same disk.
        let results = Results()
        let group = DispatchGroup()
        for _ in 0..<2 {
            DispatchQueue.global().async(group: group) {
                results.append(Result { try cache.disk(for: .vmwareDebian, log: { _ in }) })
            }
        }
        group.wait()
        let paths = try results.all.map { try $0.get() }
        #expect(paths.count == 2 && Set(paths) == [folder.appendingPathComponent("vmware-debian-r1-test.raw").path])
        #expect(builds.value == 2)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.contains(".partial-") }.isEmpty)
    }

    /// A builder killed with SIGKILL while it holds the lock: the kernel drops the lock, the
    /// half-written disk keeps its temporary name, and the next caller removes it and builds.
    @Test func aKilledBuilderLeavesNoFinishedDiskAndTheNextCallStartsOver() throws {
        let flock = try #require(HostCommand.find("flock"))
        let folder = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let final = folder.appendingPathComponent("debian-wordpress-r9-test.raw").path
        let lock = folder.appendingPathComponent(".debian-wordpress.lock").path
        let work = folder.appendingPathComponent(".debian-wordpress.work").path
        // A stand-in builder process: takes the profile's lock, writes half a disk and a work
        // folder, then hangs (exec keeps the locked descriptor in the same process).
        var pid: pid_t = 0
        let script = "exec 9>'\(lock)' && \(flock) -x 9 && mkdir -p '\(work)/root' && echo half > '\(final).partial-$$' && exec sleep 600"
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup("/bin/sh"), strdup("-c"), strdup(script), nil]
        defer { argv.forEach { free($0) } }
        #expect(posix_spawn(&pid, "/bin/sh", nil, nil, argv, environ) == 0)
        let deadline = Date().addingTimeInterval(10)
        while !((try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []).contains(where: { $0.contains(".partial-") }) && Date() < deadline {
            usleep(50_000)
        }
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        let cache = GuestImageCache(directory: folder, packageCache: folder.appendingPathComponent("packages"), version: { _ in "r9-test" }) { _, path, _, _, _ in
            #expect(!FileManager.default.fileExists(atPath: work), "the dead build's work folder is gone")
            #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.contains(".partial-") }.isEmpty)
            try Data("disk".utf8).write(to: URL(fileURLWithPath: path))
        }
        #expect(!FileManager.default.fileExists(atPath: final))
        #expect(try cache.disk(for: .debianWordPress, log: { _ in }) == final)
    }

    /// The busybox image goes through the same cache, keyed by the host kernel it copies.
    @Test func cacheHoldsTheBusyboxImageToo() throws {
        let folder = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let cache = GuestImageCache(directory: folder)
        let disk = try cache.disk(for: .busybox, log: { _ in })
        #expect((disk as NSString).lastPathComponent.hasPrefix("busybox-k\(try BaseImageBuilder.hostKernel().version)-"))
        #expect(try GuestDisks.isBootSectorOf(disk))
        #expect(try cache.disk(for: .busybox, log: { _ in }) == disk)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { !$0.hasPrefix(".") } == [(disk as NSString).lastPathComponent])
    }

    @Test func defaultDirectoryFollowsTheEnvironment() {
        // Only checks the unset-variable fallbacks' shape; the environment of the test run decides which applies.
        let path = GuestImageCache.defaultDirectory.path
        if let explicit = ProcessInfo.processInfo.environment["FERRY_GUEST_CACHE"], !explicit.isEmpty {
            #expect(path == URL(fileURLWithPath: explicit).path)
        } else {
            #expect(path.hasSuffix("ferry/guests"))
        }
    }

    @Test func recipeVersionsDifferByProfileAndAreStable() {
        let wordpress = DebianGuestRecipe(profile: .debianWordPress).version
        #expect(wordpress == DebianGuestRecipe(profile: .debianWordPress).version)
        #expect(wordpress != DebianGuestRecipe(profile: .vmwareDebian).version)
        #expect(wordpress.hasPrefix("r\(DebianGuestRecipe.revision)-"))
    }

    @Test func unreachableArchiveErrorSaysTheBusyboxProfileStillWorks() {
        let error = SandboxError.guestBuild(profile: "vmware-debian", step: "download Debian packages from http://deb.debian.org/debian", output: "E: Failed to fetch")
        #expect(error.description.contains("vmware-debian"))
        #expect(error.description.contains("ferry-sandbox-linux"))
        #expect(DebianGuestBuilder.looksUnreachable("W: Failed to fetch http://x/dists/bookworm/InRelease  Temporary failure resolving 'x'"))
    }

    /// mmdebstrap against an archive that refuses connections: a guestBuild error that says what
    /// failed, and nothing left behind.
    @Test func anUnreachableArchiveFailsTheBuildClearly() throws {
        guard HostCommand.find("mmdebstrap") != nil, geteuid() == 0 else { return }
        let folder = try Self.scratch()
        defer { try? FileManager.default.removeItem(at: folder) }
        let apt = folder.appendingPathComponent("apt")
        try FileManager.default.createDirectory(at: apt.appendingPathComponent("sources.list.d"), withIntermediateDirectories: true)
        try "Types: deb\nURIs: http://127.0.0.1:9/debian\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n"
            .write(to: apt.appendingPathComponent("sources.list.d/debian.sources"), atomically: true, encoding: .utf8)
        var builder = DebianGuestBuilder(profile: .debianWordPress)
        builder.aptDirectory = apt.path
        let disk = folder.appendingPathComponent("disk.raw").path
        do {
            try builder.build(diskAt: disk, workDirectory: folder.appendingPathComponent("work"), packageCache: folder.appendingPathComponent("packages"), log: { _ in })
            Issue.record("the build succeeded without an archive")
        } catch let error as SandboxError {
            guard case .guestBuild(let profile, let step, _) = error else { Issue.record("\(error)"); return }
            #expect(profile == "debian-wordpress")
            #expect(step.contains("download Debian packages from http://127.0.0.1:9/debian"), "\(step)")
            #expect(error.description.contains("ferry-sandbox-linux"))
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == ["apt", "packages"])
    }

    private static func scratch() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-guest-cache-test-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }
}

private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    var value: Int { lock.withLock { count } }
    func increment() { lock.withLock { count += 1 } }
    func decrement() { lock.withLock { count -= 1 } }
}

private final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private var items: [Result<String, any Error>] = []
    var all: [Result<String, any Error>] { lock.withLock { items } }
    func append(_ item: Result<String, any Error>) { lock.withLock { items.append(item) } }
}
