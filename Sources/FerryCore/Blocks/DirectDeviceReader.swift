import FerryCore
#if canImport(Glibc)
import Glibc
#endif

/// A block device read with O_DIRECT: what is on the disk, not the device's page cache. A
/// file system writes its files' data through their own pages, not the device's, so a
/// buffered read of /dev/sda can return a block as it was when it was last read through the
/// device, long after the file system wrote it anew: a replica made of such reads holds old
/// data under new metadata. Direct reads need an aligned buffer, offset and length; each read
/// goes through an aligned bounce buffer of its own.
public final class DirectDeviceReader: BlockReader, Sendable {
    public let path: String
    public let size: UInt64
    private let fd: Int32
    private static let alignment = 4096
    /// Linux's O_DIRECT (040000 on x86_64); Glibc's headers hide it behind _GNU_SOURCE.
    private static let directFlag: Int32 = 0o40000

    public init(path: String) throws(BlockReaderError) {
        let fd = open(path, O_RDONLY | Self.directFlag | O_CLOEXEC)
        guard fd >= 0 else { throw .io(disk: path, operation: "open", errno: errno, message: String(cString: strerror(errno))) }
        let end = lseek(fd, 0, SEEK_END)
        guard end >= 0 else {
            let code = errno
            close(fd)
            throw .io(disk: path, operation: "seek", errno: code, message: String(cString: strerror(code)))
        }
        self.fd = fd
        self.path = path
        self.size = UInt64(end)
    }

    deinit { close(fd) }

    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws {
        try checkBounds(offset: offset, count: buffer.count, disk: path)
        guard buffer.count > 0 else { return }
        let start = offset & ~UInt64(511)
        let skip = Int(offset - start)
        let length = (skip + buffer.count + 511) & ~511
        var raw: UnsafeMutableRawPointer?
        guard posix_memalign(&raw, Self.alignment, length) == 0, let bounce = raw else {
            throw BlockReaderError.io(disk: path, operation: "allocate", errno: ENOMEM, message: "no memory for a read buffer")
        }
        defer { free(bounce) }
        var done = 0
        while done < length {
            let n = pread(fd, bounce + done, length - done, off_t(start) + off_t(done))
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw BlockReaderError.io(disk: path, operation: "read", errno: errno, message: String(cString: strerror(errno))) }
            if n == 0 { break }
            done += n
        }
        let available = max(0, min(buffer.count, done - skip))
        buffer.baseAddress!.copyMemory(from: bounce + skip, byteCount: available)
        if available < buffer.count {
            UnsafeMutableRawBufferPointer(rebasing: buffer[available...]).initializeMemory(as: UInt8.self, repeating: 0)
        }
    }

    /// A device cannot say which of its blocks hold data: all of them may.
    public func allocatedRanges() throws -> [ByteRange] { size == 0 ? [] : [ByteRange(offset: 0, length: size)] }
}
