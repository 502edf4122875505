/// Receives a staging snapshot as a volume or snapshot in the target, block by block.
public protocol VolumeImportCapability: Adapter {
    /// Whether an import may name a parent and send only what changed since it.
    var supportsIncrementalImport: Bool { get }

    /// Imports `request.source`; with `request.parent`, only `request.changedRanges` are
    /// written on top of a copy of the parent.
    func importVolume(_ request: VolumeImportRequest, progress: (@Sendable (TransferProgress) -> Void)?) async throws -> ImportedVolume

    func deleteImportedVolume(id: String) async throws
}

public struct VolumeImportRequest: Sendable {
    public var name: String
    public var source: any BlockReader
    public var parent: ImportedVolume?
    /// With a parent: the ranges that changed since it. Nil: everything allocated.
    public var changedRanges: [ByteRange]?
    public var tags: ResourceTags

    public init(name: String, source: any BlockReader, parent: ImportedVolume? = nil, changedRanges: [ByteRange]? = nil, tags: ResourceTags = [:]) {
        self.name = name
        self.source = source
        self.parent = parent
        self.changedRanges = changedRanges
        self.tags = tags
    }
}

/// What an import produced: a volume ("vol-…") or a snapshot ("snap-…") of `sizeBytes`.
public struct ImportedVolume: Codable, Hashable, Sendable {
    public var id: String
    public var kind: CloudResourceKind
    public var sizeBytes: UInt64
    public var tags: ResourceTags
    public init(id: String, kind: CloudResourceKind, sizeBytes: UInt64, tags: ResourceTags = [:]) {
        self.id = id
        self.kind = kind
        self.sizeBytes = sizeBytes
        self.tags = tags
    }
}

/// Progress of a long transfer, for terminals and `--output json`.
public struct TransferProgress: Codable, Hashable, Sendable {
    public var bytesDone: UInt64
    public var bytesTotal: UInt64
    public var bytesSent: UInt64
    public init(bytesDone: UInt64, bytesTotal: UInt64, bytesSent: UInt64) {
        self.bytesDone = bytesDone
        self.bytesTotal = bytesTotal
        self.bytesSent = bytesSent
    }
}
