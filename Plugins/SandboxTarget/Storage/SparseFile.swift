import FerryCore
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A raw disk file whose unwritten ranges stay holes, so that a 256 MiB volume holding
/// 30 MiB of data takes 30 MiB.
final class SparseFile {
    let path: String
    private let file: PositionalFile

    /// Opens `path` for reading and writing, creating it when `create` is set.
    init(path: String, create: Bool, readOnly: Bool = false) throws {
        self.path = path
        let flags = (readOnly ? O_RDONLY : O_RDWR) | (create ? O_CREAT | O_EXCL : 0)
        do { file = try PositionalFile(path: path, flags: flags, mode: 0o600) } catch { throw FileRegionReader.readerError(error) }
    }

    /// glibc's fallocate(2), which the Glibc module does not import (it needs _GNU_SOURCE).
    private static let fallocate: (@convention(c) (Int32, Int32, off_t, off_t) -> Int32)? = {
        guard let symbol = dlsym(dlopen(nil, RTLD_NOW), "fallocate") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32, off_t, off_t) -> Int32).self)
    }()

    func setSize(_ size: UInt64) throws {
        do { try file.setLength(size) } catch { throw FileRegionReader.readerError(error) }
    }

    func write(_ buffer: UnsafeRawBufferPointer, at offset: UInt64) throws {
        do { try file.write(buffer, at: offset) } catch { throw FileRegionReader.readerError(error) }
    }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws {
        let read: Int
        do { read = try file.read(into: buffer, at: offset) } catch { throw FileRegionReader.readerError(error) }
        // Past the end reads as zeros.
        if read < buffer.count { UnsafeMutableRawBufferPointer(rebasing: buffer[read...]).initializeMemory(as: UInt8.self, repeating: 0) }
    }

    /// Makes `[offset, offset+length)` read as zeros, freeing its blocks where the file system can.
    func zero(offset: UInt64, length: UInt64) throws {
        let punchHole: Int32 = 0x02, keepSize: Int32 = 0x01
        if let punch = SparseFile.fallocate, file.withDescriptor({ punch($0, punchHole | keepSize, off_t(offset), off_t(length)) }) == 0 { return }
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
        do {
            let size = try file.length()
            return try file.dataRanges(from: 0, to: size) ?? (size > 0 ? [ByteRange(offset: 0, length: size)] : [])
        } catch {
            throw FileRegionReader.readerError(error)
        }
    }

    func sync() { try? file.sync() }

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

}
