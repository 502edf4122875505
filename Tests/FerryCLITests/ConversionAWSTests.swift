import FerryTestSupport
import Foundation
import Testing

/// The Machine Converter for an AWS-style target: a converter cannot boot on moto, so the
/// vmware-debian VM's root disk is converted on this machine before upload, and the snapshot
/// the image is registered from holds the converted system. Read back with boto3 from moto —
/// not with ferry — the disk's initramfs holds the nvme and ena drivers, and its fstab and GRUB
/// name the root by UUID. Slow: the converter rebuilds the guest's initramfs under emulation.
@Suite("conversion for aws (moto)", .serialized)
struct ConversionAWSTests {
    @Test(.timeLimit(.minutes(30)))
    func theUploadedSnapshotHoldsTheConvertedSystem() async throws {
        let moto = try await MotoServerProcess.start()
        defer { moto.stop() }
        let directory = try FerryProcess.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let workspace = directory.appendingPathComponent("ws").path
        var environment = WorkshopAWSTests.environment(moto: moto, directory: directory)
        environment.merge(GuestImageTestCache.environment) { $1 }

        try #require(try await WorkshopAWSTests.ferry(["init", "--workspace", workspace]).status == 0)
        let built = try await WorkshopAWSTests.ferry(["sandbox", "image", "build", "--profile", "vmware-debian", "--workspace", workspace, "--output", "json"],
                                                     environment: environment)
        try #require(built.status == 0, "\(built.stderr)")
        let image = try #require(try JSONSerialization.jsonObject(with: Data(built.stdout.utf8)) as? [String: Any])
        let vm = directory.appendingPathComponent("vm")
        let exported = try await WorkshopAWSTests.ferry(["sandbox", "image", "export-vmware", try #require(image["id"] as? String), vm.path, "--workspace", workspace])
        try #require(exported.status == 0, "\(exported.stderr)")

        let recipes = directory.appendingPathComponent("recipes")
        try FileManager.default.createDirectory(at: recipes, withIntermediateDirectories: true)
        try Self.recipe.write(to: recipes.appendingPathComponent("convert-for-aws.yaml"), atomically: true, encoding: .utf8)
        let started = Date()
        let run = try await WorkshopAWSTests.ferry(["recipe", "run", "convert-for-aws", "--yes", "--recipes", recipes.path, "--source", "vmware", "--target", "aws",
                                                    "--param", "vm=\(vm.appendingPathComponent("vmware-debian.vmx").path)", "--workspace", workspace],
                                                   environment: environment)
        print("replicate, convert for aws and upload: \(Int(Date().timeIntervalSince(started))) s")
        try #require(run.status == 0, "\(run.stdout.suffix(4000))\(run.stderr)")
        #expect(run.stdout.contains("on this machine, before upload"), "\(run.stdout.suffix(3000))")
        #expect(run.stdout.contains("(converted)"), "the converted copy was uploaded: \(run.stdout.suffix(3000))")

        let (runID, _, record) = try WorkshopTests.onlyRun(in: workspace)
        defer { _ = try? FerryProcess.run(["recipe", "destroy", runID, "--workspace", workspace], environment: environment) }
        let steps = try #require(record["steps"] as? [[String: Any]])
        let launch = try #require(steps.first { $0["stepID"] as? String == "launch" }?["outputs"] as? [String: Any])
        let imageID = try #require(launch["image_id"] as? String)
        // The snapshot Ferry uploaded for the root disk (through the EBS direct APIs), as the run recorded it.
        let resources = try #require(record["resources"] as? [[String: Any]])
        let snapshotID = try #require(resources.compactMap { $0["resource"] as? [String: Any] }
            .first { $0["kind"] as? String == "snapshot" }?["id"] as? String, "\(resources)")

        // boto3 reads the image's snapshot block by block from moto into a sparse raw file.
        let raw = directory.appendingPathComponent("from-moto.raw").path
        let script = directory.appendingPathComponent("read_snapshot.py")
        try Self.readSnapshot.write(to: script, atomically: true, encoding: .utf8)
        // The test's moto and keys only; the variables set empty to hide this machine's settings are unset for boto3.
        var pythonEnvironment = ProcessInfo.processInfo.environment
        pythonEnvironment.merge(environment) { $1 }
        pythonEnvironment = pythonEnvironment.filter { !$0.value.isEmpty }
        let python = try HostTool.run("/usr/bin/env", ["python3", script.path, moto.endpoint.absoluteString, imageID, snapshotID, raw], environment: pythonEnvironment)
        try #require(python.status == 0, "\(python.output)")
        print(python.output)

        let disk = "\(raw)?offset=1048576"  // the root partition, as the VM was built (MBR, first partition at 1 MiB)
        let debugfs = "/usr/sbin/debugfs"
        func cat(_ path: String) throws -> String { try HostTool.run(debugfs, ["-R", "cat \(path)", disk]).output }
        let fstab = try cat("/etc/fstab")
        #expect(fstab.contains("\nUUID=") && !fstab.contains("\n/dev/sda1"), "\(fstab)")
        #expect(try cat("/boot/grub/grub.cfg").contains("root=UUID="))
        let boot = try HostTool.run(debugfs, ["-R", "ls -p /boot", disk]).output
        let initrd = try #require(boot.split(separator: "/").map(String.init).first { $0.hasPrefix("initrd.img-") }, "\(boot)")
        let copy = directory.appendingPathComponent("initrd.img").path
        #expect(try HostTool.run(debugfs, ["-R", "dump /boot/\(initrd) \(copy)", disk]).status == 0)
        let files = try HostTool.run("/usr/bin/lsinitramfs", [copy]).output
        #expect(files.contains("/nvme.ko"), "nvme in the initramfs")
        #expect(files.contains("/ena.ko"), "ena in the initramfs")
    }

    static let recipe = """
        name: convert-for-aws
        title: A VMware VM converted for an AWS-style cloud
        parameters:
          vm: {type: string, help: the .vmx}
        steps:
          - id: target-network
            title: TargetVPC
            explain: {en: Where the instance is launched.}
            action: network.create-vpc
            inputs: {name: TargetVPC, cidr: 10.2.0.0/16, subnet_cidr: 10.2.1.0/24}
          - id: replication-server
            title: The replication server
            explain: {en: Receives the VM's blocks.}
            action: replication.start-server
            inputs: {subnet_id: "${steps.target-network.subnet_id}"}
          - id: replicate
            title: Replicate the VM
            explain: {en: "The vmware adapter reads the .vmx and its VMDK."}
            action: replication.replicate-source
            inputs: {adapter: vmware, options: {path: "${params.vm}"}, server: "${steps.replication-server.address}"}
          - id: launch
            title: Test launch, converted
            explain: {en: "Converted on this machine, uploaded, registered, launched."}
            action: migration.launch
            inputs:
              source_server_id: ${steps.replicate.source_server_id}
              mode: test
              name: converted
              subnet_id: ${steps.target-network.subnet_id}
              instance_type: t3.medium
        """

    /// Reads a snapshot through the EBS direct APIs (ListSnapshotBlocks, GetSnapshotBlock) into
    /// a sparse raw file of the volume's size, and prints the image's root mapping beside it.
    static let readSnapshot = """
        import os, sys, boto3
        endpoint, image_id, snapshot, out = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
        region = os.environ["AWS_REGION"]
        ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name=region)
        ebs = boto3.client("ebs", endpoint_url=endpoint, region_name=region)
        mapping = ec2.describe_images(ImageIds=[image_id])["Images"][0]["BlockDeviceMappings"][0]["Ebs"]
        print(f"image {image_id}: root {mapping}")
        size = None
        written = 0
        with open(out, "wb") as f:
            token = None
            while True:
                page = ebs.list_snapshot_blocks(SnapshotId=snapshot, **({"NextToken": token} if token else {}))
                size = page["VolumeSize"] * (1 << 30)
                # EBS blocks are 512 KiB (moto 5.2 answers BlockSize 512, not what it stores).
                block_size = 524288
                for block in page["Blocks"]:
                    data = ebs.get_snapshot_block(SnapshotId=snapshot, BlockIndex=block["BlockIndex"], BlockToken=block["BlockToken"])["BlockData"].read()
                    f.seek(block["BlockIndex"] * block_size)
                    f.write(data)
                    written += len(data)
                token = page.get("NextToken")
                if not token:
                    break
            f.truncate(size)
        print(f"{snapshot}: {written} bytes in blocks, volume {size} bytes")
        """
}
