import FerryTestSupport
import Foundation
import Testing

/// The vmware-debian VM — Debian 12 built as on VMware: pvscsi disk, vmxnet3 NIC, fstab and GRUB
/// by /dev/sda1, VMware drivers in its initramfs, open-vm-tools — exported as a .vmx with its
/// VMDK and migrated by the vmware-migration recipe to the sandbox, whose instances have a
/// virtio disk and NIC. Launched as it was replicated, its kernel does not find its root; the
/// Machine Converter makes it boot and serve WordPress. Slow: Debian boots under emulation.
@Suite("vmware-migration recipe", .serialized)
struct VMwareRecipeTests {
    @Test(.timeLimit(.minutes(40)))
    func aVMwareVMBootsOnTheSandboxOnlyOnceConverted() throws {
        let directory = try FerryProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let workspace = directory.appendingPathComponent("ws").path
        #expect(try FerryProcess.run(["init", "--workspace", workspace]).status == 0)
        let built = try FerryProcess.run(["sandbox", "image", "build", "--profile", "vmware-debian", "--workspace", workspace, "--output", "json"],
                                         environment: GuestImageTestCache.environment, timeoutSeconds: FerryProcess.slow)
        try #require(built.status == 0, "\(built.stderr)")
        let image = try #require(try JSONSerialization.jsonObject(with: Data(built.stdout.utf8)) as? [String: Any])
        let vm = directory.appendingPathComponent("vm")
        let exported = try FerryProcess.run(["sandbox", "image", "export-vmware", try #require(image["id"] as? String), vm.path, "--name", "legacy-web", "--workspace", workspace])
        try #require(exported.status == 0, "\(exported.stderr)")
        let vmx = vm.appendingPathComponent("legacy-web.vmx").path
        let cache = GuestImageTestCache.environment

        // What the converter starts from, read from the VM's files by `disk inspect --os`.
        let inspected = try FerryProcess.run(["disk", "inspect", "--os", vmx, "--output", "json"], environment: cache)
        try #require(inspected.status == 0, "\(inspected.stderr)")
        let layout = try #require(try JSONSerialization.jsonObject(with: Data(inspected.stdout.utf8)) as? [String: Any])
        let system = try #require(layout["system"] as? [String: Any])
        #expect((system["operatingSystem"] as? [String: Any])?["family"] as? String == "debian")
        #expect(system["convertible"] as? Bool == true)
        #expect((layout["bootsAsIs"] as? [String: Any])?["sandbox"] as? Bool == false, "\(layout["bootsAsIs"] ?? "")")
        #expect((system["hypervisorTools"] as? [String])?.contains("open-vm-tools") == true)
        let text = try FerryProcess.run(["disk", "inspect", "--os", vmx], environment: cache)
        #expect(text.stdout.contains("root:           partition 1"), "\(text.stdout)")
        #expect(text.stdout.contains("boots on sandbox: no, until converted"), "\(text.stdout)")

        // 1. Without conversion (the old design: the disk launched as it was replicated): the
        //    kernel starts, and its initramfs gives up on /dev/sda1, a device virtio does not make.
        let unconverted = try FerryProcess.run(["recipe", "run", "vmware-migration", "--yes", "--workspace", workspace,
                                                "--param", "vm=\(vmx)", "--param", "convert=false"], environment: cache, in: WorkshopTests.repositoryRoot, timeoutSeconds: FerryProcess.slow)
        let said = unconverted.stdout + unconverted.stderr
        #expect(unconverted.status != 0, "\(said.suffix(3000))")
        #expect(said.contains("as replicated, it boots on sandbox (virtio-blk disk, virtio-net NIC, BIOS): no"), "\(said.suffix(3000))")
        #expect(said.contains("warning: as replicated it does not boot on sandbox"), "\(said.suffix(3000))")
        #expect(said.contains("Conversion skipped: conversion is off (convert=false)"), "\(said.suffix(3000))")
        #expect(said.contains("cannot boot: the initramfs did not find the root file system"), "\(said.suffix(3000))")
        #expect(said.contains("/dev/sda1 does not exist"), "the console of the failed boot: \(said.suffix(3000))")
        let failedRun = try WorkshopTests.onlyRun(in: workspace)
        #expect(try FerryProcess.run(["recipe", "destroy", failedRun.id, "--workspace", workspace]).status == 0)

        // 2. With the Machine Converter, as the recipe runs by default.
        let started = Date()
        let converted = try FerryProcess.run(["recipe", "run", "vmware-migration", "--yes", "--workspace", workspace, "--param", "vm=\(vmx)"],
                                             environment: cache, in: WorkshopTests.repositoryRoot, timeoutSeconds: FerryProcess.slow)
        print("vmware-migration with conversion: \(Int(Date().timeIntervalSince(started))) s")
        try #require(converted.status == 0, "\(converted.stdout.suffix(4000))\(converted.stderr)")
        #expect(converted.stdout.contains("found: Debian GNU/Linux 12 (bookworm)"), "\(converted.stdout.suffix(3000))")
        #expect(converted.stdout.contains("the conversion will name /dev/sda1 (/) by UUID in /etc/fstab"), "\(converted.stdout.suffix(3000))")
        #expect(converted.stdout.contains("on the converter instance 'Machine Converter legacy-web'"), "\(converted.stdout.suffix(3000))")
        #expect(converted.stdout.contains(" booted ("))

        let (runID, _, run) = try WorkshopTests.onlyRun(in: workspace)
        let steps = try #require(run["steps"] as? [[String: Any]])
        func outputs(_ id: String) -> [String: Any] { steps.first { $0["stepID"] as? String == id }?["outputs"] as? [String: Any] ?? [:] }
        let stagingSubnet = try #require(outputs("staging-network")["subnet_id"] as? String)
        #expect(outputs("conversion")["boots_as_is"] as? String == "no")
        #expect((outputs("cutover")["conversion"] as? String)?.hasSuffix("changes for sandbox") == true, "\(outputs("cutover"))")

        // The report is kept with the job, and shown with the source server.
        let serverID = try #require(outputs("replicate")["source_server_id"] as? String)
        let shown = try FerryProcess.run(["source", "show", serverID, "--workspace", workspace, "--output", "json"])
        let server = try #require(try JSONSerialization.jsonObject(with: Data(shown.stdout.utf8)) as? [String: Any])
        let latest = try #require((server["latestConversion"] as? [String: Any])?["conversion"] as? [String: Any])
        #expect(latest["outcome"] as? String == "converted")
        let changes = try #require((latest["report"] as? [String: Any])?["changes"] as? [[String: Any]])
        #expect(changes.contains { $0["file"] as? String == "/etc/fstab" && ($0["after"] as? String)?.hasPrefix("UUID=") == true }, "\(changes)")
        #expect(changes.contains { $0["file"] as? String == "/etc/initramfs-tools/modules" && ($0["after"] as? String)?.contains("virtio_blk") == true }, "\(changes)")
        let japanese = try FerryProcess.run(["source", "show", serverID, "--workspace", workspace, "--lang", "ja"])
        #expect(japanese.stdout.contains("ファイルシステムを UUID で指定"), "\(japanese.stdout)")

        // The converters were sandbox instances in the staging subnet, terminated once done.
        let status = try FerryProcess.run(["sandbox", "status", "--workspace", workspace, "--output", "json"])
        let instances = try #require((try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])?["instances"] as? [[String: Any]])
        let converters = instances.filter { $0["name"] as? String == "Machine Converter legacy-web" }
        #expect(converters.count == 2, "one per launch: \(instances.map { $0["name"] ?? "" })")
        for converter in converters {
            let instance = try #require(converter["instance"] as? [String: Any])
            #expect(instance["state"] as? String == "terminated")
            #expect(instance["subnetID"] as? String == stagingSubnet)
            #expect((converter["stateReason"] as? String)?.hasPrefix("Conversion finished") == true, "\(converter)")
        }

        // The cutover instance is the VMware VM, answering with its WordPress on the sandbox.
        let url = try #require(outputs("cutover")["url"] as? String)
        let page = try String(contentsOf: try #require(URL(string: url)), encoding: .utf8)
        #expect(page.contains("WordPress"), "\(page.prefix(500))")
        let cutover = try #require(instances.first { $0["name"] as? String == "legacy-web" })
        #expect(cutover["firstBoot"] as? String == "SUCCEEDED")

        #expect(try FerryProcess.run(["recipe", "destroy", runID, "--workspace", workspace]).status == 0)
        #expect(try WorkshopTests.qemuProcesses(mentioning: workspace).isEmpty)
    }
}

@Suite("ferry disk inspect --os")
struct DiskInspectOSTests {
    @Test func aFileWithoutAPartitionTableOrFileSystemIsRefusedBeforeTheApplianceBoots() throws {
        let directory = try FerryProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("notes.txt")
        try "not a disk\n".write(to: file, atomically: true, encoding: .utf8)
        let result = try FerryProcess.run(["disk", "inspect", "--os", file.path])
        #expect(result.status != 0)
        #expect(result.stderr == "Error: \(file.path) has no partition table and no file system Ferry recognises: there is no system on it to look at\n", "\(result.stderr)")
    }
}
