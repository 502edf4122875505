import FerryCore

/// Which 512 KiB blocks an import must look at, decided before anything is read.
///
/// A full import looks at the allocated blocks only. An incremental import looks at the
/// changed blocks, plus — when nothing says what changed — every block the parent holds,
/// because a block that became zero must be written over the parent's copy.
struct BlockUploadPlan: Equatable {
    var blockIndexes: [UInt64]
    /// Blocks the parent holds: a zero block is uploaded only when it replaces one of these.
    var parentBlocks: Set<UInt64>

    init(diskSize: UInt64, allocated: [ByteRange], changed: [ByteRange]?, parentBlocks: Set<UInt64>?, blockSize: UInt64) {
        let lastIndex = diskSize == 0 ? nil : (diskSize - 1) / blockSize
        var indexes: [UInt64]
        switch (parentBlocks, changed) {
        case (.some, .some(let changed)):
            indexes = ByteRange.blockIndexes(covering: changed, blockSize: blockSize)
        case (.some(let parent), .none):
            indexes = Array(Set(ByteRange.blockIndexes(covering: allocated, blockSize: blockSize)).union(parent)).sorted()
        case (.none, _):
            indexes = ByteRange.blockIndexes(covering: allocated, blockSize: blockSize)
        }
        blockIndexes = lastIndex.map { last in indexes.filter { $0 <= last } } ?? []
        self.parentBlocks = parentBlocks ?? []
    }

    /// Whether a block whose content is all zeros must still be sent.
    func mustSendZeroBlock(_ index: UInt64) -> Bool { parentBlocks.contains(index) }
}
