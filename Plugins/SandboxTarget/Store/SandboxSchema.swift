import FerryCore
import GRDB

/// The sandbox cloud's tables, in the sandbox's own database (`sandbox/sandbox.sqlite`).
/// Append only: a shipped migration is never edited.
///
/// Before the sandbox had its own database these tables lived in the workspace's; such a
/// workspace keeps them there, unused, and its sandbox starts empty in the new file.
public enum SandboxSchema {
    public static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("sandbox-v1") { db in
            try db.create(table: "sandboxVPC") { t in
                t.primaryKey("id", .text)
                t.column("cidrBlock", .text).notNull()
                t.column("isDefault", .boolean).notNull().defaults(to: false)
                t.column("tags", .jsonText).notNull()
                t.column("createdAt", .datetime).notNull()
            }
            try db.create(table: "sandboxSubnet") { t in
                t.primaryKey("id", .text)
                t.column("vpcID", .text).notNull().indexed()
                t.column("cidrBlock", .text).notNull()
                t.column("availabilityZone", .text)
                t.column("tags", .jsonText).notNull()
                t.column("createdAt", .datetime).notNull()
            }
            try db.create(table: "sandboxInternetGateway") { t in
                t.primaryKey("id", .text)
                t.column("vpcID", .text)
                t.column("tags", .jsonText).notNull()
                t.column("createdAt", .datetime).notNull()
            }
            try db.create(table: "sandboxRouteTable") { t in
                t.primaryKey("id", .text)
                t.column("vpcID", .text).notNull().indexed()
                t.column("routes", .jsonText).notNull()
                t.column("subnetIDs", .jsonText).notNull()
                t.column("tags", .jsonText).notNull()
                t.column("createdAt", .datetime).notNull()
            }
            try db.create(table: "sandboxSecurityGroup") { t in
                t.primaryKey("id", .text)
                t.column("vpcID", .text).notNull().indexed()
                t.column("name", .text).notNull()
                t.column("groupDescription", .text).notNull()
                t.column("ingress", .jsonText).notNull()
                t.column("tags", .jsonText).notNull()
                t.column("createdAt", .datetime).notNull()
                t.uniqueKey(["vpcID", "name"])
            }
            try db.create(table: "sandboxUser") { t in
                t.primaryKey("name", .text)
                t.column("id", .text).notNull().unique()
                t.column("arn", .text).notNull()
                t.column("tags", .jsonText).notNull()
                t.column("createdAt", .datetime).notNull()
            }
            try db.create(table: "sandboxAccessKey") { t in
                t.primaryKey("id", .text)
                t.column("userName", .text).notNull().indexed()
                // SHA-256 of salt + secret; the secret itself is never stored.
                t.column("secretSalt", .text).notNull()
                t.column("secretHash", .text).notNull()
                t.column("createdAt", .datetime).notNull()
            }
            try db.create(table: "sandboxUserPolicy") { t in
                t.column("userName", .text).notNull()
                t.column("policyName", .text).notNull()
                t.column("document", .jsonText).notNull()
                t.primaryKey(["userName", "policyName"])
            }
            try db.create(table: "sandboxVolume") { t in
                t.primaryKey("id", .text)
                t.column("kind", .text).notNull()
                t.column("name", .text).notNull()
                t.column("sizeBytes", .integer).notNull()
                t.column("fileName", .text).notNull()
                t.column("parentID", .text)
                t.column("tags", .jsonText).notNull()
                t.column("createdAt", .datetime).notNull()
            }
            try db.create(table: "sandboxImage") { t in
                t.primaryKey("id", .text)
                t.column("name", .text).notNull()
                t.column("bootMode", .text).notNull()
                t.column("volumeIDs", .jsonText).notNull()
                t.column("tags", .jsonText).notNull()
                t.column("createdAt", .datetime).notNull()
            }
            try db.create(table: "sandboxInstance") { t in
                t.primaryKey("id", .text)
                t.column("name", .text)
                t.column("imageID", .text).notNull()
                t.column("instanceType", .text).notNull()
                t.column("state", .text).notNull()
                t.column("stateReason", .text)
                t.column("subnetID", .text)
                t.column("privateIP", .text)
                t.column("securityGroupIDs", .jsonText).notNull()
                t.column("ports", .jsonText).notNull()
                t.column("tags", .jsonText).notNull()
                t.column("pid", .integer)
                t.column("consoleOffset", .integer).notNull().defaults(to: 0)
                t.column("firstBoot", .text).notNull().defaults(to: "PENDING")
                t.column("launchedAt", .datetime).notNull()
            }
        }
        migrator.registerMigration("sandbox-v2-egress") { db in
            // A group's outbound rules; every group so far allowed all traffic out, as a new
            // group of a VPC does on AWS.
            try db.alter(table: "sandboxSecurityGroup") { t in
                t.add(column: "egress", .jsonText).notNull().defaults(to: JSONText.encode([EgressRule.allTraffic]))
            }
        }
        migrator.registerMigration("sandbox-v3-hardware") { db in
            // The devices an image boots on; every image so far was built for the sandbox's own.
            try db.alter(table: "sandboxImage") { t in
                t.add(column: "diskBus", .text).notNull().defaults(to: GuestHardware.DiskBus.virtio.rawValue)
                t.add(column: "nicModel", .text).notNull().defaults(to: GuestHardware.NICModel.virtio.rawValue)
                t.add(column: "minimumMemoryMiB", .integer).notNull().defaults(to: 0)
            }
        }
        migrator.registerMigration("sandbox-v4-service-endpoints") { db in
            // A process of this machine placed at an address of a subnet, behind security
            // groups (the replication server), and what the network let through or not.
            try db.create(table: "sandboxServiceEndpoint") { t in
                t.primaryKey("id", .text)
                t.column("name", .text).notNull()
                t.column("subnetID", .text).notNull()
                t.column("privateIP", .text).notNull()
                t.column("port", .integer).notNull()
                t.column("hostPort", .integer).notNull()
                t.column("securityGroupIDs", .jsonText).notNull()
                t.column("createdAt", .datetime).notNull()
            }
            try db.alter(table: "sandboxInstance") { t in t.add(column: "managementPort", .integer) }
            try db.create(table: "sandboxFlowLog") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("at", .datetime).notNull()
                t.column("instanceID", .text).notNull()
                t.column("sourceIP", .text).notNull()
                t.column("destination", .text).notNull()
                t.column("action", .text).notNull()
                t.column("reason", .text)
            }
        }
        return migrator
    }
}
