import FerryKit
import Foundation
import SandboxTarget
import Testing

struct AdapterDescriptorTests {
    @Test func theRegistryAcceptsTheDeclaredCapabilitiesWithoutAWorkspace() throws {
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-no-workspace-\(UUID().uuidString)")
        var registry = AdapterRegistry()
        try registry.register(SandboxTargetAdapter(workspaceRoot: missing))
        let descriptor = try registry.adapter(named: "sandbox").descriptor
        #expect(descriptor.availability.isAvailable)
        #expect(descriptor.capabilities == [.networking, .identity, .volumeImport, .images, .compute, .instanceDisks])
        _ = try registry.compute(of: "sandbox")
        #expect(!FileManager.default.fileExists(atPath: missing.path))
    }

    @Test func usingTheSandboxWithoutAWorkspaceSaysHowToCreateOne() async throws {
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-no-workspace-\(UUID().uuidString)")
        let adapter = SandboxTargetAdapter(workspaceRoot: missing)
        await #expect {
            try await adapter.describeInstances()
        } throws: { error in
            "\(error)".contains("create one with `ferry init`")
        }
    }

    @Test func theSandboxTablesLiveBesideTheCoreSchema() throws {
        let workspace = try TestWorkspace()
        // Opening the workspace again runs the core migrator over a database that also has sandbox- migrations.
        let reopened = try Workspace.open(at: workspace.root)
        #expect(try reopened.sourceServers.list().isEmpty)
        #expect(try SandboxTargetAdapter(workspaceRoot: workspace.root).cloud().describeNetworks().vpcs.isEmpty)
    }
}
