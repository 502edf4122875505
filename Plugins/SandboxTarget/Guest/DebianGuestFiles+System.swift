/// The files of a Debian guest that make it the machine of its profile: its network (DHCP on
/// the sandbox's NIC, or VMware's ens192 with a static address), its disk and boot settings,
/// and the script that finishes the system in the build chroot.
extension DebianGuestFiles {
    // MARK: Network

    /// debian-wordpress: DHCP on every Ethernet NIC, whatever the kernel named it.
    static let networkdDHCP = """
[Match]
Type=ether

[Network]
DHCP=ipv4

"""

    /// vmware-debian: VMware puts a VM's first NIC in PCI slot 192 (its ACPI slot number), so
    /// systemd names it ens192 there. QEMU cannot give a device that ACPI slot number, so under
    /// QEMU the name comes from this match on the driver instead; the guest sees the same name.
    static let vmxnet3Link = """
# Ferry: the vmxnet3 NIC is ens192, as on VMware (slot 192). QEMU has no ACPI slot 192.
[Match]
Driver=vmxnet3

[Link]
Name=ens192

"""

    /// ifupdown's static configuration, as the Debian installer writes it on a VMware VM.
    static func ifupdownInterfaces(_ network: VMwareGuestNetwork) -> String {
        """
# This file describes the network interfaces available on your system
# and how to activate them. For more information, see interfaces(5).

source /etc/network/interfaces.d/*

# The loopback network interface
auto lo
iface lo inet loopback

# The primary network interface
allow-hotplug \(network.interface)
iface \(network.interface) inet static
	address \(network.address)/\(network.prefixLength)
	gateway \(network.gateway)

"""
    }

    static func hosts(hostname: String) -> String {
        """
127.0.0.1	localhost
127.0.1.1	\(hostname)

# The following lines are desirable for IPv6 capable hosts
::1     localhost ip6-localhost ip6-loopback
ff02::1 ip6-allnodes
ff02::2 ip6-allrouters

"""
    }

    // MARK: Disk and boot

    static func fstab(rootDevice: String) -> String {
        """
# /etc/fstab: static file system information.
# <file system> <mount point>   <type>  <options>       <dump>  <pass>
\(rootDevice)	/	ext4	errors=remount-ro	0	1

"""
    }

    /// grub.cfg in the shape update-grub gives it. It is written by hand because grub-mkconfig
    /// probes the device that holds / (grub-probe), and in the build chroot / is a folder that
    /// mke2fs copies into the disk later, on no device at all.
    static func grubConfig(kernelVersion: String, rootArgument: String, searchRoot: String) -> String {
        """
#
# Written by Ferry's DebianGuestBuilder in the layout of /etc/grub.d (update-grub cannot probe
# a device in the build chroot). Running update-grub in the guest replaces it.
#
set default="0"
if [ -s $prefix/grubenv ]; then
  load_env
fi
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
set timeout=1
insmod part_msdos
insmod ext2
\(searchRoot)
menuentry 'Debian GNU/Linux' --class debian --class gnu-linux --class gnu --class os {
	insmod gzio
	insmod part_msdos
	insmod ext2
	\(searchRoot)
	echo	'Loading Linux \(kernelVersion) ...'
	linux	/boot/vmlinuz-\(kernelVersion) root=\(rootArgument) ro console=ttyS0,115200
	echo	'Loading initial ramdisk ...'
	initrd	/boot/initrd.img-\(kernelVersion)
}

"""
    }

    /// /etc/default/grub.d: what update-grub in the guest would need to write the same menu
    /// (serial console, no `quiet`), so a later update-grub keeps the console Ferry reads.
    static func grubDefaults(rootByDeviceName: Bool) -> String {
        var text = """
# Ferry: the serial console Ferry reads, for update-grub in the guest.
GRUB_TIMEOUT=1
GRUB_CMDLINE_LINUX_DEFAULT=""
GRUB_CMDLINE_LINUX="console=ttyS0,115200"
GRUB_TERMINAL="serial console"
GRUB_SERIAL_COMMAND="serial --unit=0 --speed=115200"

"""
        if rootByDeviceName { text += "# root=/dev/sda1, as this VM was installed, not root=UUID=.\nGRUB_DISABLE_LINUX_UUID=true\n" }
        return text
    }

    enum ResolvConf {
        /// A static resolver (ifupdown writes none).
        case file(nameServer: String)
        /// systemd-resolved's stub, fed by systemd-networkd's DHCP lease.
        case systemdResolved
    }

    /// The last step of the build, run by mmdebstrap in the new system (chroot) once Debian's
    /// packages are installed and Ferry's files are in place. Runs offline.
    static func customizeScript(enable units: [String], grubInstallDevice: String, resolvConf: ResolvConf, rebuildInitramfs: Bool) -> String {
        var script = #"""
#!/bin/sh
# Ferry: finish the guest system inside the build chroot.
set -eu
export DEBIAN_FRONTEND=noninteractive
a2dissite -q 000-default
a2ensite -q wordpress
a2enmod -q rewrite
a2enconf -q ferry-small
systemctl enable ferry-wordpress-setup.service ferry-guest.service ssh.service
"""#
        script += "\nsystemctl enable \(units.joined(separator: " "))\n"
        script += #"""
# GRUB was not installed by grub-install (there is no device in the chroot; the builder writes
# its boot sectors). A fresh grub-pc in a chroot does not run grub-install, but an upgrade in
# the guest would, on the device debconf names: the guest's boot disk, as on an installed system.
"""#
        script += "\necho 'grub-pc grub-pc/install_devices multiselect \(grubInstallDevice)' | debconf-set-selections\n"
        script += #"""
# The modules GRUB loads at boot, where grub-install would have put them.
mkdir -p /boot/grub/i386-pc
cp /usr/lib/grub/i386-pc/*.mod /usr/lib/grub/i386-pc/*.lst /boot/grub/i386-pc/
# No SSH host keys in the image: each instance makes its own (ssh.service runs ssh-keygen -A).
rm -f /etc/ssh/ssh_host_*
# The host's resolver, copied in by mmdebstrap for the build, means nothing in the guest.
rm -f /etc/resolv.conf
"""#
        switch resolvConf {
        case .file(let nameServer): script += "\nprintf 'nameserver %s\\n' '\(nameServer)' > /etc/resolv.conf\n"
        case .systemdResolved: script += "\nln -s ../run/systemd/resolve/stub-resolv.conf /etc/resolv.conf\n"
        }
        if rebuildInitramfs { script += "update-initramfs -u -k all\n" }
        return script
    }

    /// initramfs-tools settings (conf.d overrides initramfs.conf, a conffile left as shipped).
    /// FSTYPE: the fsck hook probes the device that holds / for its type, and in the build
    /// chroot there is none, so without it the initramfs has no fsck.ext4 and skips the check.
    static func initramfsConfig(modules: String) -> String {
        "# Ferry: which drivers go into the initramfs (see initramfs.conf(5)).\nMODULES=\(modules)\n"
            + "# The root file system's type, for the fsck hook (it cannot probe / in a build chroot).\nFSTYPE=ext4\n"
    }

    static func initramfsModuleList(_ modules: [String]) -> String {
        "# Ferry: the drivers of a VMware VM's boot disk and NIC (MODULES=list).\n" + modules.joined(separator: "\n") + "\n"
    }
}
