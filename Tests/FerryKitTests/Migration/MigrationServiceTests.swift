import FerryCore
@testable import FerryKit
import Foundation
import Synchronization
import Testing

/// The migration service's rules that need no target: what is refused before anything is
/// created, and what a failed launch leaves behind. (A launch that succeeds is followed
/// stage by stage in the workshop's end-to-end test, on instances that really boot.)
@Suite("Migration service")
struct MigrationServiceTests {
    let root: URL
    let workspace: Workspace
    let service: MigrationService
    let recorder = ListRecorder()

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-migration-\(UUID().uuidString)")
        workspace = try Workspace.create(at: root, ferryVersion: "test").workspace
        // No adapter at all: a launch that reaches the target fails loudly.
        service = MigrationService(workspace: workspace, target: MigrationTarget(adapterName: "none", registry: AdapterRegistry()), recorder: recorder)
    }

    func server(in state: LifecycleState) throws -> String {
        var server = SourceServer(adapter: "agent", facts: MachineFacts(hostname: "web", disks: [DiskFacts(name: "d", sizeBytes: 1 << 20, locator: "d")]))
        server.lifecycleState = state
        try workspace.sourceServers.save(server)
        return server.id
    }

    func request(_ id: String, _ mode: LaunchMode) -> LaunchRequest {
        LaunchRequest(sourceServerID: id, mode: mode, name: "web", subnetID: "subnet-1", securityGroupIDs: [], instanceType: "t3.small")
    }

    @Test func aLaunchTheLifecycleForbidsIsRefusedBeforeAnyJob() async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let id = try server(in: .notReady)
        await #expect(throws: LifecycleTransitionError.self) { _ = try await service.launch(request(id, .test), initiatedBy: "test") }
        #expect(try workspace.jobs.jobs().isEmpty)
        #expect(try workspace.sourceServers.find(id: id).lifecycleState == .notReady)
        #expect(recorder.created.isEmpty)
    }

    @Test func aFailedLaunchIsAFailedJobAndTheServerGoesBack() async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let id = try server(in: .readyForTest)
        let error = await #expect(throws: MigrationError.self) { _ = try await service.launch(request(id, .test), initiatedBy: "test") }
        #expect(error == .noSnapshot(sourceServerID: id))
        let job = try #require(try workspace.jobs.jobs(sourceServerID: id).first)
        #expect(job.kind == .launchTest && job.status == .failed && job.endedAt != nil)
        let log = try workspace.jobs.events(jobID: job.id)
        #expect(log.map(\.event) == ["Job started", "Stage: select snapshot", "Job failed"])
        #expect(log.last?.detail.contains("has no snapshot yet") == true)
        #expect(try workspace.sourceServers.find(id: id).lifecycleState == .readyForTest)
    }

    /// MGN launches from any retained point in time: the newest taken at or before the
    /// instant asked for; one older than every retained point is refused, naming the oldest.
    @Test func aPointInTimeSelectsTheNewestSnapshotTakenAtOrBeforeIt() async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let id = try server(in: .readyForTest)
        let store = try StagingStore(workspace: workspace)
        let base = Date(timeIntervalSince1970: 1_790_000_000)
        let taken = try [0, 600, 1200].map { try store.commitSnapshot(sourceServerID: id, takenAt: base.addingTimeInterval($0)) }
        func selected(_ time: Date) async throws -> String? {
            var launch = request(id, .test)
            launch.pointInTime = time
            // No target here: the job fails after the selection, which its log records.
            _ = try? await service.launch(launch, initiatedBy: "test")
            let job = try #require(try workspace.jobs.jobs(sourceServerID: id).first)
            return try workspace.jobs.events(jobID: job.id).first { $0.event == "Snapshot selected" }?.detail.components(separatedBy: ",").first
        }
        #expect(try await selected(base.addingTimeInterval(900)) == taken[1].id)
        #expect(try await selected(base.addingTimeInterval(1200)) == taken[2].id)
        #expect(try await selected(base.addingTimeInterval(5)) == taken[0].id)
        var tooEarly = request(id, .test)
        tooEarly.pointInTime = base.addingTimeInterval(-1)
        let error = await #expect(throws: MigrationError.self) { _ = try await service.launch(tooEarly, initiatedBy: "test") }
        #expect(error == .noPointInTime(sourceServerID: id, asked: base.addingTimeInterval(-1), oldest: base))
        #expect(error?.description.contains("the oldest retained was taken") == true)
    }

    @Test func aFailedCutoverGoesBackToReadyForCutover() async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let id = try server(in: .testing)
        await #expect(throws: MigrationError.self) { _ = try await service.launch(request(id, .cutover), initiatedBy: "test") }
        #expect(try workspace.jobs.jobs().first?.kind == .launchCutover)
        #expect(try workspace.sourceServers.find(id: id).lifecycleState == .readyForCutover)
    }

    @Test func markReadyRemovesTheTestInstanceThenItsImageThenItsVolumes() async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let target = RemovalTarget()
        var registry = AdapterRegistry()
        try registry.register(target)
        let service = MigrationService(workspace: workspace, target: MigrationTarget(adapterName: target.descriptor.name, registry: registry), recorder: recorder)
        let id = try server(in: .testing)
        let launched = [CloudResource(kind: .volume, id: "vol-1"), CloudResource(kind: .volume, id: "vol-2"), CloudResource(kind: .image, id: "ami-1")]
        let server = try await service.markReadyForCutover(sourceServerID: id, testInstanceID: "i-1", testLaunchResources: launched)
        #expect(server.lifecycleState == .readyForCutover)
        #expect(target.calls == ["terminate i-1", "deregister ami-1", "delete vol-2", "delete vol-1"])
        #expect(recorder.removed == [CloudResource(kind: .instance, id: "i-1")] + launched.reversed())
    }
}

/// A target that only records what it is asked to remove.
final class RemovalTarget: ComputeCapability, ImageCapability, VolumeImportCapability {
    let descriptor = AdapterDescriptor(name: "removals", kind: .target, version: "1.0.0", summary: "records removals",
                                       capabilities: [.compute, .images, .volumeImport])
    private let log = Mutex<[String]>([])
    var calls: [String] { log.withLock { $0 } }
    struct Unused: Error {}

    func launchInstance(imageID: String, settings: LaunchSettings, userData: String?, name: String?) async throws -> Instance { throw Unused() }
    func describeInstance(id: String) async throws -> Instance { throw Unused() }
    func describeInstances() async throws -> [Instance] { [] }
    func stopInstance(id: String) async throws -> Instance { throw Unused() }
    func startInstance(id: String) async throws -> Instance { throw Unused() }
    func terminateInstance(id: String) async throws -> Instance {
        log.withLock { $0.append("terminate \(id)") }
        return Instance(id: id, imageID: "ami-1", instanceType: "t3.small", state: .terminated)
    }
    func firstBootStatus(id: String) async throws -> FirstBootStatus { .unknown }
    func endpoint(instanceID: String, port: Int) async throws -> InstanceEndpoint { throw Unused() }
    func registerImage(name: String, rootVolume: ImportedVolume, additionalVolumes: [ImportedVolume], bootMode: BootMode, tags: ResourceTags) async throws -> MachineImage { throw Unused() }
    func describeImages() async throws -> [MachineImage] { [] }
    func deregisterImage(id: String) async throws { log.withLock { $0.append("deregister \(id)") } }
    var supportsIncrementalImport: Bool { false }
    func importVolume(_ request: VolumeImportRequest, progress: (@Sendable (TransferProgress) -> Void)?) async throws -> ImportedVolume { throw Unused() }
    func deleteImportedVolume(id: String) async throws { log.withLock { $0.append("delete \(id)") } }
}

final class ListRecorder: MigrationRecorder {
    private let state = Mutex<(created: [CloudResource], removed: [CloudResource], lines: [String])>(([], [], []))
    var created: [CloudResource] { state.withLock { $0.created } }
    var removed: [CloudResource] { state.withLock { $0.removed } }
    func created(_ resource: CloudResource, role: MigrationResourceRole, attributes: [String: String]) throws { state.withLock { $0.created.append(resource) } }
    func removed(_ resource: CloudResource) throws { state.withLock { $0.removed.append(resource) } }
    func progress(_ text: String) { state.withLock { $0.lines.append(text) } }
}
