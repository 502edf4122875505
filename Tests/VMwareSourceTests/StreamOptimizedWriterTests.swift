import FerryCore
import FerryKit
import Foundation
import Testing
@testable import VMwareSource

/// Disks exported as streamOptimized VMDKs are valid for qemu-img and identical to the source.
@Suite struct StreamOptimizedWriterTests {
    @Test func qemuImgAcceptsTheExportAndFindsItIdentical() throws {
        let scratch = try Scratch()
        let raw = try scratch.rawImage("disk.raw", size: (40 << 20) + 512 * 3)
        try StreamOptimizedWriter().write(try FileRegionReader(path: raw), to: scratch.path("out.vmdk"), progress: nil)
        let check = try scratch.run("qemu-img", ["check", "-f", "vmdk", scratch.path("out.vmdk")])
        #expect(check.status == 0, "\(check.output)")
        let compare = try scratch.run("qemu-img", ["compare", "-f", "raw", "-F", "vmdk", raw, scratch.path("out.vmdk")])
        #expect(compare.status == 0, "\(compare.output)")
        let info = try scratch.run("qemu-img", ["info", scratch.path("out.vmdk")])
        #expect(info.output.contains("streamOptimized"))
    }

    @Test func ferryReadsItsOwnExportBack() throws {
        let scratch = try Scratch()
        let raw = try scratch.rawImage("disk.raw", size: 12 << 20, seed: 7)
        try StreamOptimizedWriter().write(try FileRegionReader(path: raw), to: scratch.path("out.vmdk"), progress: nil)
        let disk = try VMDKDisk(path: scratch.path("out.vmdk"))
        #expect(disk.createType == "streamOptimized")
        #expect(try DiskComparison.firstDifference(FileRegionReader(path: raw), disk) == nil)
    }

    @Test func anEmptyDiskExportsToAValidImage() throws {
        let scratch = try Scratch()
        try scratch.qemuImg("create", "-f", "raw", scratch.path("empty.raw"), "3M")
        try StreamOptimizedWriter().write(try FileRegionReader(path: scratch.path("empty.raw")), to: scratch.path("out.vmdk"), progress: nil)
        let check = try scratch.run("qemu-img", ["check", scratch.path("out.vmdk")])
        #expect(check.status == 0, "\(check.output)")
        let compare = try scratch.run("qemu-img", ["compare", "-f", "raw", scratch.path("empty.raw"), scratch.path("out.vmdk")])
        #expect(compare.status == 0, "\(compare.output)")
    }
}
