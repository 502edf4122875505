import Foundation
import Testing
@testable import AWSTarget
import FerryCore
import FerryKit

extension MotoSuite {
    /// The networking capability through Ferry's adapter, against moto.
    @Suite struct NetworkingTests {
        static func fresh() async throws -> AWSTargetAdapter {
            let moto = try await MotoServer.shared.value
            try await moto.reset()
            return moto.adapter()
        }

        @Test("a VPC with a subnet, an attached gateway, a default route and a security group is described back")
        func buildAndDescribeANetwork() async throws {
            let aws = try await Self.fresh()
            let vpc = try await aws.createVPC(cidrBlock: "10.20.0.0/16", tags: ["Name": "TargetVPC", "ferry:project": "p1"])
            #expect(vpc.id.hasPrefix("vpc-"))
            #expect(vpc.cidrBlock == "10.20.0.0/16")
            #expect(vpc.tags == ["Name": "TargetVPC", "ferry:project": "p1"])

            let subnet = try await aws.createSubnet(vpcID: vpc.id, cidrBlock: "10.20.1.0/24", availabilityZone: "eu-west-1a", tags: ["Name": "public"])
            #expect(subnet.vpcID == vpc.id)
            #expect(subnet.availabilityZone == "eu-west-1a")

            let gateway = try await aws.createInternetGateway(attachingTo: vpc.id, tags: ["Name": "igw"])
            #expect(gateway.attachedVPCID == vpc.id)

            let table = try await aws.createRouteTable(vpcID: vpc.id, tags: ["Name": "public"])
            try await aws.createRoute(routeTableID: table.id, destinationCIDR: "0.0.0.0/0", gatewayID: gateway.id)
            try await aws.associateRouteTable(routeTableID: table.id, subnetID: subnet.id)

            let group = try await aws.createSecurityGroup(vpcID: vpc.id, name: "replication", description: "Ferry replication servers", tags: ["Name": "replication"])
            try await aws.authorizeIngress(securityGroupID: group.id, rules: [.tcp(1500), .tcp(443, from: "10.0.0.0/8"), .udp(53)])
            // As MGN's replication servers' group: out on TCP 443 and UDP 53 only.
            #expect(group.egress == [.allTraffic])
            try await aws.replaceEgress(securityGroupID: group.id, rules: [.tcp(443), .udp(53)])

            let inventory = try await aws.describeNetworks()
            #expect(inventory.vpcs.contains(vpc))
            #expect(inventory.subnets.contains { $0.id == subnet.id && $0.cidrBlock == "10.20.1.0/24" && $0.tags == ["Name": "public"] })
            #expect(inventory.internetGateways.contains { $0.id == gateway.id && $0.attachedVPCID == vpc.id })
            let describedTable = try #require(inventory.routeTables.first { $0.id == table.id })
            #expect(describedTable.routes.contains(Route(destinationCIDR: "0.0.0.0/0", target: gateway.id)))
            #expect(describedTable.routes.contains { $0.destinationCIDR == "10.20.0.0/16" && $0.target == "local" })
            #expect(describedTable.associatedSubnetIDs == [subnet.id])
            let describedGroup = try #require(inventory.securityGroups.first { $0.id == group.id })
            #expect(describedGroup.name == "replication")
            #expect(Set(describedGroup.ingress.map { "\($0.ipProtocol.rawValue) \($0.fromPort) \($0.sourceCIDR ?? "")" }) == ["tcp 1500 0.0.0.0/0", "tcp 443 10.0.0.0/8", "udp 53 0.0.0.0/0"])
            #expect(Set(describedGroup.egress) == [.tcp(443), .udp(53)])
            // Replacing again with what is there changes nothing and is not refused.
            try await aws.replaceEgress(securityGroupID: group.id, rules: [.tcp(443), .udp(53)])
            try await aws.replaceEgress(securityGroupID: group.id, rules: [.allTraffic])
            #expect(try await aws.describeNetworks().securityGroups.first { $0.id == group.id }?.egress == [.allTraffic])
        }

        @Test("tag filters narrow the inventory to the tagged resources")
        func tagFilters() async throws {
            let aws = try await Self.fresh()
            let mine = try await aws.createVPC(cidrBlock: "10.1.0.0/16", tags: ["ferry:project": "p1"])
            _ = try await aws.createVPC(cidrBlock: "10.2.0.0/16", tags: ["ferry:project": "p2"])
            _ = try await aws.createSubnet(vpcID: mine.id, cidrBlock: "10.1.1.0/24", availabilityZone: nil, tags: ["ferry:project": "p1"])
            let inventory = try await aws.describeNetworks(tagged: ["ferry:project": "p1"])
            #expect(inventory.vpcs.map(\.id) == [mine.id])
            #expect(inventory.subnets.count == 1)
            #expect(inventory.securityGroups.isEmpty)
        }

        @Test("pagination follows NextToken until the last page")
        func pagination() async throws {
            let aws = try await Self.fresh()
            var created: Set<String> = []
            for n in 1...7 {
                created.insert(try await aws.createVPC(cidrBlock: "10.\(n).0.0/16", tags: ["page": "test"]).id)
            }
            var p = QueryParameters()
            p.filters([(name: "tag:page", values: ["test"])])
            let items = try await aws.connection().ec2.describe(.describeVpcs, p, list: "vpcSet", pageSize: 5)
            #expect(Set(items.compactMap { $0.string("vpcId") }) == created)
        }

        @Test("deleting in reverse order removes everything; a gateway is detached first")
        func deleteInReverseOrder() async throws {
            let aws = try await Self.fresh()
            let vpc = try await aws.createVPC(cidrBlock: "10.30.0.0/16", tags: ["t": "x"])
            let subnet = try await aws.createSubnet(vpcID: vpc.id, cidrBlock: "10.30.1.0/24", availabilityZone: nil, tags: [:])
            let gateway = try await aws.createInternetGateway(attachingTo: vpc.id, tags: [:])
            let table = try await aws.createRouteTable(vpcID: vpc.id, tags: [:])
            let group = try await aws.createSecurityGroup(vpcID: vpc.id, name: "g", description: "g", tags: [:])
            for resource in [CloudResource(kind: .securityGroup, id: group.id), CloudResource(kind: .routeTable, id: table.id),
                             CloudResource(kind: .internetGateway, id: gateway.id), CloudResource(kind: .subnet, id: subnet.id),
                             CloudResource(kind: .vpc, id: vpc.id)] {
                try await aws.deleteNetworkResource(resource)
            }
            let inventory = try await aws.describeNetworks(tagged: ["t": "x"])
            #expect(inventory.vpcs.isEmpty)
            let all = try await aws.describeNetworks()
            #expect(!all.subnets.contains { $0.id == subnet.id })
            #expect(!all.internetGateways.contains { $0.id == gateway.id })
        }

        @Test("a VPC that still holds a subnet is refused with a dependency error")
        func vpcInUse() async throws {
            let aws = try await Self.fresh()
            let vpc = try await aws.createVPC(cidrBlock: "10.40.0.0/16", tags: [:])
            _ = try await aws.createSubnet(vpcID: vpc.id, cidrBlock: "10.40.1.0/24", availabilityZone: nil, tags: [:])
            let error = await #expect(throws: AWSError.self) { try await aws.deleteNetworkResource(CloudResource(kind: .vpc, id: vpc.id)) }
            #expect(error?.kind == .dependencyViolation)
            #expect(error?.code == "DependencyViolation")
            #expect(error?.requestID != nil)
        }

        @Test("a subnet with a running instance is refused, as AWS does (moto would allow it)")
        func subnetInUse() async throws {
            let aws = try await Self.fresh()
            let vpc = try await aws.createVPC(cidrBlock: "10.50.0.0/16", tags: [:])
            let subnet = try await aws.createSubnet(vpcID: vpc.id, cidrBlock: "10.50.1.0/24", availabilityZone: nil, tags: [:])
            let group = try await aws.createSecurityGroup(vpcID: vpc.id, name: "web", description: "web", tags: [:])
            let image = try await ComputeTests.registerTestImage(aws)
            let instance = try await aws.launchInstance(imageID: image.id, settings: LaunchSettings(instanceType: "t3.micro", subnetID: subnet.id, securityGroupIDs: [group.id]), userData: nil, name: "web")
            let subnetError = await #expect(throws: AWSError.self) { try await aws.deleteNetworkResource(CloudResource(kind: .subnet, id: subnet.id)) }
            #expect(subnetError?.kind == .dependencyViolation)
            #expect(subnetError?.description.contains(instance.id) == true)
            let groupError = await #expect(throws: AWSError.self) { try await aws.deleteNetworkResource(CloudResource(kind: .securityGroup, id: group.id)) }
            #expect(groupError?.kind == .dependencyViolation)

            _ = try await aws.terminateInstance(id: instance.id)
            try await aws.deleteNetworkResource(CloudResource(kind: .securityGroup, id: group.id))
            try await aws.deleteNetworkResource(CloudResource(kind: .subnet, id: subnet.id))
        }

        @Test("a resource that is not a network resource is refused before anything is sent")
        func notANetworkResource() async throws {
            let aws = try await Self.fresh()
            await #expect(throws: AWSTargetError.notANetworkResource(CloudResource(kind: .instance, id: "i-1"))) {
                try await aws.deleteNetworkResource(CloudResource(kind: .instance, id: "i-1"))
            }
        }
    }
}
