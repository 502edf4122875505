import FerryCore
import FerryKit
import Foundation
import SandboxTarget
import Testing

/// The rules a cloud enforces on networks, each refused case with its error. No QEMU here.
struct NetworkingRulesTests {
    let workspace: TestWorkspace
    var cloud: SandboxCloud { workspace.cloud }

    init() throws { workspace = try TestWorkspace() }

    @Test func aVPCGetsACloudShapedID() throws {
        let vpc = try cloud.createVPC(cidrBlock: "10.0.0.0/16")
        #expect(ResourceID.isValid(vpc.id, prefix: "vpc"))
        #expect(try cloud.describeNetworks().vpcs.map(\.id) == [vpc.id])
    }

    @Test(arguments: ["10.0.0.0", "10.0.0.0/33", "10.0.0.256/16", "ten/16", "10.0.0/16", "10.0.0.1/16"])
    func aMalformedCIDRIsRefused(cidr: String) throws {
        #expect {
            try cloud.createVPC(cidrBlock: cidr)
        } throws: { error in
            guard case .invalidCIDR(let text, _) = error as? SandboxError else { return false }
            return text == cidr
        }
    }

    @Test(arguments: ["10.0.0.0/8", "10.0.0.0/15", "10.0.0.0/29", "10.0.0.0/32"])
    func aVPCOutsideSlash16ToSlash28IsRefused(cidr: String) throws {
        #expect(throws: SandboxError.vpcSizeOutOfRange(cidr)) { try cloud.createVPC(cidrBlock: cidr) }
    }

    @Test func aVPCOfSlash28IsAccepted() throws {
        #expect(try cloud.createVPC(cidrBlock: "192.168.0.16/28").cidrBlock == "192.168.0.16/28")
    }

    @Test func aSubnetOutsideItsVPCIsRefused() throws {
        let vpc = try cloud.createVPC(cidrBlock: "10.0.0.0/16")
        #expect(throws: SandboxError.subnetOutsideVPC(subnet: "10.1.0.0/24", vpcID: vpc.id, vpcCIDR: "10.0.0.0/16")) {
            try cloud.createSubnet(vpcID: vpc.id, cidrBlock: "10.1.0.0/24")
        }
    }

    @Test func aSubnetLargerThanItsVPCIsRefused() throws {
        let vpc = try cloud.createVPC(cidrBlock: "10.0.0.0/24")
        #expect(throws: SandboxError.subnetOutsideVPC(subnet: "10.0.0.0/23", vpcID: vpc.id, vpcCIDR: "10.0.0.0/24")) {
            try cloud.createSubnet(vpcID: vpc.id, cidrBlock: "10.0.0.0/23")
        }
    }

    @Test func overlappingSubnetsAreRefused() throws {
        let vpc = try cloud.createVPC(cidrBlock: "10.0.0.0/16")
        let first = try cloud.createSubnet(vpcID: vpc.id, cidrBlock: "10.0.0.0/24")
        #expect(throws: SandboxError.subnetOverlap(subnet: "10.0.0.128/25", existingID: first.id, existingCIDR: "10.0.0.0/24")) {
            try cloud.createSubnet(vpcID: vpc.id, cidrBlock: "10.0.0.128/25")
        }
        #expect(throws: SandboxError.subnetOverlap(subnet: "10.0.0.0/20", existingID: first.id, existingCIDR: "10.0.0.0/24")) {
            try cloud.createSubnet(vpcID: vpc.id, cidrBlock: "10.0.0.0/20")
        }
        #expect(try cloud.createSubnet(vpcID: vpc.id, cidrBlock: "10.0.1.0/24").cidrBlock == "10.0.1.0/24")
    }

    @Test func aSubnetInAnUnknownVPCIsRefused() throws {
        #expect(throws: SandboxError.notFound(kind: .vpc, id: "vpc-00000000000000000")) {
            try cloud.createSubnet(vpcID: "vpc-00000000000000000", cidrBlock: "10.0.0.0/24")
        }
    }

    @Test func aVPCTakesOneInternetGateway() throws {
        let vpc = try cloud.createVPC(cidrBlock: "10.0.0.0/16")
        let gateway = try cloud.createInternetGateway(attachingTo: vpc.id)
        #expect(gateway.attachedVPCID == vpc.id)
        #expect(ResourceID.isValid(gateway.id, prefix: "igw"))
        #expect(throws: SandboxError.gatewayAlreadyAttached(vpcID: vpc.id, gatewayID: gateway.id)) {
            try cloud.createInternetGateway(attachingTo: vpc.id)
        }
    }

    @Test func aRouteTableStartsWithTheLocalRouteAndTakesARouteToItsGateway() throws {
        let vpc = try cloud.createVPC(cidrBlock: "10.0.0.0/16")
        let gateway = try cloud.createInternetGateway(attachingTo: vpc.id)
        let table = try cloud.createRouteTable(vpcID: vpc.id)
        #expect(table.routes == [Route(destinationCIDR: "10.0.0.0/16", target: "local")])
        try cloud.createRoute(routeTableID: table.id, destinationCIDR: "0.0.0.0/0", gatewayID: gateway.id)
        #expect(throws: SandboxError.routeAlreadyExists(routeTableID: table.id, destination: "0.0.0.0/0")) {
            try cloud.createRoute(routeTableID: table.id, destinationCIDR: "0.0.0.0/0", gatewayID: gateway.id)
        }
        #expect(try cloud.describeNetworks().routeTables.first?.routes.last == Route(destinationCIDR: "0.0.0.0/0", target: gateway.id))
    }

    @Test func aRouteToAGatewayOfAnotherVPCIsRefused() throws {
        let vpc = try cloud.createVPC(cidrBlock: "10.0.0.0/16")
        let other = try cloud.createVPC(cidrBlock: "10.1.0.0/16")
        let gateway = try cloud.createInternetGateway(attachingTo: other.id)
        let table = try cloud.createRouteTable(vpcID: vpc.id)
        #expect(throws: SandboxError.gatewayNotAttached(gatewayID: gateway.id, vpcID: vpc.id)) {
            try cloud.createRoute(routeTableID: table.id, destinationCIDR: "0.0.0.0/0", gatewayID: gateway.id)
        }
    }

    @Test func aRouteTableIsAssociatedOnlyWithSubnetsOfItsVPC() throws {
        let vpc = try cloud.createVPC(cidrBlock: "10.0.0.0/16")
        let other = try cloud.createVPC(cidrBlock: "10.1.0.0/16")
        let foreign = try cloud.createSubnet(vpcID: other.id, cidrBlock: "10.1.0.0/24")
        let table = try cloud.createRouteTable(vpcID: vpc.id)
        #expect(throws: SandboxError.wrongVPC(resource: foreign.id, resourceVPC: other.id, expectedVPC: vpc.id)) {
            try cloud.associateRouteTable(routeTableID: table.id, subnetID: foreign.id)
        }
    }

    @Test func securityGroupNamesAreUniquePerVPC() throws {
        let vpc = try cloud.createVPC(cidrBlock: "10.0.0.0/16")
        let group = try cloud.createSecurityGroup(vpcID: vpc.id, name: "web", description: "HTTP")
        #expect(ResourceID.isValid(group.id, prefix: "sg"))
        #expect(throws: SandboxError.duplicateSecurityGroupName(name: "web", vpcID: vpc.id)) {
            try cloud.createSecurityGroup(vpcID: vpc.id, name: "web", description: "again")
        }
    }

    @Test func egressIsAllTrafficUntilReplaced() throws {
        let vpc = try cloud.createVPC(cidrBlock: "10.0.0.0/16")
        let group = try cloud.createSecurityGroup(vpcID: vpc.id, name: "replication", description: "staging")
        #expect(group.egress == [.allTraffic])
        try cloud.replaceEgress(securityGroupID: group.id, rules: [.tcp(443), .udp(53)])
        #expect(try cloud.describeNetworks().securityGroups.first?.egress == [.tcp(443), .udp(53)])
        #expect(throws: SandboxError.self) { try cloud.replaceEgress(securityGroupID: group.id, rules: [.tcp(70000)]) }
        #expect(throws: SandboxError.self) { try cloud.replaceEgress(securityGroupID: group.id, rules: [.tcp(443), .tcp(443)]) }
        #expect(throws: SandboxError.self) { try cloud.replaceEgress(securityGroupID: group.id, rules: [.tcp(443, to: "10.0.0.0/40")]) }
        #expect(try cloud.describeNetworks().securityGroups.first?.egress == [.tcp(443), .udp(53)], "a refused replacement changes nothing")
    }

    @Test func ingressRulesAreValidated() throws {
        let vpc = try cloud.createVPC(cidrBlock: "10.0.0.0/16")
        let group = try cloud.createSecurityGroup(vpcID: vpc.id, name: "replication", description: "staging")
        try cloud.authorizeIngress(securityGroupID: group.id, rules: [.tcp(1500), .tcp(443), .udp(53)])
        #expect(try cloud.describeNetworks().securityGroups.first?.ingress == [.tcp(1500), .tcp(443), .udp(53)])

        #expect(throws: SandboxError.self) { try cloud.authorizeIngress(securityGroupID: group.id, rules: [.tcp(1500)]) }
        #expect(throws: SandboxError.invalidIngressRule("ports 70000-70000 must be 0-65535, from ≤ to")) {
            try cloud.authorizeIngress(securityGroupID: group.id, rules: [.tcp(70000)])
        }
        #expect(throws: SandboxError.invalidIngressRule("ports 90-80 must be 0-65535, from ≤ to")) {
            try cloud.authorizeIngress(securityGroupID: group.id, rules: [IngressRule(ipProtocol: .tcp, fromPort: 90, toPort: 80, sourceCIDR: "0.0.0.0/0")])
        }
        #expect(throws: SandboxError.invalidIngressRule("give exactly one source: a CIDR block or a security group")) {
            try cloud.authorizeIngress(securityGroupID: group.id, rules: [IngressRule(ipProtocol: .tcp, fromPort: 22, toPort: 22)])
        }
        #expect(throws: SandboxError.self) { try cloud.authorizeIngress(securityGroupID: group.id, rules: [.tcp(22, from: "10.0.0.0/40")]) }
    }

    @Test func deletingAVPCInUseNamesWhatUsesIt() throws {
        let vpc = try cloud.createVPC(cidrBlock: "10.0.0.0/16")
        let subnet = try cloud.createSubnet(vpcID: vpc.id, cidrBlock: "10.0.1.0/24")
        let gateway = try cloud.createInternetGateway(attachingTo: vpc.id)
        #expect(throws: SandboxError.dependencyViolation(resource: "vpc \(vpc.id)", usedBy: ["subnet \(subnet.id)", "internet gateway \(gateway.id)"])) {
            try cloud.deleteNetworkResource(CloudResource(kind: .vpc, id: vpc.id))
        }
        try cloud.deleteNetworkResource(CloudResource(kind: .internetGateway, id: gateway.id))
        try cloud.deleteNetworkResource(CloudResource(kind: .subnet, id: subnet.id))
        try cloud.deleteNetworkResource(CloudResource(kind: .vpc, id: vpc.id))
        #expect(try cloud.describeNetworks().vpcs.isEmpty)
    }

    @Test func deletingAGatewayARouteUsesIsRefused() throws {
        let vpc = try cloud.createVPC(cidrBlock: "10.0.0.0/16")
        let gateway = try cloud.createInternetGateway(attachingTo: vpc.id)
        let table = try cloud.createRouteTable(vpcID: vpc.id)
        try cloud.createRoute(routeTableID: table.id, destinationCIDR: "0.0.0.0/0", gatewayID: gateway.id)
        #expect(throws: SandboxError.dependencyViolation(resource: "internet-gateway \(gateway.id)", usedBy: ["route table \(table.id) (route to 0.0.0.0/0)"])) {
            try cloud.deleteNetworkResource(CloudResource(kind: .internetGateway, id: gateway.id))
        }
    }

    @Test func anAssociatedSubnetCannotBeDeletedButItsRouteTableCanAndTakesTheAssociationAlong() throws {
        let vpc = try cloud.createVPC(cidrBlock: "10.0.0.0/16")
        let subnet = try cloud.createSubnet(vpcID: vpc.id, cidrBlock: "10.0.1.0/24")
        let table = try cloud.createRouteTable(vpcID: vpc.id)
        try cloud.associateRouteTable(routeTableID: table.id, subnetID: subnet.id)
        #expect(throws: SandboxError.dependencyViolation(resource: "subnet \(subnet.id)", usedBy: ["route table \(table.id) (association)"])) {
            try cloud.deleteNetworkResource(CloudResource(kind: .subnet, id: subnet.id))
        }
        // The networking contract: a route table is disassociated from its subnets, then deleted.
        try cloud.deleteNetworkResource(CloudResource(kind: .routeTable, id: table.id))
        try cloud.deleteNetworkResource(CloudResource(kind: .subnet, id: subnet.id))
    }

    @Test func deletingASecurityGroupAnotherGroupReferencesIsRefused() throws {
        let vpc = try cloud.createVPC(cidrBlock: "10.0.0.0/16")
        let web = try cloud.createSecurityGroup(vpcID: vpc.id, name: "web", description: "web")
        let database = try cloud.createSecurityGroup(vpcID: vpc.id, name: "db", description: "db")
        try cloud.authorizeIngress(securityGroupID: database.id, rules: [IngressRule(ipProtocol: .tcp, fromPort: 3306, toPort: 3306, sourceSecurityGroupID: web.id)])
        #expect(throws: SandboxError.dependencyViolation(resource: "security-group \(web.id)", usedBy: ["security group \(database.id) (ingress rule)"])) {
            try cloud.deleteNetworkResource(CloudResource(kind: .securityGroup, id: web.id))
        }
    }

    @Test func deletingSomethingUnknownSaysItIsNotFound() throws {
        #expect(throws: SandboxError.notFound(kind: .subnet, id: "subnet-00000000000000000")) {
            try cloud.deleteNetworkResource(CloudResource(kind: .subnet, id: "subnet-00000000000000000"))
        }
    }

    @Test func theErrorReadsLikeTheCloudsOwn() {
        let error = SandboxError.dependencyViolation(resource: "vpc vpc-1", usedBy: ["subnet subnet-2"])
        #expect(error.description.hasPrefix("DependencyViolation: vpc vpc-1 is still used by subnet subnet-2"))
    }
}
