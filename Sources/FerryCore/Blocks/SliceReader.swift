/// A window `[offset, offset + size)` of another reader, seen as a disk of its own: a flat
/// VMDK extent inside its file, a partition inside a disk.
public struct SliceReader: BlockReader {
    public let base: any BlockReader
    public let offset: UInt64
    public let size: UInt64
    public let name: String

    public init(_ base: any BlockReader, offset: UInt64, size: UInt64, name: String) throws(BlockReaderError) {
        let (end, overflow) = offset.addingReportingOverflow(size)
        guard !overflow, end <= base.size else {
            throw .corrupt(disk: name, reason: "a region of \(size) bytes at offset \(offset) goes past the end (\(base.size) bytes)")
        }
        self.base = base
        self.offset = offset
        self.size = size
        self.name = name
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer, at position: UInt64) throws {
        try checkBounds(offset: position, count: buffer.count, disk: name)
        try base.read(into: buffer, at: offset + position)
    }

    public func allocatedRanges() throws -> [ByteRange] {
        try base.allocatedRanges().compactMap { range in
            let start = max(range.offset, offset)
            let end = min(range.end, offset + size)
            return start < end ? ByteRange(offset: start - offset, length: end - start) : nil
        }
    }
}
