@testable import FerryReplication
import FerryTestSupport
import Foundation
import Testing

/// The trace's events as one CPU's relay file gives them: cut anywhere by reads, notes
/// between them, and what a read taken while the kernel was still writing an event looks
/// like. (The kernel's own trace is read in a real guest: AgentInGuestTests.)
@Suite("the block layer trace's events")
struct BlockTraceStreamTests {
    static func event(sequence: UInt32, time: UInt64, sector: UInt64 = 0, bytes: UInt32 = 0, action: UInt32, pdu: Int = 0) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: BlockTraceStream.eventSize + pdu)
        func put<T: FixedWidthInteger>(_ value: T, _ at: Int) {
            withUnsafeBytes(of: value.littleEndian) { for (i, byte) in $0.enumerated() { out[at + i] = byte } }
        }
        put(BlockTraceStream.magic | 7, 0); put(sequence, 4); put(time, 8); put(sector, 16); put(bytes, 24); put(action, 28)
        put(UInt16(pdu), 46)
        return out
    }

    static let queue = BlockTraceStream.categoryWrite << 16 | BlockTraceStream.actionQueue
    static let complete = BlockTraceStream.categoryWrite << 16 | BlockTraceStream.actionComplete
    static let issue = BlockTraceStream.categoryWrite << 16 | 7
    static let processNote = BlockTraceStream.categoryNotify << 16

    /// Writes of a few pages at random sectors, each queued, issued and completed, with a
    /// process's note (16 bytes of name, no sequence number) now and then.
    static func trace(seed: UInt64, writes count: Int) -> (bytes: [UInt8], expected: TrackedWrites) {
        var random = SplitMix64(seed: seed)
        var bytes: [UInt8] = [], expected = TrackedWrites(), sequence: UInt32 = 40, time: UInt64 = 1_000
        for _ in 0..<count {
            if random.next() % 5 == 0 { bytes += event(sequence: 0, time: time, action: processNote, pdu: 16) }
            let sector = random.next() % 8_000_000, length = UInt32(512 * (1 + random.next() % 64))
            for action in [queue, issue, complete] {
                sequence += 1
                time += random.next() % 1_000
                bytes += event(sequence: sequence, time: time, sector: sector, bytes: length, action: action)
            }
            expected.record(offset: sector * 512, bytes: UInt64(length))
        }
        return (bytes, expected)
    }

    @Test func readsCutAnywhereGiveTheWritesOfTheWholeTrace() throws {
        for seed in UInt64(1)...20 {
            let (bytes, expected) = Self.trace(seed: seed, writes: 200)
            var random = SplitMix64(seed: seed &* 31)
            var stream = BlockTraceStream(mechanism: "the trace")
            var writes = TrackedWrites()
            var at = 0
            while at < bytes.count {
                let n = min(bytes.count - at, Int(random.next() % 300))
                try stream.feed(bytes[at..<at + n], into: &writes, now: Date(), monotonicNow: 10_000_000)
                at += n
            }
            #expect(writes.blocks == expected.blocks && writes.pages == expected.pages, "seed \(seed)")
            #expect(stream.partial.isEmpty)
        }
    }

    /// What read(2) can return when it runs on another CPU than the one writing the trace: the
    /// next event reserved, its first fields written and the rest a former round's bytes. What
    /// shows (a time that goes back, no magic, a sequence number skipped) loses the trace; a
    /// half-written event whose stale fields look right cannot be told from a whole one, which
    /// is why the tracker reads each CPU's file from that CPU.
    @Test func anEventOutOfOrderLosesTheTrace() throws {
        let whole = Self.event(sequence: 41, time: 2_000, sector: 100, bytes: 4096, action: Self.queue)
        let former = Self.event(sequence: 7, time: 900, sector: 555, bytes: 4096, action: Self.complete)
        var halfWritten = Array(whole[0..<16]) + Array(former[16...])  // magic, sequence, time; no sector yet
        let next = Self.event(sequence: 42, time: 2_100, sector: 100, bytes: 4096, action: Self.complete)
        // Written whole, then the next: taken.
        var stream = BlockTraceStream(mechanism: "the trace")
        var writes = TrackedWrites()
        try stream.feed((whole + next)[...], into: &writes, now: Date(), monotonicNow: 10_000)
        #expect(writes.blocks == [0])
        // Only the magic and the sequence number: the time goes back.
        halfWritten.replaceSubrange(8..<16, with: former[8..<16])
        stream = BlockTraceStream(mechanism: "the trace")
        try stream.feed(Self.event(sequence: 40, time: 1_500, action: Self.issue)[...], into: &writes, now: Date(), monotonicNow: 10_000)
        #expect(throws: WriteTrackingLost.self) { try stream.feed(halfWritten[...], into: &writes, now: Date(), monotonicNow: 10_000) }
        // Not even the magic: bytes that are no event.
        stream = BlockTraceStream(mechanism: "the trace")
        #expect(throws: WriteTrackingLost.self) { try stream.feed([UInt8](repeating: 0, count: 48)[...], into: &writes, now: Date(), monotonicNow: 10_000) }
        // An event missing between two (its bytes skipped by a parser misled by a stale length).
        stream = BlockTraceStream(mechanism: "the trace")
        let skipped = Self.event(sequence: 40, time: 1_500, action: Self.issue) + Self.event(sequence: 42, time: 2_100, action: Self.complete)
        #expect(throws: WriteTrackingLost.self) { try stream.feed(skipped[...], into: &writes, now: Date(), monotonicNow: 10_000) }
    }

    @Test func onlyQueuedAndCompletedWritesCountAndTheOldestIsDated() throws {
        var stream = BlockTraceStream(mechanism: "the trace")
        var writes = TrackedWrites()
        let now = Date()
        let bytes = Self.event(sequence: 1, time: 7_000_000_000, sector: 2048, bytes: 4096, action: Self.queue)
            + Self.event(sequence: 2, time: 8_000_000_000, sector: 4096, bytes: 8192, action: Self.issue)
            + Self.event(sequence: 3, time: 9_000_000_000, sector: 8192, bytes: 512, action: Self.complete)
        try stream.feed(bytes[...], into: &writes, now: now, monotonicNow: 10_000_000_000)
        #expect(writes.blocks == [2, 8])  // 1 MiB and 4 MiB in 512 KiB blocks; the issue is not a write seen
        #expect(writes.pages[2] == 1 && writes.pages[8] == 1)
        #expect(abs(writes.oldest!.timeIntervalSince(now) + 3) < 0.001)
    }
}
