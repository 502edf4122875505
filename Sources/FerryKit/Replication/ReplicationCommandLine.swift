import FerryReplication
import Foundation

/// The command lines of `ferry replication-server` and `ferry agent` for the recipe steps that
/// start them as processes of their own (the replication server of the staging area, the
/// agent installed on a source), built in one place. The server reports where it listens by
/// writing a port file, not in words that a caller would have to read back from its log.
public enum ReplicationCommandLine {
    public static func server(workspace: URL, listen: String, portFile: URL, stallAfterSeconds: Int, disconnectAfterSeconds: Int, advertise: String? = nil) -> [String] {
        ["replication-server", "--workspace", workspace.path, "--listen", listen, "--port-file", portFile.path,
         "--stall-after", String(stallAfterSeconds), "--disconnect-after", String(disconnectAfterSeconds)]
            + (advertise.map { ["--advertise", $0] } ?? [])
    }

    /// The agent of a continuous replication; the token goes in its environment
    /// (`FERRY_AGENT_TOKEN`), never on its command line, where `ps` would show it.
    /// `hypervisorMonitor`: the QMP socket of the QEMU process running the disks, whose
    /// dirty bitmaps then track their writes.
    public static func continuousAgent(server: ReplicationEndpoint, identity: String, hostname: String, intervalSeconds: Int, diskPaths: [String], pin: CertificatePin,
                                       hypervisorMonitor: String? = nil) -> [String] {
        ["agent", "--server", server.description, "--pin", pin.description, "--continuous", "--interval", String(intervalSeconds),
         "--identity", identity, "--hostname", hostname, "--output", "json"] + diskPaths.flatMap { ["--disk", $0] }
            + (hypervisorMonitor.map { ["--hypervisor-monitor", $0] } ?? [])
    }
}

/// The file in which a replication server writes the address it listens on (`host:port` and
/// a newline), once it listens: written beside and renamed, so a reader sees all or nothing.
public enum ReplicationPortFile {
    public static func write(_ endpoint: ReplicationEndpoint, to file: URL) throws {
        let temporary = file.deletingLastPathComponent().appendingPathComponent(".\(file.lastPathComponent).\(getpid())")
        try Data((endpoint.description + "\n").utf8).write(to: temporary)
        guard rename(temporary.path, file.path) == 0 else {
            throw WorkspaceError.file(path: file.path, operation: "rename", message: String(cString: strerror(errno)))
        }
    }

    /// The address in `file`, or nil while it is not written yet.
    public static func read(_ file: URL) throws -> ReplicationEndpoint? {
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { return nil }
        return try ReplicationEndpoint(parsing: text.trimmingCharacters(in: .whitespacesAndNewlines), option: "the port file \(file.path)")
    }
}
