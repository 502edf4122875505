import FerryCore
import FerryKit
import Foundation
import PropertyBased
import Testing
import FerryTestSupport

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

            /// The mutated bytes, cut at `size`: what a file with them holds.
            var bytes: [UInt8] {
                var result = Array(base.prefix(Int(size)))
                for (index, value) in patches where index < result.count { result[index] = value }
                return result
            }
        }

        static func mutate(_ input: [UInt8], in hotspots: [Range<Int>], using random: inout SplitMix64) -> MutatedDisk {
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
            var random = SplitMix64(seed: seed)
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

        /// A 24 MiB disk with a GPT, as qemu-img writes it in qcow2: the bytes of the file.
        static func gptQCOW2(in scratch: DiskScratch) throws -> [UInt8] {
            let raw = try scratch.emptyImage("gpt.img", size: 24 << 20)
            #expect(try scratch.run("/usr/sbin/sfdisk", ["-q", raw], input: "label: gpt\n,4M,U\n,,L\n").status == 0)
            let image = scratch.path("gpt.qcow2")
            #expect(try scratch.run("/usr/bin/qemu-img", ["convert", "-f", "raw", "-O", "qcow2", raw, image]).status == 0)
            let file = try FileRegionReader(path: image)
            return try file.read(at: 0, count: Int(file.size))
        }

        static func bigEndian(_ bytes: [UInt8], at offset: Int) -> Int {
            bytes[offset..<offset + 8].reduce(0) { $0 << 8 | Int($1) }
        }

        /// Opens `bytes` as a qcow2 file and inspects it as `ferry disk inspect` does; true
        /// when that worked, false when it ended in a one-line `BlockReaderError`.
        static func inspectQCOW2(_ bytes: [UInt8], at path: String) throws -> Bool {
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            do {
                let reader = try QCOW2Reader(path: path)
                _ = try DiskInspection.inspect(reader, format: "qcow2", disk: path)
                return true
            } catch let error as BlockReaderError {
                #expect(!error.description.contains("\n"))
                return false
            }
        }

        @Test func mutatedQCOW2ImagesWithAGPTNeverCrash() throws {
            let scratch = try DiskScratch()
            let original = try Self.gptQCOW2(in: scratch)
            let l1 = Self.bigEndian(original, at: 40)
            let l2 = Self.bigEndian(original, at: l1) & 0x00FF_FFFF_FFFF_FE00
            // The header, the L1 table and the L2 entries of the GPT's sectors.
            let hotspots = [0..<104, l1..<l1 + 16, l2..<l2 + 8 * 400]
            var random = SplitMix64(seed: 64)
            var read = 0
            for _ in 0..<500 {
                let input = Self.mutate(original, in: hotspots, using: &random)
                if try Self.inspectQCOW2(input.bytes, at: scratch.path("fuzz.qcow2")) { read += 1 }
            }
            #expect(read > 0)
        }

        /// Header fields that trapped `ferry disk inspect` on this image before: found by
        /// mutating it, and set by hand here so that they replay whatever the fuzzer draws.
        @Test(arguments: [
            ("virtual size 2^64 - 1", 24, [UInt8](repeating: 0xFF, count: 8)),
            ("L1 table at 2^64 - 1", 40, [UInt8](repeating: 0xFF, count: 8)),
            ("L1 table at 2^63", 40, [0x80, 0, 0, 0, 0, 0, 0, 0]),
            ("L1 table at 2^64 - 2^16, aligned", 40, [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0]),
            ("L1 table of 2^32 - 1 entries", 36, [0xFF, 0xFF, 0xFF, 0xFF]),
        ] as [(String, Int, [UInt8])])
        func qcow2HeaderSeedsAreRefused(seed: String, offset: Int, value: [UInt8]) throws {
            let scratch = try DiskScratch()
            var image = try Self.gptQCOW2(in: scratch)
            image.replaceSubrange(offset..<offset + value.count, with: value)
            #expect(try Self.inspectQCOW2(image, at: scratch.path("seed.qcow2")) == false, "\(seed)")
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

        @Test func writersRefuseDisksTooLargeForTheirFormat() async throws {
            let scratch = try DiskScratch()
            await propertyCheck(count: 60, input: LimitValues.any) { size in
                for writer in [SparseRawWriter(), QCOW2Writer()] as [any DiskImageWriter] {
                    let path = scratch.path("out.\(writer.format)")
                    do {
                        try writer.write(EmptyDisk(size: size), to: path, progress: nil)
                        #expect(size <= DiskSize.maximum)
                        if writer.format == "raw" { #expect(try FileRegionReader(path: path).size == size) }
                        if writer.format == "qcow2" { #expect(try QCOW2Reader(path: path).size == size) }
                    } catch let error as DiskImageError {
                        // EFBIG from the file system, or refused before writing.
                        #expect(!error.description.contains("\n"))
                    }
                    try? FileManager.default.removeItem(atPath: path)
                }
            }
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
            var random = SplitMix64(seed: 71)
            for original in originals {
                for _ in 0..<1500 {
                    let input = Self.mutate(original, in: [0..<512, 1024..<2048, 4000..<4096], using: &random)
                    _ = FileSystemProbe.probe(input)
                }
            }
        }
    }
}
