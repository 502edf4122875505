import FerryCore
/// What `ferry disk inspect` reports about a disk: its size, how much of it holds data, its
/// partitions and their file systems.
public struct DiskInspection: Codable, Hashable, Sendable {
    /// The image format the disk was read from ("raw", "vmdk (streamOptimized)", …).
    public var format: String
    public var virtualSize: UInt64
    /// Bytes in the reader's allocated ranges: what a copy has to read.
    public var allocatedBytes: UInt64
    public var partitionTable: PartitionScheme?
    public var diskIdentifier: String?
    public var partitions: [Partition]
    /// A file system on the whole disk, when it has no partition table.
    public var fileSystem: FileSystemInfo?

    public init(format: String, virtualSize: UInt64, allocatedBytes: UInt64, partitionTable: PartitionTable?, fileSystem: FileSystemInfo?) {
        self.format = format
        self.virtualSize = virtualSize
        self.allocatedBytes = allocatedBytes
        self.partitionTable = partitionTable?.scheme
        self.diskIdentifier = partitionTable?.diskIdentifier
        self.partitions = partitionTable?.partitions ?? []
        self.fileSystem = fileSystem
    }

    /// Reads the partition table and probes every partition (or the whole disk) for a file
    /// system. `disk` names the disk in errors.
    public static func inspect(_ reader: any BlockReader, format: String, disk: String) throws -> DiskInspection {
        var table = try PartitionTable.read(from: reader, disk: disk)
        if var found = table {
            for index in found.partitions.indices where !["0x05", "0x0f", "0x85"].contains(found.partitions[index].type) {
                let partition = found.partitions[index]
                found.partitions[index].fileSystem = FileSystemProbe.probe(reader, offset: partition.offset, length: partition.size)
            }
            table = found
        }
        return DiskInspection(
            format: format, virtualSize: reader.size, allocatedBytes: try DiskChunks.allocatedBytes(reader),
            partitionTable: table, fileSystem: table == nil ? FileSystemProbe.probe(reader) : nil
        )
    }
}

/// Compares two disks byte for byte, reading only where either may hold data.
public enum DiskComparison {
    /// The first offset at which `a` and `b` differ, or nil when they are identical
    /// (different sizes differ at the end of the shorter one).
    public static func firstDifference(_ a: any BlockReader, _ b: any BlockReader, chunkSize: Int = 1 << 20) throws -> UInt64? {
        let common = min(a.size, b.size)
        let ranges = ByteRange.coalesce(try a.allocatedRanges() + b.allocatedRanges())
        for range in ranges where range.offset < common {
            var offset = range.offset
            let end = min(range.end, common)
            while offset < end {
                let count = Int(min(UInt64(chunkSize), end - offset))
                let left = try a.read(at: offset, count: count)
                let right = try b.read(at: offset, count: count)
                if left != right {
                    let index = left.indices.first { left[$0] != right[$0] }!
                    return offset + UInt64(index)
                }
                offset += UInt64(count)
            }
        }
        return a.size == b.size ? nil : common
    }
}
