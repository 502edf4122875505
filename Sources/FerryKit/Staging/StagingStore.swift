import FerryCore
import Foundation
import GRDB
import Synchronization

/// The staging store: content-addressed 512 KiB chunks packed into append-only segment files
/// (indexed in the workspace database), each replicated disk's latest state block by block
/// (the replica), and snapshots committed from it as manifests, whole or not at all.
/// Identical blocks, across disks and machines, are stored once.
public final class StagingStore: Sendable {
    public let directory: URL
    let database: DatabaseQueue
    private let segments: Mutex<SegmentState>
    /// A segment rolls over to the next past this size.
    let segmentLimit: UInt64

    struct SegmentState {
        var open: [Int: SegmentFile] = [:]
        var current: Int = 0
        /// Segments written since the last commit: synced before a snapshot refers to them.
        var unsynced: Set<Int> = []
    }

    public static let blockSize = BlockSize.bytes
    /// The `WorkspaceLock` that a process holds while it writes chunks or collects garbage.
    public static let writerLockName = "staging"

    public convenience init(workspace: Workspace) throws {
        try self.init(directory: workspace.stagingDirectory, database: workspace.database)
    }

    init(directory: URL, database: DatabaseQueue, segmentLimit: UInt64 = 256 << 20) throws {
        self.directory = directory
        self.database = database
        self.segmentLimit = segmentLimit
        let segmentsDirectory = directory.appendingPathComponent("segments", isDirectory: true)
        try FileManager.default.createDirectory(at: segmentsDirectory, withIntermediateDirectories: true)
        let existing = (try FileManager.default.contentsOfDirectory(atPath: segmentsDirectory.path))
            .compactMap { $0.hasSuffix(".seg") ? Int($0.dropLast(4)) : nil }
        segments = Mutex(SegmentState(current: max(existing.max() ?? 1, 1)))
    }

    private func segmentPath(_ number: Int) -> String {
        directory.appendingPathComponent("segments", isDirectory: true)
            .appendingPathComponent(String(format: "%08d.seg", number)).path
    }

    private func segment(_ number: Int, in state: inout SegmentState, create: Bool = false) throws -> SegmentFile {
        if let file = state.open[number] { return file }
        let file = try SegmentFile(number: number, path: segmentPath(number), create: create)
        state.open[number] = file
        return file
    }

    // MARK: Chunks

    public func hasChunk(_ hash: ChunkHash) throws -> Bool {
        try database.read { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM chunk WHERE hash = ?", arguments: [Data(hash.bytes)]) ?? false
        }
    }

    /// Stores a block under its hash unless a chunk with that hash is already there.
    /// The caller has verified that `hash` is the block's SHA-256. Used for chunks that no
    /// replica refers to (tests, imports); a replicated block goes through `storeBlock`.
    /// - Returns: whether bytes were written.
    @discardableResult
    public func storeChunk(_ data: UnsafeRawBufferPointer, hash: ChunkHash) throws -> Bool {
        try segments.withLock { state in
            try database.write { db in try insertChunk(data, hash: hash, state: &state, db: db) }
        }
    }

    /// Stores a replicated block and records it as the block's content in the replica, in one
    /// transaction under the segment lock that garbage collection also takes: the chunk is
    /// reachable from the moment it exists, so no collection can take it before the commit
    /// that refers to it (the agent is told the block arrived and never sends it again).
    /// - Returns: whether bytes were written (false when the chunk was already stored).
    @discardableResult
    public func storeBlock(_ data: UnsafeRawBufferPointer, hash: ChunkHash, sourceServerID: String, diskIndex: Int, blockIndex: UInt64) throws -> Bool {
        try segments.withLock { state in
            try database.write { db in
                let written = try insertChunk(data, hash: hash, state: &state, db: db)
                try Self.recordReplicaBlock(db: db, sourceServerID: sourceServerID, diskIndex: diskIndex, blockIndex: blockIndex, hash: hash)
                return written
            }
        }
    }

    /// Appends the chunk to the current segment and indexes it, unless it is indexed already.
    /// Bytes appended by a transaction that then fails are garbage that compaction reclaims.
    private func insertChunk(_ data: UnsafeRawBufferPointer, hash: ChunkHash, state: inout SegmentState, db: Database) throws -> Bool {
        if try Bool.fetchOne(db, sql: "SELECT 1 FROM chunk WHERE hash = ?", arguments: [Data(hash.bytes)]) ?? false { return false }
        var file = try segment(state.current, in: &state, create: true)
        if file.length + UInt64(data.count) > segmentLimit, file.length > 0 {
            state.current += 1
            file = try segment(state.current, in: &state, create: true)
        }
        let offset = try file.append(data)
        state.unsynced.insert(file.number)
        try db.execute(
            sql: "INSERT INTO chunk (hash, segment, offset, length) VALUES (?, ?, ?, ?)",
            arguments: [Data(hash.bytes), file.number, Int64(offset), data.count]
        )
        return true
    }

    /// Reads the chunk `hash` into `buffer`, which must be the chunk's length.
    public func readChunk(_ hash: ChunkHash, into buffer: UnsafeMutableRawBufferPointer) throws {
        // The index row and the segment are looked up under the segment lock, so that a
        // compaction of this process cannot move the chunk between the two. A compaction by
        // another process (finalize) can: then the segment is gone, and one more look finds
        // the chunk where it went.
        do {
            try readChunkOnce(hash, into: buffer)
        } catch StagingStoreError.segmentMissing {
            try readChunkOnce(hash, into: buffer)
        }
    }

    private func readChunkOnce(_ hash: ChunkHash, into buffer: UnsafeMutableRawBufferPointer) throws {
        let (file, offset) = try segments.withLock { state -> (SegmentFile, UInt64) in
            guard let row = try database.read({ db in
                try Row.fetchOne(db, sql: "SELECT segment, offset, length FROM chunk WHERE hash = ?", arguments: [Data(hash.bytes)])
            }) else { throw StagingStoreError.chunkMissing(hash.hex) }
            let length: Int = row["length"]
            guard length == buffer.count else { throw StagingStoreError.corrupt("chunk \(hash.hex) is \(length) bytes, expected \(buffer.count)") }
            let number: Int = row["segment"]
            guard state.open[number] != nil || FileManager.default.fileExists(atPath: segmentPath(number)) else {
                throw StagingStoreError.segmentMissing(segmentPath(number))
            }
            return (try segment(number, in: &state), UInt64(row["offset"] as Int64))
        }
        try file.read(into: buffer, at: offset)
    }

    public func chunkCount() throws -> Int {
        try database.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM chunk") ?? 0 }
    }

    // MARK: The replica

    /// Records the disks an agent registered. A disk that shrank loses the blocks past its end.
    public func setReplicaDisks(sourceServerID: String, disks: [DiskFacts]) throws {
        try database.write { db in
            for (index, disk) in disks.enumerated() {
                try db.execute(
                    sql: """
                        INSERT INTO replicaDisk (sourceServerID, diskIndex, name, sizeBytes) VALUES (?, ?, ?, ?)
                        ON CONFLICT (sourceServerID, diskIndex) DO UPDATE SET name = excluded.name, sizeBytes = excluded.sizeBytes
                        """,
                    arguments: [sourceServerID, index, disk.name, Int64(disk.sizeBytes)]
                )
                let blocks = DiskSize.blocks(disk.sizeBytes, of: UInt64(Self.blockSize))
                try db.execute(
                    sql: "DELETE FROM replicaBlock WHERE sourceServerID = ? AND diskIndex = ? AND blockIndex >= ?",
                    arguments: [sourceServerID, index, Int64(blocks)]
                )
            }
            try db.execute(sql: "DELETE FROM replicaDisk WHERE sourceServerID = ? AND diskIndex >= ?", arguments: [sourceServerID, disks.count])
        }
    }

    public func replicaDiskSizes(sourceServerID: String) throws -> [Int: UInt64] {
        try database.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT diskIndex, sizeBytes FROM replicaDisk WHERE sourceServerID = ?", arguments: [sourceServerID])
            return Dictionary(uniqueKeysWithValues: rows.map { ($0["diskIndex"] as Int, UInt64($0["sizeBytes"] as Int64)) })
        }
    }

    /// The blocks held for a disk: what the server states to an agent at registration.
    public func replicaBlocks(sourceServerID: String, diskIndex: Int) throws -> [UInt64: ChunkHash] {
        try database.read { db in
            let rows = try Row.fetchCursor(
                db, sql: "SELECT blockIndex, hash FROM replicaBlock WHERE sourceServerID = ? AND diskIndex = ?",
                arguments: [sourceServerID, diskIndex]
            )
            var blocks: [UInt64: ChunkHash] = [:]
            while let row = try rows.next() {
                guard let hash = ChunkHash(bytes: Array(row["hash"] as Data)) else { throw StagingStoreError.corrupt("a replica block has a malformed hash") }
                blocks[UInt64(row["blockIndex"] as Int64)] = hash
            }
            return blocks
        }
    }

    /// The chunk a replica block holds now, nil when the block is a hole.
    public func replicaBlock(sourceServerID: String, diskIndex: Int, blockIndex: UInt64) throws -> ChunkHash? {
        try database.read { db in
            guard let data = try Data.fetchOne(
                db, sql: "SELECT hash FROM replicaBlock WHERE sourceServerID = ? AND diskIndex = ? AND blockIndex = ?",
                arguments: [sourceServerID, diskIndex, Int64(blockIndex)]
            ) else { return nil }
            guard let hash = ChunkHash(bytes: Array(data)) else { throw StagingStoreError.corrupt("a replica block has a malformed hash") }
            return hash
        }
    }

    /// The block now holds the chunk `hash`, which must be stored already and stay live: only
    /// for tests and tools that hold the store alone. Replication goes through `storeBlock`.
    func recordReplicaBlock(sourceServerID: String, diskIndex: Int, blockIndex: UInt64, hash: ChunkHash) throws {
        try database.write { db in
            try Self.recordReplicaBlock(db: db, sourceServerID: sourceServerID, diskIndex: diskIndex, blockIndex: blockIndex, hash: hash)
        }
    }

    private static func recordReplicaBlock(db: Database, sourceServerID: String, diskIndex: Int, blockIndex: UInt64, hash: ChunkHash) throws {
        try db.execute(
            sql: """
                INSERT INTO replicaBlock (sourceServerID, diskIndex, blockIndex, hash) VALUES (?, ?, ?, ?)
                ON CONFLICT DO UPDATE SET hash = excluded.hash
                """,
            arguments: [sourceServerID, diskIndex, Int64(blockIndex), Data(hash.bytes)]
        )
    }

    /// The block now reads as zeros.
    public func trimReplicaBlock(sourceServerID: String, diskIndex: Int, blockIndex: UInt64) throws {
        try database.write { db in
            try db.execute(
                sql: "DELETE FROM replicaBlock WHERE sourceServerID = ? AND diskIndex = ? AND blockIndex = ?",
                arguments: [sourceServerID, diskIndex, Int64(blockIndex)]
            )
        }
    }

    // MARK: Snapshots

    /// Commits the replica's current state as a snapshot: the chunks it refers to are synced
    /// to disk first, then the snapshot and its manifests are written in one transaction.
    public func commitSnapshot(sourceServerID: String, takenAt: Date = Date()) throws -> Snapshot {
        try segments.withLock { state in
            for number in state.unsynced.sorted() { try segment(number, in: &state).sync() }
            state.unsynced.removeAll()
        }
        // Defence in depth: a snapshot never refers to a chunk that is not indexed. Should a
        // replica block ever point at a missing chunk, it is dropped from the replica (so the
        // agent's next inventory lacks it and the agent sends it again) and the commit refused.
        let unreachable = try database.write { db -> [String] in
            let rows = try Row.fetchAll(db, sql: """
                SELECT r.diskIndex, r.blockIndex FROM replicaBlock r LEFT JOIN chunk c ON c.hash = r.hash
                WHERE r.sourceServerID = ? AND c.hash IS NULL
                """, arguments: [sourceServerID])
            try db.execute(sql: """
                DELETE FROM replicaBlock WHERE sourceServerID = ? AND hash NOT IN (SELECT hash FROM chunk)
                """, arguments: [sourceServerID])
            return rows.map { "disk \($0["diskIndex"] as Int) block \($0["blockIndex"] as Int64)" }
        }
        guard unreachable.isEmpty else { throw StagingStoreError.replicaIncomplete(sourceServerID: sourceServerID, blocks: unreachable) }
        return try database.write { db in
            let disks = try Row.fetchAll(
                db, sql: "SELECT diskIndex, sizeBytes FROM replicaDisk WHERE sourceServerID = ? ORDER BY diskIndex", arguments: [sourceServerID]
            )
            var manifests: [SnapshotManifest] = []
            for disk in disks {
                let index: Int = disk["diskIndex"]
                let rows = try Row.fetchAll(
                    db, sql: "SELECT blockIndex, hash FROM replicaBlock WHERE sourceServerID = ? AND diskIndex = ?", arguments: [sourceServerID, index]
                )
                var blocks: [UInt64: ChunkHash] = [:]
                for row in rows { blocks[UInt64(row["blockIndex"] as Int64)] = ChunkHash(bytes: Array(row["hash"] as Data)) }
                manifests.append(SnapshotManifest(diskIndex: index, sizeBytes: UInt64(disk["sizeBytes"] as Int64), blocks: blocks))
            }
            let snapshot = Snapshot(
                sourceServerID: sourceServerID, takenAt: takenAt,
                disks: manifests.map { SnapshotDisk(diskIndex: $0.diskIndex, sizeBytes: $0.sizeBytes, allocatedBlockCount: $0.blocks.count) }
            )
            try db.execute(
                sql: "INSERT INTO snapshot (id, sourceServerID, takenAt, disks) VALUES (?, ?, ?, ?)",
                arguments: [snapshot.id, sourceServerID, takenAt, try JSONColumn.encode(snapshot.disks)]
            )
            for manifest in manifests {
                try db.execute(
                    sql: "INSERT INTO snapshotManifest (snapshotID, diskIndex, sizeBytes, blocks) VALUES (?, ?, ?, ?)",
                    arguments: [snapshot.id, manifest.diskIndex, Int64(manifest.sizeBytes), Data(manifest.encodedBlocks())]
                )
            }
            return snapshot
        }
    }

    /// Snapshots, newest first; of one source server when `sourceServerID` is given.
    public func snapshots(sourceServerID: String? = nil) throws -> [Snapshot] {
        try database.read { db in
            let rows = try Row.fetchAll(
                db,
                sql: "SELECT id, sourceServerID, takenAt, disks FROM snapshot WHERE ?1 IS NULL OR sourceServerID = ?1 ORDER BY takenAt DESC, rowid DESC",
                arguments: [sourceServerID]
            )
            return try rows.map(Self.snapshot(from:))
        }
    }

    public func snapshot(id: String) throws -> Snapshot {
        try database.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT id, sourceServerID, takenAt, disks FROM snapshot WHERE id = ?", arguments: [id]) else {
                throw StagingStoreError.snapshotNotFound(id)
            }
            return try Self.snapshot(from: row)
        }
    }

    private static func snapshot(from row: Row) throws -> Snapshot {
        Snapshot(id: row["id"], sourceServerID: row["sourceServerID"], takenAt: row["takenAt"], disks: try JSONColumn.decode([SnapshotDisk].self, from: row["disks"]))
    }

    public func manifest(snapshotID: String, diskIndex: Int) throws -> SnapshotManifest {
        try database.read { db in
            guard let row = try Row.fetchOne(
                db, sql: "SELECT sizeBytes, blocks FROM snapshotManifest WHERE snapshotID = ? AND diskIndex = ?", arguments: [snapshotID, diskIndex]
            ) else {
                let snapshot = try Row.fetchOne(db, sql: "SELECT disks FROM snapshot WHERE id = ?", arguments: [snapshotID])
                guard let snapshot else { throw StagingStoreError.snapshotNotFound(snapshotID) }
                let disks = (try? JSONColumn.decode([SnapshotDisk].self, from: snapshot["disks"]))?.map(\.diskIndex) ?? []
                throw StagingStoreError.diskNotFound(snapshot: snapshotID, disk: diskIndex, disks: disks)
            }
            return SnapshotManifest(diskIndex: diskIndex, sizeBytes: UInt64(row["sizeBytes"] as Int64), blocks: try SnapshotManifest.decodeBlocks(Array(row["blocks"] as Data)))
        }
    }

    /// A disk of a snapshot as a `BlockReader`, for export and for imports into a target.
    public func reader(snapshotID: String, diskIndex: Int) throws -> SnapshotDiskReader {
        SnapshotDiskReader(store: self, snapshotID: snapshotID, manifest: try manifest(snapshotID: snapshotID, diskIndex: diskIndex))
    }

    // MARK: Retention and garbage collection

    /// Deletes all but the newest `keep` snapshots of a server, then, when it deleted one, the
    /// chunks nothing refers to. (A collection reads the whole index; it runs when there is
    /// something to collect, not after every commit. Chunks overwritten before any snapshot
    /// held them wait for the next one.)
    @discardableResult
    public func applyRetention(sourceServerID: String, keep: Int, tiers: [SnapshotRetentionTier] = [], now: Date = Date()) throws -> (deletedSnapshots: [String], garbage: GarbageCollectionReport) {
        let all = try snapshots(sourceServerID: sourceServerID)
        let kept = SnapshotRetentionTier.kept(all.map { ($0.id, $0.takenAt) }, newest: keep, tiers: tiers, now: now)
        let doomed = all.map(\.id).filter { !kept.contains($0) }
        guard !doomed.isEmpty else { return ([], GarbageCollectionReport()) }
        try database.write { db in
            for id in doomed { try db.execute(sql: "DELETE FROM snapshot WHERE id = ?", arguments: [id]) }
        }
        return (doomed, try collectGarbage())
    }

    /// Deletes every snapshot and the replica of a server (after finalize), then the chunks
    /// nothing refers to any more.
    @discardableResult
    public func deleteSnapshots(sourceServerID: String) throws -> GarbageCollectionReport {
        try database.write { db in
            try db.execute(sql: "DELETE FROM snapshot WHERE sourceServerID = ?", arguments: [sourceServerID])
            try db.execute(sql: "DELETE FROM replicaBlock WHERE sourceServerID = ?", arguments: [sourceServerID])
        }
        return try collectGarbage()
    }

    /// Removes chunks that no snapshot and no replica refers to, deletes segment files left
    /// with nothing live (the one being appended to included: the next chunk creates it
    /// anew) and rewrites the ones that are mostly garbage.
    public func collectGarbage() throws -> GarbageCollectionReport {
        try segments.withLock { state in
            var report = GarbageCollectionReport()
            // What is live and what goes are decided in one transaction: every writer of the
            // replica stores and records a block in one transaction under this same lock, so
            // nothing can become live between the two.
            try database.write { db in
                var live = Set<Data>()
                let replica = try Row.fetchCursor(db, sql: "SELECT hash FROM replicaBlock")
                while let row = try replica.next() { live.insert(row["hash"]) }
                let manifests = try Row.fetchCursor(db, sql: "SELECT blocks FROM snapshotManifest")
                while let row = try manifests.next() {
                    for hash in try SnapshotManifest.decodeBlocks(Array(row["blocks"] as Data)).values { live.insert(Data(hash.bytes)) }
                }
                // Dead chunks leave the index first; their bytes go with their segment below.
                let rows = try Row.fetchAll(db, sql: "SELECT hash FROM chunk")
                for row in rows where !live.contains(row["hash"] as Data) {
                    try db.execute(sql: "DELETE FROM chunk WHERE hash = ?", arguments: [row["hash"] as Data])
                    report.chunksRemoved += 1
                }
            }
            let folder = directory.appendingPathComponent("segments").path
            let numbers = try FileManager.default.contentsOfDirectory(atPath: folder).compactMap { $0.hasSuffix(".seg") ? Int($0.dropLast(4)) : nil }
            // The current segment too: after the last server is finalized it is all garbage,
            // and skipping it would leave up to a whole segment behind.
            for number in numbers.sorted() {
                let file = try segment(number, in: &state)
                if number == state.current, file.length == 0 { continue }
                let liveBytes = try database.read { db in
                    try Int64.fetchOne(db, sql: "SELECT COALESCE(SUM(length), 0) FROM chunk WHERE segment = ?", arguments: [number]) ?? 0
                }
                if liveBytes > 0, UInt64(liveBytes) * 2 >= file.length { continue }
                if liveBytes > 0 {
                    // Compacting the current segment into itself would copy chunks onto its own
                    // end: its live chunks go to a fresh segment instead. No other process
                    // appends meanwhile, since a collection runs under the staging writer lock.
                    if number == state.current { state.current += 1 }
                    try moveLiveChunks(from: file, state: &state)
                    report.segmentsCompacted += 1
                } else {
                    report.segmentsDeleted += 1
                }
                report.bytesReclaimed += file.length - UInt64(liveBytes)
                state.open[number] = nil
                state.unsynced.remove(number)
                try FileManager.default.removeItem(atPath: file.path)
            }
            return report
        }
    }

    /// Copies a segment's live chunks into the current segment, synced before the index moves.
    private func moveLiveChunks(from old: SegmentFile, state: inout SegmentState) throws {
        let rows = try database.read { db in
            try Row.fetchAll(db, sql: "SELECT hash, offset, length FROM chunk WHERE segment = ?", arguments: [old.number])
        }
        var moves: [(Data, Int, UInt64)] = []
        for row in rows {
            var buffer = [UInt8](repeating: 0, count: row["length"] as Int)
            try buffer.withUnsafeMutableBytes { try old.read(into: $0, at: UInt64(row["offset"] as Int64)) }
            var target = try segment(state.current, in: &state, create: true)
            if target.length + UInt64(buffer.count) > segmentLimit, target.length > 0 {
                state.current += 1
                target = try segment(state.current, in: &state, create: true)
            }
            let offset = try buffer.withUnsafeBytes { try target.append($0) }
            try target.sync()
            moves.append((row["hash"], target.number, offset))
        }
        try database.write { db in
            for (hash, number, offset) in moves {
                try db.execute(sql: "UPDATE chunk SET segment = ?, offset = ? WHERE hash = ?", arguments: [number, Int64(offset), hash])
            }
        }
    }
}

public struct GarbageCollectionReport: Codable, Hashable, Sendable {
    public var chunksRemoved = 0
    public var segmentsDeleted = 0
    public var segmentsCompacted = 0
    public var bytesReclaimed: UInt64 = 0
}
