import Foundation

/// One CPU's events of the block layer's trace, as read from its relay file: Linux's
/// struct blk_io_trace (<linux/blktrace_api.h>, 48 bytes, then `pdu_len` bytes of data),
/// parsed by hand: no package reads it. Keeps the end of an event a read cut in two, and
/// checks the order the kernel guarantees: each CPU numbers its events one by one (notes
/// excepted) and stamps them with a time that never goes back. An event out of that order,
/// or bytes that are no event, were not read whole, and the writes they stood for are lost.
struct BlockTraceStream {
    static let eventSize = 48
    static let magic: UInt32 = 0x6561_7400
    static let categoryWrite: UInt32 = 1 << 1
    static let categoryNotify: UInt32 = 1 << 10
    static let actionQueue: UInt32 = 1
    static let actionComplete: UInt32 = 8

    /// "the block layer's trace of /dev/sda", for what is thrown.
    let mechanism: String
    /// An event cut in two by a read: the rest comes with the next read.
    private(set) var partial: [UInt8] = []
    /// The sequence number of the next event; nil before the first.
    private(set) var nextSequence: UInt32?
    private(set) var lastTime: UInt64 = 0

    init(mechanism: String) {
        self.mechanism = mechanism
    }

    /// Adds the writes (queued or completed) among the events in `bytes`, which follow what
    /// was fed before. `now` and `monotonicNow` date them (the trace's clock is the monotonic one).
    mutating func feed(_ bytes: ArraySlice<UInt8>, into writes: inout TrackedWrites, now: Date, monotonicNow: UInt64) throws(WriteTrackingLost) {
        var all = partial
        all.append(contentsOf: bytes)
        var at = 0
        var failure: WriteTrackingLost?
        all.withUnsafeBytes { raw in
            while raw.count - at >= Self.eventSize {
                func u32(_ offset: Int) -> UInt32 { raw.loadUnaligned(fromByteOffset: at + offset, as: UInt32.self) }
                func u64(_ offset: Int) -> UInt64 { raw.loadUnaligned(fromByteOffset: at + offset, as: UInt64.self) }
                guard u32(0) & 0xFFFF_FF00 == Self.magic else {
                    let shown = (0..<min(16, raw.count - at)).map { String(format: "%02x", raw[at + $0]) }.joined()
                    failure = WriteTrackingLost("\(mechanism) holds bytes that are not an event")
                    failure?.detail = "at byte \(at) of \(raw.count), \(partial.count) carried from the last read: \(shown)"
                    return
                }
                let pduLength = Int(raw.loadUnaligned(fromByteOffset: at + 46, as: UInt16.self))
                guard raw.count - at >= Self.eventSize + pduLength else { break }
                let sequence = u32(4), time = u64(8), sector = u64(16), length = u32(24), action = u32(28)
                let isNote = (action >> 16) & Self.categoryNotify != 0
                if (!isNote && nextSequence.map { $0 != sequence } ?? false) || time < lastTime {
                    failure = WriteTrackingLost("\(mechanism) holds an event out of order")
                    failure?.detail = "at byte \(at) of \(raw.count): sequence \(sequence) where \(nextSequence.map(String.init) ?? "any") was due, time \(time) after \(lastTime)"
                    return
                }
                if !isNote { nextSequence = sequence &+ 1 }
                lastTime = time
                let kind = action & 0xFFFF
                if (action >> 16) & Self.categoryWrite != 0, kind == Self.actionQueue || kind == Self.actionComplete, length > 0 {
                    writes.record(offset: sector * 512, bytes: UInt64(length))
                    let seen = now.addingTimeInterval(-Double(monotonicNow &- min(time, monotonicNow)) / 1e9)
                    writes.oldest = min(writes.oldest ?? seen, seen)
                }
                at += Self.eventSize + pduLength
            }
        }
        if let failure { throw failure }
        partial = Array(all[at...])
    }
}
