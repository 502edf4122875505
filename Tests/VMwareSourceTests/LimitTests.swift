import FerryCore
import FerryKit
import Foundation
import PropertyBased
import Testing
@testable import VMwareSource

/// Integers at the edges where arithmetic overflows: 0, 1, 2^31, 2^32, 2^62, 2^63, 2^64 - 1
/// and their neighbours (within 2, wrapping around).
enum LimitValues {
    static let bases: [UInt64] = [0, 1, 1 << 31, 1 << 32, 1 << 62, 1 << 63, .max]

    static var any: Generator<UInt64, Shrink.Tuple<(UInt64?, Int)>> {
        zip(Gen<UInt64?>.element(of: bases), Gen.int(in: -2...2)).map { base, step in base! &+ UInt64(bitPattern: Int64(step)) }
    }

    /// A limit value, or now and then `original`, so that some inputs keep enough of their
    /// fields to be read.
    static func field(keeping original: UInt64) -> Generator<UInt64, Shrink.Tuple<(Bool, (UInt64?, Int))>> {
        zip(Gen.bool(0.3), any).map { keep, value in keep ? original : value }
    }

    /// A count of 512-byte sectors that is a limit in bytes (2^63 bytes is 2^54 sectors),
    /// or a limit itself, or now and then `original`.
    static func sectors(keeping original: UInt64) -> Generator<UInt64, Shrink.Tuple<(Bool, (Bool, (UInt64?, Int)))>> {
        zip(Gen.bool(0.5), field(keeping: original)).map { inBytes, value in inBytes && value != original ? value / 512 : value }
    }
}

/// Sparse extent headers, descriptors and tar/pax headers whose sizes, offsets and counts
/// sit at the integer limits: each is read correctly or refused with a typed, one-line
/// error, never a trap.
@Suite struct LimitTests {
    static let capacity: UInt64 = 2048        // sectors: 1 MiB
    static let grainSize: UInt64 = 128        // sectors: 64 KiB
    static let gtesPerGT: UInt64 = 512
    static let gdOffset: UInt64 = 1           // sector of the grain directory
    static let gtSector: UInt32 = 2           // the one grain table, 4 sectors
    static let grainSector: UInt32 = 128      // grain 0: 64 KiB of 0xCD

    /// A monolithicSparse file of 1 MiB with one grain of data, built by hand.
    static func sparseExtent(capacity: UInt64, grainSize: UInt64, gtesPerGT: UInt64, gdOffset: UInt64, descriptorOffset: UInt64) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 256 * 512)
        var header = SparseExtentHeader(
            flags: 1, capacity: capacity, grainSize: grainSize, descriptorOffset: descriptorOffset, descriptorSize: 1,
            gdOffset: gdOffset, overHead: 128, compressAlgorithm: 0
        ).encoded()
        header.putLE(UInt32(truncatingIfNeeded: gtesPerGT), at: 44)
        bytes.replaceSubrange(0..<512, with: header)
        bytes.putLE(gtSector, at: Int(Self.gdOffset) * 512)
        bytes.putLE(grainSector, at: Int(gtSector) * 512)
        for index in Int(grainSector) * 512..<Int(grainSector + 128) * 512 { bytes[index] = 0xCD }
        return bytes
    }

    @Test func sparseHeaderFieldsAtTheLimitsReadOrThrow() async throws {
        await propertyCheck(
            count: 400,
            input: LimitValues.field(keeping: Self.capacity), LimitValues.field(keeping: Self.grainSize),
            LimitValues.field(keeping: Self.gtesPerGT), LimitValues.field(keeping: Self.gdOffset), LimitValues.field(keeping: 0)
        ) { capacity, grainSize, gtesPerGT, gdOffset, descriptorOffset in
            let file = InMemoryDisk(Self.sparseExtent(capacity: capacity, grainSize: grainSize, gtesPerGT: gtesPerGT, gdOffset: gdOffset, descriptorOffset: descriptorOffset), name: "limits.vmdk")
            let disk: VMDKDisk
            do {
                disk = try VMDKDisk(file: file, name: "limits.vmdk", resolver: .init { _ in nil })
            } catch let error as VMwareSourceError {
                #expect(!error.description.contains("\n"))
                return
            }
            #expect(disk.size == capacity * 512)
            #expect(disk.size <= DiskSize.maximum)
            let intact = capacity == Self.capacity && grainSize == Self.grainSize && gtesPerGT == Self.gtesPerGT && gdOffset == Self.gdOffset
            do {
                let head = try disk.read(at: 0, count: Int(min(disk.size, 512)))
                if intact { #expect(head == [UInt8](repeating: 0xCD, count: 512)) }
                if disk.size >= 512 { _ = try disk.read(at: disk.size - 512, count: 512) }
                let ranges = try disk.allocatedRanges()
                #expect(ranges.allSatisfy { $0.offset < disk.size && $0.length <= disk.size - $0.offset })
            } catch let error as VMwareSourceError {
                #expect(!error.description.contains("\n"))
            }
        }
    }

    @Test func descriptorExtentsAtTheLimitsReadOrThrow() async throws {
        // A flat extent file of 8 sectors, each sector filled with its number.
        let flat = InMemoryDisk((0..<8).flatMap { [UInt8](repeating: UInt8($0), count: 512) }, name: "flat.bin")
        await propertyCheck(
            count: 400,
            input: LimitValues.sectors(keeping: 4), LimitValues.sectors(keeping: 2), LimitValues.sectors(keeping: 2048)
        ) { flatSectors, flatOffset, zeroSectors in
            let text = "# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"monolithicFlat\"\n"
                + "RW \(flatSectors) FLAT \"flat.bin\" \(flatOffset)\nRW \(zeroSectors) ZERO\n"
            let disk: VMDKDisk
            do {
                disk = try VMDKDisk(file: InMemoryDisk(Array(text.utf8), name: "d.vmdk"), name: "d.vmdk", resolver: .init { name in
                    name == "flat.bin" ? (flat, "flat.bin") : nil
                })
            } catch let error as VMwareSourceError {
                #expect(!error.description.contains("\n"))
                return
            } catch let error as BlockReaderError {
                #expect(!error.description.contains("\n"))
                return
            }
            // Opened: the flat extent lies inside its file, and the total is a disk Ferry reads.
            #expect(flatOffset + flatSectors <= 8)
            #expect(disk.size == (flatSectors + zeroSectors) * 512)
            #expect(disk.size <= DiskSize.maximum)
            if flatSectors > 0 { #expect(try disk.read(at: 0, count: 512) == [UInt8](repeating: UInt8(flatOffset), count: 512)) }
            if disk.size >= 512 { #expect(try disk.read(at: disk.size - 512, count: 512).count == 512) }
        }
    }

    /// A ustar header block with a correct checksum; `size` is written base-256 when it does
    /// not fit 11 octal digits, as GNU tar does.
    static func tarHeader(name: String, size: UInt64, type: UInt8) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: 512)
        header.replaceSubrange(0..<name.utf8.count, with: Array(name.utf8))
        for (offset, field) in [(100, "0000644"), (108, "0000000"), (116, "0000000"), (136, "00000000000")] {
            header.replaceSubrange(offset..<offset + field.utf8.count, with: Array(field.utf8))
        }
        if size < 1 << 33 {
            let octal = String(size, radix: 8)
            header.replaceSubrange(124..<135, with: Array((String(repeating: "0", count: 11 - octal.count) + octal).utf8))
        } else {
            header[124] = 0x80
            for index in 0..<8 { header[128 + index] = UInt8(truncatingIfNeeded: size >> (8 * (7 - index))) }
        }
        header[156] = type
        header.replaceSubrange(257..<263, with: Array("ustar\0".utf8))
        header.replaceSubrange(148..<156, with: Array("        ".utf8))
        let sum = header.reduce(0) { $0 + Int($1) }
        let checksum = String(sum, radix: 8)
        header.replaceSubrange(148..<156, with: Array((String(repeating: "0", count: 6 - checksum.count) + checksum + "\0 ").utf8))
        return header
    }

    static func padded(_ bytes: [UInt8]) -> [UInt8] { bytes + [UInt8](repeating: 0, count: (512 - bytes.count % 512) % 512) }

    /// Stands for the second pax record's true length in `archive`.
    static let trueLength: UInt64 = 12_345

    /// An .ova of one member, `disk.vmdk` (1000 bytes), behind a pax header whose second
    /// record gives its size again and claims `recordLength` bytes (not the first record:
    /// a claim added to the record's index is what overflowed).
    static func archive(recordLength: UInt64, paxSize: UInt64, headerSize: UInt64) -> [UInt8] {
        let first = "18 path=disk.vmdk\n"
        let second = " size=\(paxSize)\n"
        let length = recordLength == trueLength ? UInt64(second.utf8.count + 2) : recordLength
        let body = Array((first + "\(length)" + second).utf8)
        return tarHeader(name: "PaxHeaders/disk.vmdk", size: UInt64(body.count), type: UInt8(ascii: "x")) + padded(body)
            + tarHeader(name: "disk.vmdk", size: headerSize, type: UInt8(ascii: "0")) + padded([UInt8](repeating: 0x42, count: 1000))
            + [UInt8](repeating: 0, count: 1024)
    }

    @Test func tarAndPaxSizesAtTheLimitsListOrThrow() async throws {
        await propertyCheck(
            count: 400,
            input: LimitValues.field(keeping: Self.trueLength), LimitValues.field(keeping: 1000), LimitValues.field(keeping: 1000)
        ) { recordLength, paxSize, headerSize in
            let bytes = Self.archive(recordLength: recordLength, paxSize: paxSize, headerSize: headerSize)
            let archive: TarArchive
            do {
                archive = try TarArchive(InMemoryDisk(bytes, name: "limits.ova"), name: "limits.ova")
            } catch let error as VMwareSourceError {
                #expect(!error.description.contains("\n"))
                return
            }
            for member in archive.members {
                #expect(member.offset <= UInt64(bytes.count) && member.size <= UInt64(bytes.count) - member.offset)
            }
            if recordLength == Self.trueLength, paxSize == 1000 {
                #expect(archive.member(named: "disk.vmdk")?.size == 1000)
            }
        }
    }

    @Test func streamOptimizedWriterRefusesDisksTooLargeForAVMDK() async throws {
        let scratch = try Scratch()
        await propertyCheck(count: 40, input: LimitValues.any) { size in
            let path = scratch.path("out.vmdk")
            do {
                try StreamOptimizedWriter().write(EmptyDisk(size: size), to: path, progress: nil)
                #expect(try VMDKDisk(path: path).size == DiskSize.blocks(size, of: 512) * 512)
            } catch let error as DiskImageError {
                #expect(!error.description.contains("\n"))
            }
            try? FileManager.default.removeItem(atPath: path)
        }
    }
}

/// A disk of any size, all zeros, that holds no data.
struct EmptyDisk: BlockReader {
    let size: UInt64
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws {
        try checkBounds(offset: offset, count: buffer.count, disk: "empty")
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
    }
    func allocatedRanges() throws -> [ByteRange] { [] }
}
