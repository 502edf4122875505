import FerryCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The secrets a run makes for what it builds (the WordPress administrator's password): each
/// a file only the owner can read, in the run's folder, never in the database or a log, and
/// gone with the run when it is destroyed — as the agent token is kept beside the workspace's
/// database rather than in it.
public struct RecipeRunSecrets: Sendable {
    public let directory: URL

    public init(runDirectory: URL) {
        directory = runDirectory.appendingPathComponent("secrets", isDirectory: true)
    }

    /// The secret called `name`, made (24 random letters and digits) on first use.
    public func secret(named name: String) throws -> Secret {
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw RecipeInputError.invalid(name: "secret", reason: "'\(name)' is not a secret's name (letters, digits, - and _)")
        }
        let file = directory.appendingPathComponent(name)
        if let text = try? String(contentsOf: file, encoding: .utf8) { return Secret(text) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let value = Self.generate()
        // Private from its first byte, then renamed into place: never readable by others, never half-written.
        let temporary = directory.appendingPathComponent(".\(name).\(getpid())")
        guard FileManager.default.createFile(atPath: temporary.path, contents: Data(value.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw WorkspaceError.file(path: temporary.path, operation: "create", message: "cannot write a secret there")
        }
        // Two processes making the same secret at once: the first to link it wins, the other reads it.
        if link(temporary.path, file.path) != 0 {
            unlink(temporary.path)
            guard let text = try? String(contentsOf: file, encoding: .utf8) else {
                throw WorkspaceError.file(path: file.path, operation: "link", message: String(cString: strerror(errno)))
            }
            return Secret(text)
        }
        unlink(temporary.path)
        return Secret(value)
    }

    /// Forgets every secret of the run.
    public func removeAll() {
        try? FileManager.default.removeItem(at: directory)
    }

    /// Letters and digits only: a password that survives a form, a shell and XML unescaped.
    static func generate() -> String {
        let alphabet = Array("abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        var generator = SystemRandomNumberGenerator()
        return String((0..<24).map { _ in alphabet.randomElement(using: &generator)! })
    }
}
