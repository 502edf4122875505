import FerryCore
import Foundation
import GRDB

/// Jobs and their logs in the workspace: every launch is a job, with a line per stage, so
/// that what happened to a server (and when, and why a launch failed) can be read back.
public struct JobStore: Sendable {
    let database: DatabaseQueue

    public init(workspace: Workspace) {
        database = workspace.database
    }

    public func create(_ job: Job) throws {
        try database.write { db in
            try db.execute(
                sql: "INSERT INTO job (id, kind, status, sourceServerIDs, createdAt, endedAt) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [job.id, job.kind.rawValue, job.status.rawValue, try JSONColumn.encode(job.sourceServerIDs), job.createdAt, job.endedAt]
            )
        }
    }

    public func log(_ event: JobEvent) throws {
        try database.write { db in
            try db.execute(
                sql: "INSERT INTO jobEvent (jobID, sourceServerID, at, event, detail) VALUES (?, ?, ?, ?, ?)",
                arguments: [event.jobID, event.sourceServerID, event.at, event.event, event.detail]
            )
        }
    }

    public func setStatus(_ id: String, _ status: JobStatus, ended: Bool) throws {
        try database.write { db in
            try db.execute(sql: "UPDATE job SET status = ?, endedAt = ? WHERE id = ?", arguments: [status.rawValue, ended ? Date() : nil, id])
        }
    }

    /// Jobs, newest first; of one source server when `sourceServerID` is given.
    public func jobs(sourceServerID: String? = nil) throws -> [Job] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM job ORDER BY createdAt DESC, rowid DESC").map { row in
                Job(id: row["id"], kind: try Self.decode(JobKind.self, row["kind"]), status: try Self.decode(JobStatus.self, row["status"]),
                    sourceServerIDs: try JSONColumn.decode([String].self, from: row["sourceServerIDs"]), createdAt: row["createdAt"], endedAt: row["endedAt"])
            }.filter { sourceServerID == nil || $0.sourceServerIDs.contains(sourceServerID!) }
        }
    }

    /// A job's log, oldest first.
    public func events(jobID: String) throws -> [JobEvent] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM jobEvent WHERE jobID = ? ORDER BY id", arguments: [jobID]).map { row in
                JobEvent(jobID: row["jobID"], sourceServerID: row["sourceServerID"], at: row["at"], event: row["event"], detail: row["detail"])
            }
        }
    }

    /// Keeps what a launch job's convert stage did (or found, when it skipped or refused).
    public func saveConversion(_ conversion: LaunchConversion, jobID: String, sourceServerID: String) throws {
        try database.write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO conversionReport (jobID, sourceServerID, createdAt, report) VALUES (?, ?, ?, ?)",
                arguments: [jobID, sourceServerID, Date(), try JSONColumn.encode(conversion)]
            )
        }
    }

    /// The convert stage of one job, if it got that far.
    public func conversion(jobID: String) throws -> LaunchConversion? {
        try database.read { db in
            try String.fetchOne(db, sql: "SELECT report FROM conversionReport WHERE jobID = ?", arguments: [jobID])
        }.map { try JSONColumn.decode(LaunchConversion.self, from: $0) }
    }

    /// The newest conversion of a server's launches, with its job's id.
    public func latestConversion(sourceServerID: String) throws -> (jobID: String, conversion: LaunchConversion)? {
        let row = try database.read { db in
            try Row.fetchOne(db, sql: "SELECT jobID, report FROM conversionReport WHERE sourceServerID = ? ORDER BY createdAt DESC, rowid DESC LIMIT 1",
                             arguments: [sourceServerID])
        }
        guard let row else { return nil }
        return (row["jobID"], try JSONColumn.decode(LaunchConversion.self, from: row["report"]))
    }

    private static func decode<T: RawRepresentable>(_: T.Type, _ raw: String) throws -> T where T.RawValue == String {
        guard let value = T(rawValue: raw) else { throw WorkspaceError.database(path: "job", message: "unknown value '\(raw)' for \(T.self)") }
        return value
    }
}
