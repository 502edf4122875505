/// A file system (or other signature: crypto_LUKS, swap, ntfs) found on the converted disk by
/// blkid, as the converter's appliance sees the disk: /dev/vda, its partitions /dev/vda1….
public struct GuestFileSystem: Codable, Hashable, Sendable {
    public var device: String
    /// blkid's TYPE: ext4, xfs, swap, crypto_LUKS, ntfs…; empty when blkid knows none.
    public var type: String
    public var uuid: String?
    public var label: String?

    public init(device: String, type: String, uuid: String?, label: String?) {
        self.device = device
        self.type = type
        self.uuid = uuid
        self.label = label
    }
}
