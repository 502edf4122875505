/// The guests the sandbox can build, each registered as an image under its own name on first
/// use: the fast busybox machine, a real Debian WordPress server, and the same Debian system
/// shaped like a VMware VM (the machine a consultant migrates).
public enum GuestProfile: String, CaseIterable, Sendable {
    /// The kernel of this machine with busybox: boots in seconds, a shell-CGI blog.
    case busybox
    /// Debian 12 with systemd, GRUB, apache2 + PHP, MariaDB and Debian's `wordpress`.
    case debianWordPress = "debian-wordpress"
    /// The same Debian system prepared as on VMware: pvscsi disk, vmxnet3 NIC named ens192
    /// with a static address, fstab by device name, VMware drivers (not virtio) in its
    /// initramfs, open-vm-tools.
    case vmwareDebian = "vmware-debian"

    /// The name its image is registered under.
    public var imageName: String {
        switch self {
        case .busybox: "ferry-sandbox-linux"
        case .debianWordPress: "ferry-debian-wordpress"
        case .vmwareDebian: "ferry-vmware-debian"
        }
    }

    /// The devices the guest was built to boot on.
    public var hardware: GuestHardware {
        switch self {
        case .busybox, .debianWordPress: .sandbox
        case .vmwareDebian: .vmware
        }
    }

    /// The static network its system was configured with, if any: such a guest answers only
    /// when launched at that private address in a subnet that holds it.
    public var staticNetwork: VMwareGuestNetwork? {
        self == .vmwareDebian ? .standard : nil
    }

    /// The smallest instance type it runs well on (measured; see bench/guest-images.sh). The
    /// Debian guests used at most about 210 MiB of 457 MiB (MemTotal at -m 512) while serving
    /// 12 concurrent WordPress requests after the install, with no OOM and 250 MiB still available.
    public var minimumMemoryMiB: Int {
        switch self {
        case .busybox: 256
        case .debianWordPress, .vmwareDebian: 512
        }
    }

    public static func named(_ name: String) -> GuestProfile? {
        allCases.first { $0.rawValue == name || $0.imageName == name }
    }
}
