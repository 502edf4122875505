import FerryCore
import Foundation
import GRDB

/// Source servers in the workspace database, and their lifecycle changes.
public struct SourceServerStore: Sendable {
    let database: DatabaseQueue

    public init(database: DatabaseQueue) {
        self.database = database
    }

    public func list() throws -> [SourceServer] {
        try database.read { db in
            try SourceServerRow.order(Column("createdAt"), Column("id")).fetchAll(db).map { try $0.model() }
        }
    }

    public func find(id: String) throws -> SourceServer {
        try database.read { db in try Self.fetch(id: id, in: db) }
    }

    /// Inserts `server`, or replaces the record with the same id.
    public func save(_ server: SourceServer) throws {
        try database.write { db in try SourceServerRow(server).save(db) }
    }

    /// Applies `action` to the server's lifecycle, atomically, and records the transition.
    @discardableResult
    public func perform(_ action: LifecycleAction, on id: String, at date: Date = Date()) throws -> SourceServer {
        try database.write { db in
            var server = try Self.fetch(id: id, in: db)
            let from = server.lifecycleState
            server.lifecycleState = try LifecycleTransitions.apply(action, to: from, server: id)
            server.updatedAt = date
            try SourceServerRow(server).update(db)
            try db.execute(
                sql: "INSERT INTO lifecycleTransition (sourceServerID, at, action, fromState, toState) VALUES (?, ?, ?, ?, ?)",
                arguments: [id, date, action.rawValue, from.rawValue, server.lifecycleState.rawValue]
            )
            return server
        }
    }

    /// Applies a data replication event, atomically.
    @discardableResult
    public func record(_ event: DataReplicationEvent, for id: String, at date: Date = Date()) throws -> SourceServer {
        try database.write { db in
            var server = try Self.fetch(id: id, in: db)
            server.dataReplicationState = try DataReplicationTransitions.apply(event, to: server.dataReplicationState, server: id)
            server.updatedAt = date
            try SourceServerRow(server).update(db)
            return server
        }
    }

    /// Changes a server with `body`, atomically.
    @discardableResult
    public func update(_ id: String, at date: Date = Date(), _ body: (inout SourceServer) throws -> Void) throws -> SourceServer {
        try database.write { db in
            var server = try Self.fetch(id: id, in: db)
            try body(&server)
            server.updatedAt = date
            try SourceServerRow(server).update(db)
            return server
        }
    }

    /// Applies a data replication event when the current state allows it.
    /// - Returns: whether the state changed.
    @discardableResult
    public func recordIfAllowed(_ event: DataReplicationEvent, for id: String) throws -> Bool {
        try database.write { db in
            var server = try Self.fetch(id: id, in: db)
            guard let next = DataReplicationTransitions.target(of: event, from: server.dataReplicationState) else { return false }
            server.dataReplicationState = next
            server.updatedAt = Date()
            try SourceServerRow(server).update(db)
            return true
        }
    }

    /// The source server an agent's machine is recorded as, created on its first registration;
    /// its facts are refreshed on every registration.
    public func register(agentIdentity: String, facts: MachineFacts, adapter: String) throws -> SourceServer {
        try database.write { db in
            if let id = try String.fetchOne(db, sql: "SELECT sourceServerID FROM agentRegistration WHERE identity = ?", arguments: [agentIdentity]) {
                var server = try Self.fetch(id: id, in: db)
                server.facts = facts
                server.updatedAt = Date()
                try SourceServerRow(server).update(db)
                return server
            }
            var server = SourceServer(adapter: adapter, facts: facts)
            server.replicationMetrics.totalBytes = facts.disks.reduce(0) { $0 + $1.sizeBytes }
            try SourceServerRow(server).insert(db)
            try db.execute(sql: "INSERT INTO agentRegistration (identity, sourceServerID) VALUES (?, ?)", arguments: [agentIdentity, server.id])
            return server
        }
    }

    /// The source server an agent registered as, if it has.
    public func find(agentIdentity: String) throws -> SourceServer? {
        try database.read { db in
            guard let id = try String.fetchOne(db, sql: "SELECT sourceServerID FROM agentRegistration WHERE identity = ?", arguments: [agentIdentity]) else { return nil }
            return try Self.fetch(id: id, in: db)
        }
    }

    /// The lifecycle changes of one server, oldest first.
    public func history(of id: String) throws -> [LifecycleTransitionRecord] {
        try database.read { db in
            _ = try Self.fetch(id: id, in: db)
            return try Row.fetchAll(
                db, sql: "SELECT at, action, fromState, toState FROM lifecycleTransition WHERE sourceServerID = ? ORDER BY id", arguments: [id]
            ).map { row in
                guard let action = LifecycleAction(rawValue: row["action"]),
                      let from = LifecycleState(rawValue: row["fromState"]), let to = LifecycleState(rawValue: row["toState"]) else {
                    throw WorkspaceError.database(path: "lifecycleTransition", message: "server \(id) has a transition with unknown names: \(row)")
                }
                return LifecycleTransitionRecord(at: row["at"], action: action, from: from, to: to)
            }
        }
    }

    private static func fetch(id: String, in db: Database) throws -> SourceServer {
        guard let row = try SourceServerRow.fetchOne(db, key: id) else {
            throw WorkspaceError.sourceServerNotFound(id: id)
        }
        return try row.model()
    }
}

public struct LifecycleTransitionRecord: Codable, Hashable, Sendable {
    public var at: Date
    public var action: LifecycleAction
    public var from: LifecycleState
    public var to: LifecycleState
}

/// The database row of a source server: scalar columns for what is queried, JSON for the rest.
struct SourceServerRow: Codable, FetchableRecord, PersistableRecord {
    static let databaseTableName = "sourceServer"

    var id: String
    var adapter: String
    var hostname: String
    var lifecycleState: String
    var dataReplicationState: String
    var facts: String
    var replicationSettings: String
    var launchSettings: String
    var replicationMetrics: String
    var createdAt: Date
    var updatedAt: Date

    init(_ server: SourceServer) throws {
        id = server.id
        adapter = server.adapter
        hostname = server.facts.hostname
        lifecycleState = server.lifecycleState.rawValue
        dataReplicationState = server.dataReplicationState.rawValue
        facts = try JSONColumn.encode(server.facts)
        replicationSettings = try JSONColumn.encode(server.replicationSettings)
        launchSettings = try JSONColumn.encode(server.launchSettings)
        replicationMetrics = try JSONColumn.encode(server.currentReplicationMetrics)
        createdAt = server.createdAt
        updatedAt = server.updatedAt
    }

    func model() throws -> SourceServer {
        guard let lifecycle = LifecycleState(rawValue: lifecycleState) else {
            throw WorkspaceError.database(path: "sourceServer", message: "server \(id) has unknown lifecycle state '\(lifecycleState)'")
        }
        guard let replication = DataReplicationState(rawValue: dataReplicationState) else {
            throw WorkspaceError.database(path: "sourceServer", message: "server \(id) has unknown replication state '\(dataReplicationState)'")
        }
        var server = SourceServer(
            id: id, adapter: adapter,
            facts: try JSONColumn.decode(MachineFacts.self, from: facts),
            lifecycleState: lifecycle, dataReplicationState: replication,
            replicationSettings: try JSONColumn.decode(ReplicationSettings.self, from: replicationSettings),
            launchSettings: try JSONColumn.decode(LaunchSettings.self, from: launchSettings),
            replicationMetrics: try JSONColumn.decode(ReplicationMetrics.self, from: replicationMetrics),
            createdAt: createdAt, updatedAt: updatedAt
        )
        // Also for a server archived before the metrics were cleared on write.
        server.replicationMetrics = server.currentReplicationMetrics
        return server
    }
}
