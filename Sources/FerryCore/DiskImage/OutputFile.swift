#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A file being written by an image writer: positioned writes, nothing buffered, errors
/// that name the file.
///
/// A file is written as a hidden temporary beside it (`.NAME.` and a random suffix, in the
/// same folder so that the rename stays on one file system) and takes its place only when
/// `close()` succeeds. A writer that fails part-way must not leave a wrong image of the
/// right size that looks complete, nor destroy the image an earlier run wrote: when it
/// throws, the temporary goes with the `OutputFile` and an existing file is untouched.
/// A device is written in place (`-o /dev/null`, to measure reading alone): there is
/// nothing to rename over it, and it must stay the device it is.
public final class OutputFile {
    public let path: String
    private var descriptor: Int32
    /// The temporary being written, and the file it replaces on success; nil for a device.
    private var replacement: (temporary: String, destination: String)?

    /// Creates a temporary beside `path` (through a symbolic link: beside the file it points
    /// to), or opens `path` itself when it is a device.
    public init(creating path: String) throws(DiskImageError) {
        self.path = path
        // The file a link points to is the one replaced, as writing through the link did.
        let destination = Self.resolvedPath(path)
        var existing = stat()
        let exists = stat(destination, &existing) == 0
        if exists && existing.st_mode & S_IFMT != S_IFREG {
            // A device or a pipe; a folder is refused by open with EISDIR.
            let fd = open(destination, O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { throw Self.ioError(path, "open") }
            descriptor = fd
            replacement = nil
            return
        }
        let folder = destination.contains("/") ? String(destination[..<destination.lastIndex(of: "/")!]) : "."
        let name = destination.split(separator: "/").last.map(String.init) ?? destination
        var fd: Int32 = -1
        var temporary = ""
        for _ in 0..<16 {
            temporary = "\(folder.isEmpty ? "" : folder)/.\(name).\(String(UInt32.random(in: .min ... .max), radix: 36))"
            fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
            if fd >= 0 || errno != EEXIST { break }
        }
        guard fd >= 0 else {
            throw Self.ioError(path, "create a temporary file in \(folder.isEmpty ? "/" : folder) (an image is written beside its final place and renamed into it when complete, so the folder must be writable)")
        }
        if exists {
            // The image replaces the old one with its permissions (and, when Ferry may, its owner).
            _ = fchmod(fd, existing.st_mode & 0o7777)
            _ = fchown(fd, existing.st_uid, existing.st_gid)
        }
        descriptor = fd
        replacement = (temporary, destination)
    }

    deinit {
        if descriptor >= 0 { Glibc.close(descriptor) }
        // Not closed successfully: whatever was written is not the image.
        if let replacement { unlink(replacement.temporary) }
    }

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

    /// Finishes the image: on disk, then in the place of the file it replaces. Until this
    /// returns, an existing file at `path` is as it was.
    public func close() throws(DiskImageError) {
        let fd = descriptor
        descriptor = -1
        guard let replacement else {
            guard Glibc.close(fd) == 0 else { throw Self.ioError(path, "close") }
            return
        }
        // On disk before the rename: after a crash, the name must not point to an image
        // whose data never reached the disk.
        guard fsync(fd) == 0 else {
            let error = Self.ioError(path, "fsync")
            Glibc.close(fd)
            throw error
        }
        guard Glibc.close(fd) == 0 else { throw Self.ioError(path, "close") }
        guard rename(replacement.temporary, replacement.destination) == 0 else {
            throw Self.ioError(path, "rename \(replacement.temporary) to \(replacement.destination)")
        }
        self.replacement = nil
        // The rename itself, on disk too; a folder that cannot be synced is no reason to fail.
        let folder = replacement.destination.contains("/") ? String(replacement.destination[..<replacement.destination.lastIndex(of: "/")!]) : "."
        let folderFD = open(folder.isEmpty ? "/" : folder, O_RDONLY | O_CLOEXEC)
        if folderFD >= 0 {
            _ = fsync(folderFD)
            Glibc.close(folderFD)
        }
    }

    /// `path` with symbolic links followed; itself when it does not exist yet (or is a link
    /// to nothing: the new file then replaces the link).
    private static func resolvedPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    static func ioError(_ path: String, _ operation: String) -> DiskImageError {
        let code = errno
        return .io(path: path, operation: operation, errno: code, message: String(cString: strerror(code)))
    }
}
