import FerryCore
import Foundation

/// Why a call to an external adapter failed. It always names the plugin and its path, and
/// for a plugin that died or hung, what it last wrote on stderr.
///
/// A `PluginError` is about the adapter's process and answers, never about the network
/// between Ferry and a replication server: a caller that retries connections (the agent)
/// must not retry it as one. `.gaveUp` is the end of a plugin that kept crashing.
public struct PluginError: Error, CustomStringConvertible, ResourceNotFoundError {
    public enum Reason: Sendable, Equatable {
        /// The executable could not be started.
        case cannotStart(String)
        /// The process ended (`status` says how) while Ferry waited for an answer.
        case exited(status: String)
        /// No answer within the deadline; Ferry killed the process.
        case timedOut(seconds: Double)
        /// It wrote something that is not a protocol message, or the wrong message.
        case protocolViolation(String)
        /// Its answer contradicts its own claims (sizes, lengths, ranges).
        case inconsistent(String)
        /// It answered with an error.
        case remote(code: Int, message: String)
        /// An earlier failure made Ferry stop talking to it.
        case stopped(after: String)
        /// Its process kept failing (crashing or hanging): after `restarts` restarts within
        /// `window` seconds it failed again, `last` says how, and Ferry does not start it again.
        case gaveUp(restarts: Int, window: Double, last: String)
    }

    public var plugin: String
    public var path: String
    public var method: String?
    public var reason: Reason
    /// The end of what the plugin wrote on stderr, when it failed as a process.
    public var stderrTail: String
    /// With an UnsupportedProtocolVersion answer: the versions the plugin speaks.
    public var remoteSupportedVersions: [Int]?

    public init(plugin: String, path: String, method: String? = nil, reason: Reason, stderrTail: String = "") {
        self.plugin = plugin
        self.path = path
        self.method = method
        self.reason = reason
        self.stderrTail = stderrTail
    }

    public var remoteCode: Int? {
        if case .remote(let code, _) = reason { return code }
        return nil
    }

    public var isResourceNotFound: Bool { remoteCode == PluginErrorCode.notFound }

    /// Whether the process ended by itself (a crash, an exit) while Ferry waited for it.
    var isExit: Bool {
        if case .exited = reason { return true }
        return false
    }

    /// The reason alone, without the plugin's name (for `ferry adapters`' broken list).
    public var reasonText: String {
        let during = method.map { " during \($0)" } ?? ""
        switch reason {
        case .cannotStart(let why): return "cannot be started: \(why)"
        case .exited(let status): return "exited (\(status))\(during)"
        case .timedOut(let seconds): return "gave no answer\(during) within \(Self.seconds(seconds)) s, so Ferry stopped it"
        case .protocolViolation(let what): return "broke the plugin protocol\(during): \(what)"
        case .inconsistent(let what): return "gave an answer\(during) that contradicts its own claims: \(what)"
        case .remote(let code, let message): return "\(message) (\(PluginErrorCode.name(code))\(during))"
        case .stopped(let previous): return "is no longer used after an earlier failure: \(previous)"
        case .gaveUp(let restarts, let window, let last):
            return "failed again after \(restarts) restart\(restarts == 1 ? "" : "s") within \(PluginRestartPolicy.duration(window)), so Ferry gave up on it: it \(last)"
        }
    }

    /// The reason and the end of the plugin's stderr, without the plugin's name (for the
    /// broken plugins of `ferry adapters`).
    public var explanation: String {
        var text = reasonText
        let tail = stderrTail.trimmingCharacters(in: .whitespacesAndNewlines)
        if !tail.isEmpty { text += "\n  its stderr ended with:\n" + tail.split(separator: "\n", omittingEmptySubsequences: false).suffix(12).map { "    \($0)" }.joined(separator: "\n") }
        return text
    }

    public var description: String {
        "adapter '\(plugin)' (\(path)) \(explanation)"
    }

    private static func seconds(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
    }
}
