/// A reference to something a target created, kept so that it can be described and
/// destroyed later, in reverse order, even after a crash.
public struct CloudResource: Codable, Hashable, Sendable, CustomStringConvertible {
    public var kind: CloudResourceKind
    public var id: String

    public init(kind: CloudResourceKind, id: String) {
        self.kind = kind
        self.id = id
    }

    public var description: String { "\(kind.rawValue) \(id)" }
}

public enum CloudResourceKind: String, Codable, Hashable, Sendable, CaseIterable {
    case vpc
    case subnet
    case internetGateway = "internet-gateway"
    case routeTable = "route-table"
    case securityGroup = "security-group"
    case user
    case accessKey = "access-key"
    case volume
    case snapshot
    case image
    case instance
    /// A background process a run started (a replication server, an agent), by pid.
    case process
    /// A process of this machine placed at an address of a subnet (`ServiceEndpointCapability`).
    case networkInterface = "network-interface"
    /// The replication agent installed in an instance, by the instance's id.
    case agent
}

/// Tags as a cloud keeps them.
public typealias ResourceTags = [String: String]
