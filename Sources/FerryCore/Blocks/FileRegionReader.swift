#if canImport(Glibc)
import Glibc
#endif

/// A region of a file or block device, `[base, base + size)`: a whole raw image or disk
/// (base 0), or a member of an archive read in place (a disk inside an .ova) without
/// unpacking it. Reads are positioned (`PositionalFile`), so one reader serves many tasks
/// at once; holes come from the file system, so that they are never read.
public final class FileRegionReader: BlockReader, Sendable {
    public let path: String
    public let base: UInt64
    public let size: UInt64
    private let file: PositionalFile

    /// Opens `path` read-only; without `length`, the region runs from `base` to the end.
    public init(path: String, base: UInt64 = 0, length: UInt64? = nil) throws(BlockReaderError) {
        let file: PositionalFile
        let kind: mode_t
        let fileSize: UInt64
        do {
            file = try PositionalFile(path: path, flags: O_RDONLY)
            kind = try file.status().st_mode & S_IFMT
            fileSize = kind == S_IFREG || kind == S_IFBLK ? try file.length() : 0
        } catch {
            throw Self.readerError(error)
        }
        guard kind == S_IFREG || kind == S_IFBLK else {
            throw .corrupt(disk: path, reason: "not a regular file or a block device")
        }
        let (end, overflow) = base.addingReportingOverflow(length ?? 0)
        guard base <= fileSize, !overflow, end <= fileSize else {
            throw .corrupt(disk: path, reason: "region at \(base) of \(length ?? 0) bytes goes past the end of the file (\(fileSize) bytes)")
        }
        self.file = file
        self.path = path
        self.base = base
        self.size = length ?? (fileSize - base)
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws {
        try checkBounds(offset: offset, count: buffer.count, disk: path)
        let read: Int
        do { read = try file.read(into: buffer, at: base + offset) } catch { throw Self.readerError(error) }
        if read < buffer.count {
            // The file shrank under us: what is gone reads as zeros, like a hole.
            UnsafeMutableRawBufferPointer(rebasing: buffer[read...]).initializeMemory(as: UInt8.self, repeating: 0)
        }
    }

    /// The region's data ranges as the file system knows them (SEEK_DATA / SEEK_HOLE); the
    /// whole region when it cannot tell (a device, a file system without them).
    public func allocatedRanges() throws -> [ByteRange] {
        do {
            return try file.dataRanges(from: base, to: base + size) ?? (size == 0 ? [] : [ByteRange(offset: 0, length: size)])
        } catch {
            throw Self.readerError(error)
        }
    }

    /// The file layer's error as a reader's, with the same file, operation and errno.
    public static func readerError(_ error: FileIOError) -> BlockReaderError {
        .io(disk: error.path, operation: error.operation, errno: error.code, message: error.message)
    }
}
