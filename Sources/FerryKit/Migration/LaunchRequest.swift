import FerryCore
import Foundation

public enum LaunchMode: String, Sendable, CaseIterable {
    case test, cutover
}

/// What to launch: a server's snapshot (the latest unless one is named) as a test or
/// cutover instance, with these settings over the server's own launch settings.
public struct LaunchRequest: Sendable {
    public var sourceServerID: String
    public var mode: LaunchMode
    public var snapshotID: String?
    /// Without a snapshot id: the newest retained point in time taken at or before this
    /// instant (MGN's launch from a point in time); nil: the latest.
    public var pointInTime: Date?
    public var name: String
    public var subnetID: String
    public var securityGroupIDs: [String]
    public var instanceType: String
    /// Whether the convert stage runs (`--no-convert` turns it off: the disks are launched as
    /// they were replicated, which boots only what was built for the target).
    public var convert: Bool
    /// Why conversion is off, for the job's record (default: it was not asked for).
    public var skipReason: String?
    /// Where a target's converter instance runs: the staging subnet (else the server's
    /// replication settings name it, else the target's default subnet).
    public var stagingSubnetID: String?

    public init(sourceServerID: String, mode: LaunchMode, snapshotID: String? = nil, name: String, subnetID: String, securityGroupIDs: [String], instanceType: String,
                convert: Bool = true, skipReason: String? = nil, stagingSubnetID: String? = nil, pointInTime: Date? = nil) {
        self.pointInTime = pointInTime
        self.convert = convert
        self.skipReason = skipReason
        self.stagingSubnetID = stagingSubnetID
        self.sourceServerID = sourceServerID
        self.mode = mode
        self.snapshotID = snapshotID
        self.name = name
        self.subnetID = subnetID
        self.securityGroupIDs = securityGroupIDs
        self.instanceType = instanceType
    }
}

/// What a launch made, and where the instance answers (an empty `url`, and why, when the
/// target offers no endpoint reachable from here).
public struct LaunchResult: Sendable {
    public var jobID: String
    public var snapshotID: String
    public var volumeIDs: [String]
    public var imageID: String
    public var instance: Instance
    public var url: String
    public var noEndpointReason: String
    /// What the convert stage did.
    public var conversion: LaunchConversion
}
