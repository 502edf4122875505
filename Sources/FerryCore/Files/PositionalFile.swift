#if canImport(Glibc)
import Glibc
#endif

/// An open file (or device) read and written at offsets, never through the shared file
/// position, so that many threads can use one at once. The one place where Ferry calls
/// pread and pwrite: a short transfer is continued, EINTR is retried, any other failure is a
/// `FileIOError` naming the file, the operation and the offset. Disk readers, image writers
/// and the staging store's segments build on it and turn its error into their own.
public final class PositionalFile: @unchecked Sendable {
    // @unchecked: the descriptor changes only in `close()`, which the owner calls when no
    // other use is in flight (an image writer finishing, a store closing a segment).
    public let path: String
    private var descriptor: Int32

    /// Opens `path` with open(2)'s `flags` (O_CLOEXEC is added) and, when creating, `mode`.
    public init(path: String, flags: Int32, mode: mode_t = 0o644) throws(FileIOError) {
        let fd = open(path, flags | O_CLOEXEC, mode)
        guard fd >= 0 else { throw FileIOError(path: path, operation: "open") }
        self.path = path
        self.descriptor = fd
    }

    deinit {
        if descriptor >= 0 { Glibc.close(descriptor) }
    }

    /// Fills `buffer` from `offset`, continuing after short reads; returns how many bytes it
    /// read, fewer than asked only where the file ends.
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws(FileIOError) -> Int {
        guard buffer.count > 0 else { return 0 }
        guard let start = off_t(exactly: offset) else { throw FileIOError(path: path, operation: "read at \(offset)", code: EINVAL) }
        var done = 0
        while done < buffer.count {
            let n = pread(descriptor, buffer.baseAddress! + done, buffer.count - done, start + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw FileIOError(path: path, operation: "read at \(offset + UInt64(done))")
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Writes all of `bytes` at `offset`, continuing after short writes.
    public func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws(FileIOError) {
        guard let start = off_t(exactly: offset), off_t(bytes.count) <= off_t.max - start else {
            throw FileIOError(path: path, operation: "write \(bytes.count) bytes at \(offset), past the largest file offset (2^63 - 1)", code: EFBIG)
        }
        var done = 0
        while done < bytes.count {
            let n = pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, start + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw FileIOError(path: path, operation: "write at \(offset + UInt64(done))")
            }
            done += n
        }
    }

    /// fstat(2) of the open file.
    public func status() throws(FileIOError) -> stat {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw FileIOError(path: path, operation: "stat") }
        return info
    }

    /// The length of a regular file, or of a block device (where its end is).
    public func length() throws(FileIOError) -> UInt64 {
        let info = try status()
        if info.st_mode & S_IFMT == S_IFBLK {
            let end = lseek(descriptor, 0, SEEK_END)
            guard end >= 0 else { throw FileIOError(path: path, operation: "seek to end") }
            return UInt64(end)
        }
        return UInt64(info.st_size)
    }

    /// Sets the file's length; growing it leaves a hole.
    public func setLength(_ length: UInt64) throws(FileIOError) {
        guard let fileLength = off_t(exactly: length) else {
            throw FileIOError(path: path, operation: "set length to \(length), past the largest file offset (2^63 - 1)", code: EFBIG)
        }
        guard ftruncate(descriptor, fileLength) == 0 else { throw FileIOError(path: path, operation: "set length to \(length)") }
    }

    /// Flushes the file's data and metadata to the disk.
    public func sync() throws(FileIOError) {
        guard fsync(descriptor) == 0 else { throw FileIOError(path: path, operation: "fsync") }
    }

    /// Sets the permission bits and the owner (best effort: Ferry may not own the file).
    public func copyOwnership(mode: mode_t, owner: uid_t, group: gid_t) {
        _ = fchmod(descriptor, mode & 0o7777)
        _ = fchown(descriptor, owner, group)
    }

    /// The data ranges of `[start, end)` as the file system knows them (SEEK_DATA /
    /// SEEK_HOLE), relative to `start`; nil when the file system (or a device) cannot tell.
    public func dataRanges(from start: UInt64, to end: UInt64) throws(FileIOError) -> [ByteRange]? {
        var ranges: [ByteRange] = []
        let first = off_t(start)
        let last = off_t(end)
        var position = first
        while position < last {
            let dataStart = lseek(descriptor, position, Self.seekData)
            if dataStart < 0 {
                if errno == ENXIO { break } // no data after `position`
                if errno == EINVAL || errno == ENOTSUP { return nil }
                throw FileIOError(path: path, operation: "seek to data")
            }
            if dataStart >= last { break }
            var holeStart = lseek(descriptor, dataStart, Self.seekHole)
            if holeStart < 0 { holeStart = last }
            let stop = min(holeStart, last)
            if stop > dataStart { ranges.append(ByteRange(offset: UInt64(dataStart - first), length: UInt64(stop - dataStart))) }
            position = stop
        }
        return ranges
    }

    /// Runs `body` with the descriptor, for a call this type does not wrap (fallocate to
    /// punch a hole). The descriptor must not be closed or kept.
    public func withDescriptor<Result>(_ body: (Int32) throws -> Result) rethrows -> Result {
        try body(descriptor)
    }

    // Glibc hides these behind _GNU_SOURCE; their values are fixed by the Linux ABI.
    static let seekData: Int32 = 3
    static let seekHole: Int32 = 4

    /// Closes the descriptor, reporting what close(2) says (a delayed write error on some
    /// file systems). No other use of the file may follow.
    public func close() throws(FileIOError) {
        let fd = descriptor
        descriptor = -1
        guard fd >= 0 else { return }
        guard Glibc.close(fd) == 0 else { throw FileIOError(path: path, operation: "close") }
    }
}
