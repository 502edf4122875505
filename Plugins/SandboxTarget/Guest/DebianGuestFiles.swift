/// The files Ferry writes into its Debian guests (the rest comes from Debian's packages): the
/// sandbox's boot protocol (`FERRY-KERNEL-STARTED` from the initramfs, `FERRY-FIRST-BOOT` and
/// `FERRY-BOOT-READY` from a systemd service, as the busybox image's /sbin/init prints them),
/// WordPress's first-boot configuration, a small MariaDB and Apache. The network, disk and
/// boot files are in DebianGuestFiles+System.swift. Whatever depends on the profile or the
/// kernel version is a function; the rest are constants.
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
# and FERRY-BOOT-READY <instance-id> once apache2 and mariadb are running and apache answers.
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
  # The meta-data's public key (the sandbox's, for its Run Command) lets root in over SSH,
  # as cloud-init does with public-keys.
  key=$(value public-keys)
  if [ -n "$key" ]; then
    mkdir -p /root/.ssh && chmod 700 /root/.ssh
    grep -qxF "$key" /root/.ssh/authorized_keys 2>/dev/null || echo "$key" >> /root/.ssh/authorized_keys
    chmod 600 /root/.ssh/authorized_keys
  fi
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

# Ready means the web site can answer: apache2 and its database are running and apache
# answers a request (any status: the site is the user's). That request also compiles
# WordPress's PHP into the opcache, which takes seconds under emulation, so the first
# visitor does not wait for it.
i=0
until systemctl is-active --quiet apache2.service mariadb.service &&
      [ "$(curl -s -o /dev/null -m 60 -w '%{http_code}' http://127.0.0.1/ 2>/dev/null)" != 000 ]; do
  i=$((i+1))
  if [ $i -ge 120 ]; then
    say "ferry-guest: not ready: apache2 $(systemctl is-active apache2.service), mariadb $(systemctl is-active mariadb.service)"
    exit 1
  fi
  sleep 1
done
# Where the machine can be reached, as cloud-init prints it: a guest with a static address
# answers only in a subnet that holds that address.
say "ferry-guest: $(hostname) $(ip -4 -o addr show scope global 2>/dev/null | awk '{printf "%s %s  ", $2, $4}')"
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
}
