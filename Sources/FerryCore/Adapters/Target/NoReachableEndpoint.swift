/// What `ComputeCapability.endpoint(instanceID:port:)` throws when the instance runs but no
/// address of it can be reached from this machine — an instance without a public address
/// in a cloud, whose private address answers only inside its network — so that callers say
/// so instead of trying an address nothing will answer on.
public struct NoReachableEndpoint: Error, Hashable, Sendable, CustomStringConvertible {
    public var instanceID: String
    public var port: Int
    /// Why, in words: "it has no public IP address; its private address 10.2.1.4 is reachable only inside its VPC".
    public var reason: String

    public init(instanceID: String, port: Int, reason: String) {
        self.instanceID = instanceID
        self.port = port
        self.reason = reason
    }

    public var description: String { "port \(port) of instance \(instanceID) cannot be reached from here: \(reason)" }
}
