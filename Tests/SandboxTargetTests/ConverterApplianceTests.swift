import FerryCore
import FerryTestSupport
import Foundation
@testable import SandboxTarget
import Testing

/// The Machine Converter on the vmware-debian guest (Debian 12 shaped like a VMware VM: pvscsi
/// and vmxnet3 drivers only in its initramfs, fstab and root= by /dev/sda1, a static ens192,
/// open-vm-tools). Each test works on its own sparse copy of the cached disk. Debian boots
/// under TCG cost about a minute each, so the proof (unconverted: no root; converted: WordPress
/// answers) and the idempotence share one copy.
@Suite(.serialized)
struct ConverterApplianceTests {
    static let appliance = ConverterAppliance(cacheDirectory: GuestImageTestCache.directory.appendingPathComponent("converter", isDirectory: true))

    /// The console protocol, without a boot: CR LF line ends, kernel lines between, the outcomes.
    @Test func readsTheConsoleProtocol() throws {
        let text = "[    1.0] virtio_blk virtio0: [vda] 8388608 512-byte logical blocks\r\n"
            + "ferry-convert: inspected (at 4.20 s)\r\n"
            + #"FERRY-INSPECT {"fileSystems":[{"device":"/dev/vda","type":"ext4","uuid":null,"label":"data"}],"rootDevice":null,"kernels":[],"fstab":[],"hypervisorTools":[],"cloudInit":false,"firstBootHooks":[],"convertible":false,"reasons":["no Linux root"]}"# + "\r\n"
            + #"FERRY-CONVERT-CHANGE {"file":"/etc/fstab","before":"/dev/sda1 / ext4","after":"UUID=x / ext4","why":"a \"device\" name"}"# + "\r\n"
            + "FERRY-CONVERT-TOOL update-initramfs -u -k all\r\n"
            + "FERRY-CONVERT-DONE refused not convertible: no Linux root\r\n"
        let console = try ConverterConsole(text: text)
        #expect(console.inspection?.fileSystems.first?.label == "data")
        #expect(console.inspection?.operatingSystem == nil)
        #expect(console.inspection?.convertible == false)
        #expect(console.changes == [ConversionChange(file: "/etc/fstab", before: "/dev/sda1 / ext4", after: "UUID=x / ext4", why: "a \"device\" name")])
        #expect(console.initramfsCommands == ["update-initramfs -u -k all"])
        #expect(console.progress == ["inspected (at 4.20 s)"])
        #expect(console.done?.outcome == .refused)
        #expect(console.done?.reason == "not convertible: no Linux root")
        #expect(throws: ConverterError.self) { try ConverterConsole(text: "FERRY-INSPECT {not json\n") }
    }

    @Test func attachesRawDisksOnly() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-converter-test-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let qcow2 = folder.appendingPathComponent("disk.qcow2").path
        let qemuImg = try HostCommand.require("qemu-img", package: "qemu-utils", purpose: "make a qcow2 image")
        try HostCommand.check(qemuImg, ["create", "-q", "-f", "qcow2", qcow2, "16M"])
        #expect(throws: ConverterError.self) { try Self.appliance.inspect(diskAt: qcow2) }
        #expect(throws: ConverterError.self) { try Self.appliance.inspect(diskAt: folder.path) }
    }

    @Test func inspectsTheVMwareGuestWithoutChangingIt() throws {
        let copy = try DiskCopy(of: .vmwareDebian)
        let before = try copy.sha256()
        let started = Date()
        let inspection = try Self.appliance.inspect(diskAt: copy.path) { print("[converter] \($0)") }
        print(String(format: "inspect: %.1f s", Date().timeIntervalSince(started)))
        #expect(try copy.sha256() == before, "inspect must not write to the disk")

        #expect(inspection.convertible, "\(inspection.reasons)")
        #expect(inspection.reasons.isEmpty)
        #expect(inspection.rootDevice == "/dev/vda1")
        #expect(inspection.fileSystems.first { $0.device == "/dev/vda1" }?.type == "ext4")
        #expect(inspection.fileSystems.first { $0.device == "/dev/vda1" }?.label == "root")
        #expect(inspection.operatingSystem?.family == .debian)
        #expect(inspection.operatingSystem?.distribution == "debian")
        #expect(inspection.operatingSystem?.version == "12")
        #expect(inspection.operatingSystem?.prettyName.contains("bookworm") == true)
        #expect(inspection.initramfsTool == "initramfs-tools")
        #expect(inspection.rootFstabEntry?.spec == "/dev/sda1")
        #expect(inspection.bootloader?.name == "grub2")
        #expect(inspection.bootloader?.configPath == "/boot/grub/grub.cfg")
        #expect(inspection.bootloader?.rootArgument == "/dev/sda1")
        #expect(inspection.bootloader?.commandLine?.contains("console=ttyS0,115200") == true)
        #expect(inspection.firmware == "bios")

        let kernel = try #require(inspection.newestKernel)
        #expect(kernel.initramfs == "/boot/initrd.img-\(kernel.version)")
        #expect(kernel.driver("vmw_pvscsi")?.inInitramfs == true)
        #expect(kernel.driver("vmxnet3")?.inInitramfs == true)
        for name in ["virtio_blk", "virtio_net", "nvme", "ena"] {
            #expect(kernel.driver(name)?.availability == .module, "\(name) is a module of Debian's kernel")
            #expect(kernel.driver(name)?.inInitramfs == false, "\(name) is not in the VMware guest's initramfs")
        }
        #expect(!inspection.bootsOn(.sandbox))
        #expect(!inspection.bootsOn(.aws))

        let network = try #require(inspection.network)
        #expect(network.tools.contains("ifupdown"))
        #expect(network.interfaces.contains { $0.name == "ens192" && $0.method == "static" && $0.addresses == ["10.0.0.36/24"] && $0.file == "/etc/network/interfaces" })
        #expect(network.namingRules.contains { $0.file == "/etc/systemd/network/10-ferry-vmxnet3.link" && $0.match == "Driver=vmxnet3" && $0.name == "ens192" })
        #expect(inspection.hypervisorTools == ["open-vm-tools"])
        #expect(!inspection.cloudInit)
        #expect(inspection.firstBootHooks == ["ferry-guest.service"])
        #expect(inspection.hostname == "ip-10-0-0-36")
    }

    /// The proof: the VMware guest does not boot on the sandbox's virtio devices as it is, and
    /// does once converted; a second conversion then finds nothing to change.
    @Test func unconvertedDoesNotBootOnVirtioConvertedServesWordPressAndConvertingAgainChangesNothing() throws {
        let copy = try DiskCopy(of: .vmwareDebian)
        let memory = GuestProfile.vmwareDebian.minimumMemoryMiB

        do {
            let guest = try DirectQEMUGuest(disk: copy.path, hardware: .sandbox, memoryMiB: memory, instanceID: "i-unconverted", localHostname: "ignored", userData: "")
            defer { guest.stop() }
            // initramfs-tools waits for /dev/sda1 (there is only /dev/vda), gives up, and drops to a shell.
            let gaveUp = try guest.waitForConsole("ALERT!  /dev/sda1 does not exist", timeout: 300)
            #expect(guest.consoleText.contains("Gave up waiting for root file system device"))
            #expect(!guest.consoleText.contains("FERRY-BOOT-READY"))
            print("unconverted on virtio: the initramfs gave up at \(Int(gaveUp)) s")
        }

        let report = try Self.appliance.convert(diskAt: copy.path, for: .sandbox) { print("[converter] \($0)") }
        print(String(format: "convert for sandbox: %.1f s, %d changes, initramfs by %@", report.seconds, report.changes.count, report.initramfsTool ?? "-"))
        for change in report.changes { print("  \(change.file): \(change.before) -> \(change.after) (\(change.why))") }
        for note in report.notes { print("  note: \(note)") }
        #expect(report.platform == .sandbox)
        #expect(report.inspection.rootFstabEntry?.spec == "/dev/sda1")
        #expect(report.initramfsTool == "update-initramfs -u -k all")
        #expect(report.changes.contains { $0.file == "/etc/fstab" && $0.before.hasPrefix("/dev/sda1 /") && $0.after.hasPrefix("UUID=") })
        #expect(report.changes.contains { $0.file == "/etc/initramfs-tools/modules" && $0.after.hasSuffix("virtio_pci virtio_blk virtio_net") })
        #expect(report.changes.contains { $0.file == "/boot/grub/grub.cfg" && $0.before == "root=/dev/sda1" && $0.after.hasPrefix("root=UUID=") })
        #expect(report.changes.contains { $0.file == "/etc/network/interfaces" && $0.before.contains("iface ens192 inet static") })
        #expect(report.changes.contains { $0.file == "/etc/systemd/network/10-ferry-vmxnet3.link" })
        #expect(report.changes.contains { $0.file == "/etc/systemd/system/open-vm-tools.service" && $0.after == "masked" })
        #expect(report.notes.isEmpty, "\(report.notes)")

        let image = try GuestDisk(copy.path)
        #expect(try image.cat("/etc/hostname") == "ip-10-0-0-36\n", "the hostname is the source's")
        #expect(try image.check(), "e2fsck finds the converted file system consistent")

        do {
            let instanceID = "i-\(UUID().uuidString.prefix(8).lowercased())"
            let guest = try DirectQEMUGuest(disk: copy.path, hardware: .sandbox, memoryMiB: memory, instanceID: instanceID, localHostname: "ignored", userData: "")
            defer { guest.stop() }
            let http200 = try guest.waitFor200("/wp-admin/install.php", timeout: 420)
            let ready = try guest.waitForConsole("FERRY-BOOT-READY \(instanceID)", timeout: 420)
            #expect(!guest.consoleText.contains("Gave up waiting for root file system device"))
            print("converted on virtio: HTTP 200 at \(Int(http200)) s, FERRY-BOOT-READY at \(Int(ready)) s")
        }

        let again = try Self.appliance.convert(diskAt: copy.path, for: .sandbox) { print("[converter] \($0)") }
        print(String(format: "second conversion: %.1f s, %d changes", again.seconds, again.changes.count))
        #expect(again.changes.isEmpty, "\(again.changes)")
        #expect(again.initramfsTool == nil)
        #expect(again.inspection.bootsOn(.sandbox))
        #expect(again.inspection.rootFstabEntry?.spec.hasPrefix("UUID=") == true)
    }

    @Test func convertedForAWSItsInitramfsHoldsNVMeAndENA() throws {
        let copy = try DiskCopy(of: .vmwareDebian)
        let report = try Self.appliance.convert(diskAt: copy.path, for: .aws) { print("[converter] \($0)") }
        print(String(format: "convert for aws: %.1f s, %d changes", report.seconds, report.changes.count))
        #expect(report.changes.contains { $0.file == "/etc/initramfs-tools/modules" && $0.after.hasSuffix("nvme ena") })

        // Read back offline, without the appliance: debugfs dumps the initramfs, lsinitramfs lists it.
        let image = try GuestDisk(copy.path)
        let files = try image.initramfsFiles()
        #expect(files.contains { $0.hasSuffix("/nvme.ko") }, "nvme in the initramfs")
        #expect(files.contains { $0.hasSuffix("/ena.ko") }, "ena in the initramfs")
        let fstab = try image.cat("/etc/fstab")
        #expect(fstab.contains("\nUUID=") && !fstab.contains("\n/dev/sda1"), "\(fstab)")
        #expect(try image.cat("/boot/grub/grub.cfg").contains("root=UUID="))
    }

    @Test func refusesADiskWithoutAnOperatingSystemAndLeavesItUnchanged() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-converter-test-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("empty.raw").path
        let mke2fs = try HostCommand.require("mke2fs", package: "e2fsprogs", purpose: "make an empty disk")
        try HostCommand.check(mke2fs, ["-q", "-F", "-t", "ext4", "-L", "data", path, "64M"])
        let before = try DiskCopy.sha256(path)

        do {
            _ = try Self.appliance.convert(diskAt: path, for: .sandbox)
            Issue.record("an empty file system was converted")
        } catch ConverterError.notConvertible(let reasons, let inspection) {
            #expect(reasons.contains { $0.contains("no Linux root file system") }, "\(reasons)")
            #expect(inspection?.convertible == false)
            #expect(inspection?.fileSystems.first?.type == "ext4")
            #expect(inspection?.fileSystems.first?.device == "/dev/vda")
        }
        #expect(try DiskCopy.sha256(path) == before, "a refused disk is not changed")
    }
}

/// A sparse copy of a cached guest disk in a folder of its own (removed with the value).
final class DiskCopy {
    let folder: URL
    let path: String

    init(of profile: GuestProfile) throws {
        let cached = try GuestImageCache(directory: GuestImageTestCache.directory).disk(for: profile) { print("[\(profile.rawValue)] \($0)") }
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-converter-test-\(UUID().uuidString.prefix(8))", isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        path = folder.appendingPathComponent("disk.raw").path
        try SparseFile.copy(from: cached, to: path)
    }

    deinit { try? FileManager.default.removeItem(at: folder) }

    func sha256() throws -> String { try Self.sha256(path) }

    static func sha256(_ path: String) throws -> String {
        let tool = try HostCommand.require("sha256sum", package: "coreutils", purpose: "hash a disk")
        return String(try HostCommand.check(tool, [path]).prefix(64))
    }
}
