/// The machine a converted disk is meant to boot on, and what that machine's guest needs from
/// its own system: the drivers of its disk controller and network card, loaded from the
/// initramfs (the disk's driver must be there, or the kernel never finds its root).
public enum TargetPlatform: String, Codable, CaseIterable, Sendable {
    /// Ferry's sandbox (QEMU): virtio-blk disk, virtio-net NIC, BIOS boot.
    case sandbox
    /// AWS Nitro instances: the EBS volume is an NVMe device, the NIC an Elastic Network
    /// Adapter; BIOS or UEFI as the image says.
    case aws

    /// Kernel modules that drive the target's boot disk, by their module names.
    public var storageDrivers: [String] {
        switch self {
        // virtio_blk sits on the virtio PCI transport, which Debian builds as a module too.
        case .sandbox: ["virtio_pci", "virtio_blk"]
        case .aws: ["nvme"]
        }
    }

    /// Kernel modules that drive the target's network card.
    public var networkDrivers: [String] {
        switch self {
        case .sandbox: ["virtio_net"]
        case .aws: ["ena"]
        }
    }

    /// Everything the converted initramfs must hold (or the kernel have built in).
    public var drivers: [String] { storageDrivers + networkDrivers }

    /// How the target's disk and NIC are named to a person.
    public var summary: String {
        switch self {
        case .sandbox: "virtio-blk disk, virtio-net NIC, BIOS"
        case .aws: "NVMe disk, ENA NIC, BIOS or UEFI"
        }
    }

    public static func named(_ name: String) -> TargetPlatform? { TargetPlatform(rawValue: name.lowercased()) }
}
