import FerryCore

/// The target a migration launches into, reached through its capabilities.
public struct MigrationTarget: Sendable {
    public let adapterName: String
    public let registry: AdapterRegistry

    public init(adapterName: String, registry: AdapterRegistry) {
        self.adapterName = adapterName
        self.registry = registry
    }

    public func volumeImport() throws -> any VolumeImportCapability { try registry.volumeImport(of: adapterName) }
    public func images() throws -> any ImageCapability { try registry.images(of: adapterName) }
    public func compute() throws -> any ComputeCapability { try registry.compute(of: adapterName) }
    /// The target's own converter instance, if it has one.
    public func machineConversion() -> (any MachineConversionCapability)? { registry.machineConversion(of: adapterName) }
}
