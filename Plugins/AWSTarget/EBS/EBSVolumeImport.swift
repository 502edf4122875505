import FerryCore

// VolumeImportCapability over the EBS direct APIs: each import becomes an EBS snapshot.
extension AWSTargetAdapter: VolumeImportCapability {
    /// EBS snapshots name a parent and receive only the blocks that changed since it.
    public var supportsIncrementalImport: Bool { true }

    public func importVolume(_ request: VolumeImportRequest, progress: (@Sendable (TransferProgress) -> Void)?) async throws -> ImportedVolume {
        let result = try await importSnapshot(request, progress: progress)
        var tags = request.tags
        if tags["Name"] == nil { tags["Name"] = request.name }
        return ImportedVolume(id: result.snapshotID, kind: .snapshot, sizeBytes: UInt64(result.volumeSizeGiB) << 30, tags: tags)
    }

    /// Imports like `importVolume` and also says how many blocks and bytes were sent.
    public func importSnapshot(_ request: VolumeImportRequest, progress: (@Sendable (TransferProgress) -> Void)? = nil) async throws -> SnapshotImportResult {
        let connection = try connection()
        let importer = SnapshotImporter(ebs: connection.ebs, ec2: connection.ec2, concurrency: connection.tuning.uploadConcurrency, waiter: try waiter())
        let result = try await importer.run(request, progress: progress)
        return SnapshotImportResult(snapshotID: result.snapshotID, volumeSizeGiB: result.volumeSizeGiB, blocksUploaded: result.blocksUploaded, bytesSent: result.bytesSent)
    }

    public func deleteImportedVolume(id: String) async throws {
        let ec2 = try connection().ec2
        if id.hasPrefix("snap-") {
            _ = try await ec2.call(.deleteSnapshot, QueryParameters([("SnapshotId", id)]))
        } else if id.hasPrefix("vol-") {
            _ = try await ec2.call(.deleteVolume, QueryParameters([("VolumeId", id)]))
        } else {
            throw AWSTargetError.notAnImportedVolume(id)
        }
    }
}

/// What an EBS snapshot import sent.
public struct SnapshotImportResult: Codable, Hashable, Sendable {
    public var snapshotID: String
    public var volumeSizeGiB: Int
    public var blocksUploaded: Int
    public var bytesSent: UInt64
}
