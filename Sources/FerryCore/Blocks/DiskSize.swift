/// Arithmetic on disk sizes, offsets and counts that were read from a file and may be
/// anything: the largest disk Ferry opens, and whole blocks without overflow.
///
/// A damaged or hostile image can claim a size near 2^64. Plain `+` and `*` on such a value
/// trap, and `off_t(value)` traps past Int64.max; every parser checks its numbers against
/// these before doing arithmetic with them, and refuses the file with an error instead.
public enum DiskSize {
    /// 4 EiB (2^62 bytes): far above any real disk (an EBS volume stops at 64 TiB), and low
    /// enough that an offset within such a disk plus any block, chunk or cluster still fits
    /// both a UInt64 and a file offset (off_t, an Int64), and that rounding it up to whole
    /// blocks cannot overflow.
    public static let maximum: UInt64 = 1 << 62

    /// "4 EiB", for messages.
    public static let maximumDescription = "4 EiB"

    /// Throws unless a disk of `size` bytes is one Ferry can read and write; `disk` names
    /// the file and `what` the field the size came from, in the error.
    public static func check(_ size: UInt64, disk: String, what: String = "virtual size") throws(BlockReaderError) {
        guard size <= maximum else {
            throw .corrupt(disk: disk, reason: "\(what) of \(size) bytes is larger than the largest disk Ferry reads (\(maximumDescription), 2^62 bytes); the file is damaged or not a disk image")
        }
    }

    /// How many blocks of `blockSize` bytes hold `size` bytes, the last one maybe partly:
    /// `(size + blockSize - 1) / blockSize` for every size, also those near UInt64.max.
    public static func blocks(_ size: UInt64, of blockSize: UInt64) -> UInt64 {
        precondition(blockSize > 0, "a block size is never 0")
        return size / blockSize + (size % blockSize == 0 ? 0 : 1)
    }

    /// `count` units of `unit` bytes (sectors, clusters, grains), or nil when that is more
    /// than `maximum`.
    public static func bytes(_ count: UInt64, unit: UInt64) -> UInt64? {
        let (product, overflow) = count.multipliedReportingOverflow(by: unit)
        return overflow || product > maximum ? nil : product
    }
}
