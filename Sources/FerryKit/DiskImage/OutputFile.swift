#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file being written by an image writer: positioned writes, nothing buffered, errors
/// that name the file.
public final class OutputFile {
    public let path: String
    private var descriptor: Int32

    /// Creates `path`, or truncates it when it exists.
    public init(creating path: String) throws(DiskImageError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw Self.ioError(path, "create") }
        self.path = path
        self.descriptor = fd
    }

    deinit { if descriptor >= 0 { Glibc.close(descriptor) } }

    public func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws(DiskImageError) {
        guard let start = off_t(exactly: offset), off_t(bytes.count) <= off_t.max - start else {
            throw .tooLarge(path: path, reason: "cannot write \(bytes.count) bytes at offset \(offset): past the largest file offset (2^63 - 1)")
        }
        var done = 0
        while done < bytes.count {
            let n = pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, start + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw Self.ioError(path, "write at \(offset + UInt64(done))")
            }
            done += n
        }
    }

    public func write(_ bytes: [UInt8], at offset: UInt64) throws(DiskImageError) {
        let result: Result<Void, DiskImageError> = bytes.withUnsafeBytes { buffer in
            do throws(DiskImageError) { try write(buffer, at: offset); return .success(()) } catch { return .failure(error) }
        }
        try result.get()
    }

    /// Sets the file's length; growing it leaves a hole. A character device (`-o /dev/null`,
    /// to measure reading alone) has no length and is left as it is. A block device is
    /// refused by ftruncate, rightly: a sparse writer skips zeros, which on a device would
    /// leave its old data in place.
    public func setLength(_ length: UInt64) throws(DiskImageError) {
        var info = stat()
        if fstat(descriptor, &info) == 0, info.st_mode & S_IFMT == S_IFCHR { return }
        guard let fileLength = off_t(exactly: length) else {
            throw .tooLarge(path: path, reason: "a file of \(length) bytes is larger than a file can be (2^63 - 1 bytes)")
        }
        guard ftruncate(descriptor, fileLength) == 0 else { throw Self.ioError(path, "set length to \(length)") }
    }

    public func close() throws(DiskImageError) {
        let fd = descriptor
        descriptor = -1
        guard Glibc.close(fd) == 0 else { throw Self.ioError(path, "close") }
    }

    static func ioError(_ path: String, _ operation: String) -> DiskImageError {
        let code = errno
        return .io(path: path, operation: operation, errno: code, message: String(cString: strerror(code)))
    }
}
