import FerryCore
import Foundation

/// One disk of a committed snapshot, read through its manifest: blocks it does not list
/// read as zeros.
public struct SnapshotDiskReader: BlockReader {
    let store: StagingStore
    public let snapshotID: String
    public let manifest: SnapshotManifest

    public var size: UInt64 { manifest.sizeBytes }
    private var name: String { "snapshot \(snapshotID) disk \(manifest.diskIndex)" }

    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws {
        try checkBounds(offset: offset, count: buffer.count, disk: name)
        let blockSize = UInt64(StagingStore.blockSize)
        var chunk = [UInt8](repeating: 0, count: StagingStore.blockSize)
        var done = 0
        while done < buffer.count {
            let position = offset + UInt64(done)
            let index = position / blockSize
            let within = Int(position % blockSize)
            let count = min(buffer.count - done, StagingStore.blockSize - within)
            let target = UnsafeMutableRawBufferPointer(rebasing: buffer[done..<(done + count)])
            if let hash = manifest.blocks[index] {
                try chunk.withUnsafeMutableBytes { try store.readChunk(hash, into: $0) }
                chunk.withUnsafeBytes { target.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[within..<(within + count)])) }
            } else {
                target.initializeMemory(as: UInt8.self, repeating: 0)
            }
            done += count
        }
    }

    public func allocatedRanges() throws -> [ByteRange] {
        let blockSize = UInt64(StagingStore.blockSize)
        return ByteRange.coalesce(manifest.sortedIndexes.map { index in
            ByteRange(offset: index * blockSize, length: min(blockSize, size - index * blockSize))
        })
    }
}
