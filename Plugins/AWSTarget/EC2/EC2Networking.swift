import FerryCore

// NetworkingCapability over EC2: VPCs, subnets, internet gateways, route tables, security
// groups. Created resources carry their tags from the start (TagSpecification).
extension AWSTargetAdapter: NetworkingCapability {
    public func createVPC(cidrBlock: String, tags: ResourceTags) async throws -> VPC {
        let ec2 = try connection().ec2
        var p = QueryParameters([("CidrBlock", cidrBlock)])
        p.tagSpecification("vpc", tags)
        let tree = try await ec2.call(.createVpc, p)
        return EC2Mapping.vpc(try item(tree, "vpc", .createVpc))
    }

    public func createSubnet(vpcID: String, cidrBlock: String, availabilityZone: String?, tags: ResourceTags) async throws -> Subnet {
        let ec2 = try connection().ec2
        var p = QueryParameters([("VpcId", vpcID), ("CidrBlock", cidrBlock)])
        p.set("AvailabilityZone", availabilityZone)
        p.tagSpecification("subnet", tags)
        return EC2Mapping.subnet(try item(try await ec2.call(.createSubnet, p), "subnet", .createSubnet))
    }

    public func createInternetGateway(attachingTo vpcID: String, tags: ResourceTags) async throws -> InternetGateway {
        let ec2 = try connection().ec2
        var p = QueryParameters()
        p.tagSpecification("internet-gateway", tags)
        let gateway = try item(try await ec2.call(.createInternetGateway, p), "internetGateway", .createInternetGateway)
        let id = try ec2.required(gateway, "internetGatewayId", .createInternetGateway)
        _ = try await ec2.call(.attachInternetGateway, QueryParameters([("InternetGatewayId", id), ("VpcId", vpcID)]))
        return InternetGateway(id: id, attachedVPCID: vpcID, tags: gateway.ec2Tags)
    }

    public func createRouteTable(vpcID: String, tags: ResourceTags) async throws -> RouteTable {
        let ec2 = try connection().ec2
        var p = QueryParameters([("VpcId", vpcID)])
        p.tagSpecification("route-table", tags)
        return EC2Mapping.routeTable(try item(try await ec2.call(.createRouteTable, p), "routeTable", .createRouteTable))
    }

    public func createRoute(routeTableID: String, destinationCIDR: String, gatewayID: String) async throws {
        _ = try await connection().ec2.call(.createRoute, QueryParameters([("RouteTableId", routeTableID), ("DestinationCidrBlock", destinationCIDR), ("GatewayId", gatewayID)]))
    }

    public func associateRouteTable(routeTableID: String, subnetID: String) async throws {
        _ = try await connection().ec2.call(.associateRouteTable, QueryParameters([("RouteTableId", routeTableID), ("SubnetId", subnetID)]))
    }

    public func createSecurityGroup(vpcID: String, name: String, description: String, tags: ResourceTags) async throws -> SecurityGroup {
        let ec2 = try connection().ec2
        var p = QueryParameters([("VpcId", vpcID), ("GroupName", name), ("GroupDescription", description)])
        p.tagSpecification("security-group", tags)
        let id = try ec2.required(try await ec2.call(.createSecurityGroup, p), "groupId", .createSecurityGroup)
        return SecurityGroup(id: id, vpcID: vpcID, name: name, description: description, ingress: [], tags: tags)
    }

    public func authorizeIngress(securityGroupID: String, rules: [IngressRule]) async throws {
        var p = QueryParameters([("GroupId", securityGroupID)])
        for (n, rule) in rules.enumerated() {
            Self.permission(&p, n + 1, rule.ipProtocol, rule.fromPort, rule.toPort, cidr: rule.sourceCIDR, group: rule.sourceSecurityGroupID, description: rule.description)
        }
        _ = try await connection().ec2.call(.authorizeSecurityGroupIngress, p)
    }

    public func replaceEgress(securityGroupID: String, rules: [EgressRule]) async throws {
        let ec2 = try connection().ec2
        var filter = QueryParameters()
        filter.set("GroupId.1", securityGroupID)
        guard let group = try await ec2.describe(.describeSecurityGroups, filter, list: "securityGroupInfo").map(EC2Mapping.securityGroup).first else {
            throw AWSResponseError(service: "ec2", operation: EC2Action.describeSecurityGroups.rawValue, reason: "security group \(securityGroupID) is not in the answer")
        }
        // What is there and not wanted goes; what is wanted and not there comes. EC2 refuses
        // to authorize a rule the group already has, and to revoke one it does not.
        let revoke = group.egress.filter { !rules.contains($0) }
        let authorize = rules.filter { !group.egress.contains($0) }
        if !revoke.isEmpty { _ = try await ec2.call(.revokeSecurityGroupEgress, Self.egressParameters(securityGroupID, revoke)) }
        if !authorize.isEmpty { _ = try await ec2.call(.authorizeSecurityGroupEgress, Self.egressParameters(securityGroupID, authorize)) }
    }

    private static func egressParameters(_ groupID: String, _ rules: [EgressRule]) -> QueryParameters {
        var p = QueryParameters([("GroupId", groupID)])
        for (n, rule) in rules.enumerated() {
            permission(&p, n + 1, rule.ipProtocol, rule.fromPort, rule.toPort, cidr: rule.destinationCIDR, group: rule.destinationSecurityGroupID, description: rule.description)
        }
        return p
    }

    /// `IpPermissions.N`, the same for ingress and egress: the peer is a CIDR or a group.
    private static func permission(_ p: inout QueryParameters, _ n: Int, _ proto: IPProtocol, _ from: Int, _ to: Int, cidr: String?, group: String?, description: String?) {
        let prefix = "IpPermissions.\(n)"
        p.set("\(prefix).IpProtocol", proto.rawValue)
        if proto != .all {
            p.set("\(prefix).FromPort", from)
            p.set("\(prefix).ToPort", to)
        }
        if let cidr {
            p.set("\(prefix).IpRanges.1.CidrIp", cidr)
            p.set("\(prefix).IpRanges.1.Description", description)
        }
        if let group {
            p.set("\(prefix).Groups.1.GroupId", group)
            p.set("\(prefix).Groups.1.Description", description)
        }
    }

    public func describeNetworks() async throws -> NetworkInventory {
        try await describeNetworks(tagged: [:])
    }

    /// The networks whose resources carry all of `tags` (EC2 tag filters); all with none.
    public func describeNetworks(tagged tags: ResourceTags) async throws -> NetworkInventory {
        let ec2 = try connection().ec2
        var p = QueryParameters()
        p.filters(tags.sorted { $0.key < $1.key }.map { (name: "tag:\($0.key)", values: [$0.value]) })
        async let vpcs = ec2.describe(.describeVpcs, p, list: "vpcSet")
        async let subnets = ec2.describe(.describeSubnets, p, list: "subnetSet")
        async let gateways = ec2.describe(.describeInternetGateways, p, list: "internetGatewaySet")
        async let tables = ec2.describe(.describeRouteTables, p, list: "routeTableSet")
        async let groups = ec2.describe(.describeSecurityGroups, p, list: "securityGroupInfo")
        return NetworkInventory(
            vpcs: try await vpcs.map(EC2Mapping.vpc),
            subnets: try await subnets.map(EC2Mapping.subnet),
            internetGateways: try await gateways.map(EC2Mapping.internetGateway),
            routeTables: try await tables.map(EC2Mapping.routeTable),
            securityGroups: try await groups.map(EC2Mapping.securityGroup)
        )
    }

    public func deleteNetworkResource(_ resource: CloudResource) async throws {
        let ec2 = try connection().ec2
        switch resource.kind {
        case .vpc:
            _ = try await ec2.call(.deleteVpc, QueryParameters([("VpcId", resource.id)]))
        case .subnet:
            // AWS refuses while instances use the subnet; some compatible clouds do not, so
            // Ferry checks first and refuses the same way everywhere.
            try await refuseWhileInstancesUse(resource, filter: "subnet-id")
            _ = try await ec2.call(.deleteSubnet, QueryParameters([("SubnetId", resource.id)]))
        case .internetGateway:
            let gateway = try await ec2.describe(.describeInternetGateways, QueryParameters([("InternetGatewayId.1", resource.id)]), list: "internetGatewaySet").first
            for attachment in gateway?.items("attachmentSet") ?? [] {
                if let vpc = attachment.string("vpcId") {
                    _ = try await ec2.call(.detachInternetGateway, QueryParameters([("InternetGatewayId", resource.id), ("VpcId", vpc)]))
                }
            }
            _ = try await ec2.call(.deleteInternetGateway, QueryParameters([("InternetGatewayId", resource.id)]))
        case .routeTable:
            // EC2 refuses to delete an associated table: disassociate it first (not the main one).
            let table = try await ec2.describe(.describeRouteTables, QueryParameters([("RouteTableId.1", resource.id)]), list: "routeTableSet").first
            for association in table?.items("associationSet") ?? [] where association.string("main") != "true" {
                if let id = association.string("routeTableAssociationId") {
                    _ = try await ec2.call(.disassociateRouteTable, QueryParameters([("AssociationId", id)]))
                }
            }
            _ = try await ec2.call(.deleteRouteTable, QueryParameters([("RouteTableId", resource.id)]))
        case .securityGroup:
            try await refuseWhileInstancesUse(resource, filter: "instance.group-id")
            _ = try await ec2.call(.deleteSecurityGroup, QueryParameters([("GroupId", resource.id)]))
        default:
            throw AWSTargetError.notANetworkResource(resource)
        }
    }

    private func refuseWhileInstancesUse(_ resource: CloudResource, filter: String) async throws {
        var p = QueryParameters()
        p.filters([(name: filter, values: [resource.id]), (name: "instance-state-name", values: ["pending", "running", "stopping", "stopped", "shutting-down"])])
        let users = try await connection().ec2.describe(.describeInstances, p, list: "reservationSet")
            .flatMap { $0.items("instancesSet") }.compactMap { $0.string("instanceId") }
        if !users.isEmpty {
            throw AWSError(
                service: "ec2", operation: resource.kind == .subnet ? "DeleteSubnet" : "DeleteSecurityGroup", httpStatus: 400,
                code: "DependencyViolation",
                message: "\(resource) is in use by \(users.joined(separator: ", ")); terminate them first",
                requestID: nil
            )
        }
    }

    private func item(_ tree: XMLTree, _ name: String, _ action: EC2Action) throws -> XMLTree {
        guard let element = tree.child(name) else {
            throw AWSResponseError(service: "ec2", operation: action.rawValue, reason: "no \(name) in the answer")
        }
        return element
    }
}

/// Errors of the adapter's own making (a wrong argument, not a cloud's refusal).
public enum AWSTargetError: Error, Hashable, Sendable, CustomStringConvertible {
    case notANetworkResource(CloudResource)
    case unsupportedPrivateIPPolicy(String)
    case notAnImportedVolume(String)

    public var description: String {
        switch self {
        case .notANetworkResource(let resource):
            return "\(resource) is not a networking resource (vpc, subnet, internet-gateway, route-table, security-group)"
        case .unsupportedPrivateIPPolicy(let reason):
            return "cannot launch: \(reason)"
        case .notAnImportedVolume(let id):
            return "\(id) is neither a snapshot (snap-…) nor a volume (vol-…)"
        }
    }
}
