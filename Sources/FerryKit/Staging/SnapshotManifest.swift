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
        var writer = ByteWriter()
        writer.bytes.reserveCapacity(blocks.count * Self.entryLength)
        for index in sortedIndexes {
            writer.u64(index)
            writer.raw(blocks[index]!.bytes)
        }
        return writer.bytes
    }

    static func decodeBlocks(_ bytes: [UInt8]) throws -> [UInt64: ChunkHash] {
        guard bytes.count % entryLength == 0 else {
            throw StagingStoreError.corrupt("a manifest of \(bytes.count) bytes is not a whole number of entries")
        }
        var reader = ByteReader(bytes[...])
        var blocks: [UInt64: ChunkHash] = [:]
        blocks.reserveCapacity(bytes.count / entryLength)
        while !reader.isAtEnd {
            let index = try reader.u64()
            blocks[index] = ChunkHash(bytes: try reader.raw(32))!
        }
        return blocks
    }
}
