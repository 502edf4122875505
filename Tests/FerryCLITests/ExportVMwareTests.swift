import FerryCore
import FerryKit
import FerryTestSupport
import Foundation
import SandboxTarget
import Testing
import VMwareSource

/// `ferry sandbox image export-vmware`: an image built for VMware's devices becomes the files
/// of a VMware VM — a .vmx with a VMFS-style descriptor and flat extent, and an .ova — that
/// qemu-img (the independent oracle) reads as the same disk, and that the vmware adapter
/// passes the conformance kit with.
@Suite("ferry sandbox image export-vmware")
struct ExportVMwareTests {
    @Test func aVMwareShapedImageIsWrittenAsAVMXAndAnOVAThatHoldItsDisk() throws {
        let directory = try FerryProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let workspace = directory.appendingPathComponent("ws")
        #expect(try FerryProcess.run(["init", "--workspace", workspace.path]).status == 0)
        let cloud = try SandboxTargetAdapter(workspace: WorkspaceFolder(root: workspace), diskImages: DiskImageReaders()).cloud()

        // 8 MiB: random data in scattered places, holes between.
        let raw = directory.appendingPathComponent("disk.raw").path
        FileManager.default.createFile(atPath: raw, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: raw))
        var generator = SplitMix64(seed: 14)
        for offset in stride(from: 0, to: 8 << 20, by: 1 << 20) {
            try handle.seek(toOffset: UInt64(offset + 4096 * Int(generator.next() % 64)))
            handle.write(Data((0..<70_000).map { _ in UInt8(truncatingIfNeeded: generator.next()) }))
        }
        try handle.truncate(atOffset: 8 << 20)
        try handle.close()
        let volume = try cloud.importVolume(VolumeImportRequest(name: "vm", source: try FileRegionReader(path: raw)))
        let shaped = try cloud.registerImage(name: "shaped", rootVolume: volume, hardware: .vmware, minimumMemoryMiB: 1024)
        let plain = try cloud.registerImage(name: "plain", rootVolume: volume)

        let out = directory.appendingPathComponent("vm")
        let exported = try FerryProcess.run(["sandbox", "image", "export-vmware", shaped.id, out.path, "--name", "web01", "--workspace", workspace.path])
        #expect(exported.status == 0, "\(exported.stderr)")
        let vmx = out.appendingPathComponent("web01.vmx").path
        let ova = out.appendingPathComponent("web01.ova").path
        let text = try String(contentsOfFile: vmx, encoding: .utf8)
        #expect(text.contains("scsi0.virtualDev = \"pvscsi\""))
        #expect(text.contains("ethernet0.virtualDev = \"vmxnet3\""))
        #expect(text.contains("scsi0:0.fileName = \"web01.vmdk\""))
        #expect(text.contains("memSize = \"1024\""))

        // qemu-img reads the descriptor and its flat extent, and the .ova's streamOptimized disk, as the raw disk.
        #expect(try Self.qemuImg(["compare", "-f", "raw", "-F", "vmdk", raw, out.appendingPathComponent("web01.vmdk").path]).status == 0)
        let unpacked = directory.appendingPathComponent("unpacked")
        try FileManager.default.createDirectory(at: unpacked, withIntermediateDirectories: true)
        let tar = try Self.tool("/usr/bin/tar", ["-xf", ova, "-C", unpacked.path])
        #expect(tar.status == 0, "\(tar.output)")
        #expect(try Self.tool("/usr/bin/tar", ["-tf", ova]).output.split(separator: "\n") == ["web01.ovf", "web01-disk1.vmdk"])
        #expect(try Self.qemuImg(["compare", "-f", "raw", "-F", "vmdk", raw, unpacked.appendingPathComponent("web01-disk1.vmdk").path]).status == 0)

        // The vmware adapter reads both back with their devices, and passes the conformance kit.
        for path in [vmx, ova] {
            let machine = try #require(try VMwareMachine.discover(path: path).first)
            #expect(machine.hostname == "web01", "\(path)")
            #expect(machine.memoryBytes == 1024 << 20, "\(path)")
            #expect(machine.disks.count == 1 && machine.disks[0].sizeBytes == 8 << 20, "\(path)")
            let kit = try FerryProcess.run(["adapter", "test", "vmware", "--option", "path=\(path)", "--workspace", workspace.path])
            #expect(kit.status == 0, "\(path): \(kit.stdout) \(kit.stderr)")
        }

        // An image for the sandbox's own devices has no VMware shape to export.
        let refused = try FerryProcess.run(["sandbox", "image", "export-vmware", plain.id, directory.appendingPathComponent("no").path, "--workspace", workspace.path])
        #expect(refused.status != 0)
        #expect(refused.stderr.contains("was built for a virtio disk, a device VMware does not have"), "\(refused.stderr)")
        #expect(refused.stderr.split(separator: "\n").count == 1, "one line, no usage: \(refused.stderr)")
    }

    /// The real VMware-shaped guest: its exported .vmx and .ova pass the conformance kit and
    /// hold exactly the image's disk. Slow on first use (the image is built, then cached).
    @Test(.timeLimit(.minutes(30)))
    func theVMwareDebianImageExportsToAVMwareVMThatHoldsItsDisk() throws {
        let directory = try FerryProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let workspace = directory.appendingPathComponent("ws").path
        #expect(try FerryProcess.run(["init", "--workspace", workspace]).status == 0)
        let built = try FerryProcess.run(["sandbox", "image", "build", "--profile", "vmware-debian", "--workspace", workspace, "--output", "json"],
                                         environment: GuestImageTestCache.environment, timeoutSeconds: FerryProcess.slow)
        #expect(built.status == 0, "\(built.stderr)")
        let image = try #require(try JSONSerialization.jsonObject(with: Data(built.stdout.utf8)) as? [String: Any])
        let imageID = try #require(image["id"] as? String)
        let volume = try #require((image["volumeIDs"] as? [String])?.first)
        let raw = "\(workspace)/sandbox/volumes/\(volume).raw"

        let out = directory.appendingPathComponent("vm")
        let exported = try FerryProcess.run(["sandbox", "image", "export-vmware", imageID, out.path, "--workspace", workspace])
        #expect(exported.status == 0, "\(exported.stderr)")
        let vmx = out.appendingPathComponent("vmware-debian.vmx").path
        #expect(try Self.qemuImg(["compare", "-f", "raw", "-F", "vmdk", raw, out.appendingPathComponent("vmware-debian.vmdk").path]).status == 0)
        for path in [vmx, out.appendingPathComponent("vmware-debian.ova").path] {
            let kit = try FerryProcess.run(["adapter", "test", "vmware", "--option", "path=\(path)", "--workspace", workspace])
            #expect(kit.status == 0, "\(path): \(kit.stdout) \(kit.stderr)")
        }
        let text = try String(contentsOfFile: vmx, encoding: .utf8)
        #expect(text.contains("scsi0.virtualDev = \"pvscsi\"") && text.contains("ethernet0.virtualDev = \"vmxnet3\""))
    }

    static func qemuImg(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try tool("/usr/bin/qemu-img", arguments)
    }

    static func tool(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
        try HostTool.run(path, arguments)
    }
}
