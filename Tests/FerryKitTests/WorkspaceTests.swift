import FerryCore
import FerryKit
import FerryTestSupport
import Foundation
import GRDB
import Testing

@Suite("Workspace")
struct WorkspaceTests {
    let root: URL

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-ws-\(UUID().uuidString)", isDirectory: true)
    }

    func sampleServer() -> SourceServer {
        SourceServer(
            adapter: "physical",
            facts: MachineFacts(
                hostname: "wordpress-1", operatingSystem: OperatingSystem(family: "linux", name: "Debian GNU/Linux", version: "12"),
                cpuCount: 2, memoryBytes: 2 << 30,
                networkInterfaces: [NetworkInterface(name: "eth0", macAddress: "52:54:00:12:34:56", addresses: ["10.0.1.10"])],
                disks: [DiskFacts(name: "/dev/xvda", sizeBytes: 8 << 30, locator: "/dev/xvda", isBoot: true)]
            )
        )
    }

    @Test func createMakesTheDatabaseAndStagingFolder() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let (workspace, created) = try Workspace.create(at: root, ferryVersion: "test")
        #expect(created)
        #expect(FileManager.default.fileExists(atPath: workspace.databaseURL.path))
        #expect(FileManager.default.fileExists(atPath: workspace.stagingDirectory.path))
        let applied = try workspace.database.read { try WorkspaceSchema.migrator.appliedIdentifiers($0) }
        #expect(applied == Set(WorkspaceSchema.migrator.migrations))
        #expect(applied.isSuperset(of: ["v1-core", "v2-lifecycle-history", "v3-staging"]))
    }

    func permissions(_ path: String) throws -> Int {
        try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) & 0o777
    }

    @Test func createInAnExistingFolderMakesItAndTheDatabaseFilesPrivate() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let workspace = try Workspace.create(at: root, ferryVersion: "test").workspace
        try workspace.sourceServers.save(sampleServer())
        #expect(try permissions(root.path) == 0o700)
        for suffix in ["", "-wal", "-shm"] {
            #expect(try permissions(workspace.databaseURL.path + suffix) == 0o600, "ferry.sqlite\(suffix)")
        }
    }

    @Test func openingAnOlderWorkspaceMakesItPrivate() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let database = try Workspace.create(at: root, ferryVersion: "test").workspace.databaseURL.path
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: root.path)
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: database)
        _ = try Workspace.open(at: root)
        #expect(try permissions(root.path) == 0o700)
        #expect(try permissions(database) == 0o600)
    }

    @Test func createTwiceKeepsWhatIsThere() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let server = sampleServer()
        try Workspace.create(at: root, ferryVersion: "test").workspace.sourceServers.save(server)
        let (again, created) = try Workspace.create(at: root, ferryVersion: "test")
        #expect(!created)
        #expect(try again.sourceServers.list().map(\.id) == [server.id])
    }

    @Test func openingAMissingWorkspaceSaysHowToCreateOne() {
        let error = #expect(throws: WorkspaceError.self) { try Workspace.open(at: root) }
        #expect(error == .notFound(path: root.path))
        #expect(error?.description.contains("ferry init") == true)
    }

    @Test func migratesAnExistingDatabaseWithoutLosingData() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        // A database as the first release left it: only the first migration applied.
        let old = try DatabaseQueue(path: root.appendingPathComponent("ferry.sqlite").path)
        try WorkspaceSchema.migrator.migrate(old, upTo: "v1-core")
        try old.write { db in
            try db.execute(sql: """
                INSERT INTO sourceServer (id, adapter, hostname, lifecycleState, dataReplicationState, facts,
                  replicationSettings, launchSettings, replicationMetrics, createdAt, updatedAt)
                VALUES ('s-00000000000000001', 'physical', 'old-host', 'READY_FOR_TEST', 'CONTINUOUS',
                  '{"cpuCount":1,"disks":[],"hostname":"old-host","memoryBytes":0,"networkInterfaces":[],"operatingSystem":{"family":"linux","name":"","version":""}}',
                  '{"compressData":false,"dataPlanePort":1500,"replicationServerSecurityGroupIDs":[],"snapshotRetentionCount":7,"stagingTags":{}}',
                  '{"instanceType":"t3.small","privateIPPolicy":{"automatic":{}},"securityGroupIDs":[],"tags":{}}',
                  '{"backlogBytes":0,"replicatedBytes":0,"totalBytes":0}',
                  '2026-01-01 00:00:00.000', '2026-01-01 00:00:00.000')
                """)
        }
        try old.close()

        let workspace = try Workspace.open(at: root)
        let applied = try workspace.database.read { try WorkspaceSchema.migrator.appliedIdentifiers($0) }
        #expect(applied.contains("v2-lifecycle-history"))
        let server = try workspace.sourceServers.find(id: "s-00000000000000001")
        #expect(server.facts.hostname == "old-host")
        #expect(server.lifecycleState == .readyForTest)
        // The new table works on the old data.
        try workspace.sourceServers.perform(.launchTest, on: server.id)
        #expect(try workspace.sourceServers.history(of: server.id).map(\.to) == [.testing])
    }

    @Test func savesAndReadsBackASourceServer() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let workspace = try Workspace.create(at: root, ferryVersion: "test").workspace
        var server = sampleServer()
        server.launchSettings.privateIPPolicy = .fixed("10.0.1.20")
        try workspace.sourceServers.save(server)
        let read = try workspace.sourceServers.find(id: server.id)
        #expect(read.facts == server.facts)
        #expect(read.launchSettings == server.launchSettings)
        #expect(read.lifecycleState == .notReady)
    }

    @Test func anArchivedServerHasNoLagOrETAWhileAReplicatingOneKeepsThem() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let workspace = try Workspace.create(at: root, ferryVersion: "test").workspace
        var replicating = sampleServer()
        replicating.lifecycleState = .cutover
        replicating.replicationMetrics = ReplicationMetrics(totalBytes: 8, replicatedBytes: 8, lagSeconds: 3, etaSeconds: 0)
        try workspace.sourceServers.save(replicating)
        #expect(try workspace.sourceServers.find(id: replicating.id).replicationMetrics.lagSeconds == 3)
        try workspace.sourceServers.perform(.archive, on: replicating.id)
        let archived = try workspace.sourceServers.find(id: replicating.id)
        #expect(archived.lifecycleState == .archived)
        #expect(archived.replicationMetrics.lagSeconds == nil && archived.replicationMetrics.etaSeconds == nil)
        #expect(archived.replicationMetrics.replicatedBytes == 8, "what was replicated stays true")
    }

    @Test func lifecycleActionsAreAppliedAndRecorded() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let workspace = try Workspace.create(at: root, ferryVersion: "test").workspace
        let server = sampleServer()
        try workspace.sourceServers.save(server)
        try workspace.sourceServers.perform(.completeInitialSync, on: server.id)
        try workspace.sourceServers.perform(.launchTest, on: server.id)
        #expect(try workspace.sourceServers.find(id: server.id).lifecycleState == .testing)
        #expect(try workspace.sourceServers.history(of: server.id).map(\.action) == [.completeInitialSync, .launchTest])
    }

    @Test func anIllegalActionChangesNothing() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let workspace = try Workspace.create(at: root, ferryVersion: "test").workspace
        let server = sampleServer()
        try workspace.sourceServers.save(server)
        #expect(throws: LifecycleTransitionError.self) {
            try workspace.sourceServers.perform(.launchCutover, on: server.id)
        }
        #expect(try workspace.sourceServers.find(id: server.id).lifecycleState == .notReady)
        #expect(try workspace.sourceServers.history(of: server.id).isEmpty)
    }

    @Test func resolvesThePathFromFlagThenEnvironmentThenDefault() {
        #expect(Workspace.resolvePath(explicit: "/a/b", environment: ["FERRY_WORKSPACE": "/c"], currentDirectory: "/x").path == "/a/b")
        #expect(Workspace.resolvePath(explicit: nil, environment: ["FERRY_WORKSPACE": "/c"], currentDirectory: "/x").path == "/c")
        #expect(Workspace.resolvePath(explicit: nil, environment: [:], currentDirectory: "/x").path == "/x/.ferry")
        #expect(Workspace.resolvePath(explicit: "rel", environment: [:], currentDirectory: "/x").path == "/x/rel")
    }
}

@Suite("Model")
struct ModelTests {
    @Test func resourceIDsLookLikeACloudsIDs() {
        let id = ResourceID.make(prefix: "s")
        #expect(ResourceID.isValid(id, prefix: "s"))
        #expect(!ResourceID.isValid("s-XYZ", prefix: "s"))
        #expect(ResourceID.make(prefix: "vol") != ResourceID.make(prefix: "vol"))
    }

    @Test func aSecretNeverPrintsItself() {
        let secret = Secret("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
        #expect("\(secret)" == "<redacted>")
        #expect(String(reflecting: secret) == "<redacted>")
        #expect(secret.reveal().hasPrefix("wJalr"))
    }

    @Test func byteRangesCoalesceAndMapToBlocks() {
        let ranges = [ByteRange(offset: 100, length: 10), ByteRange(offset: 0, length: 50), ByteRange(offset: 50, length: 10)]
        #expect(ByteRange.coalesce(ranges) == [ByteRange(offset: 0, length: 60), ByteRange(offset: 100, length: 10)])
        #expect(ByteRange.blockIndexes(covering: [ByteRange(offset: 0, length: 1), ByteRange(offset: 511, length: 2), ByteRange(offset: 2048, length: 1)], blockSize: 512) == [0, 1, 4])
    }

    @Test func readingPastTheEndIsRefused() throws {
        let reader = MemoryBlockReader(bytes: [1, 2, 3, 4])
        #expect(throws: BlockReaderError.outOfBounds(disk: "memory", offset: 2, count: 4, size: 4)) {
            _ = try reader.read(at: 2, count: 4)
        }
        #expect(throws: BlockReaderError.self) { _ = try reader.read(at: UInt64.max, count: 2) }
        #expect(try reader.read(at: 1, count: 2) == [2, 3])
    }
}

@Suite("Secrets")
struct SecretReflectionTests {
    @Test func reflectionAndDumpDoNotShowTheValue() {
        let secret = Secret("hunter2-very-secret")
        var dumped = ""
        dump(secret, to: &dumped)
        #expect(!dumped.contains("hunter2"))
        #expect(Mirror(reflecting: secret).children.isEmpty)
    }
}
