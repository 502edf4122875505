import FerryCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// One append-only file of chunks. Appends go to the end with `pwrite`; reads use `pread`,
/// so readers never disturb the writer.
final class SegmentFile: @unchecked Sendable {
    // @unchecked: the descriptor never changes; callers serialise appends (StagingStore's
    // lock), and pread needs no shared state.
    let number: Int
    let path: String
    private let descriptor: Int32
    private(set) var length: UInt64

    init(number: Int, path: String, create: Bool) throws {
        let flags = create ? (O_RDWR | O_CREAT | O_CLOEXEC) : (O_RDWR | O_CLOEXEC)
        let fd = open(path, flags, 0o600)
        guard fd >= 0 else { throw StagingStoreError.io(path: path, operation: "open", message: String(cString: strerror(errno))) }
        let end = lseek(fd, 0, SEEK_END)
        guard end >= 0 else {
            close(fd)
            throw StagingStoreError.io(path: path, operation: "seek", message: String(cString: strerror(errno)))
        }
        self.number = number
        self.path = path
        self.descriptor = fd
        self.length = UInt64(end)
    }

    deinit { close(descriptor) }

    /// Appends `data` and returns the offset where it starts.
    func append(_ data: UnsafeRawBufferPointer) throws -> UInt64 {
        let offset = length
        var done = 0
        while done < data.count {
            let n = pwrite(descriptor, data.baseAddress! + done, data.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw StagingStoreError.io(path: path, operation: "write", message: String(cString: strerror(errno)))
            }
            done += n
        }
        length += UInt64(data.count)
        return offset
    }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws {
        var done = 0
        while done < buffer.count {
            let n = pread(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw StagingStoreError.io(path: path, operation: "read", message: String(cString: strerror(errno)))
            }
            if n == 0 { throw StagingStoreError.corrupt("\(path) ends at \(offset + UInt64(done)), before a chunk it indexes") }
            done += n
        }
    }

    func sync() throws {
        guard fsync(descriptor) == 0 else {
            throw StagingStoreError.io(path: path, operation: "fsync", message: String(cString: strerror(errno)))
        }
    }
}
