import Foundation

/// A machine being migrated, as the workspace records it.
public struct SourceServer: Codable, Hashable, Sendable, Identifiable {
    /// "s-" followed by 17 hexadecimal digits, like MGN's source server ids.
    public var id: String
    /// The source adapter that discovered the server.
    public var adapter: String
    public var facts: MachineFacts
    public var lifecycleState: LifecycleState
    public var dataReplicationState: DataReplicationState
    public var replicationSettings: ReplicationSettings
    public var launchSettings: LaunchSettings
    public var replicationMetrics: ReplicationMetrics
    public var createdAt: Date
    public var updatedAt: Date

    public init(
        id: String = ResourceID.make(prefix: "s"),
        adapter: String,
        facts: MachineFacts,
        lifecycleState: LifecycleState = .notReady,
        dataReplicationState: DataReplicationState = .stopped,
        replicationSettings: ReplicationSettings = ReplicationSettings(),
        launchSettings: LaunchSettings = LaunchSettings(),
        replicationMetrics: ReplicationMetrics = ReplicationMetrics(),
        createdAt: Date = Date(),
        updatedAt: Date = Date()
    ) {
        self.id = id
        self.adapter = adapter
        self.facts = facts
        self.lifecycleState = lifecycleState
        self.dataReplicationState = dataReplicationState
        self.replicationSettings = replicationSettings
        self.launchSettings = launchSettings
        self.replicationMetrics = replicationMetrics
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// Measured replication progress of one source server.
public struct ReplicationMetrics: Codable, Hashable, Sendable {
    public var totalBytes: UInt64
    public var replicatedBytes: UInt64
    public var backlogBytes: UInt64
    /// Seconds between the source's latest known change and the last consistent snapshot.
    public var lagSeconds: Double?
    public var etaSeconds: Double?
    public var lastSnapshotAt: Date?
    public var lastSeenAt: Date?
    /// Why replication is STALLED (MGN's dataReplicationError): the connection lost, and what
    /// the network says refused the agent when it knows; nil while replication runs.
    public var replicationError: String?
    /// How the agent follows the machine's writes ("the block layer's trace of /dev/sda; …"),
    /// or that it reads every block again and why; nil for an agent that rescans every pass.
    public var writeTracking: String?
    /// When the oldest write not yet in a committed point was made, as a tracked agent last
    /// said: the lag is its age when read, not when the agent last reported (a point that
    /// takes long to close sends no report meanwhile, and its lag must still grow).
    public var oldestUncommittedWriteAt: Date?

    public init(
        totalBytes: UInt64 = 0, replicatedBytes: UInt64 = 0, backlogBytes: UInt64 = 0,
        lagSeconds: Double? = nil, etaSeconds: Double? = nil, lastSnapshotAt: Date? = nil, lastSeenAt: Date? = nil
    ) {
        self.totalBytes = totalBytes
        self.replicatedBytes = replicatedBytes
        self.backlogBytes = backlogBytes
        self.lagSeconds = lagSeconds
        self.etaSeconds = etaSeconds
        self.lastSnapshotAt = lastSnapshotAt
        self.lastSeenAt = lastSeenAt
    }
}

extension SourceServer {
    /// The metrics as they are true now: lag and ETA describe replication in progress, so an
    /// archived or disconnected server has none (the last values measured would otherwise
    /// stay listed forever, as if it still replicated).
    public var currentReplicationMetrics: ReplicationMetrics {
        var metrics = replicationMetrics
        if lifecycleState == .archived || lifecycleState == .disconnected || dataReplicationState == .disconnected {
            metrics.lagSeconds = nil
            metrics.etaSeconds = nil
            metrics.oldestUncommittedWriteAt = nil
        } else if let oldest = metrics.oldestUncommittedWriteAt {
            metrics.lagSeconds = max(metrics.lagSeconds ?? 0, Date().timeIntervalSince(oldest))
        }
        return metrics
    }
}
