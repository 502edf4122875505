import FerryCore
import Foundation
import GRDB

/// One project's state: a SQLite database and a staging folder, in one directory
/// (`./.ferry` unless told otherwise).
public final class Workspace: Sendable {
    public static let defaultDirectoryName = ".ferry"
    public static let environmentVariable = "FERRY_WORKSPACE"
    static let databaseFileName = "ferry.sqlite"

    public let root: URL
    public let database: DatabaseQueue

    public var databaseURL: URL { root.appendingPathComponent(Self.databaseFileName) }
    /// Chunk segments and snapshot manifests live here.
    public var stagingDirectory: URL { root.appendingPathComponent("staging", isDirectory: true) }

    private init(root: URL, database: DatabaseQueue) {
        self.root = root
        self.database = database
    }

    /// The workspace path: `explicit` if given, else `$FERRY_WORKSPACE`, else `./.ferry`.
    public static func resolvePath(explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment, currentDirectory: String = FileManager.default.currentDirectoryPath) -> URL {
        let chosen = explicit ?? environment[environmentVariable] ?? defaultDirectoryName
        let base = URL(fileURLWithPath: currentDirectory, isDirectory: true)
        return URL(fileURLWithPath: chosen, isDirectory: true, relativeTo: base).standardizedFileURL
    }

    /// Whether a workspace has been created at `root` (without opening it).
    public static func exists(at root: URL) -> Bool {
        FileManager.default.fileExists(atPath: root.appendingPathComponent(databaseFileName).path)
    }

    /// Opens an existing workspace, bringing its database schema up to date.
    public static func open(at root: URL) throws -> Workspace {
        guard exists(at: root) else {
            throw WorkspaceError.notFound(path: root.path)
        }
        return try connect(root: root)
    }

    /// Creates a workspace at `root`, or opens the one already there.
    /// - Returns: the workspace and whether it was created now.
    public static func create(at root: URL, ferryVersion: String) throws -> (workspace: Workspace, created: Bool) {
        let fileManager = FileManager.default
        if fileManager.fileExists(atPath: root.appendingPathComponent(databaseFileName).path) {
            return (try connect(root: root), false)
        }
        var isDirectory: ObjCBool = false
        if fileManager.fileExists(atPath: root.path, isDirectory: &isDirectory), !isDirectory.boolValue {
            throw WorkspaceError.notAWorkspace(path: root.path, reason: "it is a file")
        }
        try fileManager.createDirectory(at: root, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let workspace = try connect(root: root)
        try fileManager.createDirectory(at: workspace.stagingDirectory, withIntermediateDirectories: true)
        try workspace.database.write { db in
            try db.execute(
                sql: "INSERT INTO project (id, createdAt, ferryVersion) VALUES (?, ?, ?)",
                arguments: [ResourceID.make(prefix: "project"), Date(), ferryVersion]
            )
        }
        return (workspace, true)
    }

    private static func connect(root: URL) throws -> Workspace {
        let databaseURL = root.appendingPathComponent(databaseFileName)
        try restrictToOwner(root: root, databaseURL: databaseURL)
        do {
            var configuration = Configuration()
            configuration.foreignKeysEnabled = true
            configuration.busyMode = .timeout(10)
            let queue = try DatabaseQueue(path: databaseURL.path, configuration: configuration)
            try queue.writeWithoutTransaction { db in
                // WAL lets `ferry source show` read while the replication server writes.
                _ = try String.fetchOne(db, sql: "PRAGMA journal_mode=WAL")
            }
            try WorkspaceSchema.migrator.migrate(queue)
            return Workspace(root: root, database: queue)
        } catch let error as DatabaseError {
            throw WorkspaceError.database(path: databaseURL.path, message: error.message ?? error.description)
        }
    }

    /// The workspace holds what a migration knows of its machines (their facts, every block
    /// of their disks): only its owner may read it, also when `init` was given an existing
    /// folder or an older workspace is opened. The database file is made 0600 before SQLite
    /// opens it, because SQLite creates its -wal and -shm files with the database's mode;
    /// the ones already there are tightened too.
    static func restrictToOwner(root: URL, databaseURL: URL) throws {
        let fileManager = FileManager.default
        do {
            try fileManager.setAttributes([.posixPermissions: 0o700], ofItemAtPath: root.path)
            if !fileManager.fileExists(atPath: databaseURL.path) {
                // An empty file is a new database to SQLite.
                guard fileManager.createFile(atPath: databaseURL.path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                    throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: databaseURL.path])
                }
            }
            for suffix in ["", "-wal", "-shm"] where fileManager.fileExists(atPath: databaseURL.path + suffix) {
                try fileManager.setAttributes([.posixPermissions: 0o600], ofItemAtPath: databaseURL.path + suffix)
            }
        } catch {
            throw WorkspaceError.file(path: root.path, operation: "make the workspace private to its owner (0700, database 0600)", message: error.localizedDescription)
        }
    }

    public var sourceServers: SourceServerStore { SourceServerStore(database: database) }
    public var jobs: JobStore { JobStore(workspace: self) }
}
