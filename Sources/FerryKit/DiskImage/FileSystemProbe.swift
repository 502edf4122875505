import FerryCore
/// A file system recognised from its superblock.
public struct FileSystemInfo: Codable, Hashable, Sendable {
    /// "ext2", "ext3", "ext4", "xfs", "vfat", "ntfs" or "swap", as blkid names them.
    public var type: String
    public var label: String?
    public var uuid: String?
    /// FAT only: "FAT12", "FAT16" or "FAT32".
    public var version: String?

    public init(type: String, label: String? = nil, uuid: String? = nil, version: String? = nil) {
        self.type = type
        self.label = label
        self.uuid = uuid
        self.version = version
    }
}

/// Recognises the file system at the start of a partition (or a whole disk) by the magic
/// numbers in its superblock, and reads its label and UUID, the way blkid does.
public enum FileSystemProbe {
    /// The file system at `[offset, offset + length)` of `reader`, or nil when none is
    /// recognised. Never throws: a partition that cannot be read has no file system we know.
    public static func probe(_ reader: any BlockReader, offset: UInt64 = 0, length: UInt64? = nil) -> FileSystemInfo? {
        let available = length ?? (reader.size >= offset ? reader.size - offset : 0)
        let region = RegionReader(reader: reader, offset: offset, length: min(available, reader.size >= offset ? reader.size - offset : 0))
        // 64 KiB covers every superblock below, and swap's signature for pages up to 64 KiB.
        let head = region.bytes(at: 0, count: 65_536)
        return ext(head) ?? xfs(head) ?? ntfs(head, region) ?? fat(head) ?? swap(head)
    }

    private static func ext(_ head: [UInt8]) -> FileSystemInfo? {
        let superblock = head.bytes(at: 1024, count: 1024)
        guard superblock.count == 1024, superblock.le(UInt16.self, at: 56) == 0xEF53 else { return nil }
        let compat = superblock.le(UInt32.self, at: 92)
        let incompat = superblock.le(UInt32.self, at: 96)
        let roCompat = superblock.le(UInt32.self, at: 100)
        // Features ext3 never had: extents, 64bit, flex_bg, … ; huge_file, gdt_csum, dir_nlink,
        // extra_isize, metadata_csum.
        let type: String
        if incompat & ~UInt32(0x0002 | 0x0004 | 0x0010) != 0 || roCompat & ~UInt32(0x0001 | 0x0002 | 0x0004) != 0 {
            type = "ext4"
        } else if compat & 0x0004 != 0 {
            type = "ext3"
        } else {
            type = "ext2"
        }
        return FileSystemInfo(type: type, label: superblock.label(at: 120, count: 16), uuid: superblock.uuid(at: 104))
    }

    private static func xfs(_ head: [UInt8]) -> FileSystemInfo? {
        guard head.matches("XFSB", at: 0) else { return nil }
        return FileSystemInfo(type: "xfs", label: head.label(at: 108, count: 12), uuid: head.uuid(at: 32))
    }

    private static func fat(_ head: [UInt8]) -> FileSystemInfo? {
        guard head.count >= 512, head[510] == 0x55, head[511] == 0xAA,
              head.le(UInt16.self, at: 11).nonzeroBitCount == 1, head.le(UInt16.self, at: 11) >= 512 else { return nil }
        let version: String
        let serialOffset: Int
        let labelOffset: Int
        if head.matches("FAT32   ", at: 82) {
            (version, serialOffset, labelOffset) = ("FAT32", 67, 71)
        } else if head.matches("FAT12   ", at: 54) || head.matches("FAT16   ", at: 54) || head.matches("FAT     ", at: 54) {
            let declared = head.label(at: 54, count: 8) ?? "FAT"
            (version, serialOffset, labelOffset) = (declared == "FAT" ? "FAT16" : declared, 39, 43)
        } else {
            return nil
        }
        let serial = head.le(UInt32.self, at: serialOffset)
        let hex = (0..<4).reversed().map { [UInt8].hexByte(UInt8(truncatingIfNeeded: serial >> (8 * $0))).uppercased() }
        var label = head.label(at: labelOffset, count: 11)
        if label == "NO NAME" { label = nil }
        return FileSystemInfo(type: "vfat", label: label, uuid: hex[0...1].joined() + "-" + hex[2...3].joined(), version: version)
    }

    private static func swap(_ head: [UInt8]) -> FileSystemInfo? {
        for pageSize in [4096, 8192, 16_384, 65_536] where head.matches("SWAPSPACE2", at: pageSize - 10) || head.matches("SWAP-SPACE", at: pageSize - 10) {
            return FileSystemInfo(type: "swap", label: head.label(at: 1024 + 28, count: 16), uuid: head.uuid(at: 1024 + 12))
        }
        return nil
    }

    private static func ntfs(_ head: [UInt8], _ region: RegionReader) -> FileSystemInfo? {
        guard head.matches("NTFS    ", at: 3) else { return nil }
        let serial = head.le(UInt64.self, at: 0x48)
        let uuid = (0..<8).reversed().map { [UInt8].hexByte(UInt8(truncatingIfNeeded: serial >> (8 * $0))).uppercased() }.joined()
        return FileSystemInfo(type: "ntfs", label: ntfsVolumeName(head, region), uuid: uuid)
    }

    /// The label lives in the $VOLUME_NAME attribute of MFT record 3 ($Volume).
    private static func ntfsVolumeName(_ boot: [UInt8], _ region: RegionReader) -> String? {
        let bytesPerSector = UInt64(boot.le(UInt16.self, at: 0x0B))
        let rawSectorsPerCluster = boot.le(UInt8.self, at: 0x0D)
        guard [512, 1024, 2048, 4096].contains(bytesPerSector) else { return nil }
        let sectorsPerCluster: UInt64 = rawSectorsPerCluster > 0x80 ? 1 << min(UInt64(256 - Int(rawSectorsPerCluster)), 20) : UInt64(rawSectorsPerCluster)
        let clusterSize = bytesPerSector * sectorsPerCluster
        guard clusterSize > 0, clusterSize <= 1 << 21 else { return nil }
        let rawRecordSize = Int8(bitPattern: boot.le(UInt8.self, at: 0x40))
        let recordSize: UInt64 = rawRecordSize < 0 ? 1 << UInt64(min(-Int(rawRecordSize), 16)) : UInt64(rawRecordSize) * clusterSize
        guard recordSize >= 256, recordSize <= 65_536 else { return nil }
        let (mftOffset, overflow) = boot.le(UInt64.self, at: 0x30).multipliedReportingOverflow(by: clusterSize)
        guard !overflow, mftOffset < UInt64.max - 4 * recordSize else { return nil }
        var record = region.bytes(at: mftOffset + 3 * recordSize, count: Int(recordSize))
        guard record.count == Int(recordSize), record.matches("FILE", at: 0) else { return nil }
        // Update sequence fixups: the last two bytes of every sector were saved in the array.
        let fixupOffset = Int(record.le(UInt16.self, at: 4))
        let fixupCount = Int(record.le(UInt16.self, at: 6))
        for sector in 1..<max(1, fixupCount) {
            let end = sector * Int(bytesPerSector) - 2
            let saved = fixupOffset + 2 * sector
            guard end + 2 <= record.count, saved + 2 <= record.count else { break }
            record[end] = record[saved]
            record[end + 1] = record[saved + 1]
        }
        var position = Int(record.le(UInt16.self, at: 0x14))
        var steps = 0
        while position + 24 <= record.count, steps < 64 {
            steps += 1
            let type = record.le(UInt32.self, at: position)
            let length = Int(record.le(UInt32.self, at: position + 4))
            if type == 0xFFFF_FFFF || length < 24 { return nil }
            if type == 0x60, record[position + 8] == 0 {
                let valueLength = Int(record.le(UInt32.self, at: position + 16))
                let valueOffset = Int(record.le(UInt16.self, at: position + 20))
                let value = record.bytes(at: position + valueOffset, count: valueLength)
                var units: [UInt16] = []
                for index in stride(from: 0, to: value.count - 1, by: 2) { units.append(UInt16(value[index]) | UInt16(value[index + 1]) << 8) }
                return units.isEmpty ? nil : String(decoding: units, as: UTF16.self)
            }
            position += length
        }
        return nil
    }
}

/// A window of a reader that swallows read errors: probing must not fail on short disks.
private struct RegionReader {
    let reader: any BlockReader
    let offset: UInt64
    let length: UInt64

    /// Up to `count` bytes at `position`, fewer at the end of the region, none on error.
    func bytes(at position: UInt64, count: Int) -> [UInt8] {
        guard position < length else { return [] }
        let wanted = Int(min(UInt64(count), length - position))
        return (try? reader.read(at: offset + position, count: wanted)) ?? []
    }
}
