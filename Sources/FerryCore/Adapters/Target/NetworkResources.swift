/// Value types for the networking capability, shaped like EC2's.
public struct VPC: Codable, Hashable, Sendable {
    public var id: String
    public var cidrBlock: String
    public var tags: ResourceTags
    public init(id: String, cidrBlock: String, tags: ResourceTags = [:]) {
        self.id = id
        self.cidrBlock = cidrBlock
        self.tags = tags
    }
}

public struct Subnet: Codable, Hashable, Sendable {
    public var id: String
    public var vpcID: String
    public var cidrBlock: String
    public var availabilityZone: String?
    public var tags: ResourceTags
    public init(id: String, vpcID: String, cidrBlock: String, availabilityZone: String? = nil, tags: ResourceTags = [:]) {
        self.id = id
        self.vpcID = vpcID
        self.cidrBlock = cidrBlock
        self.availabilityZone = availabilityZone
        self.tags = tags
    }
}

public struct InternetGateway: Codable, Hashable, Sendable {
    public var id: String
    public var attachedVPCID: String?
    public var tags: ResourceTags
    public init(id: String, attachedVPCID: String?, tags: ResourceTags = [:]) {
        self.id = id
        self.attachedVPCID = attachedVPCID
        self.tags = tags
    }
}

public struct Route: Codable, Hashable, Sendable {
    public var destinationCIDR: String
    /// "local", an internet gateway id, …
    public var target: String
    public init(destinationCIDR: String, target: String) {
        self.destinationCIDR = destinationCIDR
        self.target = target
    }
}

public struct RouteTable: Codable, Hashable, Sendable {
    public var id: String
    public var vpcID: String
    public var routes: [Route]
    public var associatedSubnetIDs: [String]
    public var tags: ResourceTags
    public init(id: String, vpcID: String, routes: [Route] = [], associatedSubnetIDs: [String] = [], tags: ResourceTags = [:]) {
        self.id = id
        self.vpcID = vpcID
        self.routes = routes
        self.associatedSubnetIDs = associatedSubnetIDs
        self.tags = tags
    }
}

public enum IPProtocol: String, Codable, Hashable, Sendable, CaseIterable {
    case tcp, udp, icmp
    case all = "-1"
}

/// One ingress rule: traffic of `ipProtocol` on ports `fromPort...toPort` from a CIDR or a group.
public struct IngressRule: Codable, Hashable, Sendable {
    public var ipProtocol: IPProtocol
    public var fromPort: Int
    public var toPort: Int
    public var sourceCIDR: String?
    public var sourceSecurityGroupID: String?
    public var description: String?

    public init(ipProtocol: IPProtocol, fromPort: Int, toPort: Int, sourceCIDR: String? = nil, sourceSecurityGroupID: String? = nil, description: String? = nil) {
        self.ipProtocol = ipProtocol
        self.fromPort = fromPort
        self.toPort = toPort
        self.sourceCIDR = sourceCIDR
        self.sourceSecurityGroupID = sourceSecurityGroupID
        self.description = description
    }

    public static func tcp(_ port: Int, from cidr: String = "0.0.0.0/0") -> IngressRule {
        IngressRule(ipProtocol: .tcp, fromPort: port, toPort: port, sourceCIDR: cidr)
    }

    public static func udp(_ port: Int, from cidr: String = "0.0.0.0/0") -> IngressRule {
        IngressRule(ipProtocol: .udp, fromPort: port, toPort: port, sourceCIDR: cidr)
    }
}

public struct SecurityGroup: Codable, Hashable, Sendable {
    public var id: String
    public var vpcID: String
    public var name: String
    public var description: String
    public var ingress: [IngressRule]
    public var tags: ResourceTags
    public init(id: String, vpcID: String, name: String, description: String, ingress: [IngressRule] = [], tags: ResourceTags = [:]) {
        self.id = id
        self.vpcID = vpcID
        self.name = name
        self.description = description
        self.ingress = ingress
        self.tags = tags
    }
}

/// Everything the networking capability holds, for status pages and diagrams.
public struct NetworkInventory: Codable, Hashable, Sendable {
    public var vpcs: [VPC]
    public var subnets: [Subnet]
    public var internetGateways: [InternetGateway]
    public var routeTables: [RouteTable]
    public var securityGroups: [SecurityGroup]
    public init(vpcs: [VPC] = [], subnets: [Subnet] = [], internetGateways: [InternetGateway] = [], routeTables: [RouteTable] = [], securityGroups: [SecurityGroup] = []) {
        self.vpcs = vpcs
        self.subnets = subnets
        self.internetGateways = internetGateways
        self.routeTables = routeTables
        self.securityGroups = securityGroups
    }
}
