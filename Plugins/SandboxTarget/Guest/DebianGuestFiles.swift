/// The files Ferry writes into its Debian guests (the rest comes from Debian's packages): the
/// sandbox's boot protocol (`FERRY-KERNEL-STARTED` from the initramfs, `FERRY-FIRST-BOOT` and
/// `FERRY-BOOT-READY` from a systemd service, as the busybox image's /sbin/init prints them),
/// WordPress's first-boot configuration, a small MariaDB and Apache, and the network of each
/// profile. Whatever depends on the profile or the kernel version is a function; the rest are constants.
enum DebianGuestFiles {
    // MARK: Boot protocol

    /// initramfs-tools init-top script: the first thing of Ferry's that runs after the kernel,
    /// so Ferry can tell "the kernel started" from "the bootloader hangs".
    static let kernelStartedScript = #"""
#!/bin/sh
# Ferry: tell the sandbox on the serial console that the kernel reached the initramfs.
PREREQ=""
prereqs() { echo "$PREREQ"; }
case "$1" in prereqs) prereqs; exit 0 ;; esac
echo "FERRY-KERNEL-STARTED"
"""#

    /// /usr/local/sbin/ferry-guest, run once per boot by ferry-guest.service: the NoCloud-like
    /// seed disk, the first-boot user data and the markers Ferry reads on the serial console.
    static let guestScript = #"""
#!/bin/sh
# Ferry sandbox guest agent (run by ferry-guest.service on every boot).
# Seed disk: an ext2 file system labelled cidata with meta-data and user-data, as NoCloud.
# Prints FERRY-FIRST-BOOT SUCCEEDED|FAILED <instance-id> on the first boot of each instance,
# and FERRY-BOOT-READY <instance-id> once apache2 and mariadb are running.
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
. /etc/ferry/guest.conf
# Markers go to the console as plain lines (the journal would prefix them), and to the journal.
say() { echo "$*" > /dev/console 2>/dev/null; echo "$*"; }
state=/var/lib/ferry
seed=/run/ferry-seed
mkdir -p "$state" "$seed"

# The seed disk's driver may be loaded after this service starts (udev): wait a little.
dev=""
i=0
while [ $i -lt 20 ]; do
  dev=$(blkid -L cidata 2>/dev/null) && [ -n "$dev" ] && break
  udevadm settle -t 1 2>/dev/null || sleep 1
  i=$((i+1))
done
iid=""
if [ -n "$dev" ] && mount -t ext2 -o ro "$dev" "$seed"; then
  value() { sed -n "s/^$1: *//p" "$seed/meta-data" | head -n 1 | tr -d "\r\"'"; }
  iid=$(value instance-id)
  name=$(value local-hostname)
  # A VMware-shaped guest has no cloud metadata: its hostname stays the one it was built with.
  if [ "$HOSTNAME_FROM_METADATA" = yes ] && [ -n "$name" ]; then
    hostname "$name"
    echo "$name" > /etc/hostname
    sed -i "/^127\.0\.1\.1[[:space:]]/d" /etc/hosts
    echo "127.0.1.1	$name" >> /etc/hosts
  fi
else
  say "ferry-guest: no seed disk labelled cidata"
fi

if [ -n "$iid" ] && [ "$iid" != "$(cat "$state/instance-id" 2>/dev/null)" ]; then
  status=SUCCEEDED
  if [ -s "$seed/user-data" ]; then
    cp "$seed/user-data" "$state/user-data"
    chmod 700 "$state/user-data"
    # A script with #! runs as itself; anything else by /bin/sh (there is no cloud-config here).
    if head -c 2 "$state/user-data" | grep -q '^#!'; then
      "$state/user-data" >/var/log/user-data.log 2>&1 || status=FAILED
    else
      sh "$state/user-data" >/var/log/user-data.log 2>&1 || status=FAILED
    fi
    tail -n 20 /var/log/user-data.log | while IFS= read -r line; do say "$line"; done
  fi
  echo "$iid" > "$state/instance-id"
  sync
  say "FERRY-FIRST-BOOT $status $iid"
fi

# Ready means the web site can answer: apache2 and its database are running.
i=0
until systemctl is-active --quiet apache2.service mariadb.service; do
  i=$((i+1))
  if [ $i -ge 120 ]; then
    say "ferry-guest: not ready: apache2 $(systemctl is-active apache2.service), mariadb $(systemctl is-active mariadb.service)"
    exit 1
  fi
  sleep 1
done
say "FERRY-BOOT-READY $iid"
"""#

    /// Runs the agent after the web stack. /dev/console is the serial port (console=ttyS0).
    static let guestService = """
[Unit]
Description=Ferry sandbox guest agent (seed disk, first-boot user data, boot markers)
Wants=network-online.target
After=network-online.target apache2.service mariadb.service ferry-wordpress-setup.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/ferry-guest
StandardOutput=journal
StandardError=journal
# User data may take long (package installs): no start timeout.
TimeoutStartSec=0

[Install]
WantedBy=multi-user.target

"""

    /// The per-profile settings the agent reads.
    static func guestConfig(hostnameFromMetadata: Bool) -> String {
        "# Written by Ferry's DebianGuestBuilder.\nHOSTNAME_FROM_METADATA=\(hostnameFromMetadata ? "yes" : "no")\n"
    }

    // MARK: WordPress

    /// /usr/local/sbin/ferry-wordpress-setup: on the first boot, a database and a user with a
    /// password made in the guest (so no two instances share it and it never leaves the guest),
    /// and Debian's /etc/wordpress/config-default.php. WordPress itself is not installed: Ferry
    /// does that over HTTP (wp-admin/install.php?step=2), as a person would.
    static let wordPressSetupScript = #"""
#!/bin/sh
# Ferry: WordPress's database and configuration, made on the first boot.
set -eu
random() { head -c 96 /dev/urandom | base64 -w0 | tr -dc 'A-Za-z0-9' | head -c "$1"; }
password=$(random 32)
mysql --protocol=socket -uroot <<SQL
CREATE DATABASE IF NOT EXISTS wordpress CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS 'wordpress'@'localhost' IDENTIFIED BY '$password';
ALTER USER 'wordpress'@'localhost' IDENTIFIED BY '$password';
GRANT ALL PRIVILEGES ON wordpress.* TO 'wordpress'@'localhost';
FLUSH PRIVILEGES;
SQL
config=/etc/wordpress/config-default.php
umask 027
cat > "$config.new" <<PHP
<?php
// Written on the first boot by ferry-wordpress-setup. Debian's wp-config.php reads it for
// any host name without a config-HOST.php of its own.
define('DB_NAME', 'wordpress');
define('DB_USER', 'wordpress');
define('DB_PASSWORD', '$password');
define('DB_HOST', 'localhost');
define('DB_CHARSET', 'utf8mb4');
define('WP_CONTENT_DIR', '/var/lib/wordpress/wp-content');
// The site's address is the one it was asked by (Host header): it works on any forwarded
// port and after a migration gives it a new address.
\$ferry_host = isset(\$_SERVER['HTTP_HOST']) ? preg_replace('/[^A-Za-z0-9.:\[\]-]/', '', \$_SERVER['HTTP_HOST']) : 'localhost';
\$ferry_scheme = (!empty(\$_SERVER['HTTPS']) && \$_SERVER['HTTPS'] !== 'off') ? 'https' : 'http';
define('WP_HOME', \$ferry_scheme . '://' . \$ferry_host);
define('WP_SITEURL', \$ferry_scheme . '://' . \$ferry_host);
define('AUTH_KEY', '$(random 64)');
define('SECURE_AUTH_KEY', '$(random 64)');
define('LOGGED_IN_KEY', '$(random 64)');
define('NONCE_KEY', '$(random 64)');
define('AUTH_SALT', '$(random 64)');
define('SECURE_AUTH_SALT', '$(random 64)');
define('LOGGED_IN_SALT', '$(random 64)');
define('NONCE_SALT', '$(random 64)');
PHP
chgrp www-data "$config.new"
chmod 640 "$config.new"
mv "$config.new" "$config"
"""#

    /// Before apache2 so the first request finds the configuration; only until it exists.
    static let wordPressSetupService = """
[Unit]
Description=Ferry: WordPress database and configuration (first boot)
Requires=mariadb.service
After=mariadb.service
Before=apache2.service ferry-guest.service
ConditionPathExists=!/etc/wordpress/config-default.php

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/local/sbin/ferry-wordpress-setup

[Install]
WantedBy=multi-user.target

"""

    /// WordPress at / of port 80 (Debian's package only ships an example for /blog).
    static let apacheSite = """
# Ferry: WordPress (Debian's package) at the root of the site.
<VirtualHost *:80>
    DocumentRoot /usr/share/wordpress
    Alias /wp-content /var/lib/wordpress/wp-content
    <Directory /usr/share/wordpress>
        Options FollowSymLinks
        AllowOverride Limit Options FileInfo
        DirectoryIndex index.php
        Require all granted
    </Directory>
    <Directory /var/lib/wordpress/wp-content>
        Options FollowSymLinks
        Require all granted
    </Directory>
    ErrorLog ${APACHE_LOG_DIR}/error.log
    CustomLog ${APACHE_LOG_DIR}/access.log combined
</VirtualHost>

"""

    // MARK: A small machine

    /// MariaDB for a guest of about 1 GiB: the defaults (128 MiB buffer pool, performance schema,
    /// 151 connections) are sized for a server of its own.
    static let mariaDBSmall = """
# Ferry: MariaDB sized for a small sandbox guest.
[mysqld]
innodb_buffer_pool_size = 32M
innodb_log_buffer_size = 4M
# The redo log is made when the package is installed: 16 MiB rather than 96 MiB in the image.
innodb_log_file_size = 16M
performance_schema = OFF
key_buffer_size = 4M
max_connections = 30
table_open_cache = 400
thread_cache_size = 4
tmp_table_size = 8M
max_heap_table_size = 8M
skip-name-resolve

"""

    /// Apache's prefork workers each hold a PHP interpreter (tens of MiB): a few are enough here.
    static let apacheSmall = """
# Ferry: few prefork workers, each is a PHP interpreter of some 20-40 MiB.
<IfModule mpm_prefork_module>
    StartServers 2
    MinSpareServers 2
    MaxSpareServers 4
    MaxRequestWorkers 12
    MaxConnectionsPerChild 500
</IfModule>

"""

    /// Debian's ssh.service checks its configuration (`sshd -t`) first, which fails without
    /// host keys. The image has none, so that instances made from it do not share keys: each
    /// makes its own on its first start.
    static let sshHostKeys = """
[Service]
ExecStartPre=
ExecStartPre=/usr/bin/ssh-keygen -A
ExecStartPre=/usr/sbin/sshd -t

"""

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
    static func initramfsConfig(modules: String) -> String {
        "# Ferry: which drivers go into the initramfs (see initramfs.conf(5)).\nMODULES=\(modules)\n"
    }

    static func initramfsModuleList(_ modules: [String]) -> String {
        "# Ferry: the drivers of a VMware VM's boot disk and NIC (MODULES=list).\n" + modules.joined(separator: "\n") + "\n"
    }
}
