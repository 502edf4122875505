import FerryCore
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
    // @unchecked: every field is immutable after init; reads are positioned only.
    public let path: String
    public let size: UInt64
    private let file: PositionalFile
    private let clusterBits: UInt64
    private let l1Size: UInt64
    private let l1Offset: UInt64
    private let backing: (any BlockReader)?

    public static let magic: [UInt8] = [0x51, 0x46, 0x49, 0xfb]

    /// The most L1 entries read. qemu refuses L1 tables over 32 MiB (QCOW_MAX_L1_SIZE), so
    /// no image it wrote has more; it also bounds the memory `allocatedRanges` reads it into.
    static let maxL1Entries: UInt64 = (32 << 20) / 8

    /// The host offset in an L1 or L2 entry (bits 9 to 55).
    static let offsetMask: UInt64 = 0x00ff_ffff_ffff_fe00
    /// L2 entry flags: a compressed cluster, and (qcow2 v3) a cluster that reads as zeros.
    static let compressedFlag: UInt64 = 1 << 62
    static let zeroFlag: UInt64 = 1

    /// Whether the file at `path` starts like a qcow2 image.
    public static func isQCOW2(path: String) -> Bool {
        guard let file = try? PositionalFile(path: path, flags: O_RDONLY) else { return false }
        var head = [UInt8](repeating: 0, count: magic.count)
        let read = (try? head.withUnsafeMutableBytes { try file.read(into: $0, at: 0) }) ?? 0
        return read == magic.count && head == magic
    }

    public init(path: String, depth: Int = 0) throws {
        self.path = path
        do {
            file = try PositionalFile(path: path, flags: O_RDONLY)
        } catch {
            throw FileRegionReader.readerError(error)
        }
        do {
            let fileSize: UInt64
            do { fileSize = UInt64(try file.status().st_size) } catch { throw FileRegionReader.readerError(error) }
            var header = [UInt8](repeating: 0, count: 104)
            try Self.pread(file, &header, at: 0, path: path)
            func u32(_ at: Int) -> UInt64 { header[at..<(at + 4)].reduce(0) { $0 << 8 | UInt64($1) } }
            func u64(_ at: Int) -> UInt64 { header[at..<(at + 8)].reduce(0) { $0 << 8 | UInt64($1) } }
            guard Array(header[0..<4]) == Self.magic else { throw BlockReaderError.corrupt(disk: path, reason: "not a qcow2 image (wrong magic)") }
            let version = u32(4)
            guard version == 2 || version == 3 else { throw BlockReaderError.corrupt(disk: path, reason: "qcow2 version \(version) is not supported (2 and 3 are)") }
            clusterBits = u32(20)
            guard (9...21).contains(clusterBits) else { throw BlockReaderError.corrupt(disk: path, reason: "qcow2 cluster bits \(clusterBits) out of range") }
            size = u64(24)
            try DiskSize.check(size, disk: path, what: "qcow2 virtual size (header byte 24)")
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
            let clusterSize = UInt64(1) << clusterBits
            let needed = DiskSize.blocks(DiskSize.blocks(size, of: clusterSize), of: clusterSize / 8)
            guard l1Size >= needed, l1Size <= Self.maxL1Entries else {
                throw BlockReaderError.corrupt(disk: path, reason: "qcow2 L1 table of \(l1Size) entries (header byte 36) does not fit a \(size)-byte disk: it needs \(needed), and qcow2 allows at most \(Self.maxL1Entries)")
            }
            // Every later read of the L1 table is then inside the file: no offset arithmetic
            // on it can overflow, and none reaches past what a file offset holds.
            let (l1End, l1Overflow) = l1Offset.addingReportingOverflow(l1Size * 8)
            guard l1Size == 0 || (l1Offset % clusterSize == 0 && !l1Overflow && l1End <= fileSize) else {
                throw BlockReaderError.corrupt(disk: path, reason: "qcow2 L1 table (\(l1Size) entries at byte \(l1Offset), header byte 40) is not a cluster-aligned region of the \(fileSize)-byte file")
            }
            let backingOffset = u64(8), backingLength = u32(16)
            if backingOffset != 0, backingLength > 0 {
                guard backingLength <= 1023, depth < 8 else { throw BlockReaderError.corrupt(disk: path, reason: "qcow2 backing file name too long or chain too deep") }
                var name = [UInt8](repeating: 0, count: Int(backingLength))
                try Self.pread(file, &name, at: backingOffset, path: path)
                let relative = String(decoding: name, as: UTF8.self)
                let resolved = relative.hasPrefix("/") ? relative : URL(fileURLWithPath: path).deletingLastPathComponent().appendingPathComponent(relative).path
                guard FileManager.default.fileExists(atPath: resolved) else {
                    throw BlockReaderError.corrupt(disk: path, reason: "qcow2 backing file \(resolved) is missing")
                }
                backing = Self.isQCOW2(path: resolved) ? try QCOW2Reader(path: resolved, depth: depth + 1) : try FileRegionReader(path: resolved)
            } else {
                backing = nil
            }
        }
    }

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
        let l2Offset = l1Entry & Self.offsetMask
        guard l2Offset != 0 else { return .unallocated }
        return try Self.cluster(fromL2Entry: try readEntry(at: l2Offset + (index % perTable) * 8), path: path)
    }

    private static func cluster(fromL2Entry entry: UInt64, path: String) throws -> Cluster {
        if entry & compressedFlag != 0 {
            throw BlockReaderError.corrupt(disk: path, reason: "compressed qcow2 clusters are not supported (convert with qemu-img convert -O qcow2)")
        }
        if entry & zeroFlag != 0 { return .zero }
        let host = entry & offsetMask
        return host == 0 ? .unallocated : .data(host)
    }

    private func readEntry(at offset: UInt64) throws -> UInt64 {
        var bytes = [UInt8](repeating: 0, count: 8)
        try Self.pread(file, &bytes, at: offset, path: path)
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
                try Self.pread(file, target, at: host + within, path: path)
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
    ///
    /// Walks the L1 table and the L2 tables it points to, not the virtual disk cluster by
    /// cluster, so that the work follows what the file holds whatever size its header
    /// claims. Two L1 entries sharing one L2 table are refused: qemu never writes that, and
    /// it would let a small file describe an endless disk.
    public func allocatedRanges() throws -> [ByteRange] {
        var ranges = try backing?.allocatedRanges().compactMap { range -> ByteRange? in
            guard range.offset < size else { return nil }
            return ByteRange(offset: range.offset, length: min(range.length, size - range.offset))
        } ?? []
        let perTable = clusterSize / 8
        let clusters = DiskSize.blocks(size, of: clusterSize)
        // At most l1Size, itself at most maxL1Entries (checked when the image was opened).
        let tables = DiskSize.blocks(clusters, of: perTable)
        guard tables > 0 else { return ByteRange.coalesce(ranges) }
        var l1 = [UInt8](repeating: 0, count: Int(tables * 8))
        try Self.pread(file, &l1, at: l1Offset, path: path)
        var l2 = [UInt8](repeating: 0, count: Int(clusterSize))
        var tableOwners: [UInt64: UInt64] = [:]
        for l1Index in 0..<tables {
            let l2Offset = l1.be(UInt64.self, at: Int(l1Index) * 8) & Self.offsetMask
            guard l2Offset != 0 else { continue }
            if let other = tableOwners.updateValue(l1Index, forKey: l2Offset) {
                throw BlockReaderError.corrupt(disk: path, reason: "qcow2 L1 entries \(other) and \(l1Index) point to the same L2 table at byte \(l2Offset) (damaged image; see qemu-img check)")
            }
            try Self.pread(file, &l2, at: l2Offset, path: path)
            let first = l1Index * perTable
            for slot in 0..<min(perTable, clusters - first) {
                guard case .data = try Self.cluster(fromL2Entry: l2.be(UInt64.self, at: Int(slot) * 8), path: path) else { continue }
                let start = (first + slot) << clusterBits
                ranges.append(ByteRange(offset: start, length: min(clusterSize, size - start)))
            }
        }
        return ByteRange.coalesce(ranges)
    }

    private static func pread(_ file: PositionalFile, _ bytes: inout [UInt8], at offset: UInt64, path: String) throws {
        try bytes.withUnsafeMutableBytes { try pread(file, $0, at: offset, path: path) }
    }

    private static func pread(_ file: PositionalFile, _ buffer: UnsafeMutableRawBufferPointer, at offset: UInt64, path: String) throws {
        // Offsets come from the image's tables: one past what a file offset (off_t) holds
        // is a damaged table, not a reason to trap.
        guard let start = off_t(exactly: offset), off_t(buffer.count) <= off_t.max - start, start >= 0 else {
            throw BlockReaderError.corrupt(disk: path, reason: "qcow2 image points to \(buffer.count) bytes at offset \(offset), past the largest file offset")
        }
        let read: Int
        do { read = try file.read(into: buffer, at: offset) } catch { throw FileRegionReader.readerError(error) }
        if read < buffer.count { throw BlockReaderError.corrupt(disk: path, reason: "qcow2 image ends before offset \(offset + UInt64(read)), which its tables point to") }
    }
}
