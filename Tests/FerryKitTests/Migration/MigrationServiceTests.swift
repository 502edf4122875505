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

    @Test func aFailedCutoverGoesBackToReadyForCutover() async throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let id = try server(in: .testing)
        await #expect(throws: MigrationError.self) { _ = try await service.launch(request(id, .cutover), initiatedBy: "test") }
        #expect(try workspace.jobs.jobs().first?.kind == .launchCutover)
        #expect(try workspace.sourceServers.find(id: id).lifecycleState == .readyForCutover)
    }
}

final class ListRecorder: MigrationRecorder {
    private let state = Mutex<(created: [CloudResource], lines: [String])>(([], []))
    var created: [CloudResource] { state.withLock { $0.created } }
    func created(_ resource: CloudResource, role: MigrationResourceRole, attributes: [String: String]) throws { state.withLock { $0.created.append(resource) } }
    func removed(_ resource: CloudResource) throws {}
    func progress(_ text: String) { state.withLock { $0.lines.append(text) } }
}
