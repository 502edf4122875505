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

/// A half-open byte range `[offset, offset + length)`.
public struct ByteRange: Codable, Hashable, Sendable, CustomStringConvertible {
    public var offset: UInt64
    public var length: UInt64

    public init(offset: UInt64, length: UInt64) {
        self.offset = offset
        self.length = length
    }

    public var end: UInt64 { offset + length }

    /// Safe for any values, also ones whose end would overflow (a plugin's claim, unchecked yet).
    public var description: String {
        let (end, overflow) = offset.addingReportingOverflow(length)
        return overflow ? "[\(offset), \(offset) + \(length))" : "[\(offset), \(end))"
    }

    /// `end`, or UInt64.max for a range whose end would overflow: ranges read from a file
    /// or a plugin are merged and split before anyone has checked them against a disk.
    var saturatedEnd: UInt64 {
        let (end, overflow) = offset.addingReportingOverflow(length)
        return overflow ? .max : end
    }

    /// Sorts `ranges` and merges those that touch or overlap.
    public static func coalesce(_ ranges: [ByteRange]) -> [ByteRange] {
        var merged: [ByteRange] = []
        for range in ranges.sorted(by: { $0.offset < $1.offset }) where range.length > 0 {
            if let last = merged.last, range.offset <= last.saturatedEnd {
                merged[merged.count - 1].length = max(last.saturatedEnd, range.saturatedEnd) - last.offset
            } else {
                merged.append(range)
            }
        }
        return merged
    }

    /// The indexes of the `blockSize` blocks that `ranges` touch, in order, without repeats.
    public static func blockIndexes(covering ranges: [ByteRange], blockSize: UInt64) -> [UInt64] {
        var indexes: [UInt64] = []
        for range in coalesce(ranges) {
            let first = range.offset / blockSize
            let last = (range.saturatedEnd - 1) / blockSize
            let start = indexes.last.map { max($0 + 1, first) } ?? first
            if start <= last { indexes.append(contentsOf: start...last) }
        }
        return indexes
    }
}

public enum BlockReaderError: Error, Hashable, Sendable, CustomStringConvertible {
    case outOfBounds(disk: String, offset: UInt64, count: Int, size: UInt64)
    case io(disk: String, operation: String, errno: Int32, message: String)
    case corrupt(disk: String, reason: String)

    public var description: String {
        switch self {
        case .outOfBounds(let disk, let offset, let count, let size):
            return "\(disk): read of \(count) bytes at offset \(offset) goes past the end of the disk (\(size) bytes)"
        case .io(let disk, let operation, let code, let message):
            return "\(disk): \(operation) failed: \(message) (errno \(code))"
        case .corrupt(let disk, let reason):
            return "\(disk): \(reason)"
        }
    }
}
