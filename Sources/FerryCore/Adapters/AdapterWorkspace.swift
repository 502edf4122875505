import Foundation

/// The part of a workspace an adapter may use: a folder of its own. The engine owns the
/// workspace and its database; an adapter that keeps state (the sandbox keeps a whole cloud)
/// is handed this instead, so that it keeps its own files and never reaches into the
/// engine's tables, and so that adapters need not know how a workspace is laid out.
public protocol AdapterWorkspace: Sendable {
    /// The workspace's folder, for messages.
    var root: URL { get }

    /// The folder for the adapter named `adapter`, inside the workspace, created when
    /// missing. Throws, saying how to create a workspace, when there is none: an adapter
    /// never creates the workspace itself.
    func directory(forAdapter adapter: String) throws -> URL
}
