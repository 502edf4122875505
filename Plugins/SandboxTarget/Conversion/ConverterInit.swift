/// The converter appliance's /init: the kernel runs it from the initramfs, and it only
/// prepares what ferry-convert needs (busybox applets, /proc, /sys, /dev, the disk's drivers)
/// and runs it. ferry-convert powers the machine off itself; if it ever returns, /init says
/// so on the console and powers off, so QEMU ends instead of the kernel panicking on exit.
enum ConverterInit {
    static let text = #"""
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /run
mount -t tmpfs tmpfs /run
for m in $(cat /lib/modules/order); do insmod /lib/modules/$m.ko 2>/dev/null; done
/bin/ferry-convert
echo "FERRY-CONVERT-DONE failed ferry-convert ended without powering off (exit $?)"
sync
poweroff -f
"""#
}
