import Foundation

/// Places a process of this machine (the replication server) at an address of one of the
/// target's subnets, behind its security groups, so that instances reach it there as they
/// would reach an instance: the sandbox's replication server stands in the staging subnet on
/// TCP 1500 without being a guest of its own. What the rules refuse, the target says why.
public protocol ServiceEndpointCapability: Adapter {
    /// Gives `request.name` an address in `request.subnetID`; connections to that address and
    /// `request.port` that the security groups allow reach 127.0.0.1:`request.hostPort`.
    func placeServiceEndpoint(_ request: ServiceEndpointRequest) async throws -> ServiceEndpoint
    func removeServiceEndpoint(id: String) async throws
    /// The latest connection to `address`:`port` the network refused, and why (the rule that
    /// is missing), since `date`; nil when none was refused.
    func lastRefusal(to address: String, port: Int, since date: Date) async throws -> String?
}


public struct ServiceEndpointRequest: Sendable {
    public var name: String
    public var subnetID: String
    public var securityGroupIDs: [String]
    public var port: Int
    public var hostPort: Int

    public init(name: String, subnetID: String, securityGroupIDs: [String], port: Int, hostPort: Int) {
        self.name = name
        self.subnetID = subnetID
        self.securityGroupIDs = securityGroupIDs
        self.port = port
        self.hostPort = hostPort
    }
}

public struct ServiceEndpoint: Codable, Hashable, Sendable {
    /// Named like a network interface (eni-…): it is one, of a process rather than an instance.
    public var id: String
    public var name: String
    public var subnetID: String
    public var privateIP: String
    public var port: Int
    public var hostPort: Int
    public var securityGroupIDs: [String]

    public init(id: String, name: String, subnetID: String, privateIP: String, port: Int, hostPort: Int, securityGroupIDs: [String]) {
        self.id = id
        self.name = name
        self.subnetID = subnetID
        self.privateIP = privateIP
        self.port = port
        self.hostPort = hostPort
        self.securityGroupIDs = securityGroupIDs
    }

    /// `address:port`, as an agent reaches it.
    public var address: String { "\(privateIP):\(port)" }
}
