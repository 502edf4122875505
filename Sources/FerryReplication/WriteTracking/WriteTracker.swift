import Foundation
import Synchronization

/// Writes to a disk that the system reported as they happened, since they were last taken:
/// which replication blocks they touched and when the oldest of them was seen.
public struct TrackedWrites: Sendable, Equatable {
    /// Indexes of the `ReplicationProtocol.blockSize` blocks written.
    public var blocks: Set<UInt64>
    /// For blocks whose written pages are known, which `ReplicationProtocol.pageSize` pages
    /// of the block (bit i: page i). A block in `blocks` without an entry was written
    /// anywhere in it. A block with few pages written goes to the server as a patch.
    public var pages: [UInt64: UInt128] = [:]
    /// When the first of these writes was seen (nil when there is none).
    public var oldest: Date?

    public init(blocks: Set<UInt64> = [], oldest: Date? = nil) {
        self.blocks = blocks
        self.oldest = oldest
    }

    public var isEmpty: Bool { blocks.isEmpty }
    /// What sending them costs, about: the pages of a patch, or the whole block.
    public var bytes: UInt64 {
        blocks.reduce(0) { total, block in
            if let mask = pages[block], mask.nonzeroBitCount <= ReplicationProtocol.maximumPatchPages {
                return total + UInt64(mask.nonzeroBitCount * ReplicationProtocol.pageSize)
            }
            return total + UInt64(ReplicationProtocol.blockSize)
        }
    }

    public mutating func formUnion(_ other: TrackedWrites) {
        for block in other.blocks {
            let theirs = other.pages[block]
            if !blocks.contains(block) {
                pages[block] = theirs
            } else if let mine = pages[block], let theirs {
                pages[block] = mine | theirs
            } else {
                pages[block] = nil  // written anywhere, on one side at least
            }
        }
        blocks.formUnion(other.blocks)
        oldest = [oldest, other.oldest].compactMap { $0 }.min()
    }

    /// Adds a write of `bytes` at byte `offset`, with the pages it touched.
    public mutating func record(offset: UInt64, bytes: UInt64) {
        guard let touched = Self.blocks(offset: offset, bytes: bytes) else { return }
        let size = UInt64(ReplicationProtocol.blockSize), page = UInt64(ReplicationProtocol.pageSize)
        var written = TrackedWrites()
        for block in touched {
            let start = max(offset, block * size) - block * size
            let end = min(offset + bytes, (block + 1) * size) - block * size
            var mask: UInt128 = 0
            for index in (start / page)...((end - 1) / page) { mask |= UInt128(1) << Int(index) }
            written.blocks.insert(block)
            written.pages[block] = mask
        }
        formUnion(written)
    }

    /// The blocks a write of `bytes` at byte `offset` touches.
    public static func blocks(offset: UInt64, bytes: UInt64) -> ClosedRange<UInt64>? {
        guard bytes > 0 else { return nil }
        let size = UInt64(ReplicationProtocol.blockSize)
        return (offset / size)...((offset + bytes - 1) / size)
    }
}

/// A disk's writes learned from the system (the block layer's trace, a hypervisor's dirty
/// bitmap, an adapter's change tracking), so that continuous replication sends what was
/// written instead of rereading and hashing the whole disk.
public protocol WriteTracker: Sendable {
    /// What tracks, in words: "the block layer's trace of /dev/sda".
    var mechanism: String { get }
    /// The writes seen since the last call (or since the tracker started).
    /// - Throws: `WriteTrackingLost` when writes may have gone unseen (the trace dropped
    ///   events, the tracker stopped): the disk must be rescanned.
    func take() throws -> TrackedWrites
}

/// Writes may have gone unseen: only a full rescan makes the replica whole again.
public struct WriteTrackingLost: Error, CustomStringConvertible, Sendable {
    public var reason: String
    /// Where it was found, for a diagnosis (logged, not part of `reason`'s first words).
    public var detail = ""
    public init(_ reason: String) { self.reason = reason }
    public var description: String { reason }
}

/// Closes a point in time: holds every write to the machine's disks (file systems frozen,
/// their dirty data flushed) until `thaw`, so that what is read in between is the disks as
/// they were at one instant.
public protocol PointInTimeFreezer: Sendable {
    /// What is frozen, in words: "the file systems on /dev/sda (/, /boot)".
    var scope: String { get }
    /// Freezes; the returned hold thaws when told to, and on its own after `limit` (a stuck
    /// agent must never leave a machine's file systems frozen).
    func freeze(limit: Duration) throws -> any FrozenPointInTime

    /// Whether a freeze holds the machine's writes (a file system freeze) or lets them go on
    /// (an image fleecing or a copy-on-write snapshot: the point is read from a frozen view).
    /// Only a freeze that holds writes needs the writes sent before it, so that it is short.
    var holdsWrites: Bool { get }
}

extension PointInTimeFreezer {
    public var holdsWrites: Bool { true }
}

public protocol FrozenPointInTime: Sendable {
    /// When the freeze took hold: the snapshot's instant.
    var instant: Date { get }
    /// Thaws. Returns false when the limit had already thawed it: what was read after that
    /// instant may be newer than the point in time.
    func thaw() -> Bool
}

/// How the agent follows a machine's writes: one tracker per disk (in the order of the
/// configuration's disks) and, to close points in time, a freezer.
public struct WriteTracking: Sendable {
    public var trackers: [any WriteTracker]
    public var freezer: (any PointInTimeFreezer)?
    /// What outlives a connection: shared by every copy of this value, for the agent's life.
    package let resume = TrackedResume()

    public init(trackers: [any WriteTracker], freezer: (any PointInTimeFreezer)?) {
        self.trackers = trackers
        self.freezer = freezer
    }

    /// In words, for logs and the source server's record.
    public var description: String {
        let tracked = trackers.map(\.mechanism).joined(separator: "; ")
        guard let freezer else { return "\(tracked); points in time are not frozen" }
        return "\(tracked); points in time frozen: \(freezer.scope)"
    }
}

/// What a tracked agent keeps across connections so that a lost one costs no rescan: every
/// block taken from the trackers since the last committed point (written since that point,
/// so possibly not yet on the server), and whether the trace has run unbroken since a point
/// was committed after a scan. On a new connection the server says what it holds; the
/// agent compares those blocks with it and sends what differs, then follows the trace on.
/// A lost trace (dropped events) or a new agent process has nothing to resume: it rescans.
package final class TrackedResume: Sendable {
    private struct State {
        var resumable = false
        var owed: [TrackedWrites] = []
        var allocated: UInt64 = 0
    }
    private let state = Mutex(State())

    package init() {}

    /// Writes taken from the trackers: owed until a point holding them is committed.
    package func owe(_ written: [TrackedWrites]) {
        state.withLock { s in
            if s.owed.count < written.count { s.owed += Array(repeating: TrackedWrites(), count: written.count - s.owed.count) }
            for (i, writes) in written.enumerated() { s.owed[i].formUnion(writes) }
        }
    }

    /// A point was committed: what was taken before it is on the server; `after` (taken
    /// after its instant) is owed to the next.
    package func committed(owing after: [TrackedWrites], allocated: UInt64) {
        state.withLock { s in
            s.owed = after
            s.resumable = true
            s.allocated = allocated
        }
    }

    /// The trace lost writes: only a scan is safe now.
    package func lost() {
        state.withLock { s in
            s.resumable = false
            s.owed = []
        }
    }

    /// What a new connection must send before following the trace on, and the disks'
    /// allocated bytes as the last scan found them; nil when it must scan.
    package func resumption() -> (owed: [TrackedWrites], allocated: UInt64)? {
        state.withLock { s in s.resumable ? (s.owed, s.allocated) : nil }
    }
}
