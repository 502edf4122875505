import FerryCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Where the workspace's replication server runs, as it wrote when it began to listen: the
/// address it listens on, the address agents reach it at (in a staging subnet, that subnet's
/// address rather than this machine's), and its pid. `ferry agent token` reads it to print
/// the installer's command with the right address.
public struct RunningReplicationServer: Codable, Hashable, Sendable {
    public var listening: String
    public var advertised: String
    public var pid: Int32

    public init(listening: String, advertised: String, pid: Int32 = getpid()) {
        self.listening = listening
        self.advertised = advertised
        self.pid = pid
    }

    static func file(in workspace: Workspace) -> URL { workspace.root.appendingPathComponent("replication-server.json") }

    func write(in workspace: Workspace) throws {
        let file = Self.file(in: workspace)
        let temporary = file.deletingLastPathComponent().appendingPathComponent(".replication-server.json.\(getpid())")
        try JSONEncoder().encode(self).write(to: temporary)
        guard rename(temporary.path, file.path) == 0 else {
            throw WorkspaceError.file(path: file.path, operation: "rename", message: String(cString: strerror(errno)))
        }
    }

    /// The server of `workspace` if one runs now.
    public static func current(in workspace: Workspace) -> RunningReplicationServer? {
        guard let data = FileManager.default.contents(atPath: file(in: workspace).path),
              let record = try? JSONDecoder().decode(RunningReplicationServer.self, from: data),
              record.pid > 0, kill(record.pid, 0) == 0 || errno == EPERM else { return nil }
        return record
    }
}
