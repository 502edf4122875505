import Foundation
import FerryCore

// EC2's XML answers mapped by hand onto FerryCore's value types.
enum EC2Mapping {
    static func vpc(_ x: XMLTree) -> VPC {
        VPC(id: x.string("vpcId") ?? "", cidrBlock: x.string("cidrBlock") ?? "", tags: x.ec2Tags)
    }

    static func subnet(_ x: XMLTree) -> Subnet {
        Subnet(id: x.string("subnetId") ?? "", vpcID: x.string("vpcId") ?? "", cidrBlock: x.string("cidrBlock") ?? "", availabilityZone: x.string("availabilityZone"), tags: x.ec2Tags)
    }

    static func internetGateway(_ x: XMLTree) -> InternetGateway {
        let attached = x.items("attachmentSet").first { ["available", "attached"].contains($0.string("state") ?? "available") }
        return InternetGateway(id: x.string("internetGatewayId") ?? "", attachedVPCID: attached?.string("vpcId"), tags: x.ec2Tags)
    }

    static func routeTable(_ x: XMLTree) -> RouteTable {
        let routes = x.items("routeSet").compactMap { r -> Route? in
            guard let destination = r.string("destinationCidrBlock") else { return nil }
            let target = r.string("gatewayId") ?? r.string("natGatewayId") ?? r.string("networkInterfaceId") ?? r.string("instanceId") ?? "local"
            return Route(destinationCIDR: destination, target: target)
        }
        let subnets = x.items("associationSet").compactMap { $0.string("subnetId") }
        return RouteTable(id: x.string("routeTableId") ?? "", vpcID: x.string("vpcId") ?? "", routes: routes, associatedSubnetIDs: subnets, tags: x.ec2Tags)
    }

    static func securityGroup(_ x: XMLTree) -> SecurityGroup {
        var ingress: [IngressRule] = []
        for (proto, from, to, cidr, group, description) in permissions(x.items("ipPermissions")) {
            ingress.append(IngressRule(ipProtocol: proto, fromPort: from, toPort: to, sourceCIDR: cidr, sourceSecurityGroupID: group, description: description))
        }
        var egress: [EgressRule] = []
        for (proto, from, to, cidr, group, description) in permissions(x.items("ipPermissionsEgress")) {
            egress.append(EgressRule(ipProtocol: proto, fromPort: from, toPort: to, destinationCIDR: cidr, destinationSecurityGroupID: group, description: description))
        }
        return SecurityGroup(id: x.string("groupId") ?? "", vpcID: x.string("vpcId") ?? "", name: x.string("groupName") ?? "", description: x.string("groupDescription") ?? "",
                             ingress: ingress, egress: egress, tags: x.ec2Tags)
    }

    /// Each (protocol, ports, CIDR or group, description) of a list of IpPermissions, one per
    /// range or group; "all traffic" has no ports, which read as 0.
    private static func permissions(_ items: [XMLTree]) -> [(IPProtocol, Int, Int, String?, String?, String?)] {
        items.flatMap { permission -> [(IPProtocol, Int, Int, String?, String?, String?)] in
            let proto = IPProtocol(rawValue: permission.string("ipProtocol") ?? "-1") ?? .all
            let from = proto == .all ? 0 : Int(permission.string("fromPort") ?? "") ?? 0
            let to = proto == .all ? 0 : Int(permission.string("toPort") ?? "") ?? 0
            return permission.items("ipRanges").map { (proto, from, to, $0.string("cidrIp"), nil, $0.string("description")) }
                + permission.items("groups").map { (proto, from, to, nil, $0.string("groupId"), $0.string("description")) }
        }
    }

    static func instance(_ x: XMLTree) -> Instance {
        Instance(
            id: x.string("instanceId") ?? "",
            imageID: x.string("imageId") ?? "",
            instanceType: x.string("instanceType") ?? "",
            state: InstanceState(rawValue: x.string("instanceState/name") ?? "") ?? .pending,
            subnetID: x.string("subnetId"),
            privateIPAddress: x.string("privateIpAddress"),
            securityGroupIDs: x.items("groupSet").compactMap { $0.string("groupId") },
            tags: x.ec2Tags,
            launchedAt: x.string("launchTime").flatMap(parseDate)
        )
    }

    static func image(_ x: XMLTree) -> MachineImage {
        let volumes = x.items("blockDeviceMapping").compactMap { $0.string("ebs/snapshotId") }
        let bootMode: BootMode = x.string("bootMode") == "uefi" ? .uefi : .legacyBIOS
        return MachineImage(id: x.string("imageId") ?? "", name: x.string("name") ?? "", bootMode: bootMode, volumeIDs: volumes, tags: x.ec2Tags)
    }

    static func parseDate(_ text: String) -> Date? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return date }
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.date(from: text)
    }
}
