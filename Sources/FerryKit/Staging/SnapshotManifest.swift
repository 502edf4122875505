import FerryCore
/// Which chunk holds each block of one disk at one point in time. Blocks not listed read as
/// zeros. Stored as a compact blob: entries of (index: UInt64 BE, sha256: 32 bytes), sorted.
public struct SnapshotManifest: Hashable, Sendable {
    public var diskIndex: Int
    public var sizeBytes: UInt64
    public private(set) var blocks: [UInt64: ChunkHash]

    public init(diskIndex: Int, sizeBytes: UInt64, blocks: [UInt64: ChunkHash]) {
        self.diskIndex = diskIndex
        self.sizeBytes = sizeBytes
        self.blocks = blocks
    }

    public var sortedIndexes: [UInt64] { blocks.keys.sorted() }

    static let entryLength = 40

    func encodedBlocks() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(blocks.count * Self.entryLength)
        for index in sortedIndexes {
            withUnsafeBytes(of: index.bigEndian) { bytes.append(contentsOf: $0) }
            bytes.append(contentsOf: blocks[index]!.bytes)
        }
        return bytes
    }

    static func decodeBlocks(_ bytes: [UInt8]) throws(StagingStoreError) -> [UInt64: ChunkHash] {
        guard bytes.count % entryLength == 0 else {
            throw .corrupt("a manifest of \(bytes.count) bytes is not a whole number of entries")
        }
        var blocks: [UInt64: ChunkHash] = [:]
        blocks.reserveCapacity(bytes.count / entryLength)
        bytes.withUnsafeBytes { raw in
            for start in stride(from: 0, to: raw.count, by: entryLength) {
                let index = UInt64(bigEndian: raw.loadUnaligned(fromByteOffset: start, as: UInt64.self))
                blocks[index] = ChunkHash(bytes: Array(raw[(start + 8)..<(start + entryLength)]))!
            }
        }
        return blocks
    }
}
