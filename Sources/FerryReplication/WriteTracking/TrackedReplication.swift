import FerryCore
import Foundation
import Synchronization

/// Continuous replication of a machine whose writes are tracked: after the scan that every
/// connection begins with (the initial sync, or the rescan that makes sure nothing was
/// missed while the agent was away), it sends only the blocks the trackers report, as they
/// are written, and closes a point in time every interval by freezing the file systems,
/// sending what was written up to that instant and committing. A snapshot is the disks as
/// they were at the freeze, never a mix of before and after.
package struct TrackedReplication {
    package let tracking: WriteTracking
    package let configuration: ReplicationAgent.Configuration
    private let freezeTrouble = FreezeTrouble()

    /// Whether the last freeze failed (the source server was told why).
    private final class FreezeTrouble: Sendable {
        let failed = Atomic<Bool>(false)
    }

    /// Below this much written since the last round, the rest is read inside the freeze:
    /// at a few hundred MB/s that holds writes for some hundredths of a second.
    package static let frozenReadLimit: UInt64 = 16 << 20
    /// Unfrozen rounds at most before a freeze, while the writes outrun the reads.
    package static let convergenceRounds = 4
    /// The longest a freeze may hold the machine's writes before it thaws on its own.
    package static let freezeLimit: Duration = .seconds(20)
    private static let tick: Duration = .milliseconds(200)
    private static let newConnection = "this connection begins"
    private static let restAfter: Duration = .seconds(5)
    private static let restingTick: Duration = .seconds(1)
    private static let restingReport: Duration = .seconds(10)
    /// A thaw writes one block of its own (ext4: the superblock, with needs_recovery set
    /// again); more than that in the instant after it is the machine writing.
    package static let thawBlocks = 1

    package init(tracking: WriteTracking, configuration: ReplicationAgent.Configuration) {
        self.tracking = tracking
        self.configuration = configuration
    }

    package func run(pass: inout AgentPass, connection: inout AgentConnection, onEvent: @escaping @Sendable (ReplicationAgent.Event) -> Void) async throws {
        var reason = Self.newConnection
        while true {
            do {
                try await follow(after: reason, pass: &pass, connection: &connection, onEvent: onEvent)
                return
            } catch let lost as WriteTrackingLost {
                // Writes may have gone unseen: only reading everything again is safe.
                tracking.resume.lost()
                reason = lost.reason
            }
        }
    }

    /// Scans, then follows the tracked writes until cancelled (or, for a one-shot run, until
    /// the first point in time is committed).
    private func follow(after reason: String, pass: inout AgentPass, connection: inout AgentConnection,
                        onEvent: @escaping @Sendable (ReplicationAgent.Event) -> Void) async throws {
        var summary: AgentPassSummary
        let allocated: UInt64
        var uncommitted = true
        // The oldest write not in a committed point.
        var oldest: Date?
        if reason == Self.newConnection, let resumption = tracking.resume.resumption() {
            // Back on a new connection with the trace unbroken: what was written since the
            // last point is all the server may lack. Compared with what it holds, and sent.
            summary = pass.begin()
            allocated = resumption.allocated
            try await connection.send(.tracking(rescanning: false, description: tracking.description))
            onEvent(.resumed(blocks: resumption.owed.reduce(0) { $0 + $1.blocks.count }))
            uncommitted = resumption.owed.contains { !$0.isEmpty }
            oldest = resumption.owed.compactMap(\.oldest).min()
            try await pass.send(written: resumption.owed, summary: &summary, connection: &connection,
                                report: Self.progress(summary, allocated: allocated, oldest: oldest))
        } else {
            // Whatever the trackers saw before now, the scan reads anyway.
            _ = try takeAll()
            try await connection.send(.tracking(rescanning: true, description: "every block read again (\(reason)), then \(tracking.description)"))
            onEvent(.rescanning(reason: reason))
            // The scan's writes are no older than its start.
            oldest = Date()
            summary = try await pass.scan(connection: &connection, onEvent: onEvent)
            // What the disks hold, as the scan found it: the whole that progress is a part of.
            allocated = summary.bytesScanned
            try await connection.send(.tracking(rescanning: false, description: tracking.description))
        }
        var settling = false
        var lastPoint = ContinuousClock.now - configuration.interval
        var lastReport = ContinuousClock.now
        var nextHeartbeat = ContinuousClock.now + .seconds(2)
        var lastWrite = ContinuousClock.now
        // A freeze that lets the machine write on (an image fleecing) is read from its frozen
        // view however long that takes: writes wait for the point, and each block is read and
        // sent once per point however often it was rewritten. A freeze that holds writes
        // wants them sent as they come, so that it is short.
        let holdsWrites = tracking.freezer?.holdsWrites ?? true
        var pending = [TrackedWrites](repeating: TrackedWrites(), count: tracking.trackers.count)
        var pendingBytes: UInt64 { pending.reduce(0) { $0 + $1.bytes } }
        while !Task.isCancelled {
            let written = try takeAll()
            if written.contains(where: { !$0.isEmpty }) {
                lastWrite = .now
                oldest = [oldest, written.compactMap(\.oldest).min()].compactMap { $0 }.min()
                uncommitted = true
                if holdsWrites {
                    try await pass.send(written: written, summary: &summary, connection: &connection,
                                        report: Self.progress(summary, allocated: allocated, oldest: oldest))
                } else {
                    for (i, writes) in written.enumerated() { pending[i].formUnion(writes) }
                }
            }
            if uncommitted || settling, lastPoint.duration(to: .now) >= configuration.interval {
                if let point = try await closePointInTime(pass: &pass, summary: &summary, connection: &connection, pending: &pending,
                                                          report: Self.progress(summary, allocated: allocated, oldest: oldest)) {
                    summary.snapshotID = point.snapshotID
                    summary.frozenSeconds = point.frozenSeconds
                    summary.seconds = AgentPass.seconds(lastPoint.duration(to: .now))
                    onEvent(.committed(summary))
                    summary = pass.begin()
                    // After a point that holds writes, one more at the next interval even if
                    // nothing else is written: "a point that began after the write" (what a
                    // cutover waits for) then always comes. Then nothing until the next write.
                    settling = uncommitted
                    uncommitted = false
                    oldest = nil
                    if !configuration.continuous { return }
                    // What the thaw itself wrote (ext4 rewrites its superblock, one block) is
                    // sent like any write but makes no point of its own: else every point
                    // would make the next, and an idle machine would never rest.
                    let thawed = point.writtenByThaw
                    tracking.resume.committed(owing: thawed, allocated: allocated)
                    let ownOnly = holdsWrites && thawed.reduce(0) { $0 + $1.blocks.count } <= Self.thawBlocks
                    if !ownOnly && thawed.contains(where: { !$0.isEmpty }) {
                        uncommitted = true
                        oldest = thawed.compactMap(\.oldest).min()
                    }
                    if holdsWrites {
                        try await pass.send(written: thawed, summary: &summary, connection: &connection,
                                            report: Self.progress(summary, allocated: allocated, oldest: uncommitted ? oldest : nil))
                    } else {
                        pending = thawed
                    }
                }
                lastPoint = .now
            }
            // At rest — every write in a point, nothing in flight, none for a while — the agent
            // looks at the trace once a second instead of five times, and reports progress
            // (the same zeros each time, a database write on the server) every 10 s instead
            // of every second; heartbeats keep the connection known alive. A write is still
            // dated by the trace when it happened: resting delays its sending, not its lag.
            let resting = !uncommitted && !settling && pass.bytesInFlight == 0 && pendingBytes == 0 && lastWrite.duration(to: .now) >= Self.restAfter
            if lastReport.duration(to: .now) >= (resting ? Self.restingReport : .seconds(1)) {
                lastReport = .now
                nextHeartbeat = .now + .seconds(2)
                // Written and not yet acknowledged: what is in flight, and what waits for the
                // next point (none when the freezer holds writes: those were sent above).
                try await connection.send(Self.progress(summary, allocated: allocated, oldest: uncommitted ? oldest : nil)(pass.bytesInFlight + pendingBytes))
            } else if ContinuousClock.now >= nextHeartbeat {
                nextHeartbeat = .now + .seconds(2)
                try await connection.send(.heartbeat)
            }
            try await Task.sleep(for: resting ? Self.restingTick : Self.tick)
        }
    }

    /// The progress frame for a backlog: bytes written and not acknowledged, the oldest write
    /// not in a committed point (nil: none).
    private static func progress(_ summary: AgentPassSummary, allocated: UInt64, oldest: Date?) -> (UInt64) -> ReplicationFrame {
        { backlog in
            .progress(pass: summary.pass, bytesDone: allocated - min(allocated, backlog), bytesTotal: allocated,
                      backlogBytes: backlog, oldestPendingWrite: oldest?.timeIntervalSince1970 ?? 0)
        }
    }

    private struct Point {
        var snapshotID: String
        var frozenSeconds: Double
        /// Taken right after the thaw: what the thaw wrote, and whatever was written in that instant.
        var writtenByThaw: [TrackedWrites] = []
    }

    /// Sends what was written until the writes are few, freezes, sends the rest, thaws and
    /// commits the freeze's instant. Nil when the freeze thawed on its own before the reads
    /// were done (the next interval tries again).
    /// `pending`: writes taken and not sent yet (a freeze that does not hold writes): read
    /// from the point's frozen view; emptied when the point is committed.
    private func closePointInTime(pass: inout AgentPass, summary: inout AgentPassSummary, connection: inout AgentConnection,
                                  pending: inout [TrackedWrites], report: @escaping (UInt64) -> ReplicationFrame) async throws -> Point? {
        var carried = pending
        for _ in 0..<(tracking.freezer?.holdsWrites == false ? 0 : Self.convergenceRounds) {
            let written = try takeAll()
            for (i, writes) in written.enumerated() { carried[i].formUnion(writes) }
            if carried.reduce(0, { $0 + $1.bytes }) <= Self.frozenReadLimit { break }
            try await pass.send(written: carried, summary: &summary, connection: &connection, report: report)
            try await pass.drain(connection: &connection, report: report)
            carried = [TrackedWrites](repeating: TrackedWrites(), count: tracking.trackers.count)
        }
        guard let freezer = tracking.freezer else {
            // Nothing to freeze (no file system mounted from these disks): the point is the
            // moment the last writes were taken.
            let instant = Date()
            for (i, writes) in try takeAll().enumerated() { carried[i].formUnion(writes) }
            try await pass.send(written: carried, summary: &summary, connection: &connection, report: report)
            try await pass.drain(connection: &connection, report: report)
            pending = pending.map { _ in TrackedWrites() }
            return Point(snapshotID: try await pass.commit(sourceTime: instant, connection: &connection), frozenSeconds: 0)
        }
        let frozen: any FrozenPointInTime
        do {
            frozen = try freezer.freeze(limit: Self.freezeLimit)
        } catch {
            // A file system that will not freeze now (frozen by another tool, say): no point
            // this interval — the next tries again, and the lag grows to LAGGING meanwhile —
            // and the source server says why instead of the agent stopping.
            freezeTrouble.failed.store(true, ordering: .relaxed)
            // What was taken and not sent waits for the next point.
            pending = carried
            try await connection.send(.tracking(rescanning: false, description: "\(tracking.description); the last freeze failed: \(error)"))
            return nil
        }
        if freezeTrouble.failed.exchange(false, ordering: .relaxed) {
            try await connection.send(.tracking(rescanning: false, description: tracking.description))
        }
        let clock = ContinuousClock.now
        let intact: Bool
        do {
            // Frozen, the file systems have written everything: the trackers have seen it.
            for (i, writes) in try takeAll().enumerated() { carried[i].formUnion(writes) }
            try await pass.send(written: carried, summary: &summary, connection: &connection, report: report)
            try await pass.drain(connection: &connection, report: report)
        } catch {
            _ = frozen.thaw()
            throw error
        }
        // Sent: nothing waits any more (a point thawed too early sent them too).
        pending = pending.map { _ in TrackedWrites() }
        intact = frozen.thaw()
        let writtenByThaw = try takeAll()
        let frozenSeconds = AgentPass.seconds(clock.duration(to: .now))
        guard intact else { return nil }
        return Point(snapshotID: try await pass.commit(sourceTime: frozen.instant, connection: &connection), frozenSeconds: frozenSeconds,
                     writtenByThaw: writtenByThaw)
    }

    /// What the trackers saw since the last take: owed (`TrackedResume`) until a point holds it.
    private func takeAll() throws -> [TrackedWrites] {
        let written = try tracking.trackers.map { try $0.take() }
        tracking.resume.owe(written)
        return written
    }
}
