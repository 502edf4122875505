import Foundation
import Testing

/// A VMware VM (a .vmx with a streamOptimized VMDK made by qemu-img from the sandbox's Linux
/// image) migrated by the vmware-migration recipe to the sandbox, where it really boots.
@Suite("vmware-migration recipe", .serialized)
struct VMwareRecipeTests {
    @Test(.timeLimit(.minutes(10)))
    func aVMXMigratesToTheSandboxAndBoots() throws {
        let directory = try FerryProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let workspace = directory.appendingPathComponent("ws").path
        #expect(try FerryProcess.run(["init", "--workspace", workspace]).status == 0)
        let built = try FerryProcess.run(["sandbox", "image", "build", "--workspace", workspace, "--output", "json"])
        #expect(built.status == 0, "\(built.stderr)")
        let image = try #require(try JSONSerialization.jsonObject(with: Data(built.stdout.utf8)) as? [String: Any])
        let volume = try #require((image["volumeIDs"] as? [String])?.first)
        let raw = "\(workspace)/sandbox/volumes/\(volume).raw"

        // The VM: its disk as VMware writes it for export, and a .vmx naming it.
        let vm = directory.appendingPathComponent("vm")
        try FileManager.default.createDirectory(at: vm, withIntermediateDirectories: true)
        let convert = Process()
        convert.executableURL = URL(fileURLWithPath: "/usr/bin/qemu-img")
        convert.arguments = ["convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=streamOptimized", raw, vm.appendingPathComponent("disk1.vmdk").path]
        try convert.run()
        convert.waitUntilExit()
        #expect(convert.terminationStatus == 0)
        try """
            .encoding = "UTF-8"
            displayName = "legacy-web"
            guestOS = "debian12-64"
            memsize = "512"
            numvcpus = "1"
            scsi0.present = "TRUE"
            scsi0:0.present = "TRUE"
            scsi0:0.fileName = "disk1.vmdk"
            ethernet0.present = "TRUE"
            ethernet0.networkName = "VM Network"
            ethernet0.generatedAddress = "00:0C:29:12:34:56"
            """.write(to: vm.appendingPathComponent("legacy-web.vmx"), atomically: true, encoding: .utf8)

        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let run = try FerryProcess.run(["recipe", "run", "vmware-migration", "--yes", "--workspace", workspace,
                                        "--param", "vm=\(vm.appendingPathComponent("legacy-web.vmx").path)"], in: root)
        #expect(run.status == 0, "\(run.stdout.suffix(3000))\(run.stderr)")
        #expect(run.stdout.contains("Disk to replicate identified"))
        #expect(run.stdout.contains(" booted ("))

        let status = try FerryProcess.run(["sandbox", "status", "--workspace", workspace, "--output", "json"])
        let inventory = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        let instances = try #require(inventory["instances"] as? [[String: Any]])
        let cutover = try #require(instances.first { $0["name"] as? String == "legacy-web" })
        #expect(cutover["firstBoot"] as? String == "SUCCEEDED")

        let runs = try FerryProcess.run(["recipe", "status", "--workspace", workspace, "--output", "json"])
        let runID = try #require((try JSONSerialization.jsonObject(with: Data(runs.stdout.utf8)) as? [[String: Any]])?.first?["id"] as? String)
        #expect(try FerryProcess.run(["recipe", "destroy", runID, "--workspace", workspace]).status == 0)
        #expect(try WorkshopTests.qemuProcesses(mentioning: workspace).isEmpty)
    }
}
