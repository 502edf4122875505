/// An installed kernel of a guest (a /boot/vmlinuz-<version> with /lib/modules/<version>) and
/// the drivers the converter checked in it and in its initramfs.
public struct GuestKernel: Codable, Hashable, Sendable {
    public var version: String
    /// The kernel image, e.g. /boot/vmlinuz-6.1.0-57-amd64.
    public var image: String
    /// Its initramfs (path inside the guest), nil when the guest has none for it.
    public var initramfs: String?
    public var drivers: [GuestDriver]

    public init(version: String, image: String, initramfs: String?, drivers: [GuestDriver]) {
        self.version = version
        self.image = image
        self.initramfs = initramfs
        self.drivers = drivers
    }

    public func driver(_ name: String) -> GuestDriver? { drivers.first { $0.name == name } }
}
