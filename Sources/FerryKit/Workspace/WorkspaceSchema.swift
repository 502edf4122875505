import FerryCore
import GRDB

/// The workspace database's schema, as a list of named migrations. Append only: a migration
/// that has shipped is never edited, a change is a new migration at the end.
public enum WorkspaceSchema {
    public static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-core") { db in
            try db.create(table: "project") { t in
                t.primaryKey("id", .text)
                t.column("createdAt", .datetime).notNull()
                t.column("ferryVersion", .text).notNull()
            }
            try db.create(table: "sourceServer") { t in
                t.primaryKey("id", .text)
                t.column("adapter", .text).notNull()
                t.column("hostname", .text).notNull()
                t.column("lifecycleState", .text).notNull()
                t.column("dataReplicationState", .text).notNull()
                t.column("facts", .jsonText).notNull()
                t.column("replicationSettings", .jsonText).notNull()
                t.column("launchSettings", .jsonText).notNull()
                t.column("replicationMetrics", .jsonText).notNull()
                t.column("createdAt", .datetime).notNull()
                t.column("updatedAt", .datetime).notNull()
            }
            try db.create(table: "snapshot") { t in
                t.primaryKey("id", .text)
                t.column("sourceServerID", .text).notNull().references("sourceServer", onDelete: .cascade)
                t.column("takenAt", .datetime).notNull()
                t.column("disks", .jsonText).notNull()
            }
            try db.create(table: "job") { t in
                t.primaryKey("id", .text)
                t.column("kind", .text).notNull()
                t.column("status", .text).notNull()
                t.column("sourceServerIDs", .jsonText).notNull()
                t.column("createdAt", .datetime).notNull()
                t.column("endedAt", .datetime)
            }
            try db.create(table: "jobEvent") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("jobID", .text).notNull().references("job", onDelete: .cascade)
                t.column("sourceServerID", .text)
                t.column("at", .datetime).notNull()
                t.column("event", .text).notNull()
                t.column("detail", .text).notNull()
            }
        }
        migrator.registerMigration("v2-lifecycle-history") { db in
            // Every lifecycle change, so that "who moved this server to CUTOVER, and when"
            // has an answer.
            try db.create(table: "lifecycleTransition") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("sourceServerID", .text).notNull().references("sourceServer", onDelete: .cascade)
                t.column("at", .datetime).notNull()
                t.column("action", .text).notNull()
                t.column("fromState", .text).notNull()
                t.column("toState", .text).notNull()
            }
            try db.create(index: "lifecycleTransition_server", on: "lifecycleTransition", columns: ["sourceServerID"])
        }
        migrator.registerMigration("v3-staging") { db in
            // Content-addressed chunks: where each lives in the segment files.
            try db.create(table: "chunk", options: [.withoutRowID]) { t in
                t.primaryKey("hash", .blob)
                t.column("segment", .integer).notNull()
                t.column("offset", .integer).notNull()
                t.column("length", .integer).notNull()
            }
            try db.create(index: "chunk_segment", on: "chunk", columns: ["segment"])
            // The replica: the latest state of each replicated disk, block by block, including
            // blocks received since the last snapshot (so that a restarted agent resends nothing
            // that was acknowledged).
            try db.create(table: "replicaDisk") { t in
                t.column("sourceServerID", .text).notNull().references("sourceServer", onDelete: .cascade)
                t.column("diskIndex", .integer).notNull()
                t.column("name", .text).notNull()
                t.column("sizeBytes", .integer).notNull()
                t.primaryKey(["sourceServerID", "diskIndex"])
            }
            try db.create(table: "replicaBlock", options: [.withoutRowID]) { t in
                t.column("sourceServerID", .text).notNull()
                t.column("diskIndex", .integer).notNull()
                t.column("blockIndex", .integer).notNull()
                t.column("hash", .blob).notNull()
                t.primaryKey(["sourceServerID", "diskIndex", "blockIndex"])
                t.foreignKey(["sourceServerID", "diskIndex"], references: "replicaDisk", onDelete: .cascade)
            }
            try db.create(table: "snapshotManifest") { t in
                t.column("snapshotID", .text).notNull().references("snapshot", onDelete: .cascade)
                t.column("diskIndex", .integer).notNull()
                t.column("sizeBytes", .integer).notNull()
                t.column("blocks", .blob).notNull()
                t.primaryKey(["snapshotID", "diskIndex"])
            }
            // Which source server an agent's machine is: the same machine re-registers as the same server.
            try db.create(table: "agentRegistration") { t in
                t.primaryKey("identity", .text)
                t.column("sourceServerID", .text).notNull().references("sourceServer", onDelete: .cascade)
            }
        }
        migrator.registerMigration("v4-recipe-runs") { db in
            try db.create(table: "recipeRun") { t in
                t.primaryKey("id", .text)
                t.column("recipe", .text).notNull()
                t.column("recipeFile", .text).notNull()
                t.column("sourceAdapter", .text).notNull()
                t.column("targetAdapter", .text).notNull()
                t.column("parameters", .jsonText).notNull()
                t.column("language", .text).notNull()
                t.column("status", .text).notNull()
                t.column("startedAt", .datetime).notNull()
                t.column("endedAt", .datetime)
            }
            try db.create(table: "recipeStep") { t in
                t.column("runID", .text).notNull().references("recipeRun", onDelete: .cascade)
                t.column("stepID", .text).notNull()
                t.column("position", .integer).notNull()
                t.column("status", .text).notNull()
                t.column("startedAt", .datetime)
                t.column("endedAt", .datetime)
                t.column("outputs", .jsonText).notNull().defaults(to: "{}")
                t.column("error", .text)
                t.primaryKey(["runID", "stepID"])
            }
            // Every resource a run created, recorded the moment it exists: destroy walks it backwards.
            try db.create(table: "recipeResource") { t in
                t.autoIncrementedPrimaryKey("id")
                t.column("runID", .text).notNull().references("recipeRun", onDelete: .cascade)
                t.column("stepID", .text).notNull()
                t.column("environment", .text).notNull()
                t.column("kind", .text).notNull()
                t.column("resourceID", .text).notNull()
                t.column("detail", .text).notNull().defaults(to: "")
                t.column("createdAt", .datetime).notNull()
                t.column("destroyedAt", .datetime)
            }
        }
        migrator.registerMigration("v5-conversion-reports") { db in
            // What the convert stage of a launch job found and changed, kept with the job.
            try db.create(table: "conversionReport") { t in
                t.primaryKey("jobID", .text).references("job", onDelete: .cascade)
                t.column("sourceServerID", .text).notNull()
                t.column("createdAt", .datetime).notNull()
                t.column("report", .jsonText).notNull()
            }
        }
        return migrator
    }
}
