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
