import FerryCore
import FerryKit
import Foundation
@testable import SandboxTarget
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The sandbox boots the devices an image says its machine has, not a constant: the same
/// busybox disk, whose initramfs holds only virtio drivers, boots on virtio and does not on
/// VMware's devices, which QEMU really emulates.
@Suite(.serialized)
struct GuestHardwareTests {
    @Test func qemuGetsTheImagesDiskControllerAndNetworkCard() {
        func arguments(_ hardware: GuestHardware) -> String {
            QEMUProcess.arguments(.init(
                instanceID: "i-1", memoryMiB: 256, vCPUs: 1, disk: "/d/disk.qcow2", seed: "/d/seed.raw", consoleLog: "/d/console.log",
                pidFile: "/d/qemu.pid", subnet: try! IPv4CIDR("10.0.0.0/24"), network: try! IPv4CIDR("10.0.0.0/24"), privateIP: "10.0.0.36", ports: [], hardware: hardware
            )).joined(separator: " ")
        }
        let sandbox = arguments(.sandbox)
        #expect(sandbox.contains("-device virtio-net-pci,netdev=n0"))
        #expect(sandbox.contains("file=/d/disk.qcow2,if=virtio,format=qcow2"))
        let vmware = arguments(.vmware)
        #expect(vmware.contains("-device vmxnet3,netdev=n0"))
        #expect(vmware.contains("-device pvscsi,id=scsi0"))
        #expect(vmware.contains("-device scsi-hd,drive=root,bus=scsi0.0,scsi-id=0,bootindex=0"))
        // Only the seed disk is virtio, off the root's controller, so that it cannot take the root's name.
        #expect(vmware.components(separatedBy: "virtio").count - 1 == 1)
        #expect(vmware.contains("file=/d/seed.raw,if=virtio,format=raw,readonly=on"))
        let nitro = arguments(GuestHardware(diskBus: .nvme, nicModel: .e1000))
        #expect(nitro.contains("-device nvme,drive=root,serial=ferry-root,bootindex=0"))
        #expect(nitro.contains("-device e1000,netdev=n0"))
        #expect(nitro.components(separatedBy: "virtio").count - 1 == 1)
    }

    @Test func anImageKeepsItsHardwareAndAMigratedDiskGetsTheSandboxsOwn() throws {
        let workspace = try TestWorkspace()
        let cloud = workspace.cloud
        let disk = cloud.directory.appendingPathComponent("tiny.raw").path
        FileManager.default.createFile(atPath: disk, contents: Data(count: 1 << 20))
        let volume = try cloud.importVolume(VolumeImportRequest(name: "tiny", source: try FileRegionReader(path: disk)))
        let vmware = try cloud.registerImage(name: "shaped", rootVolume: volume, hardware: .vmware, minimumMemoryMiB: 1024)
        #expect(try cloud.imageDetails(id: vmware.id).hardware == .vmware)
        #expect(try cloud.imageDetails(id: vmware.id).minimumMemoryMiB == 1024)
        let migrated = try cloud.registerImage(name: "migrated", rootVolume: volume)
        #expect(try cloud.imageDetails(id: migrated.id).hardware == .sandbox)

        // Too little memory for the image is refused before anything is made, naming the types that fit.
        #expect(throws: SandboxError.instanceTypeTooSmall(type: "t3.micro", memoryMiB: 256, image: "shaped", needsMiB: 1024, enough: ["t3.large", "m5.large"])) {
            try cloud.launchInstance(imageID: vmware.id, settings: LaunchSettings(instanceType: "t3.micro"))
        }
        #expect(try cloud.describeInstances().isEmpty)
        #expect(InstanceType.smallest(fittingMiB: 1024).name == "t3.large")
        #expect(InstanceType.smallest(fittingMiB: 0).name == "t3.micro")
    }

    @Test func theSameDiskBootsOnVirtioAndNotOnVMwaresDevices() throws {
        let workspace = try TestWorkspace()
        let cloud = workspace.cloud
        let base = try BaseImageCache.register(in: cloud)
        let details = try cloud.imageDetails(id: base.id)
        // The base image's own volume, registered a second time as if it were a VMware VM's.
        let volume = try #require(try cloud.describeVolumes().first { details.image.volumeIDs.first == $0.id })
        let shaped = try cloud.registerImage(name: "busybox-on-vmware", rootVolume: volume, hardware: .vmware)

        let good = try cloud.launchInstance(imageID: base.id, settings: LaunchSettings(instanceType: "t3.micro"))
        #expect(try cloud.waitForFirstBoot(id: good.id, timeout: 120) == .succeeded)
        _ = try cloud.terminateInstance(id: good.id)

        let bad = try cloud.launchInstance(imageID: shaped.id, settings: LaunchSettings(instanceType: "t3.micro"))
        let command = try String(contentsOfFile: "/proc/\(try #require(Self.pid(of: bad.id)))/cmdline", encoding: .utf8)
        #expect(command.contains("pvscsi") && command.contains("vmxnet3"))
        // Its initramfs loads virtio_blk and finds no disk: it never reaches its first boot.
        let deadline = Date().addingTimeInterval(90)
        var console = ""
        while Date() < deadline, !console.contains("cannot mount root") {
            usleep(500_000)
            console = try cloud.consoleOutput(id: bad.id)
        }
        #expect(console.contains("ferry initramfs: cannot mount root LABEL=root"), "\(console.suffix(600))")
        #expect(!console.contains("FERRY-FIRST-BOOT"))
        #expect(try cloud.firstBootStatus(id: bad.id) == .pending)
    }

    static func pid(of instanceID: String) -> Int32? {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = Int32(entry), let data = FileManager.default.contents(atPath: "/proc/\(entry)/cmdline") else { continue }
            let words = String(decoding: data, as: UTF8.self).split(separator: "\0")
            if words.first?.hasSuffix("qemu-system-x86_64") == true, words.contains(Substring(instanceID)) { return pid }
        }
        return nil
    }
}
