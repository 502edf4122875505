import Foundation

/// An installed plugin: where its executable is and what it said it is when it was loaded.
/// Its process starts on first use and serves every call after that; the adapters and
/// disk readers made from it share that one conversation.
public final class ExternalPlugin: @unchecked Sendable {
    public let path: String
    public let descriptor: AdapterDescriptor
    let description: PluginDescription
    let timeouts: PluginTimeouts

    private let lock = NSLock()
    private var connection: PluginConnection?
    private var startFailure: PluginError?

    private init(path: String, descriptor: AdapterDescriptor, description: PluginDescription, timeouts: PluginTimeouts) {
        self.path = path
        self.descriptor = descriptor
        self.description = description
        self.timeouts = timeouts
    }

    /// Starts the plugin at `path`, asks it to describe itself, checks the answer and stops
    /// it again. `name` is the NAME of `ferry-adapter-NAME`.
    public static func load(path: String, name: String, timeouts: PluginTimeouts = .fromEnvironment()) throws(PluginError) -> ExternalPlugin {
        let connection = try PluginConnection(plugin: name, path: path, timeouts: timeouts)
        defer { connection.shutdown() }
        let (description, descriptor) = try handshake(connection, name: name)
        return ExternalPlugin(path: path, descriptor: descriptor, description: description, timeouts: timeouts)
    }

    /// The running conversation, started (and checked against the loaded descriptor) on
    /// first use. A plugin that failed to start is not started again.
    func connected() throws(PluginError) -> PluginConnection {
        lock.lock()
        defer { lock.unlock() }
        if let connection { return connection }
        if let startFailure { throw startFailure }
        do throws(PluginError) {
            let connection = try PluginConnection(plugin: descriptor.name, path: path, timeouts: timeouts)
            let (_, now) = try Self.handshake(connection, name: descriptor.name)
            guard now == descriptor else {
                connection.shutdown()
                throw PluginError(plugin: descriptor.name, path: path, method: "describe", reason: .inconsistent("it describes itself differently now than when Ferry loaded it"))
            }
            self.connection = connection
            return connection
        } catch {
            startFailure = error
            throw error
        }
    }

    /// Stops the plugin's process, if it runs.
    public func shutdown() {
        lock.withLock {
            connection?.shutdown()
            connection = nil
        }
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
