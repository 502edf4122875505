import FerryCore
import FerryKit
import Foundation
import Testing

extension DiskImageTests {
    /// File systems made by their own mkfs tools are recognised with their label and UUID.
    @Suite struct FileSystemProbeTests {
        static let uuid = "2b0f0f6e-5a35-4c3e-9f5b-8e1d6c2a7b10"

        func probe(_ tool: String, _ arguments: [String], size: UInt64 = 32 << 20) throws -> FileSystemInfo? {
            let scratch = try DiskScratch()
            let image = try scratch.emptyImage("fs.img", size: size)
            let result = try scratch.run(tool, arguments + [image])
            #expect(result.status == 0, "\(result.output)")
            return FileSystemProbe.probe(try FileRegionReader(path: image))
        }

        @Test(arguments: ["ext2", "ext3", "ext4"])
        func recognisesExt(type: String) throws {
            let info = try probe("/usr/sbin/mke2fs", ["-q", "-F", "-t", type, "-L", "root", "-U", Self.uuid])
            #expect(info == FileSystemInfo(type: type, label: "root", uuid: Self.uuid))
        }

        @Test func recognisesXFS() throws {
            let info = try probe("/usr/sbin/mkfs.xfs", ["-q", "-f", "-L", "data", "-m", "uuid=\(Self.uuid)"], size: 320 << 20)
            #expect(info == FileSystemInfo(type: "xfs", label: "data", uuid: Self.uuid))
        }

        @Test func recognisesFAT32() throws {
            let info = try probe("/usr/sbin/mkfs.vfat", ["-F", "32", "-n", "EFI", "-i", "1234ABCD"], size: 64 << 20)
            #expect(info == FileSystemInfo(type: "vfat", label: "EFI", uuid: "1234-ABCD", version: "FAT32"))
        }

        @Test func recognisesFAT16() throws {
            let info = try probe("/usr/sbin/mkfs.vfat", ["-F", "16", "-n", "BOOT", "-i", "0000BEEF"])
            #expect(info == FileSystemInfo(type: "vfat", label: "BOOT", uuid: "0000-BEEF", version: "FAT16"))
        }

        @Test func recognisesNTFS() throws {
            let info = try probe("/usr/sbin/mkntfs", ["-q", "-F", "-f", "-L", "Windows"])
            #expect(info?.type == "ntfs")
            #expect(info?.label == "Windows")
            #expect(info?.uuid?.count == 16)
        }

        @Test func recognisesSwap() throws {
            let info = try probe("/usr/sbin/mkswap", ["-L", "swap0", "-U", Self.uuid], size: 8 << 20)
            #expect(info == FileSystemInfo(type: "swap", label: "swap0", uuid: Self.uuid))
        }

        @Test func zerosAreNoFileSystem() {
            #expect(FileSystemProbe.probe(InMemoryDisk([UInt8](repeating: 0, count: 70_000))) == nil)
        }

        @Test func inspectionProbesEachPartition() throws {
            let scratch = try DiskScratch()
            let image = try scratch.emptyImage("disk.img", size: 48 << 20)
            #expect(try scratch.run("/usr/sbin/sfdisk", ["-q", image], input: "label: gpt\n,16M,U\n,,L\n").status == 0)
            let fat = try scratch.emptyImage("fat.img", size: 16 << 20)
            let ext = try scratch.emptyImage("ext.img", size: 31 << 20)
            #expect(try scratch.run("/usr/sbin/mkfs.vfat", ["-n", "ESP", fat]).status == 0)
            #expect(try scratch.run("/usr/sbin/mke2fs", ["-q", "-F", "-t", "ext4", "-L", "root", ext]).status == 0)
            #expect(try scratch.run("/bin/dd", ["if=\(fat)", "of=\(image)", "bs=1M", "seek=1", "conv=notrunc,sparse", "status=none"]).status == 0)
            #expect(try scratch.run("/bin/dd", ["if=\(ext)", "of=\(image)", "bs=1M", "seek=17", "count=30", "conv=notrunc,sparse", "status=none"]).status == 0)
            let inspection = try DiskInspection.inspect(FileRegionReader(path: image), format: "raw", disk: image)
            #expect(inspection.partitionTable == .gpt)
            #expect(inspection.virtualSize == 48 << 20)
            #expect(inspection.partitions.map { $0.fileSystem?.type } == ["vfat", "ext4"])
            #expect(inspection.partitions.map { $0.fileSystem?.label } == ["ESP", "root"])
        }
    }
}
