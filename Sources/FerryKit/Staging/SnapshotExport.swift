import FerryCore
import Crypto
import Foundation

extension StagingStore {
    /// Writes a snapshot disk to `path` as a sparse raw image, through the same writer as
    /// `disk export` (blocks the manifest does not list, and zeros, stay holes). An existing
    /// file at `path` is replaced only when the whole image is written (see `OutputFile`):
    /// an export that fails leaves it as it was.
    public func exportRaw(snapshotID: String, diskIndex: Int, to path: String) throws {
        try SparseRawWriter().write(try reader(snapshotID: snapshotID, diskIndex: diskIndex), to: path, progress: nil)
    }

    /// Re-reads and re-hashes every chunk a snapshot refers to.
    public func verify(snapshotID: String) throws -> SnapshotVerification {
        let snapshot = try snapshot(id: snapshotID)
        var result = SnapshotVerification(snapshotID: snapshotID)
        var chunk = [UInt8](repeating: 0, count: Self.blockSize)
        for disk in snapshot.disks {
            let manifest = try manifest(snapshotID: snapshotID, diskIndex: disk.diskIndex)
            for index in manifest.sortedIndexes {
                let expected = manifest.blocks[index]!
                result.blocksChecked += 1
                do {
                    try chunk.withUnsafeMutableBytes { try readChunk(expected, into: $0) }
                    if ChunkHash(hashing: chunk) != expected {
                        result.failures.append("disk \(disk.diskIndex) block \(index): content does not match its hash \(expected.hex)")
                    }
                } catch {
                    result.failures.append("disk \(disk.diskIndex) block \(index): \(error)")
                }
            }
        }
        return result
    }
}

public struct SnapshotVerification: Codable, Hashable, Sendable {
    public var snapshotID: String
    public var blocksChecked = 0
    public var failures: [String] = []
    public var isIntact: Bool { failures.isEmpty }

    public init(snapshotID: String) {
        self.snapshotID = snapshotID
    }
}
