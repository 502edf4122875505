import FerryCore
import Foundation
import GRDB

/// JSON text for nested columns, with a stable key order.
enum JSONText {
    static func encode<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(value)) ?? Data("null".utf8), as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String) -> T? {
        try? JSONDecoder().decode(type, from: Data(text.utf8))
    }
}

struct VPCRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "sandboxVPC"
    var id: String
    var cidrBlock: String
    var isDefault: Bool
    var tags: String
    var createdAt: Date

    var model: VPC { VPC(id: id, cidrBlock: cidrBlock, tags: JSONText.decode(ResourceTags.self, tags) ?? [:]) }
}

struct SubnetRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "sandboxSubnet"
    var id: String
    var vpcID: String
    var cidrBlock: String
    var availabilityZone: String?
    var tags: String
    var createdAt: Date

    var model: Subnet {
        Subnet(id: id, vpcID: vpcID, cidrBlock: cidrBlock, availabilityZone: availabilityZone, tags: JSONText.decode(ResourceTags.self, tags) ?? [:])
    }
}

struct InternetGatewayRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "sandboxInternetGateway"
    var id: String
    var vpcID: String?
    var tags: String
    var createdAt: Date

    var model: InternetGateway { InternetGateway(id: id, attachedVPCID: vpcID, tags: JSONText.decode(ResourceTags.self, tags) ?? [:]) }
}

struct RouteTableRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "sandboxRouteTable"
    var id: String
    var vpcID: String
    var routes: String
    var subnetIDs: String
    var tags: String
    var createdAt: Date

    var routeList: [Route] { JSONText.decode([Route].self, routes) ?? [] }
    var subnetIDList: [String] { JSONText.decode([String].self, subnetIDs) ?? [] }

    var model: RouteTable {
        RouteTable(id: id, vpcID: vpcID, routes: routeList, associatedSubnetIDs: subnetIDList, tags: JSONText.decode(ResourceTags.self, tags) ?? [:])
    }
}

struct SecurityGroupRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "sandboxSecurityGroup"
    var id: String
    var vpcID: String
    var name: String
    var groupDescription: String
    var ingress: String
    var tags: String
    var createdAt: Date
    var egress: String = JSONText.encode([EgressRule.allTraffic])

    var rules: [IngressRule] { JSONText.decode([IngressRule].self, ingress) ?? [] }
    var egressRules: [EgressRule] { JSONText.decode([EgressRule].self, egress) ?? [] }

    var model: SecurityGroup {
        SecurityGroup(id: id, vpcID: vpcID, name: name, description: groupDescription, ingress: rules, egress: egressRules, tags: JSONText.decode(ResourceTags.self, tags) ?? [:])
    }
}

struct UserRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "sandboxUser"
    var name: String
    var id: String
    var arn: String
    var tags: String
    var createdAt: Date
}

struct AccessKeyRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "sandboxAccessKey"
    var id: String
    var userName: String
    var secretSalt: String
    var secretHash: String
    var createdAt: Date
}

struct UserPolicyRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "sandboxUserPolicy"
    var userName: String
    var policyName: String
    var document: String
}

struct VolumeRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "sandboxVolume"
    var id: String
    var kind: String
    var name: String
    var sizeBytes: Int64
    var fileName: String
    var parentID: String?
    var tags: String
    var createdAt: Date

    var model: ImportedVolume {
        ImportedVolume(id: id, kind: CloudResourceKind(rawValue: kind) ?? .volume, sizeBytes: UInt64(sizeBytes), tags: JSONText.decode(ResourceTags.self, tags) ?? [:])
    }
}

struct ImageRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "sandboxImage"
    var id: String
    var name: String
    var bootMode: String
    var volumeIDs: String
    var tags: String
    var createdAt: Date
    var diskBus: String
    var nicModel: String
    /// The memory its system needs to boot and serve (0: no minimum), measured per guest profile.
    var minimumMemoryMiB: Int

    var volumeIDList: [String] { JSONText.decode([String].self, volumeIDs) ?? [] }
    /// The address its guest sets itself (`ferry:static-address`, "10.0.0.36/24"), if any.
    var staticAddress: String? {
        (JSONText.decode([String: String].self, tags) ?? [:])[SandboxCloud.staticAddressTag].flatMap { $0.split(separator: "/").first.map(String.init) }
    }

    var hardware: GuestHardware {
        GuestHardware(diskBus: GuestHardware.DiskBus(rawValue: diskBus) ?? .virtio, nicModel: GuestHardware.NICModel(rawValue: nicModel) ?? .virtio)
    }

    var model: MachineImage {
        MachineImage(id: id, name: name, bootMode: BootMode(rawValue: bootMode) ?? .legacyBIOS, volumeIDs: volumeIDList, tags: JSONText.decode(ResourceTags.self, tags) ?? [:])
    }
}

/// A guest TCP port reachable on 127.0.0.1.
public struct ForwardedPort: Codable, Hashable, Sendable {
    public var guestPort: Int
    public var hostPort: Int
    public init(guestPort: Int, hostPort: Int) {
        self.guestPort = guestPort
        self.hostPort = hostPort
    }
}

struct InstanceRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "sandboxInstance"
    var id: String
    var name: String?
    var imageID: String
    var instanceType: String
    var state: String
    var stateReason: String?
    var subnetID: String?
    var privateIP: String?
    var securityGroupIDs: String
    var ports: String
    var tags: String
    var pid: Int64?
    var consoleOffset: Int64
    var firstBoot: String
    var launchedAt: Date
    /// The port of 127.0.0.1 forwarded to the guest's SSH, the sandbox's own way in (its Run
    /// Command), whatever the security groups say: AWS Systems Manager needs no inbound rule.
    var managementPort: Int? = nil

    var instanceState: InstanceState { InstanceState(rawValue: state) ?? .terminated }
    var portList: [ForwardedPort] { JSONText.decode([ForwardedPort].self, ports) ?? [] }
    var securityGroupIDList: [String] { JSONText.decode([String].self, securityGroupIDs) ?? [] }

    var model: Instance {
        var tagMap = JSONText.decode(ResourceTags.self, tags) ?? [:]
        if let name, tagMap["Name"] == nil { tagMap["Name"] = name }
        return Instance(
            id: id, imageID: imageID, instanceType: instanceType, state: instanceState, subnetID: subnetID,
            privateIPAddress: privateIP, securityGroupIDs: securityGroupIDList, tags: tagMap, launchedAt: launchedAt
        )
    }
}

struct ServiceEndpointRecord: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "sandboxServiceEndpoint"
    var id: String
    var name: String
    var subnetID: String
    var privateIP: String
    var port: Int
    var hostPort: Int
    var securityGroupIDs: String
    var createdAt: Date

    var securityGroupIDList: [String] { JSONText.decode([String].self, securityGroupIDs) ?? [] }
    var model: ServiceEndpoint {
        ServiceEndpoint(id: id, name: name, subnetID: subnetID, privateIP: privateIP, port: port, hostPort: hostPort, securityGroupIDs: securityGroupIDList)
    }
}

struct FlowLogRecord: Codable, FetchableRecord, MutablePersistableRecord {
    static let databaseTableName = "sandboxFlowLog"
    var id: Int64?
    var at: Date
    var instanceID: String
    var sourceIP: String
    var destination: String
    var action: String
    var reason: String?

    mutating func didInsert(_ inserted: InsertionSuccess) { id = inserted.rowID }
}
