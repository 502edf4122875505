/// How a source server's disks are replicated: the counterpart of MGN's replication settings
/// template, per server.
public struct ReplicationSettings: Codable, Hashable, Sendable {
    /// The staging subnet where replication servers run ("subnet-…"), if chosen.
    public var stagingSubnetID: String?
    /// Security groups applied to the replication servers.
    public var replicationServerSecurityGroupIDs: [String]
    /// TCP port the agents connect to.
    public var dataPlanePort: Int
    /// Bandwidth the agent may use, in Mbit/s; nil means unthrottled.
    public var bandwidthThrottleMbps: Int?
    /// How many of the newest consistent snapshots the staging store keeps per server…
    public var snapshotRetentionCount: Int
    /// …and which older ones, thinned by tier (nil: `SnapshotRetentionTier.defaults`, MGN's;
    /// empty: none).
    public var snapshotRetentionTiers: [SnapshotRetentionTier]?
    /// Whether blocks are compressed on the wire.
    public var compressData: Bool
    public var stagingTags: [String: String]

    public static let defaultDataPlanePort = 1500

    public init(
        stagingSubnetID: String? = nil,
        replicationServerSecurityGroupIDs: [String] = [],
        dataPlanePort: Int = ReplicationSettings.defaultDataPlanePort,
        bandwidthThrottleMbps: Int? = nil,
        snapshotRetentionCount: Int = 7,
        snapshotRetentionTiers: [SnapshotRetentionTier]? = nil,
        compressData: Bool = false,
        stagingTags: [String: String] = [:]
    ) {
        self.stagingSubnetID = stagingSubnetID
        self.replicationServerSecurityGroupIDs = replicationServerSecurityGroupIDs
        self.dataPlanePort = dataPlanePort
        self.bandwidthThrottleMbps = bandwidthThrottleMbps
        self.snapshotRetentionCount = snapshotRetentionCount
        self.snapshotRetentionTiers = snapshotRetentionTiers
        self.compressData = compressData
        self.stagingTags = stagingTags
    }
}
