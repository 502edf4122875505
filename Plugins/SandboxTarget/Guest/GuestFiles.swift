/// The files of the sandbox's base image that are not copied from the host: init scripts and
/// the bootloader configuration. The guest prints `FERRY-KERNEL-STARTED` from the initramfs,
/// `FERRY-FIRST-BOOT <status> <instance-id>` once per instance and `FERRY-BOOT-READY <instance-id>`
/// on every boot.
enum GuestFiles {
    /// The initramfs /init: loads the virtio and ext4 drivers, mounts the root partition by label, hands over.
    static let initramfsInit = #"""
#!/bin/busybox sh
# Ferry sandbox initramfs: load the drivers for the virtio disk and ext4, mount the root
# partition, hand over to its /sbin/init.
/bin/busybox --install -s /bin
export PATH=/bin
# The kernel runs `quiet`: this line is how Ferry sees that it started (a boot phase).
echo "FERRY-KERNEL-STARTED"
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /lib/modules/order); do insmod /lib/modules/$m.ko 2>/dev/null; done
root=LABEL=root
for arg in $(cat /proc/cmdline); do case "$arg" in root=*) root=${arg#root=};; esac; done
mkdir -p /newroot
i=0
while [ $i -lt 100 ]; do
  dev=$(findfs "$root" 2>/dev/null) && mount -t ext4 "$dev" /newroot && break
  i=$((i+1)); sleep 0.1
done
if [ ! -x /newroot/sbin/init ]; then echo "ferry initramfs: cannot mount root $root"; exec sh; fi
umount /proc /sys
mount --move /dev /newroot/dev 2>/dev/null || umount /dev
exec switch_root /newroot /sbin/init
"""#

    /// The guest /sbin/init: mounts, DHCP, the boot scripts of /etc/boot.d, first-boot user data from the seed disk, and the markers on the serial console that Ferry reads.
    static let guestInit = #"""
#!/bin/sh
# Ferry sandbox guest init: mounts, network by DHCP, first-boot user data from the seed
# disk (NoCloud-like), the boot scripts of /etc/boot.d, then a marker on the serial console.
export PATH=/bin:/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
grep -q " /dev " /proc/mounts || mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /run
mount -t tmpfs tmpfs /tmp
# Commit the journal every second: `stop` ends QEMU without a guest shutdown.
mount -o remount,rw,commit=1 /
hostname sandbox
ifconfig lo 127.0.0.1 up
nic=$(ls /sys/class/net | grep -v '^lo$' | head -n 1)
if [ -n "$nic" ]; then
  ifconfig "$nic" up
  udhcpc -q -n -t 10 -T 1 -i "$nic" -s /etc/udhcpc.script >/dev/null 2>&1 || echo "ferry-guest: no DHCP lease on $nic"
fi
iid=""
mkdir -p /run/seed
if mount -t ext4 -o ro /dev/vdb /run/seed 2>/dev/null || mount -t ext2 -o ro /dev/vdb /run/seed 2>/dev/null; then
  iid=$(sed -n 's/^instance-id: *//p' /run/seed/meta-data)
  name=$(sed -n 's/^local-hostname: *//p' /run/seed/meta-data)
  [ -n "$name" ] && hostname "$name"
fi
for script in /etc/boot.d/*; do [ -x "$script" ] && "$script"; done
if [ -n "$iid" ] && [ "$iid" != "$(cat /var/lib/ferry/instance-id 2>/dev/null)" ]; then
  status=SUCCEEDED
  if [ -s /run/seed/user-data ]; then
    cp /run/seed/user-data /var/lib/ferry/user-data
    chmod 700 /var/lib/ferry/user-data
    if ! /var/lib/ferry/user-data >/var/log/user-data.log 2>&1; then status=FAILED; fi
    tail -n 20 /var/log/user-data.log
  fi
  echo "$iid" > /var/lib/ferry/instance-id
  sync
  echo "FERRY-FIRST-BOOT $status $iid"
fi
echo "FERRY-BOOT-READY $iid"
while true; do sleep 3600; done
"""#

    /// Applies a DHCP lease (busybox udhcpc calls it).
    static let dhcpScript = #"""
#!/bin/sh
case "$1" in
  bound|renew)
    ifconfig "$interface" "$ip" netmask "${subnet:-255.255.255.0}" up
    if [ -n "$router" ]; then
      while route del default gw 0.0.0.0 dev "$interface" 2>/dev/null; do :; done
      for r in $router; do route add default gw "$r" dev "$interface"; break; done
    fi
    : > /etc/resolv.conf
    for d in $dns; do echo "nameserver $d" >> /etc/resolv.conf; done
    ;;
esac
exit 0
"""#

    /// GRUB on the serial console, no menu delay.
    static let grubConfig = #"""
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
set timeout=0
set default=0
menuentry "Ferry sandbox Linux" {
  linux /boot/vmlinuz root=LABEL=root rw console=ttyS0,115200 quiet panic=5
  initrd /boot/initrd.img
}
"""#
}
