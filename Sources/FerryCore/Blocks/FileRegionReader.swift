#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A region of a file, `[base, base + size)`, read with `pread`: a whole file, or a member
/// of an archive read in place (a disk inside an .ova) without unpacking it.
public final class FileRegionReader: BlockReader, @unchecked Sendable {
    // @unchecked: the descriptor is immutable after init and pread does not use the shared
    // file offset.
    public let path: String
    public let base: UInt64
    public let size: UInt64
    private let descriptor: Int32

    /// Opens `path` read-only; without `length`, the region runs from `base` to the end.
    public init(path: String, base: UInt64 = 0, length: UInt64? = nil) throws(BlockReaderError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Self.ioError(path, "open") }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let error = Self.ioError(path, "stat")
            close(fd)
            throw error
        }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw .corrupt(disk: path, reason: "not a regular file")
        }
        let fileSize = UInt64(info.st_size)
        let (end, overflow) = base.addingReportingOverflow(length ?? 0)
        guard base <= fileSize, !overflow, end <= fileSize else {
            close(fd)
            throw .corrupt(disk: path, reason: "region at \(base) of \(length ?? 0) bytes goes past the end of the file (\(fileSize) bytes)")
        }
        self.path = path
        self.base = base
        self.size = length ?? (fileSize - base)
        self.descriptor = fd
    }

    deinit { close(descriptor) }

    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws {
        try checkBounds(offset: offset, count: buffer.count, disk: path)
        var done = 0
        while done < buffer.count {
            let n = pread(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(base + offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw Self.ioError(path, "read at \(base + offset + UInt64(done))")
            }
            if n == 0 {
                // The file shrank under us: what is gone reads as zeros.
                (buffer.baseAddress! + done).initializeMemory(as: UInt8.self, repeating: 0, count: buffer.count - done)
                return
            }
            done += n
        }
    }

    /// The region's data ranges as the file system knows them (SEEK_DATA / SEEK_HOLE), so
    /// that holes are never read; the whole region when the file system cannot tell.
    public func allocatedRanges() throws -> [ByteRange] {
        var ranges: [ByteRange] = []
        let start = off_t(base)
        let end = off_t(base + size)
        var position = start
        while position < end {
            let dataStart = lseek(descriptor, position, Self.seekData)
            if dataStart < 0 {
                if errno == ENXIO { break }
                if errno == EINVAL || errno == ENOTSUP { return size == 0 ? [] : [ByteRange(offset: 0, length: size)] }
                throw Self.ioError(path, "seek to data")
            }
            if dataStart >= end { break }
            var holeStart = lseek(descriptor, dataStart, Self.seekHole)
            if holeStart < 0 { holeStart = end }
            let stop = min(holeStart, end)
            if stop > dataStart { ranges.append(ByteRange(offset: UInt64(dataStart - start), length: UInt64(stop - dataStart))) }
            position = stop
        }
        return ranges
    }

    // Glibc hides these behind _GNU_SOURCE; their values are fixed by the Linux ABI.
    static let seekData: Int32 = 3
    static let seekHole: Int32 = 4

    static func ioError(_ path: String, _ operation: String) -> BlockReaderError {
        let code = errno
        return .io(disk: path, operation: operation, errno: code, message: String(cString: strerror(code)))
    }
}
