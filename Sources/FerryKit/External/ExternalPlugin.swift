import Foundation

/// An installed plugin: where its executable is and what it said it is when it was loaded.
/// Its processes start on first use and serve every call after that. A plugin that says
/// it may run several processes at once (`parallelProcesses`) gets up to that many, so that
/// reads of a single-threaded plugin run side by side; otherwise calls take turns on one.
public final class ExternalPlugin: @unchecked Sendable {
    public let path: String
    public let descriptor: AdapterDescriptor
    let description: PluginDescription
    let timeouts: PluginTimeouts
    /// How many conversations may run at once.
    public let parallelProcesses: Int

    private let condition = NSCondition()
    private var idle: [PluginConnection] = []
    private var started = 0
    private var failure: PluginError?
    private var closed = false

    private init(path: String, descriptor: AdapterDescriptor, description: PluginDescription, timeouts: PluginTimeouts) {
        self.path = path
        self.descriptor = descriptor
        self.description = description
        self.timeouts = timeouts
        parallelProcesses = description.parallelProcesses ?? 1
    }

    /// Starts the plugin at `path`, asks it to describe itself and checks the answer. The
    /// process then waits, idle, for the first call: starting a process costs more than
    /// keeping one (a Python plugin behind a version manager's shim takes a tenth of a
    /// second), and it ends by itself when Ferry exits and closes its stdin. `name` is the
    /// NAME of `ferry-adapter-NAME`.
    public static func load(path: String, name: String, timeouts: PluginTimeouts = .fromEnvironment()) throws(PluginError) -> ExternalPlugin {
        let connection = try PluginConnection(plugin: name, path: path, timeouts: timeouts)
        let (description, descriptor) = try handshake(connection, name: name)
        let plugin = ExternalPlugin(path: path, descriptor: descriptor, description: description, timeouts: timeouts)
        plugin.started = 1
        plugin.idle = [connection]
        return plugin
    }

    /// Runs `body` with a conversation of its own: an idle one, a new one while fewer than
    /// `parallelProcesses` run, or the next one to be free (waiting at most the call
    /// deadline for it). After any conversation failed (a crash, a timeout, an answer
    /// against the plugin's claims), no new call starts: the plugin is not trusted again in
    /// this run.
    func withConnection<R>(_ body: (PluginConnection) throws -> R) throws -> R {
        let connection = try acquire()
        defer { release(connection) }
        return try body(connection)
    }

    /// Throws when the plugin is no longer trusted (or shut down): for a caller that holds
    /// one conversation for a long time, before each step.
    func checkUsable() throws(PluginError) {
        condition.lock()
        defer { condition.unlock() }
        if let refusal = refusalLocked() { throw refusal }
    }

    private func refusalLocked() -> PluginError? {
        if let failure { return PluginError(plugin: descriptor.name, path: path, reason: .stopped(after: failure.reasonText)) }
        if closed { return PluginError(plugin: descriptor.name, path: path, reason: .stopped(after: "it was shut down")) }
        return nil
    }

    private func acquire() throws(PluginError) -> PluginConnection {
        let deadline = Date().addingTimeInterval(min(timeouts.targetCall, PluginTimeouts.maximum))
        condition.lock()
        while true {
            if let refusal = refusalLocked() {
                condition.unlock()
                throw refusal
            }
            if let connection = idle.popLast() {
                // A conversation can stop while idle (a reader's closeDisk that timed out).
                if let stopped = connection.failure {
                    started -= 1
                    failure = stopped
                    continue
                }
                if connection.isStopped {
                    started -= 1
                    continue
                }
                condition.unlock()
                return connection
            }
            if started < parallelProcesses { break }
            if !condition.wait(until: deadline) {
                condition.unlock()
                throw PluginError(plugin: descriptor.name, path: path, reason: .timedOut(seconds: timeouts.targetCall))
            }
        }
        started += 1
        condition.unlock()
        do {
            return try start()
        } catch {
            condition.lock()
            started -= 1
            if failure == nil { failure = error }
            condition.broadcast()
            condition.unlock()
            throw error
        }
    }

    private func release(_ connection: PluginConnection) {
        // Asked before taking the pool's lock: the conversation's own lock may be held by a
        // reader's closeDisk, and the pool must not wait behind it.
        let stopped = connection.isStopped
        let failed = connection.failure
        condition.lock()
        if stopped {
            if failure == nil { failure = failed }
            started -= 1
        } else if closed {
            started -= 1
        } else {
            idle.append(connection)
        }
        condition.broadcast()
        condition.unlock()
        if closed && !stopped { connection.shutdown() }
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
