import FerryCore
import FerryKit
import FerryTestSupport
import Foundation
import SandboxTarget
import Synchronization
import Testing

/// A machine the converter cannot convert — here a disk whose only file system holds no
/// operating system — is refused at the launch's inspect stage, before anything is created on
/// the target, naming what was found; a launch without conversion (`--no-convert`) goes on and
/// boots it as it was replicated. In process, with the real sandbox and the real converter
/// appliance under QEMU (about 10 s for the inspection).
@Suite("conversion refused before anything is created", .serialized)
struct ConversionRefusalTests {
    @Test(.timeLimit(.minutes(10)))
    func aMachineWithoutAnOperatingSystemIsRefusedAndNoConvertOverrides() async throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-refusal-\(UUID().uuidString.prefix(8))", isDirectory: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let workspace = try Workspace.create(at: root.appendingPathComponent("ws"), ferryVersion: "test").workspace

        // The source: a 64 MiB disk with an empty ext4 file system, replicated into a snapshot.
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let disk = root.appendingPathComponent("data.raw").path
        #expect(FileManager.default.createFile(atPath: disk, contents: nil))
        try FileHandle(forWritingTo: URL(fileURLWithPath: disk)).truncate(atOffset: 64 << 20)
        #expect(try HostTool.run("/usr/sbin/mke2fs", ["-q", "-F", "-t", "ext4", "-L", "data", disk]).status == 0)
        var server = SourceServer(adapter: "physical", facts: MachineFacts(hostname: "fileserver", disks: [DiskFacts(name: "sda", sizeBytes: 64 << 20, locator: disk)]))
        server.lifecycleState = .readyForTest
        try workspace.sourceServers.save(server)
        let store = try StagingStore(workspace: workspace)
        try store.setReplicaDisks(sourceServerID: server.id, disks: server.facts.disks)
        let contents = try Data(contentsOf: URL(fileURLWithPath: disk))
        let block = StagingStore.blockSize
        for index in 0..<(contents.count / block) {
            let bytes = contents.subdata(in: index * block..<(index + 1) * block)
            guard bytes.contains(where: { $0 != 0 }) else { continue }
            _ = try bytes.withUnsafeBytes { buffer in
                try store.storeBlock(buffer, hash: ChunkHash(hashing: buffer), sourceServerID: server.id, diskIndex: 0, blockIndex: UInt64(index))
            }
        }
        let snapshot = try store.commitSnapshot(sourceServerID: server.id)

        // The target: the workspace's sandbox, with the appliance the CLI hands in.
        let appliance = ConverterAppliance(cacheDirectory: GuestImageTestCache.directory.appendingPathComponent("converter", isDirectory: true))
        let sandbox = SandboxTargetAdapter(workspace: WorkspaceFolder(root: workspace.root), diskImages: DiskImageReaders(), converter: appliance)
        var registry = AdapterRegistry()
        try registry.register(sandbox)
        registry.machineConverter = appliance
        let vpc = try await sandbox.createVPC(cidrBlock: "10.2.0.0/16", tags: ["Name": "TargetVPC"])
        let subnet = try await sandbox.createSubnet(vpcID: vpc.id, cidrBlock: "10.2.1.0/24", availabilityZone: nil, tags: [:])
        let recorder = CreatedResources()
        let service = MigrationService(workspace: workspace, target: MigrationTarget(adapterName: "sandbox", registry: registry), recorder: recorder)
        func request(convert: Bool) -> LaunchRequest {
            LaunchRequest(sourceServerID: server.id, mode: .test, name: "fileserver-test", subnetID: subnet.id, securityGroupIDs: [], instanceType: "t3.micro", convert: convert)
        }

        let error = await #expect(throws: MigrationError.self) { _ = try await service.launch(request(convert: true), initiatedBy: "test") }
        guard case .notConvertible(let found, let reasons) = error else { Issue.record("\(String(describing: error))"); return }
        #expect(found == "no operating system the converter knows (no os-release)", "\(found)")
        #expect(reasons.contains { $0.contains("no Linux root file system") }, "\(reasons)")
        #expect(error?.description.contains("--no-convert") == true)
        // Nothing was created: no volume, no image, no instance; the job says why; the server is back.
        #expect(recorder.created.isEmpty, "\(recorder.created)")
        #expect(try sandbox.cloud().describeVolumes().isEmpty)
        #expect(try await sandbox.describeImages().isEmpty)
        #expect(try await sandbox.describeInstances().isEmpty)
        let job = try #require(try workspace.jobs.jobs(sourceServerID: server.id).first)
        let log = try workspace.jobs.events(jobID: job.id).map(\.event)
        #expect(log.contains("Inspected") && !log.contains("Stage: import"), "\(log)")
        #expect(try workspace.jobs.conversion(jobID: job.id)?.outcome == .refused)
        #expect(try workspace.sourceServers.find(id: server.id).lifecycleState == .readyForTest)

        // Without conversion the launch goes on with the disk as it was replicated (and the staged disk is unchanged).
        let launched = try await service.launch(request(convert: false), initiatedBy: "test")
        #expect(launched.conversion.outcome == .skipped)
        #expect(try store.snapshot(id: snapshot.id).disks.count == 1)
        #expect(recorder.created.map(\.kind) == [.volume, .image, .instance], "\(recorder.created)")
        _ = try await sandbox.terminateInstance(id: launched.instance.id)
    }
}

/// What a launch created, in order.
final class CreatedResources: MigrationRecorder {
    private let state = Mutex<[CloudResource]>([])
    var created: [CloudResource] { state.withLock { $0 } }
    func created(_ resource: CloudResource, role: MigrationResourceRole, attributes: [String: String]) throws { state.withLock { $0.append(resource) } }
    func removed(_ resource: CloudResource) throws {}
    func progress(_ text: String) {}
}
