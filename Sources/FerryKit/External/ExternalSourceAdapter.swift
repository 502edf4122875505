import Foundation

/// A source adapter that lives in a plugin process: every call becomes a `source.*` request
/// (docs/plugin-protocol.md), and every answer is checked against what the plugin claimed.
public struct ExternalSourceAdapter: ChangeTrackingSource {
    public let plugin: ExternalPlugin

    public init(plugin: ExternalPlugin) {
        self.plugin = plugin
    }

    public var descriptor: AdapterDescriptor { plugin.descriptor }

    private struct OptionsParams: Encodable { var options: [String: String] }
    private struct DiskParams: Encodable {
        var options: [String: String]
        var disk: DiskFacts
    }
    private struct Machines: Decodable { var machines: [MachineFacts] }
    private struct OpenedDisk: Decodable {
        var handle: String
        var sizeBytes: UInt64
    }
    private struct Stamp: Decodable { var stamp: String }

    public func discoverMachines(configuration: AdapterConfiguration) async throws -> [MachineFacts] {
        let connection = try plugin.connected()
        return try connection.call("source.discover", OptionsParams(options: configuration.values), as: Machines.self).machines
    }

    public func openDisk(_ disk: DiskFacts, configuration: AdapterConfiguration) throws -> any BlockReader {
        let connection = try plugin.connected()
        let opened = try connection.call("source.openDisk", DiskParams(options: configuration.values, disk: disk), as: OpenedDisk.self)
        let reader = ExternalBlockReader(connection: connection, handle: opened.handle, size: opened.sizeBytes, diskName: disk.name)
        // A size of 0 means "not known yet" (a disk named by hand, not discovered).
        if disk.sizeBytes != 0 && opened.sizeBytes != disk.sizeBytes {
            throw PluginError(plugin: descriptor.name, path: plugin.path, method: "source.openDisk",
                              reason: .inconsistent("disk '\(disk.name)' was discovered with \(disk.sizeBytes) bytes but opens with \(opened.sizeBytes)"))
        }
        return reader
    }

    public func changeStamp(of disk: DiskFacts, configuration: AdapterConfiguration) throws -> ChangeStamp {
        guard descriptor.capabilities.contains(.changeTracking) else {
            throw AdapterError.missingCapability(adapter: descriptor.name, capability: .changeTracking, has: descriptor.capabilities, providedBy: [])
        }
        let connection = try plugin.connected()
        return ChangeStamp(try connection.call("source.changeStamp", DiskParams(options: configuration.values, disk: disk), as: Stamp.self).stamp)
    }
}
