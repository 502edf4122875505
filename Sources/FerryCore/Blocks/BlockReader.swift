/// A disk opened for reading at any offset, whatever its format underneath (a raw image,
/// a block device, VMDK extents, a plugin on the other end of a pipe).
///
/// Readers are used from several tasks at once, so reads must not share a file position
/// (use `pread`) and must be safe to call concurrently.
public protocol BlockReader: Sendable {
    /// The disk's virtual size in bytes.
    var size: UInt64 { get }

    /// Fills `buffer` with the bytes at `offset`. Ranges that are not allocated read as zeros.
    /// Reading past `size` throws `BlockReaderError.outOfBounds`.
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws

    /// The ranges that may hold data, sorted and non-overlapping; everything else reads as
    /// zeros and need never be read. A reader that cannot tell returns the whole disk.
    func allocatedRanges() throws -> [ByteRange]
}

extension BlockReader {
    /// Reads `count` bytes at `offset` into a new array.
    public func read(at offset: UInt64, count: Int) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        try bytes.withUnsafeMutableBytes { try read(into: $0, at: offset) }
        return bytes
    }

    /// Checks that `count` bytes at `offset` lie within the disk.
    public func checkBounds(offset: UInt64, count: Int, disk: String) throws(BlockReaderError) {
        let (end, overflow) = offset.addingReportingOverflow(UInt64(count))
        if overflow || end > size {
            throw .outOfBounds(disk: disk, offset: offset, count: count, size: size)
        }
    }
}
