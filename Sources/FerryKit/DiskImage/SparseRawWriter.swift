import FerryCore
/// Writes a disk as a raw image that is sparse: blocks of zeros are left as holes.
public struct SparseRawWriter: DiskImageWriter {
    public let format = "raw"
    /// Zero blocks smaller than this are written out; 64 KiB keeps holes worth having.
    public var blockSize = 64 << 10

    public init() {}

    public func write(_ reader: any BlockReader, to path: String, progress: (@Sendable (DiskCopyProgress) -> Void)?) throws {
        guard reader.size <= DiskSize.maximum else {
            throw DiskImageError.tooLarge(path: path, reason: "a disk of \(reader.size) bytes is larger than the largest disk Ferry writes (\(DiskSize.maximumDescription))")
        }
        let output = try OutputFile(creating: path)
        try output.setLength(reader.size)
        let total = try DiskChunks.allocatedBytes(reader)
        var done: UInt64 = 0
        let blockSize = self.blockSize
        try DiskChunks.forEach(in: reader, blockSize: blockSize, work: { _ in () }) { _, chunk in
            try chunk.bytes.withUnsafeBytes { raw in
                // Contiguous non-zero blocks go out in one write.
                var runs: [(first: Int, last: Int)] = []
                for block in chunk.nonZeroBlocks {
                    if let last = runs.last, last.last + 1 == block { runs[runs.count - 1].last = block } else { runs.append((block, block)) }
                }
                for run in runs {
                    let start = run.first * blockSize
                    let end = min((run.last + 1) * blockSize, raw.count)
                    try output.write(UnsafeRawBufferPointer(rebasing: raw[start..<end]), at: chunk.offset + UInt64(start))
                }
            }
            done = min(total, done + UInt64(chunk.bytes.count))
            progress?(DiskCopyProgress(bytesDone: done, bytesTotal: total))
        }
        try output.close()
    }
}
