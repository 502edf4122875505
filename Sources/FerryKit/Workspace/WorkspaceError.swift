import FerryCore
public enum WorkspaceError: Error, Hashable, Sendable, CustomStringConvertible {
    case notFound(path: String)
    case notAWorkspace(path: String, reason: String)
    case sourceServerNotFound(id: String)
    case database(path: String, message: String)
    /// A file of the workspace (its token, say) could not be written.
    case file(path: String, operation: String, message: String)

    public var description: String {
        switch self {
        case .notFound(let path):
            return "no Ferry workspace at \(path): create one with `ferry init` (or point to one with --workspace PATH or FERRY_WORKSPACE)"
        case .notAWorkspace(let path, let reason):
            return "\(path) is not a Ferry workspace: \(reason)"
        case .sourceServerNotFound(let id):
            return "no source server '\(id)' in this workspace (see `ferry source list`)"
        case .database(let path, let message):
            return "workspace database \(path): \(message)"
        case .file(let path, let operation, let message):
            return "workspace file \(path): \(operation) failed: \(message)"
        }
    }
}
