import FerryCore
import FerryKit
import Foundation
import GRDB
import SandboxTarget
import Testing

struct AdapterDescriptorTests {
    @Test func theRegistryAcceptsTheDeclaredCapabilitiesWithoutAWorkspace() throws {
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-no-workspace-\(UUID().uuidString)")
        var registry = AdapterRegistry()
        try registry.register(SandboxTargetAdapter(workspace: WorkspaceFolder(root: missing), diskImages: DiskImageReaders()))
        let descriptor = try registry.adapter(named: "sandbox").descriptor
        #expect(descriptor.availability.isAvailable)
        #expect(descriptor.capabilities == [.networking, .identity, .volumeImport, .images, .compute, .instanceDisks, .machineConversion, .serviceEndpoints, .runCommand])
        _ = try registry.compute(of: "sandbox")
        #expect(!FileManager.default.fileExists(atPath: missing.path))
    }

    @Test func usingTheSandboxWithoutAWorkspaceSaysHowToCreateOne() async throws {
        let missing = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-no-workspace-\(UUID().uuidString)")
        let adapter = SandboxTargetAdapter(workspace: WorkspaceFolder(root: missing), diskImages: DiskImageReaders())
        await #expect {
            try await adapter.describeInstances()
        } throws: { error in
            "\(error)".contains("create one with `ferry init`")
        }
    }

    @Test func theSandboxKeepsItsRecordsInADatabaseOfItsOwn() async throws {
        let workspace = try TestWorkspace()
        _ = try await workspace.adapter.createVPC(cidrBlock: "10.0.0.0/16", tags: [:])
        #expect(FileManager.default.fileExists(atPath: workspace.root.appendingPathComponent("sandbox/sandbox.sqlite").path))
        let core = try Workspace.open(at: workspace.root)
        let sandboxTablesInCore = try await core.database.read { db in
            try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'sandbox%'")
        }
        #expect(sandboxTablesInCore.isEmpty)
        #expect(try core.sourceServers.list().isEmpty)
        #expect(try workspace.cloud.describeNetworks().vpcs.count == 1)
    }

    @Test func aWorkspaceMadeBeforeTheSandboxHadItsOwnDatabaseOpensWithAnEmptySandbox() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-old-workspace-\(UUID().uuidString)", isDirectory: true)
        defer { try? FileManager.default.removeItem(at: root) }
        // The old layout: the sandbox's migration and tables in the workspace database.
        let old = try Workspace.create(at: root, ferryVersion: FerryVersion.current).workspace
        try SandboxSchema.migrator.migrate(old.database)
        try old.database.write { db in
            try db.execute(sql: "INSERT INTO sandboxVPC (id, cidrBlock, isDefault, tags, createdAt) VALUES ('vpc-0123456789abcdef0', '10.9.0.0/16', 0, '{}', ?)", arguments: [Date()])
        }
        #expect(try Workspace.open(at: root).sourceServers.list().isEmpty)
        let adapter = SandboxTargetAdapter(workspace: WorkspaceFolder(root: root), diskImages: DiskImageReaders())
        #expect(try adapter.cloud().describeNetworks().vpcs.isEmpty)
    }

    @Test func oneAdapterOpensItsSandboxOnce() throws {
        let workspace = try TestWorkspace()
        #expect(try workspace.adapter.cloud().database === workspace.cloud.database)
    }
}
