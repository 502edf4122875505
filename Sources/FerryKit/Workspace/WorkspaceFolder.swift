import FerryCore
import Foundation

/// A workspace as adapters see it: a folder of their own in it (`<workspace>/<adapter>`),
/// without the database. It does not open the workspace, so that adapters can be registered
/// and listed where there is none; asking for a folder is what needs one.
public struct WorkspaceFolder: AdapterWorkspace {
    public let root: URL

    public init(root: URL) {
        self.root = root
    }

    public func directory(forAdapter adapter: String) throws -> URL {
        guard Workspace.exists(at: root) else { throw WorkspaceError.notFound(path: root.path) }
        let folder = root.appendingPathComponent(adapter, isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }
}
