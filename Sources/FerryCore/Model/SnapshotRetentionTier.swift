import Foundation

/// One tier of snapshot retention, as MGN thins its points in time: within `forSeconds` of
/// now, the newest point of every `everySeconds` window is kept.
public struct SnapshotRetentionTier: Codable, Hashable, Sendable {
    public var everySeconds: Int
    public var forSeconds: Int

    public init(everySeconds: Int, forSeconds: Int) {
        self.everySeconds = everySeconds
        self.forSeconds = forSeconds
    }

    /// Every 10 minutes for an hour, hourly for a day, daily for 7 days: MGN's retention. A
    /// tracked agent closes a point every 10 s in which something was written; without
    /// thinning, a count of 7 would keep a minute of history.
    public static let defaults = [
        SnapshotRetentionTier(everySeconds: 600, forSeconds: 3600),
        SnapshotRetentionTier(everySeconds: 3600, forSeconds: 86_400),
        SnapshotRetentionTier(everySeconds: 86_400, forSeconds: 7 * 86_400),
    ]

    /// The points to keep: the newest `newest`, and in each tier the newest point of each
    /// window (windows are fixed in time, so a point kept stays kept until its tier ends).
    public static func kept(_ points: [(id: String, takenAt: Date)], newest: Int, tiers: [SnapshotRetentionTier], now: Date) -> Set<String> {
        let ordered = points.sorted { $0.takenAt > $1.takenAt }
        var kept = Set(ordered.prefix(max(newest, 1)).map(\.id))
        for tier in tiers where tier.everySeconds > 0 {
            var windows = Set<Int64>()
            for point in ordered where now.timeIntervalSince(point.takenAt) <= Double(tier.forSeconds) {
                let window = Int64((point.takenAt.timeIntervalSince1970 / Double(tier.everySeconds)).rounded(.down))
                if windows.insert(window).inserted { kept.insert(point.id) }
            }
        }
        return kept
    }
}
