import Foundation

/// Launches instances from images with launch settings, and follows them through their life.
public protocol ComputeCapability: Adapter {
    func launchInstance(imageID: String, settings: LaunchSettings, userData: String?, name: String?) async throws -> Instance
    func describeInstance(id: String) async throws -> Instance
    func describeInstances() async throws -> [Instance]
    func stopInstance(id: String) async throws -> Instance
    func startInstance(id: String) async throws -> Instance
    func terminateInstance(id: String) async throws -> Instance
    /// Whether the guest has reported its first boot.
    func firstBootStatus(id: String) async throws -> FirstBootStatus
    /// Where a client reaches `port` of the instance from this machine.
    func endpoint(instanceID: String, port: Int) async throws -> InstanceEndpoint
}

public enum InstanceState: String, Codable, Hashable, Sendable, CaseIterable {
    case pending, running, stopping, stopped
    case shuttingDown = "shutting-down"
    case terminated
}

public struct Instance: Codable, Hashable, Sendable {
    public var id: String
    public var imageID: String
    public var instanceType: String
    public var state: InstanceState
    public var subnetID: String?
    public var privateIPAddress: String?
    public var securityGroupIDs: [String]
    public var tags: ResourceTags
    public var launchedAt: Date?

    public init(id: String, imageID: String, instanceType: String, state: InstanceState, subnetID: String? = nil, privateIPAddress: String? = nil, securityGroupIDs: [String] = [], tags: ResourceTags = [:], launchedAt: Date? = nil) {
        self.id = id
        self.imageID = imageID
        self.instanceType = instanceType
        self.state = state
        self.subnetID = subnetID
        self.privateIPAddress = privateIPAddress
        self.securityGroupIDs = securityGroupIDs
        self.tags = tags
        self.launchedAt = launchedAt
    }
}

public enum FirstBootStatus: String, Codable, Hashable, Sendable {
    case pending = "PENDING"
    case succeeded = "SUCCEEDED"
    case failed = "FAILED"
    /// The target cannot observe the guest (a cloud with no console access).
    case unknown = "UNKNOWN"
}

public struct InstanceEndpoint: Codable, Hashable, Sendable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }
    public var description: String { "\(host):\(port)" }
}
