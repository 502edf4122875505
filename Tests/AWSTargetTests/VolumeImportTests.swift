import Foundation
import Testing
@testable import AWSTarget
import FerryCore
import FerryKit
import Synchronization

extension MotoSuite {
    /// A disk becomes an EBS snapshot through the EBS direct APIs, checked block by block.
    @Suite struct VolumeImportTests {
        static let block = TestDisk.block

        /// Reads every block of `snapshotID` back with GetSnapshotBlock, by index.
        static func snapshotBlocks(_ adapter: AWSTargetAdapter, _ snapshotID: String) async throws -> [Int: [UInt8]] {
            let ebs = try adapter.connection().ebs
            var blocks: [Int: [UInt8]] = [:]
            for entry in try await ebs.listSnapshotBlocks(snapshotID: snapshotID).blocks {
                blocks[entry.index] = try await ebs.getSnapshotBlock(snapshotID: snapshotID, index: entry.index, token: entry.token)
            }
            return blocks
        }

        @Test("a full import holds every data block byte for byte, and no zero block")
        func fullImportRoundTrip() async throws {
            let moto = try await MotoServer.shared.value
            try await moto.reset()
            let adapter = moto.adapter()
            // 24 MiB: data blocks, allocated zero blocks, holes, and a partial last block.
            let dataBlocks = [0, 1, 2, 5, 9, 17, 30, 31, 40, 47, 48]
            let disk = TestDisk.make(blocks: 48, data: dataBlocks, zeroAllocated: [3, 4, 20], seed: 7, tail: 4096)
            let result = try await adapter.importSnapshot(VolumeImportRequest(name: "web-1 disk 0", source: disk, tags: ["ferry:server": "s-1"]))
            #expect(result.blocksUploaded == dataBlocks.count)
            #expect(result.volumeSizeGiB == 1)

            let stored = try await Self.snapshotBlocks(adapter, result.snapshotID)
            #expect(stored.keys.sorted() == dataBlocks)
            for index in 0..<49 {
                let expected = disk.block(index)
                let actual = stored[index] ?? [UInt8](repeating: 0, count: Self.block)
                #expect(actual == expected, "block \(index) differs")
            }
        }

        @Test("importVolume answers a completed snapshot carrying the request's tags and name")
        func importedVolumeIsTaggedSnapshot() async throws {
            let moto = try await MotoServer.shared.value
            try await moto.reset()
            let adapter = moto.adapter()
            let disk = TestDisk.make(blocks: 4, data: [0, 2])
            let volume = try await adapter.importVolume(VolumeImportRequest(name: "db disk", source: disk, tags: ["team": "blue"]), progress: nil)
            #expect(volume.kind == .snapshot)
            #expect(volume.id.hasPrefix("snap-"))
            #expect(volume.sizeBytes == 1 << 30)
            let described = try await adapter.connection().ec2.describe(.describeSnapshots, QueryParameters([("SnapshotId.1", volume.id)]), list: "snapshotSet")
            #expect(described.first?.string("status") == "completed")
            #expect(described.first?.ec2Tags == ["team": "blue", "Name": "db disk"])
        }

        @Test("an incremental import names its parent and sends only the blocks that changed")
        func incrementalImport() async throws {
            let moto = try await MotoServer.shared.value
            try await moto.reset()
            let adapter = moto.adapter()
            var disk = TestDisk.make(blocks: 32, data: [0, 1, 2, 3, 8, 9, 10], seed: 3)
            let parent = try await adapter.importVolume(VolumeImportRequest(name: "pass 1", source: disk), progress: nil)

            disk.rewrite(block: 2, seed: 99)
            disk.rewrite(block: 20, seed: 100)
            disk.zero(block: 9)
            let changed = [2, 9, 20].map { ByteRange(offset: UInt64($0 * Self.block), length: 100) }
            let result = try await adapter.importSnapshot(VolumeImportRequest(name: "pass 2", source: disk, parent: parent, changedRanges: changed))
            // Block 9 became zero: it is sent, because the parent holds data there.
            #expect(result.blocksUploaded == 3)

            // EBS presents a child as its parent with the changed blocks on top. (moto keeps
            // only the child's own blocks, so the test overlays them on the parent's.)
            let parentBlocks = try await Self.snapshotBlocks(adapter, parent.id)
            let childBlocks = try await Self.snapshotBlocks(adapter, result.snapshotID)
            #expect(childBlocks.keys.sorted() == [2, 9, 20])
            for index in 0..<32 {
                let actual = childBlocks[index] ?? parentBlocks[index] ?? [UInt8](repeating: 0, count: Self.block)
                #expect(actual == disk.block(index), "block \(index) differs")
            }
        }

        @Test("progress reaches the total, and counts only the bytes really sent")
        func progressReports() async throws {
            let moto = try await MotoServer.shared.value
            try await moto.reset()
            let disk = TestDisk.make(blocks: 8, data: [1, 6], zeroAllocated: [2, 3])
            let reports = ProgressLog()
            _ = try await moto.adapter().importVolume(VolumeImportRequest(name: "p", source: disk), progress: { reports.append($0) })
            let last = try #require(reports.all.last)
            #expect(last.bytesDone == last.bytesTotal)
            #expect(last.bytesTotal == 4 * UInt64(Self.block))
            #expect(last.bytesSent == 2 * UInt64(Self.block))
        }

        @Test("a deleted import is gone from the snapshots")
        func deleteImportedVolume() async throws {
            let moto = try await MotoServer.shared.value
            try await moto.reset()
            let adapter = moto.adapter()
            let volume = try await adapter.importVolume(VolumeImportRequest(name: "gone", source: TestDisk.make(blocks: 2, data: [0])), progress: nil)
            try await adapter.deleteImportedVolume(id: volume.id)
            let error = await #expect(throws: AWSError.self) {
                _ = try await adapter.connection().ec2.describe(.describeSnapshots, QueryParameters([("SnapshotId.1", volume.id)]), list: "snapshotSet")
            }
            #expect(error?.kind == .notFound)
        }
    }
}

final class ProgressLog: Sendable {
    private let reports = Mutex<[TransferProgress]>([])
    func append(_ report: TransferProgress) { reports.withLock { $0.append(report) } }
    var all: [TransferProgress] { reports.withLock { $0 } }
}
