import FerryCore
import Foundation
import GRDB

/// VPCs, subnets, gateways, route tables and security groups, with the rules a real cloud
/// enforces. Every check and its write happen in one transaction.
extension SandboxCloud {
    /// The prefix lengths a cloud accepts for a VPC or a subnet.
    static let blockSizes = 16...28

    public func createVPC(cidrBlock: String, tags: ResourceTags = [:], isDefault: Bool = false) throws -> VPC {
        let cidr = try Self.blockCIDR(cidrBlock)
        let record = VPCRecord(id: ResourceID.make(prefix: "vpc"), cidrBlock: cidr.description, isDefault: isDefault, tags: tagsText(tags), createdAt: Date())
        try database.write { db in try record.insert(db) }
        return record.model
    }

    public func createSubnet(vpcID: String, cidrBlock: String, availabilityZone: String? = nil, tags: ResourceTags = [:]) throws -> Subnet {
        let cidr = try Self.blockCIDR(cidrBlock)
        return try database.write { db in
            let vpc = try Self.vpc(vpcID, in: db)
            let vpcCIDR = try IPv4CIDR(vpc.cidrBlock)
            guard vpcCIDR.contains(cidr) else {
                throw SandboxError.subnetOutsideVPC(subnet: cidr.description, vpcID: vpcID, vpcCIDR: vpc.cidrBlock)
            }
            for other in try SubnetRecord.filter(Column("vpcID") == vpcID).order(Column("createdAt")).fetchAll(db) {
                if let otherCIDR = try? IPv4CIDR(other.cidrBlock), otherCIDR.overlaps(cidr) {
                    throw SandboxError.subnetOverlap(subnet: cidr.description, existingID: other.id, existingCIDR: other.cidrBlock)
                }
            }
            let record = SubnetRecord(
                id: ResourceID.make(prefix: "subnet"), vpcID: vpcID, cidrBlock: cidr.description,
                availabilityZone: availabilityZone ?? "sandbox-1a", tags: tagsText(tags), createdAt: Date()
            )
            try record.insert(db)
            return record.model
        }
    }

    public func createInternetGateway(attachingTo vpcID: String, tags: ResourceTags = [:]) throws -> InternetGateway {
        try database.write { db in
            _ = try Self.vpc(vpcID, in: db)
            if let attached = try InternetGatewayRecord.filter(Column("vpcID") == vpcID).fetchOne(db) {
                throw SandboxError.gatewayAlreadyAttached(vpcID: vpcID, gatewayID: attached.id)
            }
            let record = InternetGatewayRecord(id: ResourceID.make(prefix: "igw"), vpcID: vpcID, tags: tagsText(tags), createdAt: Date())
            try record.insert(db)
            return record.model
        }
    }

    /// A route table starts with the VPC's `local` route, as in a cloud.
    public func createRouteTable(vpcID: String, tags: ResourceTags = [:]) throws -> RouteTable {
        try database.write { db in
            let vpc = try Self.vpc(vpcID, in: db)
            let record = RouteTableRecord(
                id: ResourceID.make(prefix: "rtb"), vpcID: vpcID,
                routes: JSONText.encode([Route(destinationCIDR: vpc.cidrBlock, target: "local")]),
                subnetIDs: JSONText.encode([String]()), tags: tagsText(tags), createdAt: Date()
            )
            try record.insert(db)
            return record.model
        }
    }

    public func createRoute(routeTableID: String, destinationCIDR: String, gatewayID: String) throws {
        let destination = try IPv4CIDR(destinationCIDR)
        try database.write { db in
            guard var table = try RouteTableRecord.fetchOne(db, key: routeTableID) else {
                throw SandboxError.notFound(kind: .routeTable, id: routeTableID)
            }
            guard let gateway = try InternetGatewayRecord.fetchOne(db, key: gatewayID) else {
                throw SandboxError.notFound(kind: .internetGateway, id: gatewayID)
            }
            guard gateway.vpcID == table.vpcID else {
                throw SandboxError.gatewayNotAttached(gatewayID: gatewayID, vpcID: table.vpcID)
            }
            var routes = table.routeList
            if routes.contains(where: { $0.destinationCIDR == destination.description }) {
                throw SandboxError.routeAlreadyExists(routeTableID: routeTableID, destination: destination.description)
            }
            routes.append(Route(destinationCIDR: destination.description, target: gatewayID))
            table.routes = JSONText.encode(routes)
            try table.update(db)
        }
    }

    public func associateRouteTable(routeTableID: String, subnetID: String) throws {
        try database.write { db in
            guard var table = try RouteTableRecord.fetchOne(db, key: routeTableID) else {
                throw SandboxError.notFound(kind: .routeTable, id: routeTableID)
            }
            let subnet = try Self.subnet(subnetID, in: db)
            guard subnet.vpcID == table.vpcID else {
                throw SandboxError.wrongVPC(resource: subnetID, resourceVPC: subnet.vpcID, expectedVPC: table.vpcID)
            }
            var subnetIDs = table.subnetIDList
            if subnetIDs.contains(subnetID) { return }
            for other in try RouteTableRecord.fetchAll(db) where other.subnetIDList.contains(subnetID) {
                throw SandboxError.dependencyViolation(resource: "subnet \(subnetID)", usedBy: ["route table \(other.id) (already associated)"])
            }
            subnetIDs.append(subnetID)
            table.subnetIDs = JSONText.encode(subnetIDs)
            try table.update(db)
        }
    }

    public func createSecurityGroup(vpcID: String, name: String, description: String, tags: ResourceTags = [:]) throws -> SecurityGroup {
        guard !name.trimmingCharacters(in: .whitespaces).isEmpty, name.count <= 255 else {
            throw SandboxError.invalidName(field: "group name", value: name, reason: "must be 1 to 255 characters")
        }
        return try database.write { db in
            _ = try Self.vpc(vpcID, in: db)
            if try SecurityGroupRecord.filter(Column("vpcID") == vpcID && Column("name") == name).fetchCount(db) > 0 {
                throw SandboxError.duplicateSecurityGroupName(name: name, vpcID: vpcID)
            }
            let record = SecurityGroupRecord(
                id: ResourceID.make(prefix: "sg"), vpcID: vpcID, name: name, groupDescription: description,
                ingress: JSONText.encode([IngressRule]()), tags: tagsText(tags), createdAt: Date()
            )
            try record.insert(db)
            return record.model
        }
    }

    public func authorizeIngress(securityGroupID: String, rules: [IngressRule]) throws {
        try database.write { db in
            guard var group = try SecurityGroupRecord.fetchOne(db, key: securityGroupID) else {
                throw SandboxError.notFound(kind: .securityGroup, id: securityGroupID)
            }
            var current = group.rules
            for rule in rules {
                try Self.validate(rule, groupVPC: group.vpcID, in: db)
                if current.contains(rule) {
                    throw SandboxError.invalidIngressRule("\(securityGroupID) already has this rule (InvalidPermission.Duplicate)")
                }
                current.append(rule)
            }
            group.ingress = JSONText.encode(current)
            try group.update(db)
        }
    }

    /// Removes inbound rules, as EC2's RevokeSecurityGroupIngress: a rule the group does not
    /// have is an error (InvalidPermission.NotFound). Connections the rule allowed end within
    /// a second (the relay checks again), where AWS may let a tracked one live on.
    public func revokeIngress(securityGroupID: String, rules: [IngressRule]) throws {
        try database.write { db in
            guard var group = try SecurityGroupRecord.fetchOne(db, key: securityGroupID) else {
                throw SandboxError.notFound(kind: .securityGroup, id: securityGroupID)
            }
            var current = group.rules
            for rule in rules {
                guard let index = current.firstIndex(where: { $0.ipProtocol == rule.ipProtocol && $0.fromPort == rule.fromPort && $0.toPort == rule.toPort
                    && $0.sourceCIDR == rule.sourceCIDR && $0.sourceSecurityGroupID == rule.sourceSecurityGroupID }) else {
                    let have = current.map { "\($0.ipProtocol.rawValue):\($0.fromPort == $0.toPort ? "\($0.fromPort)" : "\($0.fromPort)-\($0.toPort)"):\($0.sourceCIDR ?? $0.sourceSecurityGroupID ?? "?")" }
                    throw SandboxError.invalidIngressRule("\(securityGroupID) has no inbound rule \(rule.ipProtocol.rawValue):\(rule.fromPort == rule.toPort ? "\(rule.fromPort)" : "\(rule.fromPort)-\(rule.toPort)"):\(rule.sourceCIDR ?? rule.sourceSecurityGroupID ?? "?"); its inbound rules: \(have.isEmpty ? "none" : have.joined(separator: ", ")) (outbound rules are not changed here; see `ferry sandbox security-group show \(securityGroupID)`)")
                }
                current.remove(at: index)
            }
            group.ingress = JSONText.encode(current)
            try group.update(db)
        }
    }

    public func replaceEgress(securityGroupID: String, rules: [EgressRule]) throws {
        try database.write { db in
            guard var group = try SecurityGroupRecord.fetchOne(db, key: securityGroupID) else {
                throw SandboxError.notFound(kind: .securityGroup, id: securityGroupID)
            }
            for rule in rules {
                // The same checks as an ingress rule's, on the rule's other end.
                try Self.validate(IngressRule(ipProtocol: rule.ipProtocol, fromPort: rule.fromPort, toPort: rule.toPort,
                                              sourceCIDR: rule.destinationCIDR, sourceSecurityGroupID: rule.destinationSecurityGroupID),
                                  groupVPC: group.vpcID, in: db)
            }
            guard Set(rules).count == rules.count else {
                throw SandboxError.invalidIngressRule("\(securityGroupID): an egress rule is given twice (InvalidPermission.Duplicate)")
            }
            group.egress = JSONText.encode(rules)
            try group.update(db)
        }
    }

    public func describeNetworks() throws -> NetworkInventory {
        try database.read { db in
            NetworkInventory(
                vpcs: try VPCRecord.order(Column("createdAt")).fetchAll(db).map(\.model),
                subnets: try SubnetRecord.order(Column("createdAt")).fetchAll(db).map(\.model),
                internetGateways: try InternetGatewayRecord.order(Column("createdAt")).fetchAll(db).map(\.model),
                routeTables: try RouteTableRecord.order(Column("createdAt")).fetchAll(db).map(\.model),
                securityGroups: try SecurityGroupRecord.order(Column("createdAt")).fetchAll(db).map(\.model)
            )
        }
    }

    /// Deletes a networking resource, refusing with `DependencyViolation` while anything uses it.
    public func deleteNetworkResource(_ resource: CloudResource) throws {
        try database.write { db in
            let users = try Self.users(of: resource, in: db)
            guard users.isEmpty else {
                throw SandboxError.dependencyViolation(resource: resource.description, usedBy: users)
            }
            switch resource.kind {
            case .vpc:
                guard try VPCRecord.deleteOne(db, key: resource.id) else { throw SandboxError.notFound(kind: .vpc, id: resource.id) }
            case .subnet:
                guard try SubnetRecord.deleteOne(db, key: resource.id) else { throw SandboxError.notFound(kind: .subnet, id: resource.id) }
            case .internetGateway:
                guard try InternetGatewayRecord.deleteOne(db, key: resource.id) else { throw SandboxError.notFound(kind: .internetGateway, id: resource.id) }
            case .routeTable:
                guard try RouteTableRecord.deleteOne(db, key: resource.id) else { throw SandboxError.notFound(kind: .routeTable, id: resource.id) }
            case .securityGroup:
                guard try SecurityGroupRecord.deleteOne(db, key: resource.id) else { throw SandboxError.notFound(kind: .securityGroup, id: resource.id) }
            default:
                throw SandboxError.invalidName(field: "resource", value: resource.description, reason: "is not a networking resource")
            }
        }
    }

    /// What still uses `resource`, each named with its kind.
    static func users(of resource: CloudResource, in db: Database) throws -> [String] {
        let liveInstances = try InstanceRecord.filter(Column("state") != InstanceState.terminated.rawValue).order(Column("launchedAt")).fetchAll(db)
        switch resource.kind {
        case .vpc:
            _ = try vpc(resource.id, in: db)
            var users: [String] = []
            users += try SubnetRecord.filter(Column("vpcID") == resource.id).order(Column("createdAt")).fetchAll(db).map { "subnet \($0.id)" }
            users += try InternetGatewayRecord.filter(Column("vpcID") == resource.id).fetchAll(db).map { "internet gateway \($0.id)" }
            users += try RouteTableRecord.filter(Column("vpcID") == resource.id).order(Column("createdAt")).fetchAll(db).map { "route table \($0.id)" }
            users += try SecurityGroupRecord.filter(Column("vpcID") == resource.id).order(Column("createdAt")).fetchAll(db).map { "security group \($0.id)" }
            return users
        case .subnet:
            _ = try subnet(resource.id, in: db)
            var users = liveInstances.filter { $0.subnetID == resource.id }.map { "instance \($0.id)" }
            users += try RouteTableRecord.fetchAll(db).filter { $0.subnetIDList.contains(resource.id) }.map { "route table \($0.id) (association)" }
            return users
        case .internetGateway:
            guard try InternetGatewayRecord.fetchOne(db, key: resource.id) != nil else {
                throw SandboxError.notFound(kind: .internetGateway, id: resource.id)
            }
            return try RouteTableRecord.fetchAll(db).compactMap { table in
                table.routeList.first { $0.target == resource.id }.map { "route table \(table.id) (route to \($0.destinationCIDR))" }
            }
        case .routeTable:
            // Its subnet associations go with it, as the networking contract says.
            guard try RouteTableRecord.fetchOne(db, key: resource.id) != nil else {
                throw SandboxError.notFound(kind: .routeTable, id: resource.id)
            }
            return []
        case .securityGroup:
            guard try SecurityGroupRecord.fetchOne(db, key: resource.id) != nil else {
                throw SandboxError.notFound(kind: .securityGroup, id: resource.id)
            }
            var users = liveInstances.filter { $0.securityGroupIDList.contains(resource.id) }.map { "instance \($0.id)" }
            users += try SecurityGroupRecord.fetchAll(db)
                .filter { $0.id != resource.id && $0.rules.contains { $0.sourceSecurityGroupID == resource.id } }
                .map { "security group \($0.id) (ingress rule)" }
            return users
        default:
            return []
        }
    }

    static func blockCIDR(_ text: String) throws(SandboxError) -> IPv4CIDR {
        let cidr = try IPv4CIDR(text)
        guard blockSizes.contains(cidr.prefixLength) else { throw .vpcSizeOutOfRange(text) }
        return cidr
    }

    static func vpc(_ id: String, in db: Database) throws -> VPCRecord {
        guard let record = try VPCRecord.fetchOne(db, key: id) else { throw SandboxError.notFound(kind: .vpc, id: id) }
        return record
    }

    static func subnet(_ id: String, in db: Database) throws -> SubnetRecord {
        guard let record = try SubnetRecord.fetchOne(db, key: id) else { throw SandboxError.notFound(kind: .subnet, id: id) }
        return record
    }

    static func validate(_ rule: IngressRule, groupVPC: String, in db: Database) throws {
        switch rule.ipProtocol {
        case .tcp, .udp:
            guard (0...65535).contains(rule.fromPort), (0...65535).contains(rule.toPort), rule.fromPort <= rule.toPort else {
                throw SandboxError.invalidIngressRule("ports \(rule.fromPort)-\(rule.toPort) must be 0-65535, from ≤ to")
            }
        case .icmp, .all:
            break
        }
        switch (rule.sourceCIDR, rule.sourceSecurityGroupID) {
        case (let cidr?, nil):
            _ = try IPv4CIDR(cidr)
        case (nil, let group?):
            guard let source = try SecurityGroupRecord.fetchOne(db, key: group) else {
                throw SandboxError.notFound(kind: .securityGroup, id: group)
            }
            guard source.vpcID == groupVPC else {
                throw SandboxError.wrongVPC(resource: group, resourceVPC: source.vpcID, expectedVPC: groupVPC)
            }
        default:
            throw SandboxError.invalidIngressRule("give exactly one source: a CIDR block or a security group")
        }
    }
}

extension SandboxTargetAdapter: NetworkingCapability {
    public func createVPC(cidrBlock: String, tags: ResourceTags) async throws -> VPC {
        try await onCloud { try $0.createVPC(cidrBlock: cidrBlock, tags: tags) }
    }

    public func createSubnet(vpcID: String, cidrBlock: String, availabilityZone: String?, tags: ResourceTags) async throws -> Subnet {
        try await onCloud { try $0.createSubnet(vpcID: vpcID, cidrBlock: cidrBlock, availabilityZone: availabilityZone, tags: tags) }
    }

    public func createInternetGateway(attachingTo vpcID: String, tags: ResourceTags) async throws -> InternetGateway {
        try await onCloud { try $0.createInternetGateway(attachingTo: vpcID, tags: tags) }
    }

    public func createRouteTable(vpcID: String, tags: ResourceTags) async throws -> RouteTable {
        try await onCloud { try $0.createRouteTable(vpcID: vpcID, tags: tags) }
    }

    public func createRoute(routeTableID: String, destinationCIDR: String, gatewayID: String) async throws {
        try await onCloud { try $0.createRoute(routeTableID: routeTableID, destinationCIDR: destinationCIDR, gatewayID: gatewayID) }
    }

    public func associateRouteTable(routeTableID: String, subnetID: String) async throws {
        try await onCloud { try $0.associateRouteTable(routeTableID: routeTableID, subnetID: subnetID) }
    }

    public func createSecurityGroup(vpcID: String, name: String, description: String, tags: ResourceTags) async throws -> SecurityGroup {
        try await onCloud { try $0.createSecurityGroup(vpcID: vpcID, name: name, description: description, tags: tags) }
    }

    public func authorizeIngress(securityGroupID: String, rules: [IngressRule]) async throws {
        try await onCloud { try $0.authorizeIngress(securityGroupID: securityGroupID, rules: rules) }
    }

    public func replaceEgress(securityGroupID: String, rules: [EgressRule]) async throws {
        try await onCloud { try $0.replaceEgress(securityGroupID: securityGroupID, rules: rules) }
    }

    public func describeNetworks() async throws -> NetworkInventory {
        try await onCloud { try $0.describeNetworks() }
    }

    public func deleteNetworkResource(_ resource: CloudResource) async throws {
        try await onCloud { try $0.deleteNetworkResource(resource) }
    }
}
