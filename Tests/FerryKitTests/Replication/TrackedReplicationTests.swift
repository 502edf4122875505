import FerryCore
import FerryReplication
@testable import FerryKit
import Foundation
import FerryTestSupport
import Synchronization
import Testing

/// Tracked replication over loopback against the real server: a writer whose writes are
/// reported to the agent (a source that tracks its own changes, as an adapter claiming
/// change tracking does) and that stops writing while a point in time is frozen. Every
/// snapshot must hold a gap-free prefix of the writer's records, and an idle disk must cost
/// no reads. The kernel's own tracker and freezer are proven in a real guest
/// (AgentInGuestTests).
@Suite("tracked writes and frozen points in time", .serialized)
struct TrackedReplicationTests {
    /// Records of 4 KiB, round robin over 32 regions 2 MiB apart: record i lands in a
    /// different 512 KiB block from record i-1, so a snapshot read at two moments shows a gap.
    static let regions: UInt64 = 32
    static let regionSize: UInt64 = 2 << 20
    static let recordSize = 4096
    static let capacity = Int(regions) * Int(regionSize) / recordSize

    static func offset(of record: Int) -> UInt64 {
        UInt64(record % Int(regions)) * regionSize + UInt64(record / Int(regions)) * UInt64(recordSize)
    }

    static func record(_ number: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: UInt8(truncatingIfNeeded: number), count: recordSize)
        withUnsafeBytes(of: UInt64(number).littleEndian) { bytes.replaceSubrange(0..<8, with: $0) }
        withUnsafeBytes(of: (UInt64(number) &* 0x9E37_79B9_7F4A_7C15).littleEndian) { bytes.replaceSubrange(8..<16, with: $0) }
        return bytes
    }

    /// The records a disk holds, or why they are not a gap-free prefix.
    static func records(in disk: Data) -> (count: Int, problem: String?) {
        var present: [Int] = []
        for number in 1..<capacity {
            let at = Int(offset(of: number))
            let bytes = [UInt8](disk[at..<at + recordSize])
            if bytes == record(number) { present.append(number) }
            else if bytes.contains(where: { $0 != 0 }) { return (present.count, "the slot of record \(number) holds something else") }
        }
        for (i, n) in present.enumerated() where n != i + 1 {
            return (present.count, "record \(i + 1) is missing while record \(present.last!) is there")
        }
        return (present.count, nil)
    }

    @Test func everyPointInTimeHoldsAGapFreePrefixAndAnIdleDiskCostsNoReads() async throws {
        let fixture = try await ReplicationFixture()
        defer { fixture.stop() }
        let disk = try TestDiskImage(in: fixture.directory, size: Self.regions * Self.regionSize, regions: [], seed: 1)
        let writer = RecordWriter(disk: disk)
        var configuration = try fixture.agent(disks: [disk], continuous: true, interval: .milliseconds(300)).configuration
        configuration.tracking = WriteTracking(trackers: [writer], freezer: writer)
        let agent = ReplicationAgent(configuration: configuration)
        let summaries = SummaryBox()
        let running = Task { try await agent.run { event in if case .committed(let s) = event { summaries.append(s) } } }
        defer { running.cancel() }

        // The initial sync first, then records as fast as the writer can while points close.
        while summaries.all.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
        let writing = Thread { writer.write(upTo: Self.capacity - 1) }
        writing.start()
        while !writer.done { try await Task.sleep(for: .milliseconds(50)) }
        // The last writes' point, perhaps one more for writes taken right after its thaw,
        // and the settling point: a few intervals of 0.3 s.
        try await Task.sleep(for: .seconds(2.5))
        let afterWriting = summaries.all
        // Idle: no write, so no read, no block and no new point.
        try await Task.sleep(for: .seconds(1.5))
        #expect(summaries.all.count == afterWriting.count, "an idle disk made new points: \(summaries.all.count - afterWriting.count)")

        let frozen = afterWriting.dropFirst()
        #expect(frozen.count >= 2, "points closed while writing: \(frozen.count)")
        #expect(frozen.allSatisfy { $0.frozenSeconds > 0 })
        var counts: [Int] = []
        // Retention keeps the newest 7: every one of those is checked.
        for summary in afterWriting {
            guard let disk = try? fixture.exported(summary.snapshotID) else { continue }
            let (count, problem) = Self.records(in: disk)
            #expect(problem == nil, "snapshot \(summary.snapshotID) of pass \(summary.pass): \(problem ?? "")")
            counts.append(count)
        }
        #expect(counts.count >= 3, "points checked: \(counts.count)")
        #expect(counts == counts.sorted(), "points in time go forward: \(counts)")
        #expect(counts.last == Self.capacity - 1, "the last point holds every record: \(counts)")
        let server = try fixture.workspace.sourceServers.list().first
        #expect(server?.replicationMetrics.writeTracking == "records reported by the writer; points in time frozen: the writer")
    }

    /// A lost connection costs no rescan when the trace ran on meanwhile: the connection is
    /// cut while tracked writes are on their way, and the agent comes back sending only what
    /// was written since its last point, compared with what the server holds. Every point
    /// stays a gap-free prefix and the last holds every record: nothing was lost in the cut.
    @Test func aLostConnectionResumesWithoutARescanAndLosesNoWrite() async throws {
        let fixture = try await ReplicationFixture()
        defer { fixture.stop() }
        let cut = Atomic<Bool>(false)
        let proxy = try TamperingProxy(upstreamPort: fixture.port) { _, record in
            // Cut once, on a record that carries a block: writes are in flight then.
            if TLSRecord.carriesBlockData(record), cut.compareExchange(expected: true, desired: false, ordering: .acquiringAndReleasing).exchanged {
                return .cut
            }
            return .pass(record)
        }
        defer { proxy.stop() }
        let disk = try TestDiskImage(in: fixture.directory, size: Self.regions * Self.regionSize, regions: [], seed: 3)
        let writer = RecordWriter(disk: disk)
        var configuration = try fixture.agent(disks: [disk], continuous: true, interval: .milliseconds(300), port: proxy.port).configuration
        configuration.tracking = WriteTracking(trackers: [writer], freezer: writer)
        let agent = ReplicationAgent(configuration: configuration)
        let summaries = SummaryBox()
        let events = Mutex<(rescans: Int, resumes: Int, reconnects: Int)>((0, 0, 0))
        let running = Task {
            try await agent.run { event in
                switch event {
                case .committed(let s): summaries.append(s)
                case .rescanning: events.withLock { $0.rescans += 1 }
                case .resumed: events.withLock { $0.resumes += 1 }
                case .reconnecting: events.withLock { $0.reconnects += 1 }
                default: break
                }
            }
        }
        defer { running.cancel() }
        while summaries.all.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
        let writing = Thread { writer.write(upTo: Self.capacity / 2) }
        writing.start()
        // Cut once points are being made from tracked writes.
        while summaries.all.count < 3 { try await Task.sleep(for: .milliseconds(20)) }
        cut.store(true, ordering: .releasing)
        while !writer.done { try await Task.sleep(for: .milliseconds(50)) }
        try await Task.sleep(for: .seconds(3))
        let seen = events.withLock { $0 }
        #expect(seen.reconnects >= 1, "the connection was cut: \(seen)")
        #expect(seen.rescans == 1, "only the first connection read every block: \(seen)")
        #expect(seen.resumes >= 1, "\(seen)")

        var counts: [Int] = []
        for summary in summaries.all {
            guard let exported = try? fixture.exported(summary.snapshotID) else { continue }
            let (count, problem) = Self.records(in: exported)
            #expect(problem == nil, "snapshot \(summary.snapshotID) of pass \(summary.pass): \(problem ?? "")")
            counts.append(count)
        }
        #expect(counts.last == Self.capacity / 2, "the last point holds every record: \(counts)")
        let state = try fixture.workspace.sourceServers.list().first?.dataReplicationState
        #expect(state == .continuous, "\(String(describing: state))")
    }

    /// A file system that refuses to freeze (another tool holds it frozen) closes no point,
    /// stops nothing and is named on the source server; the first freeze that works closes
    /// the point and the description is whole again.
    @Test func aFreezeThatFailsClosesNoPointAndSaysWhyWithoutStoppingTheAgent() async throws {
        let fixture = try await ReplicationFixture()
        defer { fixture.stop() }
        let disk = try TestDiskImage(in: fixture.directory, size: 4 << 20, regions: [(0, 1 << 20)], seed: 4)
        let source = StaleWriteSource()
        var configuration = try fixture.agent(disks: [disk], continuous: true, interval: .milliseconds(200)).configuration
        configuration.tracking = WriteTracking(trackers: [source], freezer: source)
        let agent = ReplicationAgent(configuration: configuration)
        let summaries = SummaryBox()
        let reconnects = Atomic<Int>(0)
        let running = Task {
            try await agent.run { event in
                if case .committed(let s) = event { summaries.append(s) }
                if case .reconnecting = event { reconnects.add(1, ordering: .relaxed) }
            }
        }
        defer { running.cancel() }
        func description() throws -> String { try fixture.workspace.sourceServers.list().first?.replicationMetrics.writeTracking ?? "" }
        while summaries.all.isEmpty { try await Task.sleep(for: .milliseconds(50)) }

        source.freezesFail.store(true, ordering: .releasing)
        try disk.write([UInt8](repeating: 9, count: 4096), at: 0)
        source.report(block: 0, at: Date())
        let deadline = Date().addingTimeInterval(10)
        while try !description().contains("the last freeze failed"), Date() < deadline { try await Task.sleep(for: .milliseconds(100)) }
        let said = try description()
        #expect(said.contains("the last freeze failed: /data cannot be frozen: Device or resource busy"), "\(said)")
        let before = summaries.all.count
        try await Task.sleep(for: .seconds(1))
        #expect(summaries.all.count == before, "no point while the freeze fails")

        // Taken by a point whose freeze then fails: it must wait for the next point, not be
        // dropped (before, the point's carried writes were lost with the failed freeze).
        try disk.write([UInt8](repeating: 8, count: 4096), at: 1 << 20)
        source.reportWhenAPointCloses(block: 2)
        try await Task.sleep(for: .seconds(1))

        source.freezesFail.store(false, ordering: .releasing)
        while summaries.all.count == before, Date() < deadline.addingTimeInterval(10) { try await Task.sleep(for: .milliseconds(100)) }
        #expect(summaries.all.count > before)
        try await Task.sleep(for: .milliseconds(500))
        #expect(try description() == "writes reported by the test; points in time frozen: the test's disk")
        #expect(reconnects.load(ordering: .relaxed) == 0, "the agent never stopped")
        let exported = try fixture.exported(try #require(summaries.all.last?.snapshotID))
        #expect(exported[0..<4096].allSatisfy { $0 == 9 })
        #expect(exported[(1 << 20)..<(1 << 20) + 4096].allSatisfy { $0 == 8 }, "the write a failed point carried")
    }

    /// MGN's LAGGING: everything is sent, but no point closes (here each freeze thaws on its
    /// own before its reads are done, as the watchdog does when a disk hangs), so the oldest
    /// write not in a point grows old; past the threshold the server says LAGGING, and the
    /// first point that closes brings it back to CONTINUOUS.
    @Test func pointsThatCannotCloseAreLaggingUntilOneDoes() async throws {
        let fixture = try await ReplicationFixture()
        defer { fixture.stop() }
        let disk = try TestDiskImage(in: fixture.directory, size: 4 << 20, regions: [(0, 1 << 20)], seed: 2)
        let source = StaleWriteSource()
        var configuration = try fixture.agent(disks: [disk], continuous: true, interval: .milliseconds(200)).configuration
        configuration.tracking = WriteTracking(trackers: [source], freezer: source)
        let agent = ReplicationAgent(configuration: configuration)
        let summaries = SummaryBox()
        let running = Task { try await agent.run { event in if case .committed(let s) = event { summaries.append(s) } } }
        defer { running.cancel() }
        func state() throws -> DataReplicationState? { try fixture.workspace.sourceServers.list().first?.dataReplicationState }
        func wait(for wanted: DataReplicationState) async throws -> Bool {
            let deadline = Date().addingTimeInterval(15)
            while Date() < deadline {
                if try state() == wanted { return true }
                try await Task.sleep(for: .milliseconds(100))
            }
            return false
        }
        while summaries.all.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
        #expect(try await wait(for: .continuous))

        // A write the machine made 90 s ago (the tracker's word), and freezes that never hold.
        source.freezesHold.store(false, ordering: .releasing)
        try disk.write([UInt8](repeating: 7, count: 4096), at: 8192)
        source.report(block: 0, at: Date().addingTimeInterval(-90))
        let becameLagging = try await wait(for: .lagging)
        let seen = try state()
        #expect(becameLagging, "state: \(String(describing: seen))")
        let lagging = try #require(try fixture.workspace.sourceServers.list().first)
        #expect((lagging.replicationMetrics.lagSeconds ?? 0) > DataReplicationThresholds.laggingSeconds)
        #expect(lagging.replicationMetrics.backlogBytes < DataReplicationThresholds.backlogBytes)
        let before = summaries.all.count

        source.freezesHold.store(true, ordering: .releasing)
        #expect(try await wait(for: .continuous))
        // The server records the commit before the agent hears of it.
        let deadline = Date().addingTimeInterval(10)
        while summaries.all.count == before, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(summaries.all.count > before, "a point closed")
        let exported = try fixture.exported(try #require(summaries.all.last?.snapshotID))
        #expect(exported[8192..<8192 + 4096].allSatisfy { $0 == 7 })
    }

    /// Backlog as MGN means it: bytes written on the source and not yet acknowledged. A batch
    /// of 128 MiB written at once, sent at 32 MiB/s: while it goes out the server shows it
    /// (BACKLOG, past the 64 MiB threshold), not only the few blocks in flight, and once it is
    /// in a point, nothing. Before, progress was sent only between batches, so the server saw
    /// at most the window in flight and never BACKLOG.
    @Test func aBigBatchOfWritesIsBacklogUntilItIsAcknowledged() async throws {
        let fixture = try await ReplicationFixture()
        defer { fixture.stop() }
        let blockSize = ReplicationProtocol.blockSize
        let blocks: UInt64 = 256
        let disk = try TestDiskImage(in: fixture.directory, size: (blocks + 64) * UInt64(blockSize), regions: [], seed: 4)
        let source = StaleWriteSource()
        var configuration = try fixture.agent(disks: [disk], continuous: true, interval: .milliseconds(200)).configuration
        configuration.tracking = WriteTracking(trackers: [source], freezer: source)
        configuration.throttleBytesPerSecond = 32 << 20
        let agent = ReplicationAgent(configuration: configuration)
        let summaries = SummaryBox()
        let running = Task { try await agent.run { event in if case .committed(let s) = event { summaries.append(s) } } }
        defer { running.cancel() }
        while summaries.all.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
        let idle = summaries.all.count

        for index in 0..<blocks {
            var block = [UInt8](repeating: UInt8(truncatingIfNeeded: index | 1), count: blockSize)
            withUnsafeBytes(of: index.littleEndian) { block.replaceSubrange(0..<8, with: $0) }
            try disk.write(block, at: index * UInt64(blockSize))
            source.report(block: index, at: Date())
        }
        var largest: UInt64 = 0
        var states = Set<DataReplicationState>()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let server = try fixture.workspace.sourceServers.list().first {
                largest = max(largest, server.replicationMetrics.backlogBytes)
                states.insert(server.dataReplicationState)
                if summaries.all.count > idle, server.dataReplicationState == .continuous, server.replicationMetrics.backlogBytes == 0 { break }
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(largest >= DataReplicationThresholds.backlogBytes, "the largest backlog shown: \(largest) bytes")
        #expect(largest <= blocks * UInt64(blockSize))
        #expect(states.contains(.backlog), "states seen: \(states)")
        let server = try #require(try fixture.workspace.sourceServers.list().first)
        #expect(server.dataReplicationState == .continuous && server.replicationMetrics.backlogBytes == 0,
                "after the point: \(server.dataReplicationState) with \(server.replicationMetrics.backlogBytes) bytes of backlog")
        let exported = try fixture.exported(try #require(summaries.all.last?.snapshotID))
        let lastBlock = Int(blocks - 1) * blockSize
        let lastIndex = withUnsafeBytes(of: (blocks - 1).littleEndian) { Data($0) }
        #expect(exported[lastBlock..<lastBlock + 8] == lastIndex, "the last block written is in the point")
    }
}

extension TrackedReplicationTests {
    /// A few pages written in a block go as a patch: their bytes, not the block's. A patch
    /// of a version the server does not hold (here, one changed behind the agent's back) is
    /// refused, and the whole block follows: the point holds the disk as it is either way.
    @Test func fewPagesWrittenGoAsAPatchAndAPatchOfAnotherVersionIsSentWhole() async throws {
        let fixture = try await ReplicationFixture()
        defer { fixture.stop() }
        let block = ReplicationProtocol.blockSize
        let disk = try TestDiskImage(in: fixture.directory, size: UInt64(8 * block), regions: [(0, 4 * block)], seed: 9)
        let source = StaleWriteSource()
        var configuration = try fixture.agent(disks: [disk], continuous: true, interval: .milliseconds(200)).configuration
        configuration.tracking = WriteTracking(trackers: [source], freezer: source)
        let agent = ReplicationAgent(configuration: configuration)
        let summaries = SummaryBox()
        let running = Task { try await agent.run { event in if case .committed(let s) = event { summaries.append(s) } } }
        defer { running.cancel() }
        while summaries.all.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
        func pointAfter(_ count: Int) async throws -> String {
            let deadline = Date().addingTimeInterval(15)
            while summaries.all.count <= count, Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
            return try #require(summaries.all.last?.snapshotID)
        }

        // Two pages of block 1 (one of them across a page boundary's end): 8 KiB go, not 512.
        var before = fixture.server.statistics.blockBytesReceived
        try disk.write([UInt8](repeating: 0xA1, count: 5000), at: UInt64(block + 4096 + 100))
        source.report(offset: UInt64(block + 4096 + 100), bytes: 5000)
        var point = try await pointAfter(summaries.all.count)
        #expect(fixture.server.statistics.blockBytesReceived - before == 2 * 4096, "bytes received for two pages")
        #expect(try fixture.exported(point) == Data(try disk.contents()))

        // Block 2 changed on the server behind the agent's back: the patch is refused, the block goes whole.
        let store = try StagingStore(workspace: fixture.workspace)
        let other = [UInt8](repeating: 0x55, count: block)
        let otherHash = other.withUnsafeBytes { ChunkHash(hashing: $0) }
        let id = try #require(try fixture.workspace.sourceServers.list().first?.id)
        _ = try other.withUnsafeBytes { try store.storeBlock($0, hash: otherHash, sourceServerID: id, diskIndex: 0, blockIndex: 2) }
        let rejected = fixture.server.statistics.blocksRejected
        before = fixture.server.statistics.blockBytesReceived
        try disk.write([UInt8](repeating: 0xB2, count: 4096), at: UInt64(2 * block))
        source.report(offset: UInt64(2 * block), bytes: 4096)
        point = try await pointAfter(summaries.all.count)
        #expect(fixture.server.statistics.blocksRejected == rejected + 1)
        #expect(fixture.server.statistics.blockBytesReceived - before == UInt64(4096 + block), "the patch, then the block")
        #expect(try fixture.exported(point) == Data(try disk.contents()))
    }
}

/// A source whose tracker reports what the test says, when the test says, and whose
/// freezes hold or thaw on their own before the reads are done.
final class StaleWriteSource: WriteTracker, PointInTimeFreezer, @unchecked Sendable {
    let mechanism = "writes reported by the test"
    let scope = "the test's disk"
    let freezesHold = Atomic<Bool>(true)
    private let written = Mutex(TrackedWrites())

    func report(block: UInt64, at time: Date) {
        written.withLock { $0.formUnion(TrackedWrites(blocks: [block], oldest: time)) }
    }

    /// A write whose pages are known, as the block layer's trace and QEMU's bitmaps report them.
    func report(offset: UInt64, bytes: UInt64) {
        written.withLock { writes in
            writes.record(offset: offset, bytes: bytes)
            writes.oldest = writes.oldest ?? Date()
        }
    }

    func take() throws -> TrackedWrites {
        written.withLock { writes in
            defer { writes = TrackedWrites() }
            // The take a point makes right after the loop's own: where a write held back
            // for it shows up (the loop's takes are a tick apart).
            if let last = lastTake, last.duration(to: .now) < .milliseconds(20), let block = heldForAPoint {
                writes.formUnion(TrackedWrites(blocks: [block], oldest: Date()))
                heldForAPoint = nil
            }
            lastTake = .now
            return writes
        }
    }

    private var lastTake: ContinuousClock.Instant?
    private var heldForAPoint: UInt64?

    /// A write that only the take closing a point sees: written between the loop's take and
    /// the point's (what the point then carries into its freeze).
    func reportWhenAPointCloses(block: UInt64) {
        written.withLock { _ in heldForAPoint = block }
    }

    let freezesFail = Atomic<Bool>(false)

    struct Refused: Error, CustomStringConvertible {
        var description: String { "/data cannot be frozen: Device or resource busy" }
    }

    func freeze(limit: Duration) throws -> any FrozenPointInTime {
        if freezesFail.load(ordering: .acquiring) { throw Refused() }
        return Hold(holds: freezesHold.load(ordering: .acquiring))
    }

    private struct Hold: FrozenPointInTime {
        let instant = Date()
        let holds: Bool
        func thaw() -> Bool { holds }
    }
}

/// Writes records to a disk image and reports each write, as a source with change tracking
/// does; `freeze` holds the writer between two records.
final class RecordWriter: WriteTracker, PointInTimeFreezer, @unchecked Sendable {
    let mechanism = "records reported by the writer"
    let scope = "the writer"
    private let disk: TestDiskImage
    // A semaphore, not a lock: the freeze and the thaw may run on different threads.
    private let gate = DispatchSemaphore(value: 1)
    private let written = Mutex(TrackedWrites())
    private let finished = Atomic<Bool>(false)

    init(disk: TestDiskImage) { self.disk = disk }

    var done: Bool { finished.load(ordering: .acquiring) }

    func write(upTo last: Int) {
        for number in 1...last {
            gate.wait()
            let offset = TrackedReplicationTests.offset(of: number)
            try? disk.write(TrackedReplicationTests.record(number), at: offset)
            written.withLock { writes in
                // With its pages, as the kernel's trace reports a write: sent as patches.
                writes.record(offset: offset, bytes: UInt64(TrackedReplicationTests.recordSize))
                writes.oldest = writes.oldest ?? Date()
            }
            gate.signal()
            if number % 8 == 0 { usleep(1000) }
        }
        finished.store(true, ordering: .releasing)
    }

    func take() throws -> TrackedWrites {
        written.withLock { writes in defer { writes = TrackedWrites() }; return writes }
    }

    func freeze(limit: Duration) throws -> any FrozenPointInTime {
        gate.wait()
        return Hold(gate: gate)
    }

    private final class Hold: FrozenPointInTime, @unchecked Sendable {
        let instant = Date()
        private let gate: DispatchSemaphore
        init(gate: DispatchSemaphore) { self.gate = gate }
        func thaw() -> Bool { gate.signal(); return true }
    }
}
