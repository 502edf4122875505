import FerryCore
import FerryReplication
@testable import FerryKit
import Foundation
import Testing

@Suite("Staging store")
struct StagingStoreTests {
    let root: URL
    let workspace: Workspace
    let store: StagingStore
    let serverID: String
    static let block = ReplicationProtocol.blockSize

    init() throws {
        root = FileManager.default.temporaryDirectory.appendingPathComponent("ferry-staging-\(UUID().uuidString)")
        workspace = try Workspace.create(at: root, ferryVersion: "test").workspace
        store = try StagingStore(directory: workspace.stagingDirectory, database: workspace.database, segmentLimit: UInt64(4 * Self.block))
        let server = SourceServer(adapter: "agent", facts: MachineFacts(hostname: "h", disks: [DiskFacts(name: "d", sizeBytes: UInt64(8 * Self.block), locator: "d")]))
        try workspace.sourceServers.save(server)
        serverID = server.id
        try store.setReplicaDisks(sourceServerID: serverID, disks: server.facts.disks)
    }

    func block(_ byte: UInt8) -> [UInt8] { [UInt8](repeating: byte, count: Self.block) }

    func put(_ byte: UInt8, at index: UInt64) throws {
        let data = block(byte)
        let hash = ChunkHash(hashing: data)
        try data.withUnsafeBytes { _ = try store.storeChunk($0, hash: hash) }
        try store.recordReplicaBlock(sourceServerID: serverID, diskIndex: 0, blockIndex: index, hash: hash)
    }

    @Test func aChunkIsStoredOnceWhateverHowOftenItArrives() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        let data = block(1)
        let hash = ChunkHash(hashing: data)
        #expect(try data.withUnsafeBytes { try store.storeChunk($0, hash: hash) })
        #expect(try !data.withUnsafeBytes { try store.storeChunk($0, hash: hash) })
        #expect(try store.chunkCount() == 1)
        var read = [UInt8](repeating: 0, count: Self.block)
        try read.withUnsafeMutableBytes { try store.readChunk(hash, into: $0) }
        #expect(read == data)
    }

    @Test func aSnapshotIsTheReplicaAtCommitTime() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        try put(1, at: 0)
        try put(2, at: 5)
        let first = try store.commitSnapshot(sourceServerID: serverID)
        try put(3, at: 5)
        try store.trimReplicaBlock(sourceServerID: serverID, diskIndex: 0, blockIndex: 0)
        let second = try store.commitSnapshot(sourceServerID: serverID)

        let a = try store.reader(snapshotID: first.id, diskIndex: 0)
        #expect(try a.read(at: 0, count: 4) == [1, 1, 1, 1])
        #expect(try a.read(at: UInt64(5 * Self.block), count: 2) == [2, 2])
        #expect(try a.read(at: UInt64(3 * Self.block), count: 2) == [0, 0])
        let b = try store.reader(snapshotID: second.id, diskIndex: 0)
        #expect(try b.read(at: 0, count: 4) == [0, 0, 0, 0])
        #expect(try b.read(at: UInt64(5 * Self.block) - 1, count: 2) == [0, 3])
        #expect(try b.allocatedRanges() == [ByteRange(offset: UInt64(5 * Self.block), length: UInt64(Self.block))])
        #expect(try store.snapshots(sourceServerID: serverID).map(\.id) == [second.id, first.id])
    }

    @Test func verifyFindsACorruptedChunk() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        try put(1, at: 0)
        try put(2, at: 1)
        let snapshot = try store.commitSnapshot(sourceServerID: serverID)
        #expect(try store.verify(snapshotID: snapshot.id).isIntact)
        // Flip one byte in the middle of the first segment.
        let segment = workspace.stagingDirectory.appendingPathComponent("segments/00000001.seg")
        let handle = try FileHandle(forUpdating: segment)
        try handle.seek(toOffset: 1000)
        try handle.write(contentsOf: Data([0x99]))
        try handle.close()
        let result = try store.verify(snapshotID: snapshot.id)
        #expect(!result.isIntact)
        #expect(result.failures.count == 1)
        #expect(result.blocksChecked == 2)
    }

    @Test func retentionKeepsTheNewestAndCollectsWhatNothingUses() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        var ids: [String] = []
        for round in 0..<5 {
            for index in 0..<4 { try put(UInt8(10 * round + index + 1), at: UInt64(index)) }
            ids.append(try store.commitSnapshot(sourceServerID: serverID).id)
        }
        #expect(try store.chunkCount() == 20)
        let (deleted, garbage) = try store.applyRetention(sourceServerID: serverID, keep: 2)
        #expect(Set(deleted) == Set(ids.prefix(3)))
        #expect(garbage.chunksRemoved == 12)
        #expect(try store.chunkCount() == 8)
        #expect(garbage.segmentsDeleted + garbage.segmentsCompacted > 0)
        // What is kept still reads and verifies after segments were deleted or rewritten.
        for id in ids.suffix(2) { #expect(try store.verify(snapshotID: id).isIntact) }
        #expect(try store.reader(snapshotID: ids[4], diskIndex: 0).read(at: 0, count: 1) == [41])
        #expect(throws: StagingStoreError.snapshotNotFound(ids[0])) { try store.snapshot(id: ids[0]) }
    }

    @Test func deletingTheOnlyServersSnapshotsLeavesNoSegmentAndCountsEveryByte() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        // Six chunks: a full segment and the current one, half full.
        for index in 0..<6 { try put(UInt8(index + 1), at: UInt64(index)) }
        _ = try store.commitSnapshot(sourceServerID: serverID)
        let garbage = try store.deleteSnapshots(sourceServerID: serverID)
        #expect(garbage.chunksRemoved == 6)
        #expect(garbage.bytesReclaimed == UInt64(6 * Self.block))
        let segments = store.directory.appendingPathComponent("segments").path
        #expect(try FileManager.default.contentsOfDirectory(atPath: segments).isEmpty)
        // The store goes on: the next chunk recreates the segment it appends to.
        try put(9, at: 0)
        let snapshot = try store.commitSnapshot(sourceServerID: serverID)
        #expect(try store.reader(snapshotID: snapshot.id, diskIndex: 0).read(at: 0, count: 1) == [9])
    }

    @Test func aMissingSnapshotOrDiskIsAClearError() throws {
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(throws: StagingStoreError.snapshotNotFound("pit-x")) { try store.manifest(snapshotID: "pit-x", diskIndex: 0) }
        let snapshot = try store.commitSnapshot(sourceServerID: serverID)
        #expect(throws: StagingStoreError.diskNotFound(snapshot: snapshot.id, disk: 3, disks: [0])) { try store.manifest(snapshotID: snapshot.id, diskIndex: 3) }
    }
}
