import FerryCore
import Foundation

/// Builds the sandbox's Linux base image from the host's Debian packages, offline: the
/// kernel of linux-image-amd64, busybox-static, GRUB from grub-pc-bin, an ext4 root file
/// system written by mke2fs without mounting anything. The disk boots through its own
/// bootloader: MBR → GRUB core image → kernel + a small initramfs → /sbin/init.
public struct BaseImageBuilder: Sendable {
    public static let diskSize: UInt64 = 256 << 20
    /// The drivers the Debian kernel needs, as modules, to reach a virtio disk with ext4 and a virtio NIC.
    static let modules = ["virtio_pci", "virtio_blk", "virtio_net", "crc32c_generic", "crc32c_intel", "ext4"]
    static let grubModules = ["biosdisk", "part_msdos", "ext2", "linux", "normal", "configfile", "serial", "terminal"]

    public init() {}

    /// Writes a bootable raw disk to `path`, using `workDirectory` (created, then removed) for the pieces.
    public func build(diskAt path: String, workDirectory: URL, log: (String) -> Void = { _ in }) throws {
        let mke2fs = try HostCommand.require("mke2fs", package: "e2fsprogs", purpose: "build the base image's root file system")
        let grubMkimage = try HostCommand.require("grub-mkimage", package: "grub-pc-bin", purpose: "build the base image's bootloader")
        let modprobe = try HostCommand.require("modprobe", package: "kmod", purpose: "find the kernel modules the base image needs")
        let grubDirectory = "/usr/lib/grub/i386-pc"
        guard FileManager.default.fileExists(atPath: grubDirectory + "/boot.img") else {
            throw SandboxError.toolMissing(tool: grubDirectory + "/boot.img", package: "grub-pc-bin", purpose: "make the base image bootable")
        }
        let busybox = try Self.staticBusybox()
        let (kernelVersion, kernelPath) = try Self.hostKernel()

        let fileManager = FileManager.default
        try? fileManager.removeItem(at: workDirectory)
        try fileManager.createDirectory(at: workDirectory, withIntermediateDirectories: true)
        defer { try? fileManager.removeItem(at: workDirectory) }

        log("kernel \(kernelVersion), busybox \(busybox)")
        let moduleFiles = try Self.moduleFiles(kernelVersion: kernelVersion, modprobe: modprobe)
        let initramfs = try Self.initramfs(busybox: busybox, modules: moduleFiles)

        let rootfs = workDirectory.appendingPathComponent("rootfs", isDirectory: true)
        try Self.writeRootFileSystem(at: rootfs, busybox: busybox, kernel: kernelPath, initramfs: initramfs)

        log("root file system and bootloader")
        try MBRBootDisk.writeFileSystem(mke2fs: mke2fs, rootDirectory: rootfs.path, diskAt: path, size: Self.diskSize)
        let coreImage = workDirectory.appendingPathComponent("core.img").path
        try HostCommand.check(grubMkimage, ["-O", "i386-pc", "-o", coreImage, "-p", "(hd0,msdos1)/boot/grub"] + Self.grubModules)
        let core = try Data(contentsOf: URL(fileURLWithPath: coreImage))
        try MBRBootDisk.writeBootloader(diskAt: path, size: Self.diskSize, bootImage: grubDirectory + "/boot.img", coreImage: core)
    }

    static func staticBusybox() throws -> String {
        for candidate in ["/bin/busybox", "/usr/bin/busybox"] where FileManager.default.isExecutableFile(atPath: candidate) {
            // busybox-static's binary has no program interpreter; the dynamic one needs libc in the guest.
            if let head = FileManager.default.contents(atPath: candidate)?.prefix(4096), head.range(of: Data("/lib64/ld-linux".utf8)) == nil {
                return candidate
            }
        }
        throw SandboxError.toolMissing(tool: "busybox (statically linked)", package: "busybox-static", purpose: "provide the base image's userland")
    }

    /// The newest kernel in /boot whose modules are installed.
    static func hostKernel() throws -> (version: String, path: String) {
        let files = (try? FileManager.default.contentsOfDirectory(atPath: "/boot")) ?? []
        let versions = files.filter { $0.hasPrefix("vmlinuz-") }.map { String($0.dropFirst("vmlinuz-".count)) }
            .filter { FileManager.default.fileExists(atPath: "/lib/modules/\($0)/modules.dep") }
            .sorted { $0.compare($1, options: .numeric) == .orderedAscending }
        guard let version = versions.last else {
            throw SandboxError.toolMissing(tool: "a Linux kernel in /boot with its modules", package: "linux-image-amd64", purpose: "boot the base image")
        }
        let path = "/boot/vmlinuz-\(version)"
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw SandboxError.baseImage("\(path) is not readable by this user")
        }
        return (version, path)
    }

    /// The module files to load, dependencies first, without repeats.
    static func moduleFiles(kernelVersion: String, modprobe: String) throws -> [String] {
        // crc32c_intel is an accelerator only; crc32c_generic does the work.
        try BusyboxInitramfs.moduleFiles(modules, optional: ["crc32c_intel"], kernelVersion: kernelVersion, modprobe: modprobe)
    }

    static func initramfs(busybox: String, modules: [String]) throws -> Data {
        try BusyboxInitramfs(busybox: busybox, modules: modules, initScript: GuestFiles.initramfsInit).archive()
    }

    static func writeRootFileSystem(at root: URL, busybox: String, kernel: String, initramfs: Data) throws {
        let fileManager = FileManager.default
        for folder in ["bin", "sbin", "etc/boot.d", "proc", "sys", "dev", "run", "tmp", "var/lib/ferry", "var/log", "var/www", "root", "boot/grub"] {
            try fileManager.createDirectory(at: root.appendingPathComponent(folder), withIntermediateDirectories: true)
        }
        func write(_ relative: String, _ text: String, mode: Int = 0o644) throws {
            let url = root.appendingPathComponent(relative)
            try Data(text.utf8).write(to: url)
            try fileManager.setAttributes([.posixPermissions: mode], ofItemAtPath: url.path)
        }
        try fileManager.copyItem(atPath: busybox, toPath: root.appendingPathComponent("bin/busybox").path)
        let applets = try HostCommand.check(busybox, ["--list"]).split(separator: "\n").map(String.init)
        for applet in applets where applet != "busybox" && !applet.contains("/") {
            try fileManager.createSymbolicLink(atPath: root.appendingPathComponent("bin/\(applet)").path, withDestinationPath: "busybox")
        }
        try write("sbin/init", GuestFiles.guestInit, mode: 0o755)
        try write("etc/udhcpc.script", GuestFiles.dhcpScript, mode: 0o755)
        try write("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n")
        try write("etc/group", "root:x:0:\n")
        try write("etc/hostname", "sandbox\n")
        try write("etc/fstab", "/dev/root / ext4 defaults 0 1\n")
        try write("boot/grub/grub.cfg", GuestFiles.grubConfig)
        try fileManager.copyItem(atPath: kernel, toPath: root.appendingPathComponent("boot/vmlinuz").path)
        try initramfs.write(to: root.appendingPathComponent("boot/initrd.img"))
    }
}
