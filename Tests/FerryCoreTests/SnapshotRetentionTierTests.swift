import FerryCore
import Foundation
import Testing

@Suite struct SnapshotRetentionTierTests {
    /// A point a minute for eight days, as a tracked agent under steady writes would leave
    /// (it closes one every 10 s; a minute keeps the test small).
    static let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let points = (0..<(8 * 1440)).map { minute in (id: "p\(minute)", takenAt: now.addingTimeInterval(-Double(minute) * 60)) }

    @Test func theDefaultsKeepTheNewestThenOneAWindowPerTierAndNothingPastAWeek() {
        let kept = SnapshotRetentionTier.kept(Self.points, newest: 7, tiers: SnapshotRetentionTier.defaults, now: Self.now)
        let ages = Self.points.filter { kept.contains($0.id) }.map { Self.now.timeIntervalSince($0.takenAt) }
        // The newest seven, whatever their windows.
        #expect((0..<7).allSatisfy { kept.contains("p\($0)") })
        // One per 10-minute window in the last hour, one per hour in the last day, one per day in the week.
        func windows(every: Double, within: Double) -> Set<Int> {
            Set(Self.points.filter { kept.contains($0.id) && Self.now.timeIntervalSince($0.takenAt) <= within }.map { Int(($0.takenAt.timeIntervalSince1970 / every).rounded(.down)) })
        }
        #expect(windows(every: 600, within: 3600).count >= 6)
        #expect(windows(every: 3600, within: 86_400).count >= 24)
        #expect(windows(every: 86_400, within: 7 * 86_400).count >= 7)
        #expect(ages.allSatisfy { $0 <= 7 * 86_400 })
        // Thinned: far fewer than the 11 520 points.
        #expect(kept.count <= 7 + 7 + 25 + 8, "\(kept.count)")
    }

    @Test func aPointKeptForItsWindowStaysKeptAsNewPointsArrive() {
        let first = SnapshotRetentionTier.kept(Self.points, newest: 7, tiers: SnapshotRetentionTier.defaults, now: Self.now)
        // An hour later, sixty more points.
        let later = Self.now.addingTimeInterval(3600)
        let more = (1...60).map { (id: "n\($0)", takenAt: Self.now.addingTimeInterval(Double($0) * 60)) } + Self.points
        let second = SnapshotRetentionTier.kept(more, newest: 7, tiers: SnapshotRetentionTier.defaults, now: later)
        // Hourly and daily keepers that are still within their tier survive.
        for point in Self.points where first.contains(point.id) {
            let age = later.timeIntervalSince(point.takenAt)
            let hourly = (point.takenAt.timeIntervalSince1970 / 3600).rounded(.down)
            let newestOfItsHour = !Self.points.contains { $0.takenAt > point.takenAt && ($0.takenAt.timeIntervalSince1970 / 3600).rounded(.down) == hourly }
            if age <= 86_400, age > 3600, newestOfItsHour { #expect(second.contains(point.id), "\(point.id) at \(age) s") }
        }
    }

    @Test func noTiersMeansTheNewestCountAlone() {
        let kept = SnapshotRetentionTier.kept(Self.points, newest: 3, tiers: [], now: Self.now)
        #expect(kept == ["p0", "p1", "p2"])
    }
}
