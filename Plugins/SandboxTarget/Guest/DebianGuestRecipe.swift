import Crypto
import Foundation

/// Everything that goes into a Debian guest image of one profile, as data: Debian's packages,
/// Ferry's files (those needed while the packages are configured, and the rest), the script
/// that finishes the system in its chroot, and how the disk boots. `version` is a digest of
/// all of it, so a cached disk is rebuilt exactly when its recipe changes.
struct DebianGuestRecipe: Sendable {
    struct File: Sendable {
        var path: String
        var contents: String
        var mode: Int = 0o644
    }

    /// Bump when the builder changes in a way the data below does not show (its steps, the layout).
    static let revision = 1
    static let suite = "bookworm"
    /// 4 GiB, sparse: the system takes about 1.3 GB, and the rest is room for what a workshop
    /// puts on the server (posts, uploads, a database) and for a conversion's new initramfs;
    /// unwritten blocks cost nothing on the host's disk.
    static let diskSize: UInt64 = 4 << 30
    /// Modules in GRUB's core image: enough to find the root partition by label and read the
    /// configuration; the others load from /boot/grub/i386-pc as on an installed system.
    static let grubCoreModules = ["biosdisk", "part_msdos", "ext2", "search", "search_label", "normal", "configfile", "linux", "serial", "terminal", "gzio", "echo", "test"]
    /// GRUB's core image looks for its configuration on the partition labelled root, wherever
    /// the BIOS put the disk; `(hd0,msdos1)` is the fallback prefix.
    static let grubEarlyConfig = "search.fs_label \(MBRBootDisk.rootLabel) root\nset prefix=($root)/boot/grub\n"
    /// The drivers of a VMware VM's boot path; the initramfs gets only these (and their dependencies).
    static let vmwareInitramfsModules = ["vmw_pvscsi", "sd_mod", "ext4", "crc32c_generic", "vmxnet3"]

    let profile: GuestProfile

    init(profile: GuestProfile) {
        precondition(profile != .busybox, "the busybox image is built by BaseImageBuilder")
        self.profile = profile
    }

    var isVMware: Bool { profile == .vmwareDebian }
    var network: VMwareGuestNetwork { .standard }

    var packages: [String] {
        let common = [
            "systemd-sysv", "udev", "dbus", "kmod", "initramfs-tools", "linux-image-amd64", "grub-pc", "e2fsprogs",
            "iproute2", "procps", "curl", "openssh-server",
            "apache2", "libapache2-mod-php", "php-mysql", "php-xml", "mariadb-server",
            // php-xml: XML-RPC (xmlrpc.php) parses requests with PHP's xml extension, which the
            // wordpress package only suggests. The theme is a recommendation; without it the site is blank.
            "wordpress", "wordpress-theme-twentytwentythree",
        ]
        return common + (isVMware ? ["ifupdown", "open-vm-tools"] : ["systemd-resolved"])
    }

    var hostname: String { isVMware ? network.hostname : "debian" }
    /// The root device as fstab and the kernel name it: by label on the sandbox's devices (any
    /// bus), by device name on VMware, as many VMs installed long ago still have it.
    var rootDevice: String { isVMware ? "/dev/sda1" : "LABEL=\(MBRBootDisk.rootLabel)" }
    /// Where grub-pc reinstalls itself when it is upgraded in the guest (debconf's install_devices).
    var grubInstallDevice: String { isVMware ? "/dev/sda" : "/dev/vda" }

    /// In place before Debian's packages are configured: the kernel's postinst builds the
    /// initramfs with them (its fsck hook reads the root's type from fstab), and MariaDB makes
    /// its data files with the small settings.
    var earlyFiles: [File] {
        [
            File(path: "/etc/fstab", contents: DebianGuestFiles.fstab(rootDevice: rootDevice)),
            File(path: "/etc/initramfs-tools/scripts/init-top/ferry-kernel-started", contents: DebianGuestFiles.kernelStartedScript, mode: 0o755),
            File(path: "/etc/initramfs-tools/conf.d/ferry.conf", contents: DebianGuestFiles.initramfsConfig(modules: isVMware ? "list" : "most")),
            File(path: "/etc/mysql/mariadb.conf.d/60-ferry-small.cnf", contents: DebianGuestFiles.mariaDBSmall),
        ]
    }

    /// Copied over the installed system (they replace what packages and mmdebstrap left there).
    var lateFiles: [File] {
        var files = [
            File(path: "/usr/local/sbin/ferry-guest", contents: DebianGuestFiles.guestScript, mode: 0o755),
            File(path: "/etc/systemd/system/ferry-guest.service", contents: DebianGuestFiles.guestService),
            File(path: "/etc/ferry/guest.conf", contents: DebianGuestFiles.guestConfig(hostnameFromMetadata: !isVMware)),
            File(path: "/usr/local/sbin/ferry-wordpress-setup", contents: DebianGuestFiles.wordPressSetupScript, mode: 0o755),
            File(path: "/etc/systemd/system/ferry-wordpress-setup.service", contents: DebianGuestFiles.wordPressSetupService),
            File(path: "/etc/systemd/system/ssh.service.d/ferry-host-keys.conf", contents: DebianGuestFiles.sshHostKeys),
            File(path: "/etc/apache2/sites-available/wordpress.conf", contents: DebianGuestFiles.apacheSite),
            File(path: "/etc/apache2/conf-available/ferry-small.conf", contents: DebianGuestFiles.apacheSmall),
            File(path: "/etc/hostname", contents: hostname + "\n"),
            File(path: "/etc/hosts", contents: DebianGuestFiles.hosts(hostname: hostname)),
            File(path: "/etc/default/grub.d/ferry.cfg", contents: DebianGuestFiles.grubDefaults(rootByDeviceName: isVMware)),
            File(path: "/tmp/ferry-customize.sh", contents: customizeScript, mode: 0o755),
        ]
        if isVMware {
            files += [
                File(path: "/etc/systemd/network/10-ferry-vmxnet3.link", contents: DebianGuestFiles.vmxnet3Link),
                File(path: "/etc/network/interfaces", contents: DebianGuestFiles.ifupdownInterfaces(network)),
                File(path: "/etc/initramfs-tools/modules", contents: DebianGuestFiles.initramfsModuleList(Self.vmwareInitramfsModules)),
            ]
        } else {
            files.append(File(path: "/etc/systemd/network/50-ferry-dhcp.network", contents: DebianGuestFiles.networkdDHCP))
        }
        return files
    }

    var customizeScript: String {
        DebianGuestFiles.customizeScript(
            enable: isVMware ? ["networking.service", "open-vm-tools.service"] : ["systemd-networkd.service", "systemd-resolved.service"],
            grubInstallDevice: grubInstallDevice,
            resolvConf: isVMware ? .file(nameServer: network.nameServer) : .systemdResolved,
            // The kernel's postinst built the initramfs before /etc/initramfs-tools/modules (a
            // conffile, so it is written after the packages) listed VMware's drivers.
            rebuildInitramfs: isVMware
        )
    }

    func grubConfig(kernelVersion: String) -> String {
        DebianGuestFiles.grubConfig(
            kernelVersion: kernelVersion, rootArgument: rootDevice,
            searchRoot: "search --no-floppy --label --set=root \(MBRBootDisk.rootLabel)"
        )
    }

    /// A digest of the whole recipe: the cache key of a finished disk.
    var version: String {
        var text = "revision \(Self.revision)\nsuite \(Self.suite)\nsize \(Self.diskSize)\n"
        text += "packages \(packages.joined(separator: ","))\ngrub \(Self.grubCoreModules.joined(separator: ",")) \(Self.grubEarlyConfig)\n"
        for file in earlyFiles { text += "early \(file.path) \(file.mode)\n\(file.contents)\n" }
        for file in lateFiles { text += "late \(file.path) \(file.mode)\n\(file.contents)\n" }
        text += grubConfig(kernelVersion: "KERNEL")
        let digest = SHA256.hash(data: Data(text.utf8))
        return "r\(Self.revision)-" + digest.prefix(6).map { String(format: "%02x", $0) }.joined()
    }
}
