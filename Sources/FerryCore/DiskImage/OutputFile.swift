#if canImport(Glibc)
import Glibc
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
    private let file: PositionalFile
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
            do { file = try PositionalFile(path: destination, flags: O_WRONLY) } catch { throw Self.imageError(error, path: path) }
            replacement = nil
            return
        }
        let folder = destination.contains("/") ? String(destination[..<destination.lastIndex(of: "/")!]) : "."
        let name = destination.split(separator: "/").last.map(String.init) ?? destination
        var created: PositionalFile?
        var temporary = ""
        var failure: FileIOError?
        for _ in 0..<16 {
            temporary = "\(folder.isEmpty ? "" : folder)/.\(name).\(String(UInt32.random(in: .min ... .max), radix: 36))"
            do {
                created = try PositionalFile(path: temporary, flags: O_WRONLY | O_CREAT | O_EXCL, mode: 0o644)
                break
            } catch {
                failure = error
                if error.code != EEXIST { break }
            }
        }
        guard let created else {
            let code = failure?.code ?? EEXIST
            throw .io(path: path, operation: "create a temporary file in \(folder.isEmpty ? "/" : folder) (an image is written beside its final place and renamed into it when complete, so the folder must be writable)",
                      errno: code, message: String(cString: strerror(code)))
        }
        if exists {
            // The image replaces the old one with its permissions (and, when Ferry may, its owner).
            created.copyOwnership(mode: existing.st_mode, owner: existing.st_uid, group: existing.st_gid)
        }
        file = created
        replacement = (temporary, destination)
    }

    deinit {
        // Not closed successfully: whatever was written is not the image.
        if let replacement { unlink(replacement.temporary) }
    }

    public func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws(DiskImageError) {
        guard let start = off_t(exactly: offset), off_t(bytes.count) <= off_t.max - start else {
            throw .tooLarge(path: path, reason: "cannot write \(bytes.count) bytes at offset \(offset): past the largest file offset (2^63 - 1)")
        }
        do { try file.write(bytes, at: offset) } catch { throw Self.imageError(error, path: path) }
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
        if let info = try? file.status(), info.st_mode & S_IFMT == S_IFCHR { return }
        guard off_t(exactly: length) != nil else {
            throw .tooLarge(path: path, reason: "a file of \(length) bytes is larger than a file can be (2^63 - 1 bytes)")
        }
        do { try file.setLength(length) } catch { throw Self.imageError(error, path: path) }
    }

    /// Finishes the image: on disk, then in the place of the file it replaces. Until this
    /// returns, an existing file at `path` is as it was.
    public func close() throws(DiskImageError) {
        guard let replacement else {
            do { try file.close() } catch { throw Self.imageError(error, path: path) }
            return
        }
        do {
            // On disk before the rename: after a crash, the name must not point to an image
            // whose data never reached the disk.
            try file.sync()
            try file.close()
        } catch {
            throw Self.imageError(error, path: path)
        }
        guard rename(replacement.temporary, replacement.destination) == 0 else {
            throw Self.ioError(path, "rename \(replacement.temporary) to \(replacement.destination)")
        }
        self.replacement = nil
        // The rename itself, on disk too; a folder that cannot be synced is no reason to fail.
        let folder = replacement.destination.contains("/") ? String(replacement.destination[..<replacement.destination.lastIndex(of: "/")!]) : "."
        if let folderFile = try? PositionalFile(path: folder.isEmpty ? "/" : folder, flags: O_RDONLY) {
            try? folderFile.sync()
        }
    }

    /// `path` with symbolic links followed; itself when it does not exist yet (or is a link
    /// to nothing: the new file then replaces the link).
    private static func resolvedPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// The layer's error as the writer's, named by the image's path (not the temporary's).
    static func imageError(_ error: FileIOError, path: String) -> DiskImageError {
        .io(path: path, operation: error.operation, errno: error.code, message: error.message)
    }

    static func ioError(_ path: String, _ operation: String) -> DiskImageError {
        let code = errno
        return .io(path: path, operation: operation, errno: code, message: String(cString: strerror(code)))
    }
}
