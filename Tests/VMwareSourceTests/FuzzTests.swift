import FerryCore
import FerryKit
import Foundation
import Testing
@testable import VMwareSource
import FerryTestSupport

/// Thousands of mutated inputs per parser: each must end in a value or a one-line error,
/// never a crash, a hang or a huge allocation. Seeds are fixed so failures replay.
@Suite struct FuzzTests {
    /// Mutates `input`: flipped bytes, overwritten fields with extreme values, truncation.
    static func mutate(_ input: [UInt8], using random: inout SplitMix64, hotspots: [Range<Int>] = []) -> [UInt8] {
        var bytes = input
        let edits = Int.random(in: 1...6, using: &random)
        for _ in 0..<edits {
            let range = hotspots.isEmpty || Bool.random(using: &random) ? 0..<bytes.count : hotspots.randomElement(using: &random)!
            guard !bytes.isEmpty, !range.isEmpty, range.upperBound <= bytes.count else { continue }
            let index = Int.random(in: range, using: &random)
            switch Int.random(in: 0..<5, using: &random) {
            case 0: bytes[index] ^= UInt8(1 << Int.random(in: 0..<8, using: &random))
            case 1: bytes[index] = UInt8.random(in: 0...255, using: &random)
            case 2: for offset in index..<min(index + 8, bytes.count) { bytes[offset] = 0xFF }
            case 3: for offset in index..<min(index + 4, bytes.count) { bytes[offset] = 0 }
            default: bytes.removeSubrange(Int.random(in: 0..<bytes.count, using: &random)...)
            }
        }
        return bytes
    }

    static func maxResidentBytes() -> Int {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return usage.ru_maxrss * 1024
    }

    @Test(arguments: ["monolithicSparse", "streamOptimized"])
    func mutatedSparseVMDKsNeverCrash(subformat: String) throws {
        let scratch = try Scratch()
        let raw = try scratch.rawImage("disk.raw", size: 1 << 20, regions: 6)
        try scratch.qemuImg("convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=\(subformat)", raw, scratch.path("disk.vmdk"))
        let file = try FileRegionReader(path: scratch.path("disk.vmdk"))
        let original = try file.read(at: 0, count: Int(file.size))
        let header = try SparseExtentHeader.parse(original, file: "disk.vmdk")
        var hotspots = [0..<512, 512..<1024, max(0, original.count - 1536)..<original.count]
        if header.gdOffset != SparseExtentHeader.gdAtEnd { hotspots.append(Int(header.gdOffset) * 512..<Int(header.gdOffset) * 512 + 512) }
        var random = SplitMix64(seed: subformat == "streamOptimized" ? 11 : 12)
        var opened = 0
        for _ in 0..<2000 {
            let input = Self.mutate(original, using: &random, hotspots: hotspots)
            do {
                let disk = try VMDKDisk(file: InMemoryDisk(input, name: "fuzz.vmdk"), name: "fuzz.vmdk", resolver: .init { _ in nil })
                opened += 1
                try readAll(disk, limit: 512 << 10)
            } catch let error as CustomStringConvertible {
                #expect(!error.description.contains("\n"))
            }
        }
        #expect(opened > 0)
        #expect(Self.maxResidentBytes() < 2 << 30)
    }

    @Test func mutatedDescriptorsNeverCrash() throws {
        let original = Array("""
            # Disk DescriptorFile
            version=1
            CID=fffffffe
            parentCID=ffffffff
            createType="twoGbMaxExtentFlat"
            RW 4192256 FLAT "a-f001.vmdk" 0
            RDONLY 2048 SPARSE "a-s002.vmdk"
            NOACCESS 2048 ZERO
            ddb.adapterType = "lsilogic"
            """.utf8)
        var random = SplitMix64(seed: 21)
        for _ in 0..<5000 {
            let input = Self.mutate(original, using: &random)
            do {
                let descriptor = try VMDKDescriptor.parse(try VMDKDescriptor.text(input, file: "d.vmdk"), file: "d.vmdk")
                _ = try? descriptor.virtualSize(file: "d.vmdk")
                _ = try? VMDKDisk(file: InMemoryDisk(input, name: "d.vmdk"), name: "d.vmdk", resolver: .init { _ in nil })
            } catch {
                #expect(!error.description.contains("\n"))
            }
        }
    }

    /// A monolithicFlat descriptor of about 120 bytes whose one extent is `RW SECTORS ZERO`.
    static func zeroDescriptor(sectors: String) -> [UInt8] {
        Array("# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"monolithicFlat\"\nRW \(sectors) ZERO\n".utf8)
    }

    /// Descriptors that made `ferry disk export` trap before (a disk of 2^63 bytes or more
    /// passed to a file offset, or rounded up to clusters): refused when opened.
    @Test(arguments: [
        "18014398509481984",                    // 2^54 sectors: 2^63 bytes
        "36028797018963967",                    // 2^55 - 1 sectors: 2^64 - 512 bytes
        "18446744073709551615",                 // 2^64 - 1 sectors
        "9007199254740993",                     // one sector more than 4 EiB
    ])
    func hugeZeroExtentsAreRefused(sectors: String) throws {
        let input = Self.zeroDescriptor(sectors: sectors)
        let error = #expect(throws: VMwareSourceError.self) {
            try VMDKDisk(file: InMemoryDisk(input, name: "zero.vmdk"), name: "zero.vmdk", resolver: .init { _ in nil })
        }
        #expect(error?.description.contains("zero.vmdk: extents add up to more than") == true)
        #expect(error?.description.contains("\n") == false)
    }

    @Test func twoExtentsThatTogetherPassTheLargestDiskAreRefused() throws {
        var input = Self.zeroDescriptor(sectors: "9007199254740992")   // 4 EiB: the most, alone
        input += Array("RW 1 ZERO\n".utf8)
        #expect(throws: VMwareSourceError.self) {
            try VMDKDisk(file: InMemoryDisk(input, name: "zero.vmdk"), name: "zero.vmdk", resolver: .init { _ in nil })
        }
    }

    @Test func aSparseHeaderClaiming2To63BytesIsRefused() throws {
        // 2^54 sectors in 2^14-sector grains, 2^16 entries per table: its grain directory
        // (64 MiB) is in the file, as a hole, so only the capacity is wrong.
        let scratch = try Scratch()
        let header = SparseExtentHeader(flags: 3, capacity: 1 << 54, grainSize: 1 << 14, descriptorOffset: 0, descriptorSize: 0,
                                        numGTEsPerGT: 1 << 16, gdOffset: 1, overHead: 1, compressAlgorithm: 0).encoded()
        try Data(header).write(to: URL(fileURLWithPath: scratch.path("huge.vmdk")))
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: scratch.path("huge.vmdk")))
        try handle.truncate(atOffset: 512 + (1 << 26))
        try handle.close()
        let error = #expect(throws: VMwareSourceError.self) { try VMDKDisk(path: scratch.path("huge.vmdk")) }
        #expect(error?.description.contains("capacity of 18014398509481984 sectors") == true)
    }

    @Test func aPaxRecordClaimingIntMaxBytesIsRefused() throws {
        // A first record that fits, then one whose length would overflow the record index.
        let body = Array("10 a=bcde\n9223372036854775807 path=disk.vmdk\n".utf8)
        let bytes = LimitTests.tarHeader(name: "PaxHeaders/disk.vmdk", size: UInt64(body.count), type: UInt8(ascii: "x")) + LimitTests.padded(body)
            + LimitTests.tarHeader(name: "disk.ovf", size: 11, type: UInt8(ascii: "0")) + LimitTests.padded(Array("<Envelope/>".utf8))
            + [UInt8](repeating: 0, count: 1024)
        let error = #expect(throws: VMwareSourceError.self) { try TarArchive(InMemoryDisk(bytes, name: "pax.ova"), name: "pax.ova") }
        #expect(error?.description == "pax.ova: tar pax record at byte 10 of the extended header at byte 0 claims 9223372036854775807 bytes, but the header has 35 left (damaged archive)")
    }

    @Test func mutatedVMXFilesNeverCrash() throws {
        let original = Array(DiscoveryTests.vmx.utf8)
        var random = SplitMix64(seed: 31)
        for _ in 0..<5000 {
            let input = Self.mutate(original, using: &random)
            do {
                let vmx = try VMXFile(text: String(decoding: input, as: UTF8.self), path: "/nonexistent/f.vmx")
                _ = vmx.machineFacts(disks: [])
                _ = vmx.disks
            } catch let error as VMwareSourceError {
                #expect(!error.description.contains("\n"))
            }
        }
    }

    @Test func mutatedOVFDescriptorsNeverCrash() throws {
        let original = Array(DiscoveryTests.ovf().utf8)
        var random = SplitMix64(seed: 41)
        var parsed = 0
        for _ in 0..<3000 {
            let input = Self.mutate(original, using: &random)
            do {
                let ovf = try OVFDescriptor.parse(Data(input), file: "f.ovf")
                parsed += 1
                for system in ovf.systems { for reference in system.diskReferences { _ = ovf.file(forDiskReference: reference) } }
            } catch {
                #expect(!error.description.contains("\n"))
            }
        }
        #expect(parsed > 0)
    }

    @Test func mutatedTarArchivesNeverCrash() throws {
        let scratch = try Scratch()
        try scratch.write("a.ovf", "<Envelope/>")
        try scratch.write("b.vmdk", String(repeating: "x", count: 3000))
        let tar = try scratch.run("tar", ["--format=pax", "-cf", "t.ova", "a.ovf", "b.vmdk"])
        #expect(tar.status == 0, "\(tar.output)")
        let file = try FileRegionReader(path: scratch.path("t.ova"))
        let original = try file.read(at: 0, count: Int(file.size))
        var random = SplitMix64(seed: 51)
        var listed = 0
        for _ in 0..<5000 {
            let input = Self.mutate(original, using: &random, hotspots: [0..<512, 1024..<1536, 2048..<2560])
            do {
                let archive = try TarArchive(InMemoryDisk(input, name: "t.ova"), name: "t.ova")
                listed += 1
                for member in archive.members { #expect(member.offset + member.size <= UInt64(input.count)) }
            } catch {
                #expect(!error.description.contains("\n"))
            }
        }
        #expect(listed > 0)
    }
}
