/// One disk of a source machine, as discovered by its adapter.
public struct DiskFacts: Codable, Hashable, Sendable {
    /// The name the source uses ("/dev/xvda", "scsi0:0", "disk1.vmdk").
    public var name: String
    public var sizeBytes: UInt64
    /// Where the adapter finds the disk again when asked to open it (a path, a device, an
    /// archive member). Opaque to everything but the adapter that produced it.
    public var locator: String
    public var model: String?
    public var isBoot: Bool

    public init(name: String, sizeBytes: UInt64, locator: String, model: String? = nil, isBoot: Bool = false) {
        self.name = name
        self.sizeBytes = sizeBytes
        self.locator = locator
        self.model = model
        self.isBoot = isBoot
    }
}
