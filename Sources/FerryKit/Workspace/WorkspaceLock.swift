import FerryCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// An exclusive lock on one part of a workspace (its staging store, one recipe run), held by
/// one process at a time. It is an `flock` on a file under `locks/`: the kernel releases it
/// when the holder exits, however it exits, so a lock left by a killed process is simply
/// taken by the next one. The file says who holds it, for the loser's error message.
///
/// Two `WorkspaceLock`s of the same name exclude each other inside one process too (each
/// opens the file anew), so a second replication server in the same process is refused.
public final class WorkspaceLock: Sendable {
    public let name: String
    public let path: String
    private let descriptor: Int32

    /// Takes the lock `name` of the workspace at once, or throws `WorkspaceLockError.held`
    /// naming the holder.
    /// - Parameter purpose: what the holder is doing, shown to whoever is refused.
    public init(workspace: Workspace, name: String, purpose: String) throws {
        let folder = workspace.root.appendingPathComponent("locks", isDirectory: true)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        self.name = name
        path = folder.appendingPathComponent("\(name).lock").path
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw WorkspaceLockError.unusable(name: name, path: path, message: String(cString: strerror(errno))) }
        var result: Int32
        repeat { result = flock(fd, LOCK_EX | LOCK_NB) } while result != 0 && errno == EINTR
        guard result == 0 else {
            let failure = errno
            close(fd)
            guard failure == EWOULDBLOCK else {
                throw WorkspaceLockError.unusable(name: name, path: path, message: String(cString: strerror(failure)))
            }
            throw WorkspaceLockError.held(name: name, holder: Self.holder(at: path))
        }
        descriptor = fd
        let record = "pid=\(getpid())\npurpose=\(purpose)\nsince=\(ISO8601DateFormatter().string(from: Date()))\n"
        _ = ftruncate(fd, 0)
        _ = record.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    /// Takes the lock, waiting up to `patience` for its holder to let go (a process that was
    /// just told to stop).
    public static func acquire(workspace: Workspace, name: String, purpose: String, patience: Duration) async throws -> WorkspaceLock {
        let deadline = ContinuousClock.now + patience
        while true {
            do {
                return try WorkspaceLock(workspace: workspace, name: name, purpose: purpose)
            } catch WorkspaceLockError.held where ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(50))
            }
        }
    }

    /// Who holds the lock `name` now, or nil when nobody does. It takes the lock for an
    /// instant to know, without rewriting the file: the file keeps naming the last holder,
    /// which is what a caller wants to show about a holder that is gone.
    public static func liveHolder(workspace: Workspace, name: String) -> WorkspaceLockHolder? {
        let path = workspace.root.appendingPathComponent("locks", isDirectory: true).appendingPathComponent("\(name).lock").path
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }  // never taken
        defer { close(fd) }
        var result: Int32
        repeat { result = flock(fd, LOCK_EX | LOCK_NB) } while result != 0 && errno == EINTR
        return result == 0 ? nil : holder(at: path)
    }

    /// The holder the lock file of `name` names: the live one, or the last one.
    public static func recordedHolder(workspace: Workspace, name: String) -> WorkspaceLockHolder {
        holder(at: workspace.root.appendingPathComponent("locks", isDirectory: true).appendingPathComponent("\(name).lock").path)
    }

    deinit {
        // Closing the last descriptor of the open file releases the flock.
        close(descriptor)
    }

    /// Who holds the lock at `path`, as its file says (empty while a new holder is writing it).
    static func holder(at path: String) -> WorkspaceLockHolder {
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        var fields: [String: String] = [:]
        for line in text.split(separator: "\n") {
            guard let equals = line.firstIndex(of: "=") else { continue }
            fields[String(line[..<equals])] = String(line[line.index(after: equals)...])
        }
        return WorkspaceLockHolder(pid: fields["pid"].flatMap { Int32($0) }, purpose: fields["purpose"], since: fields["since"])
    }
}

public struct WorkspaceLockHolder: Hashable, Sendable {
    public var pid: Int32?
    public var purpose: String?
    public var since: String?
}

public enum WorkspaceLockError: Error, Hashable, Sendable, CustomStringConvertible {
    case held(name: String, holder: WorkspaceLockHolder)
    case unusable(name: String, path: String, message: String)

    public var description: String {
        switch self {
        case .held(let name, let holder):
            let who = holder.pid.map { "process \($0)" } ?? "another process"
            let what = holder.purpose.map { " (\($0)\(holder.since.map { ", since \($0)" } ?? ""))" } ?? ""
            let stop = holder.pid.map { "wait for it to finish or stop it (kill \($0))" } ?? "wait for it to finish or stop it"
            return "the workspace's \(name) lock is held by \(who)\(what): \(stop), then try again"
        case .unusable(let name, let path, let message):
            return "cannot take the workspace's \(name) lock (\(path)): \(message)"
        }
    }
}
