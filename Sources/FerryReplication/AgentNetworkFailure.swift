import FerryCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOPosix
import Synchronization

/// The agent could not reach the replication server, or lost it, as often as it may try.
/// Errors of the network are told apart from every other failure, so that a source that
/// fails (a disk, a plugin) is never reported, nor retried, as a network problem.
public struct AgentNetworkFailure: Error, CustomStringConvertible {
    public var server: String
    public var attempts: Int
    public var reason: String

    /// The server itself answered that it failed (rather than the network failing).
    public var serverFailed: Bool

    public var description: String {
        let check = serverFailed
            ? "Fix what the server reports (free space on its staging disk, say)"
            : "Check that it runs (`ferry replication-server`) and that this machine reaches TCP \(server.split(separator: ":").last ?? "1500") on it"
        return "could not replicate to the replication server at \(server) (\(attempts) attempt\(attempts == 1 ? "" : "s")): \(reason). "
            + "\(check), then run the agent again: blocks the server acknowledged are not sent again."
    }

    /// What went wrong, in words, when `error` is one that a new connection may cure; nil otherwise.
    package static func reason(for error: any Error, server: String) -> String? {
        switch error {
        case let error as ReplicationProtocolError:
            switch error {
            case .connectionClosed: return error.description
            case .integrity(let what): return "a frame was damaged on the way (\(what))"
            case .serverFailed(let why): return "the replication server failed: \(why)"
            default: return nil
            }
        case let error as IOError:
            return String(cString: strerror(error.errnoCode))
        case let error as NIOConnectionError:
            let causes = error.connectionErrors.map { attempt in
                let address = attempt.target.ipAddress.map { "\($0):\(attempt.target.port ?? 0)" } ?? "\(attempt.target)"
                return "\(address): " + (Self.reason(for: attempt.error, server: address) ?? "\(attempt.error)")
            }
            return causes.isEmpty ? "\(server) cannot be resolved to an address" : "cannot connect to " + causes.joined(separator: "; ")
        case let error as ChannelError:
            switch error {
            case .connectTimeout(let timeout): return "\(server) did not answer within \(timeout.nanoseconds / 1_000_000_000) s"
            case .ioOnClosedChannel, .alreadyClosed, .eof, .outputClosed, .inputClosed: return "the connection to \(server) was lost"
            default: return "the connection to \(server) failed (\(error))"
            }
        default:
            return nil
        }
    }
}

/// Set once the agent has registered on a connection.
package final class ConnectedFlag: Sendable {
    private let value = Mutex(false)
    package func set() { value.withLock { $0 = true } }
    package var isSet: Bool { value.withLock { $0 } }
}
