#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Reads a qcow2 image (versions 2 and 3) through its L1/L2 tables, falling back to its
/// backing file (raw or qcow2) for clusters it does not hold. Written by hand from the qcow2
/// specification (qemu's docs/interop/qcow2.txt): no library here reads qcow2.
///
/// Metadata is read again on every access, never cached, so the image may be in use by a
/// running guest: a read sees the clusters as they are at that moment, and a replication
/// pass that follows sees later writes.
public final class QCOW2Reader: BlockReader, @unchecked Sendable {
    // @unchecked: every field is immutable after init; reads use pread only.
    public let path: String
    public let size: UInt64
    private let fd: Int32
    private let clusterBits: UInt64
    private let l1Size: UInt64
    private let l1Offset: UInt64
    private let backing: (any BlockReader)?

    public static let magic: [UInt8] = [0x51, 0x46, 0x49, 0xfb]

    /// Whether the file at `path` starts like a qcow2 image.
    public static func isQCOW2(path: String) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else { return false }
        defer { try? handle.close() }
        return (try? handle.read(upToCount: 4)).map { Array($0) == magic } ?? false
    }

    public init(path: String, depth: Int = 0) throws {
        self.path = path
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw BlockReaderError.io(disk: path, operation: "open", errno: errno, message: String(cString: strerror(errno))) }
        do {
            var header = [UInt8](repeating: 0, count: 104)
            try Self.pread(fd, &header, at: 0, path: path)
            func u32(_ at: Int) -> UInt64 { header[at..<(at + 4)].reduce(0) { $0 << 8 | UInt64($1) } }
            func u64(_ at: Int) -> UInt64 { header[at..<(at + 8)].reduce(0) { $0 << 8 | UInt64($1) } }
            guard Array(header[0..<4]) == Self.magic else { throw BlockReaderError.corrupt(disk: path, reason: "not a qcow2 image (wrong magic)") }
            let version = u32(4)
            guard version == 2 || version == 3 else { throw BlockReaderError.corrupt(disk: path, reason: "qcow2 version \(version) is not supported (2 and 3 are)") }
            clusterBits = u32(20)
            guard (9...21).contains(clusterBits) else { throw BlockReaderError.corrupt(disk: path, reason: "qcow2 cluster bits \(clusterBits) out of range") }
            size = u64(24)
            guard u32(32) == 0 else { throw BlockReaderError.corrupt(disk: path, reason: "encrypted qcow2 images are not supported") }
            l1Size = u32(36)
            l1Offset = u64(40)
            if version == 3 {
                let incompatible = u64(72)
                // Bit 0 dirty and bit 1 corrupt are readable as-is; anything else changes the layout.
                guard incompatible & ~UInt64(0b11) == 0 else {
                    throw BlockReaderError.corrupt(disk: path, reason: "qcow2 incompatible features 0x\(String(incompatible, radix: 16)) are not supported")
                }
            }
            let needed = (size + (1 << clusterBits) - 1) >> clusterBits
            let perTable = UInt64(1) << (clusterBits - 3)
            guard l1Size >= (needed + perTable - 1) / perTable, l1Size <= 1 << 25 else {
                throw BlockReaderError.corrupt(disk: path, reason: "qcow2 L1 table of \(l1Size) entries does not fit a \(size)-byte disk")
            }
            let backingOffset = u64(8), backingLength = u32(16)
            if backingOffset != 0, backingLength > 0 {
                guard backingLength <= 1023, depth < 8 else { throw BlockReaderError.corrupt(disk: path, reason: "qcow2 backing file name too long or chain too deep") }
                var name = [UInt8](repeating: 0, count: Int(backingLength))
                try Self.pread(fd, &name, at: backingOffset, path: path)
                let relative = String(decoding: name, as: UTF8.self)
                let resolved = relative.hasPrefix("/") ? relative : URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent(relative).path
                guard FileManager.default.fileExists(atPath: resolved) else {
                    throw BlockReaderError.corrupt(disk: path, reason: "qcow2 backing file \(resolved) is missing")
                }
                backing = Self.isQCOW2(path: resolved) ? try QCOW2Reader(path: resolved, depth: depth + 1) : try FileRegionReader(path: resolved)
            } else {
                backing = nil
            }
        } catch {
            close(fd)
            throw error
        }
    }

    deinit { close(fd) }

    private var clusterSize: UInt64 { 1 << clusterBits }

    private enum Cluster {
        case data(UInt64)
        case zero
        case unallocated
    }

    private func cluster(at guestOffset: UInt64) throws -> Cluster {
        let index = guestOffset >> clusterBits
        let perTable = UInt64(1) << (clusterBits - 3)
        let l1Index = index / perTable
        guard l1Index < l1Size else { return .unallocated }
        let l1Entry = try readEntry(at: l1Offset + l1Index * 8)
        let l2Offset = l1Entry & 0x00ff_ffff_ffff_fe00
        guard l2Offset != 0 else { return .unallocated }
        let l2Entry = try readEntry(at: l2Offset + (index % perTable) * 8)
        if l2Entry & (1 << 62) != 0 {
            throw BlockReaderError.corrupt(disk: path, reason: "compressed qcow2 clusters are not supported (convert with qemu-img convert -O qcow2)")
        }
        let host = l2Entry & 0x00ff_ffff_ffff_fe00
        if l2Entry & 1 != 0 { return .zero }
        return host == 0 ? .unallocated : .data(host)
    }

    private func readEntry(at offset: UInt64) throws -> UInt64 {
        var bytes = [UInt8](repeating: 0, count: 8)
        try Self.pread(fd, &bytes, at: offset, path: path)
        return bytes.reduce(0) { $0 << 8 | UInt64($1) }
    }

    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws {
        try checkBounds(offset: offset, count: buffer.count, disk: path)
        var done = 0
        while done < buffer.count {
            let position = offset + UInt64(done)
            let within = position & (clusterSize - 1)
            let count = min(buffer.count - done, Int(clusterSize - within))
            let target = UnsafeMutableRawBufferPointer(rebasing: buffer[done..<(done + count)])
            switch try cluster(at: position) {
            case .data(let host):
                try Self.pread(fd, target, at: host + within, path: path)
            case .zero:
                target.initializeMemory(as: UInt8.self, repeating: 0)
            case .unallocated:
                if let backing, position < backing.size {
                    let available = Int(min(UInt64(count), backing.size - position))
                    try backing.read(into: UnsafeMutableRawBufferPointer(rebasing: target[0..<available]), at: position)
                    if available < count { UnsafeMutableRawBufferPointer(rebasing: target[available...]).initializeMemory(as: UInt8.self, repeating: 0) }
                } else {
                    target.initializeMemory(as: UInt8.self, repeating: 0)
                }
            }
            done += count
        }
    }

    /// Clusters the image holds, plus what its backing file holds.
    public func allocatedRanges() throws -> [ByteRange] {
        var ranges = try backing?.allocatedRanges().compactMap { range -> ByteRange? in
            guard range.offset < size else { return nil }
            return ByteRange(offset: range.offset, length: min(range.length, size - range.offset))
        } ?? []
        var position: UInt64 = 0
        while position < size {
            if case .data = try cluster(at: position) {
                ranges.append(ByteRange(offset: position, length: min(clusterSize, size - position)))
            }
            position += clusterSize
        }
        return ByteRange.coalesce(ranges)
    }

    private static func pread(_ fd: Int32, _ bytes: inout [UInt8], at offset: UInt64, path: String) throws {
        try bytes.withUnsafeMutableBytes { try pread(fd, $0, at: offset, path: path) }
    }

    private static func pread(_ fd: Int32, _ buffer: UnsafeMutableRawBufferPointer, at offset: UInt64, path: String) throws {
        var done = 0
        while done < buffer.count {
            let n = Glibc.pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw BlockReaderError.io(disk: path, operation: "read at \(offset)", errno: errno, message: String(cString: strerror(errno)))
            }
            if n == 0 { throw BlockReaderError.corrupt(disk: path, reason: "qcow2 image ends before offset \(offset + UInt64(done)), which its tables point to") }
            done += n
        }
    }
}
