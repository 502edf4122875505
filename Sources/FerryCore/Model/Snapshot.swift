import Foundation

/// A consistent point-in-time copy of a source server's disks in the staging store.
public struct Snapshot: Codable, Hashable, Sendable, Identifiable {
    /// "pit-" followed by 17 hexadecimal digits.
    public var id: String
    public var sourceServerID: String
    public var takenAt: Date
    public var disks: [SnapshotDisk]

    public init(id: String = ResourceID.make(prefix: "pit"), sourceServerID: String, takenAt: Date = Date(), disks: [SnapshotDisk]) {
        self.id = id
        self.sourceServerID = sourceServerID
        self.takenAt = takenAt
        self.disks = disks
    }
}

public struct SnapshotDisk: Codable, Hashable, Sendable {
    public var diskIndex: Int
    public var sizeBytes: UInt64
    /// Blocks that hold data (all other blocks read as zeros).
    public var allocatedBlockCount: Int

    public init(diskIndex: Int, sizeBytes: UInt64, allocatedBlockCount: Int) {
        self.diskIndex = diskIndex
        self.sizeBytes = sizeBytes
        self.allocatedBlockCount = allocatedBlockCount
    }
}
