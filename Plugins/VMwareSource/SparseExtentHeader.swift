import FerryCore

/// The 512-byte header of a hosted sparse extent ("KDMV"): monolithicSparse,
/// twoGbMaxExtentSparse and streamOptimized files all start with one.
public struct SparseExtentHeader: Hashable, Sendable {
    public static let magic: UInt32 = 0x564D_444B  // "KDMV" little-endian
    /// `gdOffset` of a streamOptimized file whose grain directory is in the footer.
    public static let gdAtEnd: UInt64 = 0xFFFF_FFFF_FFFF_FFFF

    public var version: UInt32
    public var flags: UInt32
    /// Sectors.
    public var capacity: UInt64
    /// Sectors per grain.
    public var grainSize: UInt64
    public var descriptorOffset: UInt64
    public var descriptorSize: UInt64
    public var numGTEsPerGT: UInt32
    public var rgdOffset: UInt64
    public var gdOffset: UInt64
    public var overHead: UInt64
    public var compressAlgorithm: UInt16

    public var hasCompressedGrains: Bool { flags & (1 << 16) != 0 }
    public var hasMarkers: Bool { flags & (1 << 17) != 0 }

    /// Sanity limits: real files use 128-sector grains and 512-entry grain tables.
    static let maxGrainSectors: UInt64 = 1 << 14
    static let maxGTEsPerGT: UInt32 = 1 << 16

    public init(version: UInt32 = 3, flags: UInt32, capacity: UInt64, grainSize: UInt64 = 128, descriptorOffset: UInt64,
                descriptorSize: UInt64, numGTEsPerGT: UInt32 = 512, rgdOffset: UInt64 = 0, gdOffset: UInt64,
                overHead: UInt64, compressAlgorithm: UInt16) {
        self.version = version
        self.flags = flags
        self.capacity = capacity
        self.grainSize = grainSize
        self.descriptorOffset = descriptorOffset
        self.descriptorSize = descriptorSize
        self.numGTEsPerGT = numGTEsPerGT
        self.rgdOffset = rgdOffset
        self.gdOffset = gdOffset
        self.overHead = overHead
        self.compressAlgorithm = compressAlgorithm
    }

    /// Parses and checks a header; `file` names the file in errors.
    public static func parse(_ bytes: [UInt8], file: String) throws(VMwareSourceError) -> SparseExtentHeader {
        guard bytes.count >= 512 else { throw .invalid(file: file, reason: "sparse extent header is truncated (\(bytes.count) of 512 bytes)") }
        guard bytes.le32(0) == magic else { throw .invalid(file: file, reason: "sparse extent header has no KDMV magic") }
        let header = SparseExtentHeader(
            version: bytes.le32(4), flags: bytes.le32(8), capacity: bytes.le64(12), grainSize: bytes.le64(20),
            descriptorOffset: bytes.le64(28), descriptorSize: bytes.le64(36), numGTEsPerGT: bytes.le32(44),
            rgdOffset: bytes.le64(48), gdOffset: bytes.le64(56), overHead: bytes.le64(64),
            compressAlgorithm: UInt16(bytes[77]) | UInt16(bytes[78]) << 8
        )
        guard (1...3).contains(header.version) else {
            throw .unsupported(file: file, reason: "sparse extent version \(header.version) is not supported (1 to 3 are)")
        }
        guard header.grainSize >= 1, header.grainSize <= maxGrainSectors, header.grainSize.nonzeroBitCount == 1 else {
            throw .invalid(file: file, reason: "grain size of \(header.grainSize) sectors is invalid (a power of two up to \(maxGrainSectors))")
        }
        guard header.numGTEsPerGT >= 1, header.numGTEsPerGT <= maxGTEsPerGT else {
            throw .invalid(file: file, reason: "\(header.numGTEsPerGT) entries per grain table is invalid (1 to \(maxGTEsPerGT))")
        }
        // Then the capacity in bytes, and rounded up to whole grains, cannot overflow.
        guard header.capacity <= DiskSize.maximum / 512 else {
            throw .invalid(file: file, reason: "capacity of \(header.capacity) sectors (header byte 12) is more than the largest disk Ferry reads (\(DiskSize.maximumDescription)); the header is damaged")
        }
        if header.hasCompressedGrains, header.compressAlgorithm != 1 {
            throw .unsupported(file: file, reason: "compression algorithm \(header.compressAlgorithm) is not supported (1, deflate, is)")
        }
        return header
    }

    /// The header as bytes, for writers.
    public func encoded() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 512)
        bytes.putLE(Self.magic, at: 0)
        bytes.putLE(version, at: 4)
        bytes.putLE(flags, at: 8)
        bytes.putLE(capacity, at: 12)
        bytes.putLE(grainSize, at: 20)
        bytes.putLE(descriptorOffset, at: 28)
        bytes.putLE(descriptorSize, at: 36)
        bytes.putLE(numGTEsPerGT, at: 44)
        bytes.putLE(rgdOffset, at: 48)
        bytes.putLE(gdOffset, at: 56)
        bytes.putLE(overHead, at: 64)
        bytes[73] = 0x0A  // the line-end characters that detect a text-mode transfer
        bytes[74] = 0x20
        bytes[75] = 0x0D
        bytes[76] = 0x0A
        bytes.putLE(compressAlgorithm, at: 77)
        return bytes
    }

    var grainBytes: Int { Int(grainSize) * 512 }
    var grainCount: UInt64 { DiskSize.blocks(capacity, of: grainSize) }
    var tableCount: UInt64 { DiskSize.blocks(grainCount, of: UInt64(numGTEsPerGT)) }
}

extension Array where Element == UInt8 {
    func le32(_ offset: Int) -> UInt32 {
        guard offset >= 0, offset + 4 <= count else { return 0 }
        return (0..<4).reduce(0) { $0 | UInt32(self[offset + $1]) << (8 * $1) }
    }

    func le64(_ offset: Int) -> UInt64 {
        guard offset >= 0, offset + 8 <= count else { return 0 }
        return (0..<8).reduce(0) { $0 | UInt64(self[offset + $1]) << (8 * $1) }
    }

    mutating func putLE<T: FixedWidthInteger>(_ value: T, at offset: Int) {
        for index in 0..<MemoryLayout<T>.size { self[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * index)) }
    }
}
