import FerryCore
import FerryKit
import Foundation
import FerryTestSupport

/// A raw disk image in memory, for imports: a few tens of MB with data, zeros and holes.
/// Allocated ranges are exact, so holes are never read.
struct TestDisk: BlockReader {
    var bytes: [UInt8]
    var allocated: [ByteRange]

    var size: UInt64 { UInt64(bytes.count) }

    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws {
        try checkBounds(offset: offset, count: buffer.count, disk: "test disk")
        bytes.withUnsafeBytes { source in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[Int(offset)..<Int(offset) + buffer.count]))
        }
    }

    func allocatedRanges() throws -> [ByteRange] { allocated }

    static let block = 512 * 1024

    /// A disk of `blocks` 512 KiB blocks; `data` blocks hold pseudo-random bytes (seeded),
    /// `zeroAllocated` blocks are allocated but all zeros, the rest are holes.
    static func make(blocks: Int, data: [Int], zeroAllocated: [Int] = [], seed: UInt64 = 1, tail: Int = 0) -> TestDisk {
        var bytes = [UInt8](repeating: 0, count: blocks * block + tail)
        var generator = SplitMix64(seed: seed)
        for index in data {
            let end = min((index + 1) * block, bytes.count)
            for i in stride(from: index * block, to: end, by: 8) {
                var word = generator.next()
                for j in i..<min(i + 8, end) {
                    bytes[j] = UInt8(truncatingIfNeeded: word)
                    word >>= 8
                }
            }
        }
        let ranges = (data + zeroAllocated).map { ByteRange(offset: UInt64($0 * block), length: UInt64(min(block, bytes.count - $0 * block))) }
        return TestDisk(bytes: bytes, allocated: ByteRange.coalesce(ranges))
    }

    /// The bytes of block `index`, padded with zeros to a whole block.
    func block(_ index: Int) -> [UInt8] {
        let start = index * Self.block
        var out = Array(bytes[start..<min(start + Self.block, bytes.count)])
        out += [UInt8](repeating: 0, count: Self.block - out.count)
        return out
    }

    /// Overwrites block `index` with fresh pseudo-random bytes.
    mutating func rewrite(block index: Int, seed: UInt64) {
        var generator = SplitMix64(seed: seed)
        for i in index * Self.block..<min((index + 1) * Self.block, bytes.count) {
            bytes[i] = UInt8(truncatingIfNeeded: generator.next())
        }
        allocated = ByteRange.coalesce(allocated + [ByteRange(offset: UInt64(index * Self.block), length: UInt64(Self.block))])
    }

    mutating func zero(block index: Int) {
        for i in index * Self.block..<min((index + 1) * Self.block, bytes.count) { bytes[i] = 0 }
    }
}
