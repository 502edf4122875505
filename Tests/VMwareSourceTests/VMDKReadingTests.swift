import FerryCore
import FerryKit
import Foundation
import Testing
@testable import VMwareSource

/// Ferry reads every VMDK subformat qemu-img writes byte for byte like the raw original.
@Suite struct VMDKReadingTests {
    static let subformats = ["monolithicSparse", "monolithicFlat", "twoGbMaxExtentSparse", "twoGbMaxExtentFlat", "streamOptimized"]

    @Test(arguments: subformats)
    func readsEverySubformatLikeTheRawOriginal(subformat: String) throws {
        let scratch = try Scratch()
        let raw = try scratch.rawImage("disk.raw", size: 8 << 20)
        try scratch.qemuImg("convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=\(subformat)", raw, scratch.path("disk.vmdk"))
        let disk = try VMDKDisk(path: scratch.path("disk.vmdk"))
        #expect(disk.createType == subformat)
        #expect(disk.size == 8 << 20)
        #expect(try DiskComparison.firstDifference(FileRegionReader(path: raw), disk) == nil)
    }

    @Test(arguments: ["twoGbMaxExtentSparse", "twoGbMaxExtentFlat"])
    func readsAcrossTheTwoGigabyteExtentBoundaries(subformat: String) throws {
        let scratch = try Scratch()
        let gib: UInt64 = 1 << 30
        // Data on both sides of each 2 GiB extent boundary, and in the short last extent.
        let raw = try scratch.rawImage("big.raw", size: 4 * gib + 3 << 20, regions: 4, extraOffsets: [2 * gib - 3000, 4 * gib - 10, 4 * gib + (1 << 20)])
        try scratch.qemuImg("convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=\(subformat)", raw, scratch.path("big.vmdk"))
        let disk = try VMDKDisk(path: scratch.path("big.vmdk"))
        #expect(disk.descriptor.extents.count == 3)
        #expect(try DiskComparison.firstDifference(FileRegionReader(path: raw), disk) == nil)
    }

    @Test func sparseAllocatedRangesLeaveUnwrittenGrainsOut() throws {
        let scratch = try Scratch()
        let raw = try scratch.rawImage("disk.raw", size: 64 << 20, regions: 3)
        try scratch.qemuImg("convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=streamOptimized", raw, scratch.path("disk.vmdk"))
        let allocated = try VMDKDisk(path: scratch.path("disk.vmdk")).allocatedRanges().reduce(0) { $0 + $1.length }
        #expect(allocated > 0)
        #expect(allocated <= 8 << 20)
    }

    @Test func followsASnapshotChainToItsParent() throws {
        let scratch = try Scratch()
        let raw = try scratch.rawImage("base.raw", size: 8 << 20)
        try scratch.qemuImg("convert", "-f", "raw", "-O", "vmdk", raw, scratch.path("base.vmdk"))
        try scratch.qemuImg("create", "-f", "vmdk", "-b", "base.vmdk", "-F", "vmdk", scratch.path("child.vmdk"))
        let io = try scratch.run("qemu-io", ["-f", "vmdk", "-c", "write -P 0xab 1M 200k", "-c", "write -z 5M 64k", scratch.path("child.vmdk")])
        #expect(io.status == 0, "\(io.output)")
        try scratch.qemuImg("convert", "-f", "vmdk", "-O", "raw", scratch.path("child.vmdk"), scratch.path("expected.raw"))
        let child = try VMDKDisk(path: scratch.path("child.vmdk"))
        #expect(child.parent != nil)
        #expect(try DiskComparison.firstDifference(FileRegionReader(path: scratch.path("expected.raw")), child) == nil)
    }

    @Test func refusesASnapshotWhoseParentIsMissing() throws {
        let scratch = try Scratch()
        try scratch.qemuImg("create", "-f", "vmdk", scratch.path("base.vmdk"), "4M")
        try scratch.qemuImg("create", "-f", "vmdk", "-b", "base.vmdk", "-F", "vmdk", scratch.path("child.vmdk"))
        try FileManager.default.removeItem(atPath: scratch.path("base.vmdk"))
        let error = #expect(throws: VMwareSourceError.self) { try VMDKDisk(path: scratch.path("child.vmdk")) }
        #expect(error?.description.contains("child.vmdk: parent disk") == true)
        #expect(error?.description.contains("base.vmdk") == true)
    }

    @Test func readsADescriptorWithAZeroExtent() throws {
        let scratch = try Scratch()
        let raw = try scratch.rawImage("data.raw", size: 1 << 20, regions: 4)
        try scratch.write("zero.vmdk", """
            # Disk DescriptorFile
            version=1
            CID=12345678
            parentCID=ffffffff
            createType="monolithicFlat"
            RW 2048 FLAT "data.raw" 0
            RW 2048 ZERO
            """)
        let disk = try VMDKDisk(path: scratch.path("zero.vmdk"))
        #expect(disk.size == 2 << 20)
        #expect(try disk.read(at: 0, count: 1 << 20) == FileRegionReader(path: raw).read(at: 0, count: 1 << 20))
        #expect(try disk.read(at: 1 << 20, count: 1 << 20) == [UInt8](repeating: 0, count: 1 << 20))
    }

    @Test func refusesAnUnknownExtentTypeNamingTheLine() throws {
        let text = "createType=\"monolithicFlat\"\nRW 2048 BOGUS \"x.raw\" 0\n"
        let error = #expect(throws: VMwareSourceError.self) { try VMDKDescriptor.parse(text, file: "d.vmdk") }
        #expect(error?.description == "d.vmdk: extent on line 2 has unknown type 'BOGUS' (known: FLAT, SPARSE, ZERO, VMFS, VMFSSPARSE, VMFSRDM, VMFSRAW, SESPARSE)")
    }

    @Test func refusesAFlatExtentFileThatIsMissing() throws {
        let scratch = try Scratch()
        try scratch.write("d.vmdk", "createType=\"monolithicFlat\"\nRW 2048 FLAT \"gone-flat.vmdk\" 0\n")
        let error = #expect(throws: VMwareSourceError.self) { try VMDKDisk(path: scratch.path("d.vmdk")) }
        #expect(error?.description == "\(scratch.path("d.vmdk")): extent file 'gone-flat.vmdk' is missing")
    }

    @Test func refusesAGrainTablePointingPastTheEndOfTheFile() throws {
        let scratch = try Scratch()
        let raw = try scratch.rawImage("disk.raw", size: 2 << 20, regions: 2)
        try scratch.qemuImg("convert", "-f", "raw", "-O", "vmdk", raw, scratch.path("disk.vmdk"))
        var bytes = try FileRegionReader(path: scratch.path("disk.vmdk")).read(at: 0, count: 512)
        let header = try SparseExtentHeader.parse(bytes, file: "disk.vmdk")
        let file = try FileRegionReader(path: scratch.path("disk.vmdk"))
        bytes = try file.read(at: 0, count: Int(file.size))
        // Point the first grain directory entry far past the end.
        bytes.putLE(UInt32(0x7FFF_FFFF), at: Int(header.gdOffset) * 512)
        let disk = try VMDKDisk(file: InMemoryDisk(bytes, name: "bad.vmdk"), name: "bad.vmdk", resolver: .init { _ in nil })
        let error = #expect(throws: VMwareSourceError.self) { try disk.read(at: 0, count: 4096) }
        #expect(error?.description == "bad.vmdk: grain table 0 at sector 2147483647 lies past the end of the file")
    }

    @Test func refusesATruncatedStreamOptimizedFile() throws {
        let scratch = try Scratch()
        let raw = try scratch.rawImage("disk.raw", size: 2 << 20, regions: 4)
        try scratch.qemuImg("convert", "-f", "raw", "-O", "vmdk", "-o", "subformat=streamOptimized", raw, scratch.path("disk.vmdk"))
        let file = try FileRegionReader(path: scratch.path("disk.vmdk"))
        // Cut in the middle of the grains: what is gone must be an error, not zeros.
        let truncated = try file.read(at: 0, count: Int(file.size) / 2)
        let error = #expect(throws: VMwareSourceError.self) {
            let disk = try VMDKDisk(file: InMemoryDisk(truncated, name: "cut.vmdk"), name: "cut.vmdk", resolver: .init { _ in nil })
            try readAll(disk)
        }
        #expect(error?.description.hasPrefix("cut.vmdk: ") == true)
        #expect(error?.description.contains("past the end of the file") == true)
    }

    @Test func readsAnESXDescriptorWithAVMFSExtent() throws {
        let scratch = try Scratch()
        let raw = try scratch.rawImage("esx-flat.vmdk", size: 2 << 20, regions: 4)
        try scratch.write("esx.vmdk", """
            # Disk DescriptorFile
            version=1
            CID=0badcafe
            parentCID=ffffffff
            createType="vmfs"
            RW 4096 VMFS "esx-flat.vmdk"
            ddb.adapterType = "lsilogic"
            """)
        let disk = try VMDKDisk(path: scratch.path("esx.vmdk"))
        #expect(disk.createType == "vmfs")
        #expect(try DiskComparison.firstDifference(FileRegionReader(path: raw), disk) == nil)
    }

    @Test func refusesAParentWhoseCIDChangedAfterTheSnapshot() throws {
        let scratch = try Scratch()
        try scratch.qemuImg("create", "-f", "vmdk", "-o", "subformat=monolithicFlat", scratch.path("base.vmdk"), "4M")
        try scratch.qemuImg("create", "-f", "vmdk", "-b", "base.vmdk", "-F", "vmdk", scratch.path("child.vmdk"))
        let base = try String(contentsOfFile: scratch.path("base.vmdk"), encoding: .utf8)
        let changed = base.split(separator: "\n").map { $0.hasPrefix("CID=") ? "CID=01234567" : String($0) }.joined(separator: "\n")
        try scratch.write("base.vmdk", changed)
        let error = #expect(throws: VMwareSourceError.self) { try VMDKDisk(path: scratch.path("child.vmdk")) }
        #expect(error?.description.contains("does not match the CID 01234567 of parent 'base.vmdk'") == true)
    }
}
