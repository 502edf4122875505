import FerryCore
import Foundation

/// A source adapter that lives in a plugin process: every call becomes a `source.*` request
/// (docs/plugin-protocol.md), and every answer is checked against what the plugin claimed.
/// Source methods only read, so a call whose process crashed is asked again of the process
/// that replaces it.
public struct ExternalSourceAdapter: ChangeTrackingSource {
    public let plugin: ExternalPlugin

    public init(plugin: ExternalPlugin) {
        self.plugin = plugin
    }

    public var descriptor: AdapterDescriptor { plugin.descriptor }

    private struct OptionsParams: Encodable { var options: [String: String] }
    private struct Machines: Decodable { var machines: [MachineFacts] }
    private struct Stamp: Decodable { var stamp: String }

    public func discoverMachines(configuration: AdapterConfiguration) async throws -> [MachineFacts] {
        // A plugin call blocks on its pipes up to the plugin's deadline: not on the cooperative pool.
        let plugin = self.plugin
        return try await BlockingWork.run {
            try plugin.withConnection(retrying: true) { try $0.call("source.discover", OptionsParams(options: configuration.values), as: Machines.self).machines }
        }
    }

    public func openDisk(_ disk: DiskFacts, configuration: AdapterConfiguration) throws -> any BlockReader {
        try plugin.withConnection(retrying: true) { try ExternalBlockReader.open(plugin: plugin, disk: disk, options: configuration.values, on: $0) }
    }

    public func changeStamp(of disk: DiskFacts, configuration: AdapterConfiguration) throws -> ChangeStamp {
        guard descriptor.capabilities.contains(.changeTracking) else {
            throw AdapterError.missingCapability(adapter: descriptor.name, capability: .changeTracking, has: descriptor.capabilities, providedBy: [])
        }
        return ChangeStamp(try plugin.withConnection(retrying: true) { try $0.call("source.changeStamp", DiskParams(options: configuration.values, disk: disk), as: Stamp.self).stamp })
    }
}

/// The params of `source.openDisk` and `source.changeStamp`.
struct DiskParams: Encodable {
    var options: [String: String]
    var disk: DiskFacts
}
