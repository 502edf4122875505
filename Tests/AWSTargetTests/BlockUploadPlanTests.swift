import Testing
@testable import AWSTarget
import FerryCore
import FerryKit

/// Which blocks an import looks at, decided from allocation, changes and the parent.
@Suite struct BlockUploadPlanTests {
    static let block: UInt64 = 512 * 1024

    @Test("a full import looks at the allocated blocks only")
    func fullImport() {
        let plan = BlockUploadPlan(diskSize: 10 * Self.block, allocated: [ByteRange(offset: 0, length: 1), ByteRange(offset: 3 * Self.block + 5, length: Self.block)], changed: nil, parentBlocks: nil, blockSize: Self.block)
        #expect(plan.blockIndexes == [0, 3, 4])
        #expect(!plan.mustSendZeroBlock(0))
    }

    @Test("an incremental import with known changes looks at the changed blocks only")
    func knownChanges() {
        let plan = BlockUploadPlan(diskSize: 10 * Self.block, allocated: [], changed: [ByteRange(offset: 7 * Self.block, length: 1)], parentBlocks: [1, 7], blockSize: Self.block)
        #expect(plan.blockIndexes == [7])
        #expect(plan.mustSendZeroBlock(7))
    }

    @Test("an incremental import without known changes also revisits the parent's blocks")
    func unknownChanges() {
        let plan = BlockUploadPlan(diskSize: 10 * Self.block, allocated: [ByteRange(offset: 0, length: Self.block)], changed: nil, parentBlocks: [5], blockSize: Self.block)
        #expect(plan.blockIndexes == [0, 5])
    }

    @Test("blocks past the end of the disk are never planned")
    func pastTheEnd() {
        let plan = BlockUploadPlan(diskSize: 2 * Self.block, allocated: [], changed: [ByteRange(offset: 0, length: 10 * Self.block)], parentBlocks: [], blockSize: Self.block)
        #expect(plan.blockIndexes == [0, 1])
    }
}
