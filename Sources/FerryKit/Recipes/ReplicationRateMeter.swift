import Foundation

/// The rate of a replication as seen from outside it, from successive reads of the source
/// server's replicated bytes: the metrics hold totals, not a rate. Smoothed, so that a
/// pass's bursts do not make the ETA jump.
struct ReplicationRateMeter {
    private var previous: (bytes: UInt64, at: Date)?
    private var smoothed: Double?

    /// Bytes per second since the previous sample; nil until two samples at least half a
    /// second apart exist. A total that goes back (a new pass) restarts the measure.
    mutating func sample(replicatedBytes bytes: UInt64, at now: Date) -> Double? {
        guard let last = previous else {
            previous = (bytes, now)
            return nil
        }
        let interval = now.timeIntervalSince(last.at)
        guard interval >= 0.5 else { return smoothed }
        guard bytes >= last.bytes else {
            previous = (bytes, now)
            smoothed = nil
            return nil
        }
        let rate = Double(bytes - last.bytes) / interval
        smoothed = smoothed.map { 0.7 * $0 + 0.3 * rate } ?? rate
        previous = (bytes, now)
        return smoothed
    }
}
