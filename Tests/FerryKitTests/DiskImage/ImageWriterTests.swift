import FerryCore
import FerryKit
import Foundation
import Testing

extension DiskImageTests {
    /// Disks written as sparse raw and qcow2 images are what qemu-img expects, and identical.
    @Suite struct ImageWriterTests {
        @Test func sparseRawKeepsHolesAndIsIdenticalToTheSource() throws {
            let scratch = try DiskScratch()
            let source = try scratch.randomImage("source.raw", size: 48 << 20)
            try SparseRawWriter().write(try FileRegionReader(path: source), to: scratch.path("out.raw"), progress: nil)
            let compare = try scratch.run("/usr/bin/qemu-img", ["compare", "-f", "raw", "-F", "raw", source, scratch.path("out.raw")])
            #expect(compare.status == 0, "\(compare.output)")
            let written = try FileRegionReader(path: scratch.path("out.raw")).allocatedRanges().reduce(0) { $0 + $1.length }
            #expect(written < 8 << 20)
            #expect(try DiskComparison.firstDifference(FileRegionReader(path: source), FileRegionReader(path: scratch.path("out.raw"))) == nil)
        }

        @Test func qcow2PassesQemuImgCheckAndCompare() throws {
            let scratch = try DiskScratch()
            let source = try scratch.randomImage("source.raw", size: (600 << 20) + 4096, regions: 30)
            try QCOW2Writer().write(try FileRegionReader(path: source), to: scratch.path("out.qcow2"), progress: nil)
            let check = try scratch.run("/usr/bin/qemu-img", ["check", "-f", "qcow2", scratch.path("out.qcow2")])
            #expect(check.status == 0, "\(check.output)")
            let compare = try scratch.run("/usr/bin/qemu-img", ["compare", "-f", "raw", "-F", "qcow2", source, scratch.path("out.qcow2")])
            #expect(compare.status == 0, "\(compare.output)")
        }

        @Test func anEmptyDiskMakesAValidQcow2() throws {
            let scratch = try DiskScratch()
            let source = try scratch.emptyImage("empty.raw", size: 5 << 20)
            try QCOW2Writer().write(try FileRegionReader(path: source), to: scratch.path("out.qcow2"), progress: nil)
            let check = try scratch.run("/usr/bin/qemu-img", ["check", scratch.path("out.qcow2")])
            #expect(check.status == 0, "\(check.output)")
            let info = try scratch.run("/usr/bin/qemu-img", ["info", scratch.path("out.qcow2")])
            #expect(info.output.contains("virtual size: 5 MiB"))
        }

        @Test func comparisonFindsTheFirstDifferingByte() throws {
            var bytes = [UInt8](repeating: 7, count: 3 << 20)
            let original = InMemoryDisk(bytes)
            bytes[2_000_001] = 8
            #expect(try DiskComparison.firstDifference(original, InMemoryDisk(bytes)) == 2_000_001)
            #expect(try DiskComparison.firstDifference(original, original) == nil)
        }
    }
}
