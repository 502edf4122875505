import FerryKit
import Foundation
import GRDB

/// The sandbox cloud of one workspace: its records in the workspace database and its files
/// (volumes, instance disks, console logs) under `<workspace>/sandbox`.
public struct SandboxCloud: Sendable {
    public let workspace: Workspace
    public let directory: URL

    var database: DatabaseQueue { workspace.database }

    /// Opens the sandbox of `workspace`, bringing its tables up to date.
    public init(workspace: Workspace) throws {
        self.workspace = workspace
        self.directory = workspace.root.appendingPathComponent("sandbox", isDirectory: true)
        try SandboxSchema.migrator.migrate(workspace.database)
        for folder in [volumesDirectory, instancesDirectory] {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        }
    }

    var volumesDirectory: URL { directory.appendingPathComponent("volumes", isDirectory: true) }
    var instancesDirectory: URL { directory.appendingPathComponent("instances", isDirectory: true) }

    func instanceDirectory(_ id: String) -> URL { instancesDirectory.appendingPathComponent(id, isDirectory: true) }
}

/// Tags as stored.
func tagsText(_ tags: ResourceTags) -> String { JSONText.encode(tags) }
