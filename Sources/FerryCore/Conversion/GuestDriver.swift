/// One driver the converter looks for in an installed kernel: whether the kernel has it
/// (built in, or as a module under /lib/modules/<version>) and whether that kernel's initramfs
/// holds it, which is what decides if the kernel can reach a disk on that controller at boot.
public struct GuestDriver: Codable, Hashable, Sendable {
    public enum Availability: String, Codable, Sendable {
        /// Compiled into the kernel image (listed in modules.builtin): always there at boot.
        case builtin
        /// A module file of the kernel (listed in modules.dep).
        case module
        /// Neither: this kernel cannot drive the device at all.
        case missing
    }

    /// The module name, e.g. `virtio_blk`.
    public var name: String
    public var availability: Availability
    /// Whether the kernel's initramfs has it; nil when the guest has no tool to list it.
    /// A built-in driver counts as present.
    public var inInitramfs: Bool?

    public init(name: String, availability: Availability, inInitramfs: Bool?) {
        self.name = name
        self.availability = availability
        self.inInitramfs = inInitramfs
    }

    /// Loadable early at boot: built in, or a module inside the initramfs.
    public var availableAtBoot: Bool { availability == .builtin || (availability == .module && inInitramfs == true) }
}
