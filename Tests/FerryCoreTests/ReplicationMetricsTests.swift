import FerryCore
import Foundation
import Testing

/// Lag as MGN means it — the age of the oldest write not yet in a committed point — is its
/// age when read: an agent closing a long point sends no report meanwhile, and the lag shown
/// must still grow.
@Suite("Replication metrics")
struct ReplicationMetricsTests {
    func server(oldestWrite: Date?, lag: Double, lifecycle: LifecycleState = .readyForTest) -> SourceServer {
        var server = SourceServer(adapter: "agent", facts: MachineFacts(hostname: "web", disks: []))
        server.lifecycleState = lifecycle
        server.replicationMetrics.lagSeconds = lag
        server.replicationMetrics.oldestUncommittedWriteAt = oldestWrite
        return server
    }

    @Test func theLagIsTheOldestUncommittedWritesAgeWhenRead() {
        let lag = server(oldestWrite: Date().addingTimeInterval(-100), lag: 4).currentReplicationMetrics.lagSeconds ?? 0
        #expect(lag >= 100 && lag < 110, "\(lag)")
    }

    @Test func withoutAnUncommittedWriteTheLastFigureStands() {
        #expect(server(oldestWrite: nil, lag: 4).currentReplicationMetrics.lagSeconds == 4)
    }

    @Test func anArchivedServerHasNoLag() {
        let metrics = server(oldestWrite: Date().addingTimeInterval(-100), lag: 4, lifecycle: .archived).currentReplicationMetrics
        #expect(metrics.lagSeconds == nil && metrics.oldestUncommittedWriteAt == nil)
    }
}
