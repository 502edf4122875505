/// What the Machine Converter found on a disk without booting it: the disk's file systems, the
/// installed system on its root, and everything a conversion changes (drivers in the
/// initramfs, fstab, bootloader, network, hypervisor tools). `convertible` is false, with the
/// `reasons`, when the converter would refuse the disk: no Linux root, an encrypted root, no
/// kernel, an OS family it does not know, Windows.
///
/// The converter appliance prints it as one JSON line; the keys are the property names.
public struct GuestInspection: Codable, Hashable, Sendable {
    public var fileSystems: [GuestFileSystem]
    /// The device of the guest's root file system as the appliance saw it (/dev/vda1).
    public var rootDevice: String?
    public var operatingSystem: GuestOperatingSystem?
    public var kernels: [GuestKernel]
    public var bootloader: GuestBootloader?
    /// `bios` or `uefi` (an EFI system partition at /boot/efi): how the target must boot it.
    public var firmware: String?
    /// `initramfs-tools`, `dracut`, or nil when the guest has neither.
    public var initramfsTool: String?
    public var fstab: [GuestFstabEntry]
    public var network: GuestNetwork?
    /// `open-vm-tools`, `vmware-tools`, `hyperv-daemons`.
    public var hypervisorTools: [String]
    public var cloudInit: Bool
    /// What runs on the first boot on a new machine: `cloud-init`, `ferry-guest.service`.
    public var firstBootHooks: [String]
    public var hostname: String?
    public var convertible: Bool
    public var reasons: [String]

    public init(
        fileSystems: [GuestFileSystem], rootDevice: String?, operatingSystem: GuestOperatingSystem?, kernels: [GuestKernel],
        bootloader: GuestBootloader?, firmware: String? = nil, initramfsTool: String?, fstab: [GuestFstabEntry], network: GuestNetwork?,
        hypervisorTools: [String], cloudInit: Bool, firstBootHooks: [String], hostname: String?, convertible: Bool, reasons: [String]
    ) {
        self.fileSystems = fileSystems
        self.rootDevice = rootDevice
        self.operatingSystem = operatingSystem
        self.kernels = kernels
        self.bootloader = bootloader
        self.firmware = firmware
        self.initramfsTool = initramfsTool
        self.fstab = fstab
        self.network = network
        self.hypervisorTools = hypervisorTools
        self.cloudInit = cloudInit
        self.firstBootHooks = firstBootHooks
        self.hostname = hostname
        self.convertible = convertible
        self.reasons = reasons
    }

    /// The kernel the bootloader starts by default on Debian and RHEL alike: the newest.
    public var newestKernel: GuestKernel? {
        kernels.max { $0.version.compare($1.version, options: .numeric) == .orderedAscending }
    }

    /// Whether the newest kernel could boot on `platform` as the disk is now.
    public func bootsOn(_ platform: TargetPlatform) -> Bool {
        guard let kernel = newestKernel else { return false }
        return platform.storageDrivers.allSatisfy { kernel.driver($0)?.availableAtBoot == true }
    }

    public var rootFstabEntry: GuestFstabEntry? { fstab.first { $0.mountPoint == "/" } }
}
