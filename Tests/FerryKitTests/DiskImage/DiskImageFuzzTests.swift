import FerryKit
import Foundation
import Testing

extension DiskImageTests {
    /// Thousands of mutated partition tables and superblocks: each ends in a value or a
    /// one-line error, never a crash or a hang. Seeds are fixed so failures replay.
    @Suite struct DiskImageFuzzTests {
        /// A few changed bytes over an unchanged original, so that large images need no copy.
        struct MutatedDisk: BlockReader {
            let base: [UInt8]
            let patches: [Int: UInt8]
            let size: UInt64

            func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws {
                try checkBounds(offset: offset, count: buffer.count, disk: "fuzz.img")
                let start = Int(offset)
                base.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[start..<start + buffer.count])) }
                for (index, value) in patches where index >= start && index < start + buffer.count { buffer[index - start] = value }
            }

            func allocatedRanges() throws -> [ByteRange] { [ByteRange(offset: 0, length: size)] }
        }

        static func mutate(_ input: [UInt8], in hotspots: [Range<Int>], using random: inout SplitMix) -> MutatedDisk {
            var patches: [Int: UInt8] = [:]
            for _ in 0..<Int.random(in: 1...8, using: &random) {
                let range = hotspots.randomElement(using: &random)!
                let index = Int.random(in: range, using: &random)
                switch Int.random(in: 0..<4, using: &random) {
                case 0: patches[index] = (patches[index] ?? input[index]) ^ UInt8(1 << Int.random(in: 0..<8, using: &random))
                case 1: patches[index] = UInt8.random(in: 0...255, using: &random)
                case 2: for offset in index..<min(index + 8, input.count) { patches[offset] = 0xFF }
                default: for offset in index..<min(index + 4, input.count) { patches[offset] = 0 }
                }
            }
            // Sometimes the disk is cut short too.
            let size = Int.random(in: 0..<10, using: &random) == 0 ? UInt64.random(in: 0...UInt64(input.count), using: &random) : UInt64(input.count)
            return MutatedDisk(base: input, patches: patches, size: size)
        }

        func fuzzPartitionTable(layout: String, hotspots: [Range<Int>], seed: UInt64) throws {
            let scratch = try DiskScratch()
            let image = try scratch.emptyImage("disk.img", size: 24 << 20)
            #expect(try scratch.run("/usr/sbin/sfdisk", ["-q", image], input: layout).status == 0)
            let original = try FileRegionReader(path: image).read(at: 0, count: 24 << 20)
            var random = SplitMix(seed: seed)
            var read = 0
            for _ in 0..<3000 {
                let input = Self.mutate(original, in: hotspots, using: &random)
                do {
                    if try PartitionTable.read(from: input, disk: "fuzz.img") != nil { read += 1 }
                } catch let error as BlockReaderError {
                    #expect(!error.description.contains("\n"))
                }
            }
            #expect(read > 0)
        }

        @Test func mutatedMBRsWithLogicalPartitionsNeverCrash() throws {
            // The MBR and the first extended boot records (sfdisk puts them 1 MiB apart).
            try fuzzPartitionTable(layout: "label: dos\n,4M,83\n,,5\n,4M,83\n,4M,83\n", hotspots: [440..<512, (5 << 20)..<(5 << 20) + 512, (9 << 20)..<(9 << 20) + 512], seed: 61)
        }

        @Test func mutatedGPTsNeverCrash() throws {
            try fuzzPartitionTable(layout: "label: gpt\n,4M,U\n,,L\n", hotspots: [446..<512, 512..<604, 1024..<1280], seed: 62)
        }

        @Test func mutatedSuperblocksNeverCrash() throws {
            let scratch = try DiskScratch()
            var originals: [[UInt8]] = []
            for (tool, arguments, size) in [
                ("/usr/sbin/mke2fs", ["-q", "-F", "-t", "ext4", "-L", "x"], UInt64(8 << 20)),
                ("/usr/sbin/mkfs.vfat", ["-n", "X"], UInt64(8 << 20)),
                ("/usr/sbin/mkswap", ["-L", "x"], UInt64(1 << 20)),
                ("/usr/sbin/mkntfs", ["-q", "-F", "-f", "-L", "x"], UInt64(8 << 20)),
            ] {
                let image = try scratch.emptyImage("fs.img", size: size)
                #expect(try scratch.run(tool, arguments + [image]).status == 0)
                // What probing reads: the first 64 KiB, and for NTFS its MFT.
                originals.append(try FileRegionReader(path: image).read(at: 0, count: Int(min(size, 8 << 20))))
            }
            var random = SplitMix(seed: 71)
            for original in originals {
                for _ in 0..<1500 {
                    let input = Self.mutate(original, in: [0..<512, 1024..<2048, 4000..<4096], using: &random)
                    _ = FileSystemProbe.probe(input)
                }
            }
        }
    }
}
