/// One line of the guest's /etc/fstab.
public struct GuestFstabEntry: Codable, Hashable, Sendable {
    /// The first field: `/dev/sda1`, `UUID=…`, `LABEL=…`.
    public var spec: String
    public var mountPoint: String
    public var type: String
    public var options: String

    public init(spec: String, mountPoint: String, type: String, options: String) {
        self.spec = spec
        self.mountPoint = mountPoint
        self.type = type
        self.options = options
    }

    /// A kernel device name (/dev/sda1, /dev/xvda1) that changes with the disk controller.
    public var namesDevice: Bool {
        spec.hasPrefix("/dev/") && !spec.hasPrefix("/dev/disk/") && !spec.hasPrefix("/dev/mapper/")
    }
}
