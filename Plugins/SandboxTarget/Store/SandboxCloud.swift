import FerryCore
import Foundation
import GRDB

/// The sandbox cloud of one workspace: its records in a database of its own
/// (`<workspace>/sandbox/sandbox.sqlite`) and its files (volumes, instance disks, console
/// logs) beside it. The workspace's own database is the engine's and is never touched here.
public struct SandboxCloud: Sendable {
    static let databaseFileName = "sandbox.sqlite"

    public let directory: URL
    /// The sandbox's records; public for tests that check what is (and is not) stored.
    public let database: DatabaseQueue
    /// Reads the qcow2 disks of instances: the engine's reader, handed in by the CLI.
    let diskImages: any DiskImageReading

    /// Opens (or creates) the sandbox kept in `directory`, bringing its tables up to date.
    public init(directory: URL, diskImages: any DiskImageReading) throws {
        self.directory = directory
        self.diskImages = diskImages
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        self.database = try Self.openDatabase(at: directory.appendingPathComponent(Self.databaseFileName))
        try createFolders()
    }

    private static func openDatabase(at url: URL) throws -> DatabaseQueue {
        var configuration = Configuration()
        // Several `ferry` processes (a recipe, `ferry sandbox status`) may use one sandbox.
        configuration.busyMode = .timeout(10)
        let queue = try DatabaseQueue(path: url.path, configuration: configuration)
        try queue.writeWithoutTransaction { db in
            // WAL lets `ferry sandbox status` read while a recipe writes.
            _ = try String.fetchOne(db, sql: "PRAGMA journal_mode=WAL")
        }
        try SandboxSchema.migrator.migrate(queue)
        return queue
    }

    func createFolders() throws {
        for folder in [volumesDirectory, instancesDirectory] {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        }
    }

    /// Whether `name`, in `directory`, is one of the database's own files (with its WAL and
    /// shared-memory files), which stay while the sandbox is open.
    static func isDatabaseFile(_ name: String) -> Bool {
        name == databaseFileName || name.hasPrefix(databaseFileName + "-")
    }

    var volumesDirectory: URL { directory.appendingPathComponent("volumes", isDirectory: true) }
    var instancesDirectory: URL { directory.appendingPathComponent("instances", isDirectory: true) }

    func instanceDirectory(_ id: String) -> URL { instancesDirectory.appendingPathComponent(id, isDirectory: true) }
}

/// Tags as stored.
func tagsText(_ tags: ResourceTags) -> String { JSONText.encode(tags) }
