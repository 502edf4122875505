/// How a test or cutover instance is launched for a source server.
public struct LaunchSettings: Codable, Hashable, Sendable {
    public var instanceType: String
    public var subnetID: String?
    public var securityGroupIDs: [String]
    public var privateIPPolicy: PrivateIPPolicy
    public var tags: [String: String]
    public var bootMode: BootMode?

    public init(
        instanceType: String = "t3.small",
        subnetID: String? = nil,
        securityGroupIDs: [String] = [],
        privateIPPolicy: PrivateIPPolicy = .automatic,
        tags: [String: String] = [:],
        bootMode: BootMode? = nil
    ) {
        self.instanceType = instanceType
        self.subnetID = subnetID
        self.securityGroupIDs = securityGroupIDs
        self.privateIPPolicy = privateIPPolicy
        self.tags = tags
        self.bootMode = bootMode
    }
}

/// Which private IP a launched instance gets.
public enum PrivateIPPolicy: Codable, Hashable, Sendable {
    /// Any free address of the subnet.
    case automatic
    /// The source machine's own address, when the target subnet contains it.
    case copyFromSource
    /// This exact address.
    case fixed(String)
}
