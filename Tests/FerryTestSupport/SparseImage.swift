import Foundation

/// Raw disk images made at run time for tests: sparse files with seeded random data in
/// chosen regions and holes everywhere else. Nothing of the kind is committed.
public enum SparseImage {
    /// Writes a file of `size` bytes at `path` (replacing one there), with random bytes from
    /// `seed` in each region (offset, length) and holes elsewhere.
    public static func write(_ path: String, size: UInt64, regions: [(offset: UInt64, length: Int)] = [], seed: UInt64 = 1) throws {
        FileManager.default.createFile(atPath: path, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        try handle.truncate(atOffset: size)
        var generator = SplitMix64(seed: seed)
        for region in regions {
            try handle.seek(toOffset: region.offset)
            try handle.write(contentsOf: generator.bytes(region.length))
        }
    }
}
