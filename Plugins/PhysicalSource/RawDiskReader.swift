#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import FerryCore

// Glibc hides these behind _GNU_SOURCE; their values are fixed by the Linux ABI.
private let seekData: Int32 = 3
private let seekHole: Int32 = 4

/// A raw disk image file or a block device, opened read-only. Reads use `pread`, so one
/// reader serves many tasks at once; holes come from the file system (SEEK_DATA/SEEK_HOLE)
/// so that they are never read.
public final class RawDiskReader: BlockReader, @unchecked Sendable {
    // @unchecked: the descriptor is immutable after init and pread/lseek(SEEK_DATA) do not
    // depend on the shared file offset.
    public let path: String
    public let size: UInt64
    private let descriptor: Int32

    public init(path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw Self.ioError(path, "open") }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            let error = Self.ioError(path, "stat")
            close(fd)
            throw error
        }
        let mode = info.st_mode & S_IFMT
        if mode == S_IFREG {
            size = UInt64(info.st_size)
        } else if mode == S_IFBLK {
            // A block device's size is where its end is.
            let end = lseek(fd, 0, SEEK_END)
            guard end >= 0 else {
                let error = Self.ioError(path, "seek to end")
                close(fd)
                throw error
            }
            size = UInt64(end)
        } else {
            close(fd)
            throw BlockReaderError.corrupt(disk: path, reason: "not a regular file or a block device")
        }
        self.path = path
        self.descriptor = fd
    }

    deinit { close(descriptor) }

    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws {
        try checkBounds(offset: offset, count: buffer.count, disk: path)
        var done = 0
        while done < buffer.count {
            let n = pread(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw Self.ioError(path, "read at \(offset + UInt64(done))")
            }
            if n == 0 {
                // The file shrank under us: what is gone reads as zeros, like a hole.
                (buffer.baseAddress! + done).initializeMemory(as: UInt8.self, repeating: 0, count: buffer.count - done)
                return
            }
            done += n
        }
    }

    public func allocatedRanges() throws -> [ByteRange] {
        var ranges: [ByteRange] = []
        var position: off_t = 0
        let end = off_t(size)
        while position < end {
            let dataStart = lseek(descriptor, position, seekData)
            if dataStart < 0 {
                if errno == ENXIO { break } // no data after `position`
                // The file system cannot tell (or this is a device): everything may hold data.
                if errno == EINVAL || errno == ENOTSUP { return size == 0 ? [] : [ByteRange(offset: 0, length: size)] }
                throw Self.ioError(path, "seek to data")
            }
            var holeStart = lseek(descriptor, dataStart, seekHole)
            if holeStart < 0 { holeStart = end }
            let stop = min(holeStart, end)
            if stop > dataStart { ranges.append(ByteRange(offset: UInt64(dataStart), length: UInt64(stop - dataStart))) }
            position = stop
        }
        return ranges
    }

    private static func ioError(_ path: String, _ operation: String) -> BlockReaderError {
        let code = errno
        return .io(disk: path, operation: operation, errno: code, message: String(cString: strerror(code)))
    }
}
