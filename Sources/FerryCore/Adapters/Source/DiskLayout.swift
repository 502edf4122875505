/// What a disk's first sectors say about it, as much as a source needs to describe the
/// machine (boot mode, OS family): the partition scheme, each partition's kind and file
/// system, or a file system on the whole disk.
public struct DiskLayout: Codable, Hashable, Sendable {
    /// "mbr" or "gpt"; nil without a partition table.
    public var partitionScheme: String?
    public var partitions: [Partition]
    /// A file system on the whole disk, without a partition table.
    public var fileSystemType: String?

    public init(partitionScheme: String?, partitions: [Partition], fileSystemType: String?) {
        self.partitionScheme = partitionScheme
        self.partitions = partitions
        self.fileSystemType = fileSystemType
    }

    public struct Partition: Codable, Hashable, Sendable {
        /// A human name for the partition type ("Linux", "EFI System"), or "unknown".
        public var typeName: String
        /// "ext4", "xfs", "vfat", "ntfs", "swap", … as blkid names them; nil when not recognised.
        public var fileSystemType: String?

        public init(typeName: String, fileSystemType: String?) {
            self.typeName = typeName
            self.fileSystemType = fileSystemType
        }
    }

    /// Every file system found, in partitions and on the whole disk.
    public var fileSystemTypes: [String] {
        partitions.compactMap(\.fileSystemType) + [fileSystemType].compactMap { $0 }
    }
}
