/// Registers bootable machine images from imported volumes.
public protocol ImageCapability: Adapter {
    func registerImage(name: String, rootVolume: ImportedVolume, additionalVolumes: [ImportedVolume], bootMode: BootMode, tags: ResourceTags) async throws -> MachineImage
    func describeImages() async throws -> [MachineImage]
    func deregisterImage(id: String) async throws
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
