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

/// One egress rule: traffic of `ipProtocol` on ports `fromPort...toPort` to a CIDR or a group.
public struct EgressRule: Codable, Hashable, Sendable {
    public var ipProtocol: IPProtocol
    public var fromPort: Int
    public var toPort: Int
    public var destinationCIDR: String?
    public var destinationSecurityGroupID: String?
    public var description: String?

    public init(ipProtocol: IPProtocol, fromPort: Int, toPort: Int, destinationCIDR: String? = nil, destinationSecurityGroupID: String? = nil, description: String? = nil) {
        self.ipProtocol = ipProtocol
        self.fromPort = fromPort
        self.toPort = toPort
        self.destinationCIDR = destinationCIDR
        self.destinationSecurityGroupID = destinationSecurityGroupID
        self.description = description
    }

    /// What a new group of a VPC allows out, on AWS and in the sandbox alike: everything.
    public static let allTraffic = EgressRule(ipProtocol: .all, fromPort: 0, toPort: 0, destinationCIDR: "0.0.0.0/0")

    public static func tcp(_ port: Int, to cidr: String = "0.0.0.0/0") -> EgressRule {
        EgressRule(ipProtocol: .tcp, fromPort: port, toPort: port, destinationCIDR: cidr)
    }

    public static func udp(_ port: Int, to cidr: String = "0.0.0.0/0") -> EgressRule {
        EgressRule(ipProtocol: .udp, fromPort: port, toPort: port, destinationCIDR: cidr)
    }
}

public struct SecurityGroup: Codable, Hashable, Sendable {
    public var id: String
    public var vpcID: String
    public var name: String
    public var description: String
    public var ingress: [IngressRule]
    /// What the group allows out. A new group allows all traffic out, as on AWS.
    public var egress: [EgressRule]
    public var tags: ResourceTags
    public init(id: String, vpcID: String, name: String, description: String, ingress: [IngressRule] = [], egress: [EgressRule] = [.allTraffic], tags: ResourceTags = [:]) {
        self.id = id
        self.vpcID = vpcID
        self.name = name
        self.description = description
        self.ingress = ingress
        self.egress = egress
        self.tags = tags
    }

    private enum CodingKeys: String, CodingKey { case id, vpcID, name, description, ingress, egress, tags }

    /// A group described without egress (by a plugin written before egress rules existed)
    /// has the default: all traffic out.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(id: try c.decode(String.self, forKey: .id), vpcID: try c.decode(String.self, forKey: .vpcID),
                  name: try c.decode(String.self, forKey: .name), description: try c.decode(String.self, forKey: .description),
                  ingress: try c.decode([IngressRule].self, forKey: .ingress),
                  egress: try c.decodeIfPresent([EgressRule].self, forKey: .egress) ?? [.allTraffic],
                  tags: try c.decode(ResourceTags.self, forKey: .tags))
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
