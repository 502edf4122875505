import FerryCore
import FerryKit
import Foundation
import Testing

extension DiskImageTests {
    /// MBR and GPT partition tables written by sfdisk are read back as sfdisk wrote them.
    @Suite struct PartitionTableTests {
        @Test func readsAnMBRWithPrimaryAndLogicalPartitions() throws {
            let scratch = try DiskScratch()
            let image = try scratch.emptyImage("mbr.img", size: 64 << 20)
            let layout = "label: dos\nlabel-id: 0x12345678\n,8M,83,*\n,8M,82\n,,5\n,8M,83\n,8M,7\n"
            let result = try scratch.run("/usr/sbin/sfdisk", ["-q", image], input: layout)
            #expect(result.status == 0, "\(result.output)")
            let table = try #require(try PartitionTable.read(from: FileRegionReader(path: image), disk: image))
            #expect(table.scheme == .mbr)
            #expect(table.diskIdentifier == "12345678")
            #expect(table.partitions.map(\.number) == [1, 2, 3, 5, 6])
            #expect(table.partitions.map(\.type) == ["0x83", "0x82", "0x05", "0x83", "0x07"])
            #expect(table.partitions.map(\.bootable) == [true, false, false, false, false])
            #expect(table.partitions[0].offset == 1 << 20)
            #expect(table.partitions[0].size == 8 << 20)
            #expect(table.partitions[3].size == 8 << 20)
            #expect(table.partitions[3].offset > table.partitions[2].offset)
        }

        @Test func readsAGPTWithNamesTypesAndGUIDs() throws {
            let scratch = try DiskScratch()
            let image = try scratch.emptyImage("gpt.img", size: 64 << 20)
            let layout = """
                label: gpt
                label-id: 0A2B3C4D-1111-2222-3333-444455556666
                size=16MiB, type=U, name="EFI"
                size=8MiB, type=0657FD6D-A4AB-43C4-84E5-0933C84B4F4F, uuid=11111111-2222-3333-4444-555555555555
                type=L, name="root"

                """
            let result = try scratch.run("/usr/sbin/sfdisk", ["-q", image], input: layout)
            #expect(result.status == 0, "\(result.output)")
            let table = try #require(try PartitionTable.read(from: FileRegionReader(path: image), disk: image))
            #expect(table.scheme == .gpt)
            #expect(table.diskIdentifier == "0A2B3C4D-1111-2222-3333-444455556666")
            #expect(table.partitions.map(\.typeName) == ["EFI System", "Linux swap", "Linux filesystem"])
            #expect(table.partitions.map(\.name) == ["EFI", nil, "root"])
            #expect(table.partitions.map(\.bootable) == [true, false, false])
            #expect(table.partitions[1].uuid == "11111111-2222-3333-4444-555555555555")
            #expect(table.partitions[0].offset == 1 << 20)
            #expect(table.partitions[0].size == 16 << 20)
        }

        @Test func aDiskWithoutATableHasNone() throws {
            #expect(try PartitionTable.read(from: InMemoryDisk([UInt8](repeating: 0, count: 4096)), disk: "zeros") == nil)
        }

        @Test func aGPTWithADamagedPrimaryHeaderIsReadFromItsBackup() throws {
            let scratch = try DiskScratch()
            let image = try scratch.emptyImage("gpt.img", size: 16 << 20)
            #expect(try scratch.run("/usr/sbin/sfdisk", ["-q", image], input: "label: gpt\n,,L\n").status == 0)
            var bytes = try FileRegionReader(path: image).read(at: 0, count: 16 << 20)
            bytes[512 + 100] ^= 0xFF
            bytes[512 + 20] ^= 0xFF  // the header's own checksum no longer matches
            let table = try #require(try PartitionTable.read(from: InMemoryDisk(bytes), disk: "gpt.img"))
            #expect(table.partitions.count == 1)
        }
    }
}
