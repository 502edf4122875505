/// The virtual devices an instance's machine has: which controller its disk hangs on and which
/// network card it sees. An image says what it was built for; QEMU emulates each of these, so
/// the sandbox can boot a VMware-shaped guest on VMware's own devices, and an image registered
/// from a migrated disk boots on the sandbox's devices (virtio), as a cloud's would — whether
/// its system can drive them is what conversion is for.
public struct GuestHardware: Codable, Hashable, Sendable {
    /// The disk controller. The names are the sandbox's; `qemuDevice` says what QEMU emulates.
    public enum DiskBus: String, Codable, CaseIterable, Sendable {
        /// virtio-blk: the disk is /dev/vda in a Linux guest. The sandbox's own devices.
        case virtio
        /// VMware's paravirtual SCSI controller: the disk is /dev/sda (driver vmw_pvscsi).
        case pvscsi
        /// An NVMe controller, as on AWS Nitro instances: /dev/nvme0n1.
        case nvme
    }

    /// The network card.
    public enum NICModel: String, Codable, CaseIterable, Sendable {
        /// virtio-net: the sandbox's own NIC.
        case virtio
        /// VMware's paravirtual NIC (driver vmxnet3).
        case vmxnet3
        /// Intel e1000, which almost every guest can drive.
        case e1000

        var qemuDevice: String {
            switch self {
            case .virtio: "virtio-net-pci"
            case .vmxnet3: "vmxnet3"
            case .e1000: "e1000"
            }
        }
    }

    public var diskBus: DiskBus
    public var nicModel: NICModel

    public init(diskBus: DiskBus = .virtio, nicModel: NICModel = .virtio) {
        self.diskBus = diskBus
        self.nicModel = nicModel
    }

    /// What the sandbox gives an image that says nothing else: its own devices.
    public static let sandbox = GuestHardware()
    /// A VMware VM's usual devices: pvscsi and vmxnet3.
    public static let vmware = GuestHardware(diskBus: .pvscsi, nicModel: .vmxnet3)

    public var summary: String { "\(diskBus.rawValue) disk, \(nicModel.rawValue) NIC" }
}
