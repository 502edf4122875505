import FerryCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A raw disk file whose unwritten ranges stay holes, so that a 256 MiB volume holding
/// 30 MiB of data takes 30 MiB.
final class SparseFile {
    let path: String
    private let fd: Int32

    /// Opens `path` for reading and writing, creating it when `create` is set.
    init(path: String, create: Bool, readOnly: Bool = false) throws {
        self.path = path
        let flags = (readOnly ? O_RDONLY : O_RDWR) | O_CLOEXEC | (create ? O_CREAT | O_EXCL : 0)
        fd = open(path, flags, 0o600)
        guard fd >= 0 else { throw SparseFile.error("open", path) }
    }

    deinit { close(fd) }

    /// glibc's fallocate(2), which the Glibc module does not import (it needs _GNU_SOURCE).
    private static let fallocate: (@convention(c) (Int32, Int32, off_t, off_t) -> Int32)? = {
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "fallocate") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32, off_t, off_t) -> Int32).self)
    }()

    func setSize(_ size: UInt64) throws {
        guard ftruncate(fd, off_t(size)) == 0 else { throw SparseFile.error("ftruncate", path) }
    }

    func write(_ buffer: UnsafeRawBufferPointer, at offset: UInt64) throws {
        var done = 0
        while done < buffer.count {
            let n = pwrite(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            guard n > 0 else { throw SparseFile.error("pwrite", path) }
            done += n
        }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws {
        var done = 0
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            guard n >= 0 else { throw SparseFile.error("pread", path) }
            if n == 0 {
                // Past the end reads as zeros.
                memset(buffer.baseAddress! + done, 0, buffer.count - done)
                return
            }
            done += n
        }
    }

    /// Makes `[offset, offset+length)` read as zeros, freeing its blocks where the file system can.
    func zero(offset: UInt64, length: UInt64) throws {
        let punchHole: Int32 = 0x02, keepSize: Int32 = 0x01
        if let punch = SparseFile.fallocate, punch(fd, punchHole | keepSize, off_t(offset), off_t(length)) == 0 { return }
        let zeros = [UInt8](repeating: 0, count: Int(min(length, 1 << 20)))
        var done: UInt64 = 0
        while done < length {
            let count = Int(min(UInt64(zeros.count), length - done))
            try zeros.withUnsafeBytes { try write(UnsafeRawBufferPointer(rebasing: $0[0..<count]), at: offset + done) }
            done += UInt64(count)
        }
    }

    /// The ranges that hold data (SEEK_DATA / SEEK_HOLE), or the whole file when the file
    /// system cannot tell.
    func dataRanges() throws -> [ByteRange] {
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw SparseFile.error("fstat", path) }
        let size = off_t(info.st_size)
        var ranges: [ByteRange] = []
        var position: off_t = 0
        let seekData: Int32 = 3, seekHole: Int32 = 4
        while position < size {
            let start = lseek(fd, position, seekData)
            if start < 0 {
                if errno == ENXIO { break }
                return size > 0 ? [ByteRange(offset: 0, length: UInt64(size))] : []
            }
            var end = lseek(fd, start, seekHole)
            if end < 0 { end = size }
            ranges.append(ByteRange(offset: UInt64(start), length: UInt64(end - start)))
            position = end
        }
        return ranges
    }

    func sync() { fsync(fd) }

    /// Copies `source` into a new file at `destination`, data ranges only.
    static func copy(from source: String, to destination: String) throws {
        let input = try SparseFile(path: source, create: false, readOnly: true)
        let output = try SparseFile(path: destination, create: true)
        var info = stat()
        stat(source, &info)
        try output.setSize(UInt64(info.st_size))
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        for range in try input.dataRanges() {
            var offset = range.offset
            while offset < range.end {
                let count = Int(min(UInt64(buffer.count), range.end - offset))
                try buffer.withUnsafeMutableBytes { try input.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[0..<count]), at: offset) }
                try buffer.withUnsafeBytes { try output.write(UnsafeRawBufferPointer(rebasing: $0[0..<count]), at: offset) }
                offset += UInt64(count)
            }
        }
        output.sync()
    }

    static func error(_ operation: String, _ path: String) -> BlockReaderError {
        let code = errno
        return .io(disk: path, operation: operation, errno: code, message: String(cString: strerror(code)))
    }
}

/// A raw disk file read as a `BlockReader`: a sandbox volume, or a disk exported from an instance.
public struct RawFileReader: BlockReader {
    public let path: String
    public let size: UInt64

    public init(path: String) throws {
        var info = stat()
        guard stat(path, &info) == 0 else { throw SparseFile.error("stat", path) }
        self.path = path
        self.size = UInt64(info.st_size)
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws {
        try checkBounds(offset: offset, count: buffer.count, disk: path)
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SparseFile.error("open", path) }
        defer { close(fd) }
        var done = 0
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            guard n > 0 else { throw SparseFile.error("pread", path) }
            done += n
        }
    }

    public func allocatedRanges() throws -> [ByteRange] {
        try SparseFile(path: path, create: false, readOnly: true).dataRanges()
    }
}
