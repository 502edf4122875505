import FerryCore
import Foundation
import GRDB

/// Processes of this machine placed in the sandbox's subnets: the replication server stands
/// at an address of the staging subnet, behind its security group, and guests reach it there.
///
/// Why not a guest of its own: the server keeps the workspace's staging store and database,
/// and a QEMU guest under TCG running it would add a minute of boot and halve its speed for
/// nothing the workshop teaches. So the process stays on this machine, and the network makes
/// it look and behave like an instance: every guest's QEMU forwards connections to the
/// subnet's service address (guestfwd) to `ferry sandbox relay`, which lets through only what
/// the security groups allow, both ways, re-checked every second while the connection lasts.
///
/// The service address of a subnet is fixed, the one before its last (AWS reserves the last):
/// QEMU's forwarding rules are set when a guest starts, and the WordPress server starts before
/// the replication server exists. The port is fixed too, TCP 1500, MGN's data plane port.
extension SandboxCloud {
    public static let servicePort = 1500

    static func serviceAddress(of cidr: IPv4CIDR) -> UInt32 { cidr.last &- 1 }

    public func placeServiceEndpoint(_ request: ServiceEndpointRequest) throws -> ServiceEndpoint {
        guard request.port == Self.servicePort else {
            throw SandboxError.invalidName(field: "port", value: String(request.port), reason: "a service endpoint of the sandbox listens on TCP \(Self.servicePort), the port every guest forwards")
        }
        return try database.write { db in
            let subnet = try Self.subnet(request.subnetID, in: db)
            for groupID in request.securityGroupIDs {
                guard let group = try SecurityGroupRecord.fetchOne(db, key: groupID) else { throw SandboxError.notFound(kind: .securityGroup, id: groupID) }
                guard group.vpcID == subnet.vpcID else { throw SandboxError.wrongVPC(resource: groupID, resourceVPC: group.vpcID, expectedVPC: subnet.vpcID) }
            }
            let address = IPv4CIDR.format(Self.serviceAddress(of: try IPv4CIDR(subnet.cidrBlock)))
            if let existing = try ServiceEndpointRecord.filter(Column("privateIP") == address).fetchOne(db) {
                throw SandboxError.privateIPInUse(ip: address, instanceID: "\(existing.id) (\(existing.name))")
            }
            let record = ServiceEndpointRecord(id: ResourceID.make(prefix: "eni"), name: request.name, subnetID: subnet.id, privateIP: address,
                                               port: request.port, hostPort: request.hostPort, securityGroupIDs: JSONText.encode(request.securityGroupIDs),
                                               createdAt: Date())
            try record.insert(db)
            return record.model
        }
    }

    public func removeServiceEndpoint(id: String) throws {
        try database.write { db in
            guard try ServiceEndpointRecord.deleteOne(db, key: id) else { throw SandboxError.notFound(kind: .networkInterface, id: id) }
        }
    }

    public func serviceEndpoints() throws -> [ServiceEndpoint] {
        try database.read { db in try ServiceEndpointRecord.order(Column("createdAt")).fetchAll(db).map(\.model) }
    }

    /// The service address of every subnet: what a guest's QEMU forwards to the relay.
    func serviceAddresses() throws -> [String] {
        try database.read { db in
            try SubnetRecord.fetchAll(db).compactMap { subnet in
                (try? IPv4CIDR(subnet.cidrBlock)).map { IPv4CIDR.format(Self.serviceAddress(of: $0)) }
            }
        }
    }

    /// Whether `instanceID` may open a TCP connection to `address`:`port` now, by the
    /// security groups of both ends, as AWS decides it: an outbound rule of the instance's
    /// groups and an inbound rule of the endpoint's must both allow it.
    public func reachability(from instanceID: String, to address: String, port: Int) throws -> SandboxReachability {
        try database.read { db in
            guard let instance = try InstanceRecord.fetchOne(db, key: instanceID), let sourceIP = instance.privateIP else {
                return .refused(sourceIP: "?", reason: "instance \(instanceID) is gone")
            }
            guard let endpoint = try ServiceEndpointRecord.filter(Column("privateIP") == address && Column("port") == port).fetchOne(db) else {
                return .refused(sourceIP: sourceIP, reason: "nothing listens on \(address):\(port) (no service endpoint there)")
            }
            let sourceGroups = try instance.securityGroupIDList.compactMap { try SecurityGroupRecord.fetchOne(db, key: $0) }
            let targetGroups = try endpoint.securityGroupIDList.compactMap { try SecurityGroupRecord.fetchOne(db, key: $0) }
            guard let sourceAddress = IPv4CIDR.parseAddress(sourceIP), let targetAddress = IPv4CIDR.parseAddress(address) else {
                return .refused(sourceIP: sourceIP, reason: "\(sourceIP) or \(address) is not an IPv4 address")
            }
            let outbound = sourceGroups.contains { group in
                group.egressRules.contains { rule in
                    Self.allows(rule.ipProtocol, rule.fromPort, rule.toPort, port: port)
                        && (rule.destinationCIDR.map { Self.cidr($0, contains: targetAddress) } ?? false
                            || rule.destinationSecurityGroupID.map { endpoint.securityGroupIDList.contains($0) } ?? false)
                }
            }
            guard outbound else {
                let names = sourceGroups.map { "\($0.id) (\($0.name))" }.joined(separator: ", ")
                return .refused(sourceIP: sourceIP, reason: "\(sourceGroups.count == 1 ? "the security group" : "none of the security groups") \(names) of \(instanceID) allows no outbound TCP \(port) to \(address)")
            }
            let inbound = targetGroups.contains { group in
                group.rules.contains { rule in
                    Self.allows(rule.ipProtocol, rule.fromPort, rule.toPort, port: port)
                        && (rule.sourceCIDR.map { Self.cidr($0, contains: sourceAddress) } ?? false
                            || rule.sourceSecurityGroupID.map { instance.securityGroupIDList.contains($0) } ?? false)
                }
            }
            guard inbound else {
                let names = targetGroups.map { "\($0.id) (\($0.name))" }.joined(separator: ", ")
                return .refused(sourceIP: sourceIP, reason: "\(targetGroups.count == 1 ? "the security group" : "none of the security groups") \(names) of \(endpoint.name) at \(address) allows no inbound TCP \(port) from \(sourceIP) (\(instanceID)): add an inbound rule for TCP \(port)")
            }
            return .allowed(sourceIP: sourceIP, hostPort: endpoint.hostPort)
        }
    }

    private static func allows(_ ipProtocol: IPProtocol, _ from: Int, _ to: Int, port: Int) -> Bool {
        ipProtocol == .all || (ipProtocol == .tcp && from <= port && port <= to)
    }

    private static func cidr(_ text: String, contains address: UInt32) -> Bool {
        (try? IPv4CIDR(text))?.contains(address: address) ?? false
    }

    /// Writes what the relay let through or refused, as a VPC flow log would; the newest
    /// thousand records are kept.
    func recordFlow(instanceID: String, sourceIP: String, destination: String, accepted: Bool, reason: String?) {
        _ = try? database.write { db in
            var record = FlowLogRecord(id: nil, at: Date(), instanceID: instanceID, sourceIP: sourceIP, destination: destination,
                                       action: accepted ? "ACCEPT" : "REJECT", reason: reason)
            try record.insert(db)
            try db.execute(sql: "DELETE FROM sandboxFlowLog WHERE id <= ?", arguments: [(record.id ?? 0) - 1000])
        }
    }

    public func lastRefusal(to address: String, port: Int, since date: Date) throws -> String? {
        try database.read { db in
            try FlowLogRecord.filter(Column("destination") == "\(address):\(port)" && Column("action") == "REJECT" && Column("at") >= date)
                .order(Column("id").desc).fetchOne(db)?.reason
        }
    }
}

public enum SandboxReachability: Hashable, Sendable {
    case allowed(sourceIP: String, hostPort: Int)
    case refused(sourceIP: String, reason: String)
}

extension SandboxTargetAdapter: ServiceEndpointCapability {
    public func placeServiceEndpoint(_ request: ServiceEndpointRequest) async throws -> ServiceEndpoint {
        try await onCloud { try $0.placeServiceEndpoint(request) }
    }

    public func removeServiceEndpoint(id: String) async throws {
        try await onCloud { try $0.removeServiceEndpoint(id: id) }
    }

    public func lastRefusal(to address: String, port: Int, since date: Date) async throws -> String? {
        try await onCloud { try $0.lastRefusal(to: address, port: port, since: date) }
    }
}
