import FerryCore
/// The partition table of a disk (MBR or GPT), read from any `BlockReader`.
public struct PartitionTable: Codable, Hashable, Sendable {
    public var scheme: PartitionScheme
    /// The GPT disk GUID, or the MBR disk signature as 8 hexadecimal digits.
    public var diskIdentifier: String?
    public var partitions: [Partition]

    public init(scheme: PartitionScheme, diskIdentifier: String? = nil, partitions: [Partition]) {
        self.scheme = scheme
        self.diskIdentifier = diskIdentifier
        self.partitions = partitions
    }
}

public enum PartitionScheme: String, Codable, Hashable, Sendable {
    case mbr
    case gpt
}

public struct Partition: Codable, Hashable, Sendable {
    /// 1-based, as `/dev/sda1` counts: MBR logical partitions start at 5.
    public var number: Int
    /// "0x83" for MBR, the type GUID for GPT.
    public var type: String
    /// A human name for `type` ("Linux", "EFI System"), or "unknown".
    public var typeName: String
    public var offset: UInt64
    public var size: UInt64
    /// MBR: the active flag. GPT: the legacy-BIOS-bootable attribute, or an EFI System partition.
    public var bootable: Bool
    /// GPT only: the partition's name and unique GUID.
    public var name: String?
    public var uuid: String?
    public var fileSystem: FileSystemInfo?

    public init(number: Int, type: String, typeName: String, offset: UInt64, size: UInt64, bootable: Bool,
                name: String? = nil, uuid: String? = nil, fileSystem: FileSystemInfo? = nil) {
        self.number = number
        self.type = type
        self.typeName = typeName
        self.offset = offset
        self.size = size
        self.bootable = bootable
        self.name = name
        self.uuid = uuid
        self.fileSystem = fileSystem
    }
}

extension PartitionTable {
    static let sectorSize: UInt64 = 512
    /// The most MBR logical partitions followed, so that a looping EBR chain ends.
    static let maxLogicalPartitions = 128
    /// The largest GPT partition array read (the standard one is 16 KiB).
    static let maxGPTArrayBytes: UInt64 = 1 << 20

    /// The disk's partition table, nil when it has none. A table that is there but damaged
    /// throws `BlockReaderError.corrupt` naming `disk`.
    public static func read(from reader: any BlockReader, disk: String) throws -> PartitionTable? {
        guard reader.size >= sectorSize else { return nil }
        let mbr = try reader.read(at: 0, count: Int(sectorSize))
        guard mbr[510] == 0x55, mbr[511] == 0xAA else { return nil }
        let entries = (0..<4).map { mbr.bytes(at: 446 + 16 * $0, count: 16) }
        // A FAT or NTFS boot sector also ends in 55 AA; its "entries" are boot code.
        guard entries.allSatisfy({ $0[0] == 0 || $0[0] == 0x80 }) else { return nil }
        if entries.contains(where: { $0[4] == 0xEE }) {
            return try readGPT(from: reader, disk: disk)
        }
        guard entries.contains(where: { $0[4] != 0 }) else { return nil }
        return try readMBR(mbr, entries: entries, from: reader, disk: disk)
    }

    private static func readMBR(_ mbr: [UInt8], entries: [[UInt8]], from reader: any BlockReader, disk: String) throws -> PartitionTable {
        var partitions: [Partition] = []
        var extended: (start: UInt64, size: UInt64)?
        for (index, entry) in entries.enumerated() where entry[4] != 0 {
            let start = UInt64(entry.le(UInt32.self, at: 8)) * sectorSize
            let size = UInt64(entry.le(UInt32.self, at: 12)) * sectorSize
            partitions.append(mbrPartition(number: index + 1, entry: entry, offset: start, size: size))
            if [0x05, 0x0F, 0x85].contains(entry[4]), extended == nil { extended = (start, size) }
        }
        if let extended {
            partitions += try readLogicalPartitions(extendedStart: extended.start, from: reader, disk: disk)
        }
        let signature = mbr.le(UInt32.self, at: 440)
        return PartitionTable(scheme: .mbr, diskIdentifier: signature == 0 ? nil : hex32(signature), partitions: partitions)
    }

    /// Follows the chain of extended boot records; each holds one logical partition and a
    /// link to the next, relative to the start of the extended partition.
    private static func readLogicalPartitions(extendedStart: UInt64, from reader: any BlockReader, disk: String) throws -> [Partition] {
        var partitions: [Partition] = []
        var ebrOffset = extendedStart
        var visited: Set<UInt64> = []
        while partitions.count < maxLogicalPartitions, !visited.contains(ebrOffset) {
            visited.insert(ebrOffset)
            guard ebrOffset <= reader.size - sectorSize else {
                throw BlockReaderError.corrupt(disk: disk, reason: "extended boot record at byte \(ebrOffset) lies past the end of the disk")
            }
            let ebr = try reader.read(at: ebrOffset, count: Int(sectorSize))
            guard ebr[510] == 0x55, ebr[511] == 0xAA else {
                throw BlockReaderError.corrupt(disk: disk, reason: "extended boot record at byte \(ebrOffset) has no 55 AA signature")
            }
            let first = ebr.bytes(at: 446, count: 16)
            let link = ebr.bytes(at: 462, count: 16)
            if first[4] != 0 {
                let start = ebrOffset + UInt64(first.le(UInt32.self, at: 8)) * sectorSize
                let size = UInt64(first.le(UInt32.self, at: 12)) * sectorSize
                partitions.append(mbrPartition(number: 5 + partitions.count, entry: first, offset: start, size: size))
            }
            guard link[4] != 0 else { break }
            ebrOffset = extendedStart + UInt64(link.le(UInt32.self, at: 8)) * sectorSize
        }
        return partitions
    }

    private static func mbrPartition(number: Int, entry: [UInt8], offset: UInt64, size: UInt64) -> Partition {
        Partition(
            number: number, type: "0x" + [UInt8].hexByte(entry[4]), typeName: mbrTypeNames[entry[4]] ?? "unknown",
            offset: offset, size: size, bootable: entry[0] == 0x80
        )
    }

    private static func readGPT(from reader: any BlockReader, disk: String) throws -> PartitionTable {
        let primary = try? gptHeader(at: sectorSize, from: reader, disk: disk)
        let header: [UInt8]
        if let primary {
            header = primary
        } else {
            // The primary header is damaged: the backup lives in the last sector.
            do {
                header = try gptHeader(at: reader.size / sectorSize * sectorSize - sectorSize, from: reader, disk: disk)
            } catch {
                throw BlockReaderError.corrupt(disk: disk, reason: "GPT header at sector 1 is damaged and the backup header is unusable")
            }
        }
        let arrayLBA = header.le(UInt64.self, at: 72)
        let entryCount = UInt64(header.le(UInt32.self, at: 80))
        let entrySize = UInt64(header.le(UInt32.self, at: 84))
        guard entrySize >= 128, entrySize % 8 == 0, entrySize <= 4096 else {
            throw BlockReaderError.corrupt(disk: disk, reason: "GPT partition entry size \(entrySize) is invalid")
        }
        let arrayBytes = entryCount * entrySize
        let (arrayOffset, overflow) = arrayLBA.multipliedReportingOverflow(by: sectorSize)
        guard arrayBytes <= maxGPTArrayBytes, !overflow, arrayOffset <= reader.size, arrayBytes <= reader.size - arrayOffset else {
            throw BlockReaderError.corrupt(disk: disk, reason: "GPT partition array (\(entryCount) entries of \(entrySize) bytes at sector \(arrayLBA)) does not fit the disk")
        }
        let array = try reader.read(at: arrayOffset, count: Int(arrayBytes))
        guard CRC32.checksum(array) == header.le(UInt32.self, at: 88) else {
            throw BlockReaderError.corrupt(disk: disk, reason: "GPT partition array checksum does not match its header")
        }
        var partitions: [Partition] = []
        for index in 0..<Int(entryCount) {
            let entry = array.bytes(at: index * Int(entrySize), count: Int(entrySize))
            let type = entry.guid(at: 0)
            guard type != "00000000-0000-0000-0000-000000000000" else { continue }
            let first = entry.le(UInt64.self, at: 32)
            let last = entry.le(UInt64.self, at: 40)
            guard last >= first else {
                throw BlockReaderError.corrupt(disk: disk, reason: "GPT partition \(index + 1) ends (sector \(last)) before it starts (sector \(first))")
            }
            // Then its offset and size in bytes cannot overflow.
            guard last < UInt64.max / sectorSize else {
                throw BlockReaderError.corrupt(disk: disk, reason: "GPT partition \(index + 1) ends at sector \(last), past any disk (2^64 bytes)")
            }
            let attributes = entry.le(UInt64.self, at: 48)
            let typeName = gptTypeNames[type] ?? "unknown"
            partitions.append(Partition(
                number: index + 1, type: type, typeName: typeName,
                offset: first * sectorSize, size: (last - first + 1) * sectorSize,
                bootable: attributes & 0b100 != 0 || type == efiSystemPartition,
                name: utf16Name(entry.bytes(at: 56, count: 72)), uuid: entry.guid(at: 16)
            ))
        }
        return PartitionTable(scheme: .gpt, diskIdentifier: header.guid(at: 56), partitions: partitions)
    }

    private static func gptHeader(at offset: UInt64, from reader: any BlockReader, disk: String) throws -> [UInt8] {
        let header = try reader.read(at: offset, count: Int(sectorSize))
        guard header.matches("EFI PART", at: 0) else {
            throw BlockReaderError.corrupt(disk: disk, reason: "no GPT header at byte \(offset)")
        }
        let length = Int(header.le(UInt32.self, at: 12))
        guard length >= 92, length <= Int(sectorSize) else {
            throw BlockReaderError.corrupt(disk: disk, reason: "GPT header size \(length) is invalid")
        }
        var copy = Array(header[0..<length])
        copy.replaceSubrange(16..<20, with: [0, 0, 0, 0])
        guard CRC32.checksum(copy) == header.le(UInt32.self, at: 16) else {
            throw BlockReaderError.corrupt(disk: disk, reason: "GPT header checksum does not match")
        }
        return header
    }

    private static func utf16Name(_ bytes: [UInt8]) -> String? {
        var units: [UInt16] = []
        for index in stride(from: 0, to: bytes.count - 1, by: 2) {
            let unit = UInt16(bytes[index]) | UInt16(bytes[index + 1]) << 8
            if unit == 0 { break }
            units.append(unit)
        }
        return units.isEmpty ? nil : String(decoding: units, as: UTF16.self)
    }

    private static func hex32(_ value: UInt32) -> String {
        (0..<4).reversed().map { [UInt8].hexByte(UInt8(truncatingIfNeeded: value >> (8 * $0))) }.joined()
    }

    static let efiSystemPartition = "C12A7328-F81F-11D2-BA4B-00A0C93EC93B"

    static let gptTypeNames: [String: String] = [
        efiSystemPartition: "EFI System",
        "21686148-6449-6E6F-744E-656564454649": "BIOS boot",
        "0FC63DAF-8483-4772-8E79-3D69D8477DE4": "Linux filesystem",
        "4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709": "Linux root (x86-64)",
        "B921B045-1DF0-41C3-AF44-4C6F280D3FAE": "Linux root (ARM64)",
        "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F": "Linux swap",
        "E6D6D379-F507-44C2-A23C-238F2A3DF928": "Linux LVM",
        "A19D880F-05FC-4D3B-A006-743F0F84911E": "Linux RAID",
        "BC13C2FF-59E6-4262-A352-B275FD6F7172": "Linux extended boot",
        "EBD0A0A2-B9E5-4433-87C0-68B6B72699C7": "Microsoft basic data",
        "E3C9E316-0B5C-4DB8-817D-F92DF00215AE": "Microsoft reserved",
        "DE94BBA4-06D1-4D40-A16A-BFD50179D6AC": "Windows recovery",
    ]

    static let mbrTypeNames: [UInt8: String] = [
        0x01: "FAT12", 0x04: "FAT16 <32M", 0x05: "Extended", 0x06: "FAT16", 0x07: "HPFS/NTFS/exFAT",
        0x0B: "W95 FAT32", 0x0C: "W95 FAT32 (LBA)", 0x0E: "W95 FAT16 (LBA)", 0x0F: "W95 Extended (LBA)",
        0x27: "Windows recovery", 0x82: "Linux swap", 0x83: "Linux", 0x85: "Linux extended", 0x8E: "Linux LVM",
        0xEE: "GPT protective", 0xEF: "EFI System", 0xFD: "Linux RAID",
    ]
}
