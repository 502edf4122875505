import FerryCore
import Foundation
import GRDB

/// Runs, their steps and the resources they created, in the workspace database.
public struct RecipeRunStore: Sendable {
    let database: DatabaseQueue

    public init(workspace: Workspace) {
        database = workspace.database
    }

    public func createRun(_ run: RecipeRun) throws {
        try database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO recipeRun (id, recipe, recipeFile, sourceAdapter, targetAdapter, parameters, language, status, startedAt)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [run.id, run.recipe, run.recipeFile, run.sourceAdapter, run.targetAdapter,
                            try JSONColumn.encode(run.parameters), run.language, run.status.rawValue, run.startedAt]
            )
            for (position, step) in run.steps.enumerated() {
                try db.execute(
                    sql: "INSERT INTO recipeStep (runID, stepID, position, status) VALUES (?, ?, ?, ?)",
                    arguments: [run.id, step.stepID, position, RecipeStepStatus.pending.rawValue]
                )
            }
        }
    }

    public func run(_ id: String) throws -> RecipeRun {
        try database.read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM recipeRun WHERE id = ?", arguments: [id]) else { throw RecipeError.runNotFound(id) }
            return try Self.run(from: row, db: db)
        }
    }

    /// All runs, newest first.
    public func runs() throws -> [RecipeRun] {
        try database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM recipeRun ORDER BY startedAt DESC, rowid DESC").map { try Self.run(from: $0, db: db) }
        }
    }

    private static func run(from row: Row, db: Database) throws -> RecipeRun {
        let id: String = row["id"]
        let steps = try Row.fetchAll(db, sql: "SELECT * FROM recipeStep WHERE runID = ? ORDER BY position", arguments: [id]).map { step in
            RecipeStepRecord(
                stepID: step["stepID"], status: RecipeStepStatus(rawValue: step["status"]) ?? .pending,
                startedAt: step["startedAt"], endedAt: step["endedAt"],
                outputs: try JSONColumn.decode([String: RecipeValue].self, from: step["outputs"]), error: step["error"]
            )
        }
        let resources = try Row.fetchAll(db, sql: "SELECT * FROM recipeResource WHERE runID = ? ORDER BY id", arguments: [id]).map { r in
            // A resource of a kind this version does not know must not be destroyed as something else.
            guard let environment = RecipeEnvironment(rawValue: r["environment"]), let kind = CloudResourceKind(rawValue: r["kind"]) else {
                throw WorkspaceError.database(path: "recipeResource", message: "run \(id) recorded a resource Ferry does not know: \(r)")
            }
            return RecipeResourceRecord(
                sequence: r["id"], stepID: r["stepID"], environment: environment,
                resource: CloudResource(kind: kind, id: r["resourceID"]),
                detail: r["detail"], createdAt: r["createdAt"], destroyedAt: r["destroyedAt"]
            )
        }
        return RecipeRun(
            id: id, recipe: row["recipe"], recipeFile: row["recipeFile"], sourceAdapter: row["sourceAdapter"], targetAdapter: row["targetAdapter"],
            parameters: try JSONColumn.decode([String: RecipeValue].self, from: row["parameters"]), language: row["language"],
            status: RecipeRunStatus(rawValue: row["status"]) ?? .failed, startedAt: row["startedAt"], endedAt: row["endedAt"],
            steps: steps, resources: resources
        )
    }

    public func setStatus(run id: String, _ status: RecipeRunStatus, ended: Bool = false) throws {
        try database.write { db in
            try db.execute(sql: "UPDATE recipeRun SET status = ?, endedAt = ? WHERE id = ?", arguments: [status.rawValue, ended ? Date() : nil, id])
        }
    }

    public func startStep(run id: String, step: String) throws {
        try database.write { db in
            try db.execute(sql: "UPDATE recipeStep SET status = ?, startedAt = ?, endedAt = NULL, error = NULL WHERE runID = ? AND stepID = ?",
                           arguments: [RecipeStepStatus.running.rawValue, Date(), id, step])
        }
    }

    public func finishStep(run id: String, step: String, outputs: [String: RecipeValue]) throws {
        try database.write { db in
            try db.execute(sql: "UPDATE recipeStep SET status = ?, endedAt = ?, outputs = ? WHERE runID = ? AND stepID = ?",
                           arguments: [RecipeStepStatus.succeeded.rawValue, Date(), try JSONColumn.encode(outputs), id, step])
        }
    }

    public func failStep(run id: String, step: String, error: String) throws {
        try database.write { db in
            try db.execute(sql: "UPDATE recipeStep SET status = ?, endedAt = ?, error = ? WHERE runID = ? AND stepID = ?",
                           arguments: [RecipeStepStatus.failed.rawValue, Date(), error, id, step])
        }
    }

    /// Records a resource the moment it exists.
    public func recordResource(run id: String, step: String, environment: RecipeEnvironment, resource: CloudResource, detail: String) throws {
        try database.write { db in
            try db.execute(
                sql: "INSERT INTO recipeResource (runID, stepID, environment, kind, resourceID, detail, createdAt) VALUES (?, ?, ?, ?, ?, ?, ?)",
                arguments: [id, step, environment.rawValue, resource.kind.rawValue, resource.id, detail, Date()]
            )
        }
    }

    public func markDestroyed(sequence: Int64) throws {
        try database.write { db in
            try db.execute(sql: "UPDATE recipeResource SET destroyedAt = ? WHERE id = ?", arguments: [Date(), sequence])
        }
    }
}

public enum RecipeRunStatus: String, Codable, Hashable, Sendable {
    case running, succeeded, failed, destroying, destroyed
}

public enum RecipeStepStatus: String, Codable, Hashable, Sendable {
    case pending, running, succeeded, failed
}

public struct RecipeRun: Codable, Hashable, Sendable {
    public var id: String
    public var recipe: String
    public var recipeFile: String
    public var sourceAdapter: String
    public var targetAdapter: String
    public var parameters: [String: RecipeValue]
    public var language: String
    public var status: RecipeRunStatus
    public var startedAt: Date
    public var endedAt: Date?
    public var steps: [RecipeStepRecord]
    public var resources: [RecipeResourceRecord]
    /// Set by `noticingInterruption(in:)` when no process is behind a run recorded as
    /// running; never stored.
    public var interruption: RecipeRunInterruption? = nil

    public func step(_ id: String) -> RecipeStepRecord? { steps.first { $0.stepID == id } }
}

public struct RecipeStepRecord: Codable, Hashable, Sendable {
    public var stepID: String
    public var status: RecipeStepStatus
    public var startedAt: Date?
    public var endedAt: Date?
    public var outputs: [String: RecipeValue]
    public var error: String?

    public var seconds: Double? {
        guard let startedAt, let endedAt else { return nil }
        return endedAt.timeIntervalSince(startedAt)
    }
}

public struct RecipeResourceRecord: Codable, Hashable, Sendable {
    public var sequence: Int64
    public var stepID: String
    public var environment: RecipeEnvironment
    public var resource: CloudResource
    public var detail: String
    public var createdAt: Date
    public var destroyedAt: Date?
}
