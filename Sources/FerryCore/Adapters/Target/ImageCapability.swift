/// Registers bootable machine images from imported volumes.
public protocol ImageCapability: Adapter {
    func registerImage(name: String, rootVolume: ImportedVolume, additionalVolumes: [ImportedVolume], bootMode: BootMode, tags: ResourceTags) async throws -> MachineImage
    func describeImages() async throws -> [MachineImage]
    func deregisterImage(id: String) async throws
    /// What the target's instances boot on: the platform a migrated machine is converted for.
    /// Nil (the default) when the target does not say; its launches are then not converted.
    var bootPlatform: TargetPlatform? { get }
}

extension ImageCapability {
    public var bootPlatform: TargetPlatform? { nil }
}

public struct MachineImage: Codable, Hashable, Sendable {
    public var id: String
    public var name: String
    public var bootMode: BootMode
    public var volumeIDs: [String]
    public var tags: ResourceTags
    public init(id: String, name: String, bootMode: BootMode, volumeIDs: [String], tags: ResourceTags = [:]) {
        self.id = id
        self.name = name
        self.bootMode = bootMode
        self.volumeIDs = volumeIDs
        self.tags = tags
    }
}
