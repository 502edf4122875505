import FerryCore
/// Writes a disk as a qcow2 (version 3) image.
///
/// Written by hand: no Swift package writes qcow2. The layout follows qemu's
/// docs/interop/qcow2.txt. Data clusters are appended in disk order as they are read, right
/// after the header, so the disk is streamed once; the metadata (L2 tables, the L1 table,
/// the refcount table and blocks) goes after the data, and the header is written last.
/// Clusters of zeros are not stored at all (they read as zeros, the disk has no backing file).
public struct QCOW2Writer: DiskImageWriter {
    public let format = "qcow2"
    public let clusterBits = 16

    public init() {}

    var clusterSize: Int { 1 << clusterBits }
    /// 8-byte L2 entries per L2 table (one cluster).
    var l2Entries: Int { clusterSize / 8 }
    /// 16-bit refcounts per refcount block (one cluster).
    var refcountsPerBlock: Int { clusterSize / 2 }

    public func write(_ reader: any BlockReader, to path: String, progress: (@Sendable (DiskCopyProgress) -> Void)?) throws {
        let clusterSize = UInt64(self.clusterSize)
        let virtualClusters = DiskSize.blocks(reader.size, of: clusterSize)
        let l1Size = DiskSize.blocks(virtualClusters, of: UInt64(l2Entries))
        // No larger L1 table than qemu (and QCOW2Reader) reads back: 2 PiB with 64 KiB clusters.
        guard l1Size <= QCOW2Reader.maxL1Entries else {
            throw DiskImageError.tooLarge(path: path, reason: "a disk of \(reader.size) bytes is too large for qcow2 with 64 KiB clusters (at most \(QCOW2Reader.maxL1Entries * UInt64(l2Entries) * clusterSize) bytes)")
        }
        let output = try OutputFile(creating: path)
        // L2 tables that hold at least one entry, by L1 index: 64 KiB of memory per 512 MiB
        // of disk that has data.
        var l2Tables: [Int: [UInt64]] = [:]
        var nextCluster: UInt64 = 1  // cluster 0 is the header
        let total = try DiskChunks.allocatedBytes(reader)
        var done: UInt64 = 0
        try DiskChunks.forEach(in: reader, blockSize: self.clusterSize, work: { _ in () }) { _, chunk in
            try chunk.bytes.withUnsafeBytes { raw in
                for block in chunk.nonZeroBlocks {
                    let start = block * self.clusterSize
                    let end = min(start + self.clusterSize, raw.count)
                    let virtualCluster = (chunk.offset + UInt64(start)) / clusterSize
                    let hostOffset = nextCluster * clusterSize
                    try output.write(UnsafeRawBufferPointer(rebasing: raw[start..<end]), at: hostOffset)
                    nextCluster += 1
                    let l1Index = Int(virtualCluster / UInt64(l2Entries))
                    let l2Index = Int(virtualCluster % UInt64(l2Entries))
                    l2Tables[l1Index, default: Array(repeating: 0, count: l2Entries)][l2Index] = hostOffset | Self.copied
                }
            }
            done = min(total, done + UInt64(chunk.bytes.count))
            progress?(DiskCopyProgress(bytesDone: done, bytesTotal: total))
        }

        // L2 tables, then the L1 table.
        var l1 = [UInt64](repeating: 0, count: Int(l1Size))
        for l1Index in l2Tables.keys.sorted() {
            let offset = nextCluster * clusterSize
            try output.write(Self.bigEndian(l2Tables[l1Index]!), at: offset)
            l1[l1Index] = offset | Self.copied
            nextCluster += 1
        }
        let l1Offset = nextCluster * clusterSize
        let l1Clusters = max(1, DiskSize.blocks(l1Size * 8, of: clusterSize))
        try output.write(Self.bigEndian(l1), at: l1Offset)
        nextCluster += l1Clusters

        // The refcount table and blocks count every cluster, themselves included: grow them
        // until they cover the file they end up in.
        let perBlock = UInt64(refcountsPerBlock)
        var blocks: UInt64 = 1
        var tableClusters: UInt64 = 1
        while true {
            let totalClusters = nextCluster + tableClusters + blocks
            let neededBlocks = DiskSize.blocks(totalClusters, of: perBlock)
            let neededTable = max(1, DiskSize.blocks(neededBlocks * 8, of: clusterSize))
            if neededBlocks <= blocks, neededTable <= tableClusters { break }
            blocks = max(blocks, neededBlocks)
            tableClusters = max(tableClusters, neededTable)
        }
        let tableOffset = nextCluster * clusterSize
        let firstBlock = nextCluster + tableClusters
        let totalClusters = firstBlock + blocks
        var table = [UInt64](repeating: 0, count: Int(tableClusters * clusterSize / 8))
        for block in 0..<blocks { table[Int(block)] = (firstBlock + block) * clusterSize }
        try output.write(Self.bigEndian(table), at: tableOffset)
        for block in 0..<blocks {
            var refcounts = [UInt8](repeating: 0, count: self.clusterSize)
            let first = block * perBlock
            for cluster in first..<min(first + perBlock, totalClusters) {
                refcounts[Int(cluster - first) * 2 + 1] = 1
            }
            try output.write(refcounts, at: (firstBlock + block) * clusterSize)
        }
        try output.setLength(totalClusters * clusterSize)

        var header = [UInt8](repeating: 0, count: self.clusterSize)
        header.put(UInt32(0x5146_49FB), at: 0)           // "QFI\xfb"
        header.put(UInt32(3), at: 4)                      // version
        header.put(UInt32(clusterBits), at: 20)
        header.put(reader.size, at: 24)
        header.put(UInt32(l1Size), at: 36)
        header.put(l1Offset, at: 40)
        header.put(tableOffset, at: 48)
        header.put(UInt32(tableClusters), at: 56)
        header.put(UInt32(4), at: 96)                     // refcount_order: 16-bit refcounts
        header.put(UInt32(104), at: 100)                  // header_length; no extensions follow
        try output.write(header, at: 0)
        try output.close()
    }

    /// L1 and L2 entries flag clusters whose refcount is exactly one.
    static let copied: UInt64 = 1 << 63

    static func bigEndian(_ values: [UInt64]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: values.count * 8)
        for (index, value) in values.enumerated() { bytes.put(value, at: index * 8) }
        return bytes
    }
}

extension Array where Element == UInt8 {
    /// Stores `value` big-endian at `offset`.
    mutating func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        let width = MemoryLayout<T>.size
        for index in 0..<width { self[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * (width - 1 - index))) }
    }
}
