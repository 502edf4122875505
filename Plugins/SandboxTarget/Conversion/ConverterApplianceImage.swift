import Crypto
import Foundation

/// The converter appliance's boot files: this machine's kernel and an initramfs holding busybox,
/// the drivers to reach a virtio disk and the guest's file systems, util-linux's blkid (busybox
/// has none, and it is what tells crypto_LUKS, LVM and NTFS apart), ferry-convert and its /init.
/// Built once into `<cache>/converter-<version>/`, where the version is a digest of all of it,
/// so a changed script or kernel builds a new one; written under a temporary name and renamed.
struct ConverterApplianceImage {
    /// virtio for the attached disk; the root file systems of Debian/Ubuntu (ext4), RHEL (xfs);
    /// vfat for an EFI system partition. Optional ones are skipped when the kernel has none.
    static let modules = ["virtio_pci", "virtio_blk", "crc32c_generic", "crc32c_intel", "ext4", "xfs", "vfat", "nls_cp437", "nls_utf8", "nls_ascii"]
    static let optionalModules: Set<String> = ["crc32c_intel", "xfs", "vfat", "nls_cp437", "nls_utf8", "nls_ascii"]

    let kernel: String
    let initramfs: String

    /// The cached boot files, built first if missing.
    static func prepare(in cacheDirectory: URL, log: (String) -> Void) throws -> ConverterApplianceImage {
        let (kernelVersion, kernelPath) = try BaseImageBuilder.hostKernel()
        let blkid = try HostCommand.require("blkid", package: "util-linux", purpose: "identify the file systems of a disk in the converter")
        let text = [ConverterInit.text, ConverterScript.text, modules.joined(separator: ","), kernelVersion, blkid].joined(separator: "\n")
        let version = SHA256.hash(data: Data(text.utf8)).prefix(6).map { String(format: "%02x", $0) }.joined()
        let folder = cacheDirectory.appendingPathComponent("converter-\(version)", isDirectory: true)
        let image = ConverterApplianceImage(kernel: folder.appendingPathComponent("vmlinuz").path, initramfs: folder.appendingPathComponent("initrd.img").path)
        if FileManager.default.fileExists(atPath: image.initramfs) { return image }

        let started = Date()
        let modprobe = try HostCommand.require("modprobe", package: "kmod", purpose: "find the kernel modules of the converter appliance")
        let initramfs = BusyboxInitramfs(
            busybox: try BaseImageBuilder.staticBusybox(),
            modules: try BusyboxInitramfs.moduleFiles(modules, optional: optionalModules, kernelVersion: kernelVersion, modprobe: modprobe),
            initScript: ConverterInit.text,
            scripts: ["bin/ferry-convert": ConverterScript.text],
            hostPrograms: [blkid]
        )
        let temporary = cacheDirectory.appendingPathComponent(".converter-\(version).\(getpid()).tmp", isDirectory: true)
        try? FileManager.default.removeItem(at: temporary)
        try FileManager.default.createDirectory(at: temporary, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: temporary) }
        try FileManager.default.copyItem(atPath: kernelPath, toPath: temporary.appendingPathComponent("vmlinuz").path)
        try initramfs.archive().write(to: temporary.appendingPathComponent("initrd.img"))
        // Another process may have finished the same version meanwhile: theirs is as good.
        if (try? FileManager.default.moveItem(at: temporary, to: folder)) == nil, !FileManager.default.fileExists(atPath: image.initramfs) {
            try FileManager.default.moveItem(at: temporary, to: folder)
        }
        log(String(format: "converter appliance built in %.1f s (kernel %@, %d modules)", Date().timeIntervalSince(started), kernelVersion, initramfs.modules.count))
        return image
    }
}
