import FerryCore
import Foundation
import Logging

/// An installed plugin: where its executable is and what it said it is when it was loaded.
/// Its processes start on first use and serve every call after that. A plugin that says
/// it may run several processes at once (`parallelProcesses`) gets up to that many, so that
/// reads of a single-threaded plugin run side by side; otherwise calls take turns on one.
/// A process that crashes or hangs is replaced, within the bounds of `restartPolicy`.
public final class ExternalPlugin: @unchecked Sendable {
    public let path: String
    public let descriptor: AdapterDescriptor
    let description: PluginDescription
    let timeouts: PluginTimeouts
    /// How many conversations may run at once.
    public let parallelProcesses: Int
    /// When a process that failed is replaced by a new one.
    public let restartPolicy: PluginRestartPolicy
    /// Where restarts are told, with the plugin and the failure that caused them.
    private let logger: Logger

    private let condition = NSCondition()
    private var idle: [PluginConnection] = []
    private var started = 0
    /// Why the plugin is no longer used: an answer that could not be trusted, or too many
    /// restarts. Nothing clears it in this run.
    private var failure: PluginError?
    private var closed = false
    private var restartCountValue = 0
    /// The restarts that still count against the policy's window, oldest first.
    private var recentRestartsValue: [PluginRestart] = []

    private init(path: String, descriptor: AdapterDescriptor, description: PluginDescription, timeouts: PluginTimeouts,
                 restartPolicy: PluginRestartPolicy, logger: Logger) {
        self.path = path
        self.descriptor = descriptor
        self.description = description
        self.timeouts = timeouts
        self.restartPolicy = restartPolicy
        self.logger = logger
        parallelProcesses = description.parallelProcesses ?? 1
    }

    /// Starts the plugin at `path`, asks it to describe itself and checks the answer. The
    /// process then waits, idle, for the first call: starting a process costs more than
    /// keeping one (a Python plugin behind a version manager's shim takes a tenth of a
    /// second), and it ends by itself when Ferry exits and closes its stdin. `name` is the
    /// NAME of `ferry-adapter-NAME`.
    public static func load(path: String, name: String, timeouts: PluginTimeouts = .fromEnvironment(),
                            restartPolicy: PluginRestartPolicy = PluginRestartPolicy(),
                            logger: Logger = Logger(label: "ferry.plugins")) throws(PluginError) -> ExternalPlugin {
        let connection = try PluginConnection(plugin: name, path: path, timeouts: timeouts)
        let (description, descriptor) = try handshake(connection, name: name)
        let plugin = ExternalPlugin(path: path, descriptor: descriptor, description: description, timeouts: timeouts,
                                    restartPolicy: restartPolicy, logger: logger)
        plugin.started = 1
        plugin.idle = [connection]
        return plugin
    }

    /// Why Ferry no longer uses this plugin in this run (it gave up on a process that kept
    /// failing, or an answer could not be trusted); nil while it does.
    public var stoppedReason: PluginError? {
        condition.lock()
        defer { condition.unlock() }
        return failure
    }

    /// How many times a failed process of this plugin was replaced in this run.
    public var restartCount: Int {
        condition.lock()
        defer { condition.unlock() }
        return restartCountValue
    }

    /// The restarts that still count against the policy's window, oldest first.
    public var recentRestarts: [PluginRestart] {
        condition.lock()
        defer { condition.unlock() }
        return recentRestartsValue
    }

    /// What a failed conversation means for the plugin.
    private enum Verdict {
        /// Nothing failed; the conversation is back in the pool.
        case kept
        /// Its process failed and the next call gets a new one (restart `number` in the window).
        case restarting(number: Int, after: PluginError)
        /// The plugin is not used again: `reason` (an untrusted answer, or the end of the pool).
        case stopped(PluginError)
        /// Its processes kept failing: this error, from now on, for every call.
        case gaveUp(PluginError)
    }

    /// Runs `body` with a conversation of its own: an idle one, a new one while fewer than
    /// `parallelProcesses` run, or the next one to be free (waiting at most the call
    /// deadline for it).
    ///
    /// A process that crashes or hangs is replaced by a new one, as the restart policy
    /// allows; with `retrying`, `body` then runs again in the new process after a crash
    /// (for calls that may be repeated: every source method). After an answer against the
    /// plugin's claims, or once the policy gives up, no new call starts: the plugin is not
    /// trusted again in this run.
    func withConnection<R>(retrying: Bool = false, _ body: (PluginConnection) throws -> R) throws -> R {
        while true {
            let connection = try acquire()
            let result: R
            do {
                result = try body(connection)
            } catch {
                switch release(connection) {
                // Only after a crash: a call that hung would most likely hang again, and
                // asking it twice would double the wait.
                case .restarting(_, let after) where retrying && after.isExit: continue
                case .gaveUp(let gaveUp): throw gaveUp
                case .kept, .restarting, .stopped: throw error
                }
            }
            release(connection)
            return result
        }
    }

    /// Throws when the plugin is no longer trusted (or shut down): for a caller that holds
    /// one conversation for a long time, before each step. With `restartsBefore` (a
    /// `restartCount` taken earlier), it also throws when a process was replaced since:
    /// the steps of a volume import live in one process, and a new one knows nothing of them.
    func checkUsable(restartsBefore: Int? = nil) throws(PluginError) {
        condition.lock()
        defer { condition.unlock() }
        if let refusal = refusalLocked() { throw refusal }
        if let restartsBefore, restartCountValue != restartsBefore, let last = recentRestartsValue.last {
            throw PluginError(plugin: descriptor.name, path: path, method: last.after.method,
                              reason: .stopped(after: "its process \(last.after.reasonText) and was started again, but the steps of one volume import must run in one process; this import is abandoned"),
                              stderrTail: last.after.stderrTail)
        }
    }

    private func refusalLocked() -> PluginError? {
        if let failure {
            // The typed end stays the same for every later call, so that a caller can tell it.
            if case .gaveUp = failure.reason { return failure }
            return PluginError(plugin: descriptor.name, path: path, reason: .stopped(after: failure.reasonText))
        }
        if closed { return PluginError(plugin: descriptor.name, path: path, reason: .stopped(after: "it was shut down")) }
        return nil
    }

    /// Decides, with the pool's lock held, what the failure of one conversation means.
    private func judgeLocked(_ error: PluginError) -> Verdict {
        if let failure {
            if case .gaveUp = failure.reason { return .gaveUp(failure) }
            return .stopped(failure)
        }
        if closed { return .stopped(error) }
        guard PluginRestartPolicy.allowsRestart(after: error.reason) else {
            failure = error
            return .stopped(error)
        }
        let now = Date()
        let counted = restartPolicy.counting(recentRestartsValue, at: now)
        guard counted.count < restartPolicy.maximumRestarts else {
            let gaveUp = PluginError(plugin: descriptor.name, path: path, method: error.method,
                                     reason: .gaveUp(restarts: counted.count, window: restartPolicy.window, last: error.reasonText),
                                     stderrTail: error.stderrTail)
            failure = gaveUp
            return .gaveUp(gaveUp)
        }
        recentRestartsValue = counted + [PluginRestart(date: now, after: error)]
        restartCountValue += 1
        return .restarting(number: recentRestartsValue.count, after: error)
    }

    /// Says that a process is started again, and why; outside the pool's lock.
    private func tell(_ verdict: Verdict) {
        guard case .restarting(let number, let error) = verdict else { return }
        logger.warning("""
            adapter '\(descriptor.name)' (\(path)) \(error.reasonText); Ferry starts it again \
            (restart \(number) of at most \(restartPolicy.maximumRestarts) within \(PluginRestartPolicy.duration(restartPolicy.window)))
            """)
    }

    private func acquire() throws(PluginError) -> PluginConnection {
        while true {
            let deadline = Date().addingTimeInterval(min(timeouts.targetCall, PluginTimeouts.maximum))
            var verdicts: [Verdict] = []
            var ready: PluginConnection?
            condition.lock()
            waiting: while true {
                if let refusal = refusalLocked() {
                    condition.unlock()
                    verdicts.forEach(tell)
                    throw refusal
                }
                if let connection = idle.popLast() {
                    // A conversation can stop while idle (a reader's closeDisk that timed
                    // out, an answer found wrong after its call returned).
                    if let stopped = connection.failure {
                        started -= 1
                        verdicts.append(judgeLocked(stopped))
                        continue
                    }
                    if connection.isStopped {
                        started -= 1
                        continue
                    }
                    ready = connection
                    break waiting
                }
                if started < parallelProcesses {
                    started += 1
                    break waiting
                }
                if !condition.wait(until: deadline) {
                    condition.unlock()
                    verdicts.forEach(tell)
                    throw PluginError(plugin: descriptor.name, path: path, reason: .timedOut(seconds: timeouts.targetCall))
                }
            }
            condition.unlock()
            verdicts.forEach(tell)
            if let ready { return ready }
            do {
                return try start()
            } catch {
                // A process that cannot be started (or dies in its handshake) counts as a
                // restart too: a plugin that never comes up again is given up on.
                condition.lock()
                started -= 1
                let verdict = judgeLocked(error)
                condition.broadcast()
                condition.unlock()
                tell(verdict)
                switch verdict {
                case .restarting: continue
                case .gaveUp(let gaveUp): throw gaveUp
                case .kept, .stopped: throw error
                }
            }
        }
    }

    @discardableResult
    private func release(_ connection: PluginConnection) -> Verdict {
        // Asked before taking the pool's lock: the conversation's own lock may be held by a
        // reader's closeDisk, and the pool must not wait behind it.
        let stopped = connection.isStopped
        let failed = connection.failure
        condition.lock()
        var verdict = Verdict.kept
        if stopped {
            started -= 1
            if let failed { verdict = judgeLocked(failed) }
        } else if closed {
            started -= 1
        } else {
            idle.append(connection)
        }
        let isClosed = closed
        condition.broadcast()
        condition.unlock()
        tell(verdict)
        if isClosed && !stopped { connection.shutdown() }
        return verdict
    }

    /// A new conversation, checked against what the plugin said when it was loaded.
    private func start() throws(PluginError) -> PluginConnection {
        let connection = try PluginConnection(plugin: descriptor.name, path: path, timeouts: timeouts)
        let (now, nowDescriptor) = try Self.handshake(connection, name: descriptor.name)
        guard nowDescriptor == descriptor, now == description else {
            connection.shutdown()
            throw PluginError(plugin: descriptor.name, path: path, method: "describe", reason: .inconsistent("it describes itself differently now than when Ferry loaded it"))
        }
        return connection
    }

    /// Stops the plugin: idle processes now, busy ones when their call returns; no call
    /// starts after this.
    public func shutdown() {
        condition.lock()
        closed = true
        let connections = idle
        idle = []
        started -= connections.count
        condition.broadcast()
        condition.unlock()
        connections.forEach { $0.shutdown() }
    }

    private static func handshake(_ connection: PluginConnection, name: String) throws(PluginError) -> (PluginDescription, AdapterDescriptor) {
        let description: PluginDescription
        do {
            description = try connection.call("describe", PluginDescription.Request(), as: PluginDescription.self, timeout: connection.timeouts.describe)
        } catch let error where error.remoteCode == PluginErrorCode.unsupportedProtocolVersion {
            connection.shutdown()
            let theirs = (error.remoteSupportedVersions.map { " (it speaks \($0.map(String.init).joined(separator: ", ")))" }) ?? ""
            throw PluginError(plugin: name, path: connection.path, method: "describe",
                              reason: .protocolViolation("it speaks none of the plugin protocol versions this Ferry speaks (\(PluginProtocol.supportedVersions.map(String.init).joined(separator: ", ")))\(theirs)"))
        }
        do {
            return (description, try description.descriptor(expectedName: name))
        } catch {
            connection.shutdown()
            throw PluginError(plugin: name, path: connection.path, method: "describe", reason: .protocolViolation(error.reason))
        }
    }
}
