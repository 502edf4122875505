import FerryCore
import FerryReplication
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Crypto
import Foundation

/// The project's agent token: what an agent must prove it holds before the replication
/// server accepts a single block. It lives in a file only the owner can read, never in the
/// database, and is printed only by `ferry agent token`.
public struct AgentTokenStore: Sendable {
    public let path: URL

    public init(workspace: Workspace) {
        path = workspace.root.appendingPathComponent("agent-token")
    }

    /// Creates a token unless one exists.
    /// - Returns: whether a token was created.
    @discardableResult
    public func createIfMissing() throws -> Bool {
        if FileManager.default.fileExists(atPath: path.path) { return false }
        try store(Self.generate())
        return true
    }

    public func read() throws -> Secret {
        guard let text = try? String(contentsOf: path, encoding: .utf8) else {
            throw ReplicationProtocolError.authenticationFailed("the workspace has no agent token at \(path.path); run `ferry init`")
        }
        return Secret(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Replaces the token: agents holding the old one are refused from now on.
    public func rotate() throws -> Secret {
        let token = Self.generate()
        try store(token)
        return token
    }

    /// 32 random bytes, hex.
    static func generate() -> Secret {
        Secret(SymmetricKey(size: .bits256).withUnsafeBytes { $0.map { String(format: "%02x", $0) }.joined() })
    }

    private func store(_ token: Secret) throws {
        // Written to a private temporary file, then renamed: never readable by others, never half-written.
        let temporary = path.deletingLastPathComponent().appendingPathComponent(".agent-token.\(getpid())")
        let fd = open(temporary.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw WorkspaceError.file(path: temporary.path, operation: "create", message: String(cString: strerror(errno))) }
        let bytes = Array((token.reveal() + "\n").utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        fsync(fd)
        close(fd)
        guard written == bytes.count else { throw WorkspaceError.file(path: temporary.path, operation: "write", message: "short write") }
        guard rename(temporary.path, path.path) == 0 else {
            throw WorkspaceError.file(path: path.path, operation: "rename", message: String(cString: strerror(errno)))
        }
    }
}
