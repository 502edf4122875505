import FerryCore
import FerryKit
import Foundation
import PropertyBased
import Testing

/// Integers at the edges where arithmetic overflows: 0, 1, 2^31, 2^32, 2^62, 2^63, 2^64 - 1
/// and their neighbours (within 2, wrapping around).
enum LimitValues {
    static let bases: [UInt64] = [0, 1, 1 << 31, 1 << 32, 1 << 62, 1 << 63, .max]

    static var any: Generator<UInt64, Shrink.Tuple<(UInt64?, Int)>> {
        zip(Gen<UInt64?>.element(of: bases), Gen.int(in: -2...2)).map { base, step in base! &+ UInt64(bitPattern: Int64(step)) }
    }

    /// A limit value, or now and then `original`, so that some images keep enough of their
    /// fields to be read.
    static func field(keeping original: UInt64) -> Generator<UInt64, Shrink.Tuple<(Bool, (UInt64?, Int))>> {
        zip(Gen.bool(0.3), any).map { keep, value in keep ? original : value }
    }
}

extension DiskImageTests {
    /// qcow2 headers and tables whose sizes, offsets and counts sit at the integer limits:
    /// the reader opens the image and reads it correctly, or throws a `BlockReaderError`,
    /// and never traps.
    @Suite struct QCOW2HeaderLimitTests {
        static let clusterSize = 1 << 16
        static let virtualSize: UInt64 = 1 << 20
        static let l1Offset: UInt64 = 1 << 16
        static let l2Offset: UInt64 = 2 << 16
        static let dataOffset: UInt64 = 3 << 16
        /// Copied flag (bit 63) and a host offset, as qemu writes L1 and L2 entries.
        static let copied: UInt64 = 1 << 63

        /// A 1 MiB disk in 64 KiB clusters: the header, the L1 table (one entry), one L2 table
        /// and one data cluster of 0xAB, the disk's first cluster.
        static func image(size: UInt64, l1Size: UInt64, l1Offset: UInt64, l1Entry: UInt64, l2Entry: UInt64) -> [UInt8] {
            var bytes = [UInt8](repeating: 0, count: 4 * clusterSize)
            func put(_ value: UInt64, at offset: Int, width: Int) {
                for index in 0..<width { bytes[offset + index] = UInt8(truncatingIfNeeded: value >> (8 * (width - 1 - index))) }
            }
            bytes.replaceSubrange(0..<4, with: [0x51, 0x46, 0x49, 0xFB])
            put(3, at: 4, width: 4)            // version
            put(16, at: 20, width: 4)          // cluster bits
            put(size, at: 24, width: 8)
            put(l1Size, at: 36, width: 4)      // a 32-bit field: the limits arrive truncated
            put(l1Offset, at: 40, width: 8)
            put(4, at: 96, width: 4)           // refcount order
            put(104, at: 100, width: 4)        // header length
            put(l1Entry, at: Int(Self.l1Offset), width: 8)
            put(l2Entry, at: Int(Self.l2Offset), width: 8)
            for index in Int(dataOffset)..<Int(dataOffset) + clusterSize { bytes[index] = 0xAB }
            return bytes
        }

        @Test func theUntouchedImageReadsItsDataCluster() throws {
            let scratch = try DiskScratch()
            let path = scratch.path("plain.qcow2")
            try Data(Self.image(size: Self.virtualSize, l1Size: 1, l1Offset: Self.l1Offset,
                                l1Entry: Self.l2Offset | Self.copied, l2Entry: Self.dataOffset | Self.copied)).write(to: URL(fileURLWithPath: path))
            let reader = try QCOW2Reader(path: path)
            #expect(try reader.read(at: 0, count: Self.clusterSize) == [UInt8](repeating: 0xAB, count: Self.clusterSize))
            #expect(try reader.read(at: Self.virtualSize - 512, count: 512) == [UInt8](repeating: 0, count: 512))
            #expect(try reader.allocatedRanges() == [ByteRange(offset: 0, length: UInt64(Self.clusterSize))])
        }

        @Test func sizesOffsetsAndCountsAtTheLimitsReadOrThrow() async throws {
            let scratch = try DiskScratch()
            let path = scratch.path("limits.qcow2")
            await propertyCheck(
                count: 400,
                input: LimitValues.field(keeping: Self.virtualSize), LimitValues.field(keeping: 1),
                LimitValues.field(keeping: Self.l1Offset), LimitValues.field(keeping: Self.l2Offset | Self.copied),
                LimitValues.field(keeping: Self.dataOffset | Self.copied)
            ) { size, l1Size, l1Offset, l1Entry, l2Entry in
                try Data(Self.image(size: size, l1Size: l1Size, l1Offset: l1Offset, l1Entry: l1Entry, l2Entry: l2Entry))
                    .write(to: URL(fileURLWithPath: path))
                let reader: QCOW2Reader
                do {
                    reader = try QCOW2Reader(path: path)
                } catch let error as BlockReaderError {
                    #expect(!error.description.contains("\n"))
                    return
                }
                #expect(reader.size == size)
                #expect(size <= DiskSize.maximum)
                let intact = l1Offset == Self.l1Offset && l1Entry == Self.l2Offset | Self.copied && l2Entry == Self.dataOffset | Self.copied
                do {
                    let ranges = try reader.allocatedRanges()
                    #expect(ranges.allSatisfy { $0.offset < size && $0.length <= size - $0.offset })
                    let head = try reader.read(at: 0, count: Int(min(size, 512)))
                    if intact {
                        #expect(head == [UInt8](repeating: 0xAB, count: head.count))
                        #expect(ranges == (size == 0 ? [] : [ByteRange(offset: 0, length: min(size, UInt64(Self.clusterSize)))]))
                    }
                    if size >= 512 { _ = try reader.read(at: size - 512, count: 512) }
                } catch let error as BlockReaderError {
                    // A table that points outside the file: refused, never followed.
                    #expect(!intact)
                    #expect(!error.description.contains("\n"))
                }
            }
        }
    }
}
