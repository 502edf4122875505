import FerryCore
import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One drive of the QEMU process: its writes (the dirty bitmap) and its reads (NBD).
final class QEMUDrive: WriteTracker, BlockReader, @unchecked Sendable {
    let index: Int
    let file: String
    let node: String
    let mechanism: String
    private(set) var size: UInt64 = 0
    private let session: QEMUSession
    private let state = Mutex(DriveState())

    struct Fleece {
        var fileNode: String
        var node: String
        var export: String
        var path: String
        var job: String
        var retiredBitmap: String
    }

    private struct DriveState {
        var generation = 0
        var live: NBDConnection?
        /// While a point is held: its export (the drive as it was) and whether its writes were taken.
        var point: (fleece: Fleece, connection: NBDConnection, taken: Bool)?
        /// Since when the current bitmap holds every write: its start, or the last time it
        /// was found clean. A bitmap does not date its bits; they are no older than this.
        var lastRotation = Date()
    }

    private static let blockSize = UInt64(ReplicationProtocol.blockSize)

    init(index: Int, file: String, node: String, session: QEMUSession) {
        self.index = index
        self.file = file
        self.node = node
        self.session = session
        mechanism = "QEMU's dirty bitmap of \(file)"
    }

    private var qmp: QMPConnection { session.qmp }
    private func bitmap(_ generation: Int) -> String { "\(QEMUSession.prefix)\(session.name)-\(index)-\(generation)" }
    private var liveExport: String { "\(QEMUSession.prefix)\(session.name)-live-\(index)" }

    /// The first bitmap, then the export every read goes through.
    func start() throws {
        do {
            try qmp.execute("block-dirty-bitmap-add", ["node": node, "name": bitmap(0), "granularity": ReplicationProtocol.pageSize])
            try qmp.execute("block-export-add", ["type": "nbd", "id": liveExport, "node-name": node, "name": liveExport, "writable": false])
            let live = try NBDConnection(socket: session.nbdSocket, export: liveExport, contexts: ["base:allocation"])
            size = live.size
            state.withLock { $0.live = live }
        } catch {
            throw QEMUWriteTracking.Unavailable(description: "\(file): \(error)")
        }
    }

    func stop() {
        let generation = state.withLock { s in
            s.live = nil
            return s.generation
        }
        qmp.bestEffort("block-export-del", ["id": liveExport, "mode": "hard"])
        qmp.bestEffort("block-dirty-bitmap-remove", ["node": node, "name": bitmap(generation)])
    }

    // MARK: reads

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws {
        try checkBounds(offset: offset, count: buffer.count, disk: file)
        let connection = state.withLock { $0.point?.connection ?? $0.live }
        guard let connection else { throw QEMUWriteTracking.Unavailable(description: "\(file) is no longer attached") }
        try connection.read(into: buffer, at: offset)
    }

    /// What QEMU says may hold data (extents that do not read as zeros).
    func allocatedRanges() throws -> [ByteRange] {
        guard let live = state.withLock({ $0.live }) else { throw QEMUWriteTracking.Unavailable(description: "\(file) is no longer attached") }
        var ranges: [ByteRange] = []
        var offset: UInt64 = 0
        while offset < size {
            let extents = try live.blockStatus(context: "base:allocation", offset: offset, length: UInt32(min(size - offset, 1 << 31)))
            guard let last = extents.last else { break }
            for extent in extents where extent.flags & 2 == 0 {
                if let previous = ranges.last, previous.offset + previous.length == extent.offset {
                    ranges[ranges.count - 1].length += extent.length
                } else {
                    ranges.append(ByteRange(offset: extent.offset, length: extent.length))
                }
            }
            offset = last.offset + last.length
        }
        return ranges
    }

    // MARK: writes

    /// The blocks dirty since the last take. Nothing written (the bitmap's count is 0): one
    /// QMP query. Else the bitmap is retired and a new one started in one transaction, and
    /// the retired one is read as block status through an export of its own.
    /// While a point is held: the writes up to its instant (its retired bitmap), once.
    func take() throws -> TrackedWrites {
        session.lock.lock()
        defer { session.lock.unlock() }
        do {
            if let point = state.withLock({ $0.point }) {
                guard !point.taken else { return TrackedWrites() }
                let writes = try dirtyBlocks(point.connection, bitmap: point.fleece.retiredBitmap)
                state.withLock { $0.point?.taken = true }
                return writes
            }
            let (generation, since) = state.withLock { ($0.generation, $0.lastRotation) }
            let asked = Date()
            guard try dirtyCount(bitmap(generation)) > 0 else {
                // Clean when asked: whatever comes next was written after now.
                state.withLock { $0.lastRotation = asked }
                return TrackedWrites()
            }
            let retired = bitmap(generation)
            let now = Date()
            try qmp.execute("transaction", ["actions": [
                ["type": "block-dirty-bitmap-add", "data": ["node": node, "name": bitmap(generation + 1), "granularity": ReplicationProtocol.pageSize]],
                ["type": "block-dirty-bitmap-disable", "data": ["node": node, "name": retired]],
            ]])
            state.withLock { s in
                s.generation = generation + 1
                s.lastRotation = now
            }
            let export = "\(retired)-take"
            try qmp.execute("block-export-add", ["type": "nbd", "id": export, "node-name": node, "name": export, "writable": false, "bitmaps": [retired]])
            defer {
                deleteExport(export)
                qmp.bestEffort("block-dirty-bitmap-remove", ["node": node, "name": retired])
            }
            var writes = try { () throws -> TrackedWrites in
                let connection = try NBDConnection(socket: session.nbdSocket, export: export, contexts: ["qemu:dirty-bitmap:\(retired)"])
                return try dirtyBlocks(connection, bitmap: retired)
            }()
            // A bitmap does not date its bits: the writes came after the previous rotation.
            if !writes.isEmpty { writes.oldest = since }
            return writes
        } catch let lost as WriteTrackingLost {
            throw lost
        } catch {
            throw WriteTrackingLost("\(mechanism) cannot be read: \(error)")
        }
    }

    private func dirtyCount(_ bitmap: String) throws -> Int {
        let nodes = try qmp.execute("query-named-block-nodes", ["flat": true]) as? [[String: Any]] ?? []
        guard let entry = nodes.first(where: { $0["node-name"] as? String == node }),
              let found = (entry["dirty-bitmaps"] as? [[String: Any]])?.first(where: { $0["name"] as? String == bitmap }) else {
            throw WriteTrackingLost("\(mechanism) is gone (the bitmap \(bitmap) of node \(node))")
        }
        return found["count"] as? Int ?? 0
    }

    private func dirtyBlocks(_ connection: NBDConnection, bitmap: String) throws -> TrackedWrites {
        var writes = TrackedWrites()
        var offset: UInt64 = 0
        let context = "qemu:dirty-bitmap:\(bitmap)"
        while offset < connection.size {
            let extents = try connection.blockStatus(context: context, offset: offset, length: UInt32(min(connection.size - offset, 1 << 31)))
            guard let last = extents.last else { break }
            for extent in extents where extent.flags & 1 != 0 {
                writes.record(offset: extent.offset, bytes: extent.length)
            }
            offset = last.offset + last.length
        }
        if !writes.isEmpty { writes.oldest = state.withLock { $0.lastRotation } }
        return writes
    }

    private func deleteExport(_ id: String) {
        // Hard: a client still connected (one that hung) is cut. The export goes once its
        // connections are closed, and its bitmap stays busy until then.
        qmp.bestEffort("block-export-del", ["id": id, "mode": "hard"])
        QEMUSession.waitUntil {
            ((try? qmp.execute("query-block-exports")) as? [[String: Any]] ?? []).allSatisfy { $0["id"] as? String != id }
        }
    }

    // MARK: points in time

    /// The fleecing overlay, created empty (by QEMU itself: `blockdev-create`) and opened
    /// over the drive, before the transaction.
    func prepareFleece() throws -> Fleece {
        let generation = state.withLock { $0.generation }
        let name = bitmap(generation)
        let fleece = Fleece(fileNode: "\(name)-fleece-file", node: "\(name)-fleece", export: "\(name)-point",
                            path: session.temporaryFile("fleece-\(index)-\(generation).qcow2"), job: "\(name)-backup", retiredBitmap: bitmap(generation))
        guard FileManager.default.createFile(atPath: fleece.path, contents: nil) else {
            throw QEMUWriteTracking.Unavailable(description: "cannot create \(fleece.path)")
        }
        try qmp.execute("blockdev-add", ["driver": "file", "node-name": fleece.fileNode, "filename": fleece.path])
        let create = "\(name)-create"
        try qmp.execute("blockdev-create", ["job-id": create, "options": ["driver": "qcow2", "file": fleece.fileNode, "size": size]])
        var status = ""
        QEMUSession.waitUntil {
            let jobs = (try? qmp.execute("query-jobs")) as? [[String: Any]] ?? []
            status = jobs.first { $0["id"] as? String == create }?["status"] as? String ?? "gone"
            return status == "concluded" || status == "gone"
        }
        let error = ((try? qmp.execute("query-jobs")) as? [[String: Any]] ?? []).first { $0["id"] as? String == create }?["error"] as? String
        qmp.bestEffort("job-dismiss", ["id": create])
        if let error { throw QEMUWriteTracking.Unavailable(description: "the fleecing overlay \(fleece.path) was not created: \(error)") }
        try qmp.execute("blockdev-add", ["driver": "qcow2", "node-name": fleece.node, "file": fleece.fileNode, "backing": node])
        return fleece
    }

    func pointActions(_ fleece: Fleece) -> [[String: Any]] {
        let generation = state.withLock { $0.generation }
        return [
            ["type": "block-dirty-bitmap-add", "data": ["node": node, "name": bitmap(generation + 1), "granularity": ReplicationProtocol.pageSize]],
            ["type": "block-dirty-bitmap-disable", "data": ["node": node, "name": fleece.retiredBitmap]],
            ["type": "blockdev-backup", "data": ["device": node, "target": fleece.node, "sync": "none", "job-id": fleece.job]],
        ]
    }

    /// The transaction rotated this drive's bitmap.
    func rotated() {
        state.withLock { s in
            s.generation += 1
            s.lastRotation = Date()
        }
    }

    /// After the transaction: the overlay exported with the retired bitmap; reads go to it.
    func holdPoint(_ fleece: Fleece) throws {
        try qmp.execute("block-export-add", ["type": "nbd", "id": fleece.export, "node-name": fleece.node, "name": fleece.export,
                                             "writable": false, "bitmaps": [fleece.retiredBitmap]])
        let connection = try NBDConnection(socket: session.nbdSocket, export: fleece.export, contexts: ["qemu:dirty-bitmap:\(fleece.retiredBitmap)"])
        state.withLock { $0.point = (fleece, connection, false) }
    }

    func releasePoint() {
        // The export's connection is closed here (the last reference goes with the state):
        // QEMU deletes an export once its clients are gone.
        guard let (fleece, taken) = state.withLock({ s -> (Fleece, Bool)? in
            defer { s.point = nil }
            return s.point.map { ($0.fleece, $0.taken) }
        }) else { return }
        release(fleece, transacted: true, taken: taken)
    }

    /// Everything of a point, in the order QEMU allows: the export (its bitmap is busy while
    /// exported), the backup job (it holds the overlay), the overlay, the retired bitmap.
    /// `transacted`: the bitmap was rotated by the point's transaction; unless its writes
    /// were `taken`, they are merged into the new bitmap before the retired one goes.
    func release(_ fleece: Fleece, transacted: Bool, taken: Bool = false) {
        deleteExport(fleece.export)
        qmp.bestEffort("block-job-cancel", ["device": fleece.job, "force": true])
        QEMUSession.waitUntil {
            ((try? qmp.execute("query-block-jobs")) as? [[String: Any]] ?? []).allSatisfy { $0["device"] as? String != fleece.job }
        }
        qmp.bestEffort("blockdev-del", ["node-name": fleece.node])
        qmp.bestEffort("blockdev-del", ["node-name": fleece.fileNode])
        if transacted {
            if !taken {
                let current = bitmap(state.withLock { $0.generation })
                qmp.bestEffort("block-dirty-bitmap-merge", ["node": node, "target": current, "bitmaps": [fleece.retiredBitmap]])
            }
            qmp.bestEffort("block-dirty-bitmap-remove", ["node": node, "name": fleece.retiredBitmap])
        }
        try? FileManager.default.removeItem(atPath: fleece.path)
    }
}
