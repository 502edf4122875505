#!/usr/bin/env bash
# The Machine Converter (ConverterAppliance) on the vmware-debian guest, per target profile:
# the appliance's build, an inspection, a conversion for `sandbox` and for `aws` (each a boot of
# the appliance under QEMU TCG with the disk attached, the guest's own update-initramfs and
# update-grub in a chroot), and the converted guest's boot to its first HTTP 200 on virtio.
# It runs ConverterApplianceTests and prints their timing lines.
#
# With libguestfs installed (apt-get install libguestfs-tools virt-v2v), it also times, on
# copies of the same disk: virt-customize doing the equivalent initramfs regeneration (the
# target's drivers into /etc/initramfs-tools/modules, update-initramfs -u -k all) and
# virt-v2v-in-place doing its whole VMware → KVM conversion. Both boot libguestfs's own
# appliance (supermin) under TCG as well, so the numbers compare like for like.
# The guest disk comes from the tests' cache (built first if missing: minutes). About 15 minutes;
# `--libguestfs-only` skips Ferry's tests (the disk must then be in the cache already).
set -euo pipefail
only_libguestfs=no
[ "${1:-}" = --libguestfs-only ] && only_libguestfs=yes

cd "$(dirname "$0")/.."
# The tests keep the guest disks they build here, so the libguestfs runs below find them.
export FERRY_TEST_GUEST_CACHE=${FERRY_TEST_GUEST_CACHE:-${TMPDIR:-/tmp}/ferry-test-guest-cache}
work=$(mktemp -d "${TMPDIR:-/var/tmp}/ferry-bench-conversion.XXXXXX")
trap 'rm -rf "$work"' EXIT

if [ $only_libguestfs = no ]; then
    swift build --build-tests >/dev/null
    # The appliance is built on first use: remove it so that its build is measured too.
    rm -rf "$FERRY_TEST_GUEST_CACHE/converter"
    echo "== Ferry's converter appliance (QEMU TCG, -m 512)"
    if ! swift test --skip-build --no-parallel --filter 'ConverterApplianceTests' >"$work/tests.log" 2>&1; then
        echo "tests failed:"; tail -40 "$work/tests.log"; exit 1
    fi
    grep -E "appliance built in|^inspect:|^convert for|^second conversion|on virtio:|\(at [0-9.]+ s\)$" "$work/tests.log" | sed 's/^\[converter\] //'
fi

cache=$FERRY_TEST_GUEST_CACHE
disk=$(ls -t "$cache"/vmware-debian-*.raw 2>/dev/null | head -n 1 || true)
if ! command -v virt-customize >/dev/null || [ -z "$disk" ]; then
    echo "== libguestfs: skipped (no virt-customize, or no cached vmware-debian disk in $cache)"
    exit 0
fi

# /dev/kvm exists here but cannot run guests: libguestfs must not try it.
export LIBGUESTFS_BACKEND=direct LIBGUESTFS_BACKEND_SETTINGS=force_tcg
echo "== libguestfs $(virt-customize --version | awk '{print $2}') on the same disk (its appliance under TCG too)"
for platform in sandbox aws; do
    case $platform in
        sandbox) drivers="virtio_pci virtio_blk virtio_net" ;;
        aws) drivers="nvme ena" ;;
    esac
    cp --sparse=always "$disk" "$work/customize.raw"
    /usr/bin/time -f "virt-customize, initramfs with $drivers ($platform): %e s, peak RSS %M KiB" \
        virt-customize -q --format raw -a "$work/customize.raw" \
        --run-command "printf '%s\n' $drivers >> /etc/initramfs-tools/modules && update-initramfs -u -k all" \
        >"$work/customize-$platform.log" 2>&1 || echo "virt-customize failed:" && tail -n 20 "$work/customize-$platform.log"
    rm -f "$work/customize.raw"
done

if command -v virt-v2v-in-place >/dev/null; then
    cp --sparse=always "$disk" "$work/v2v.raw"
    /usr/bin/time -f "virt-v2v-in-place -i disk (VMware → KVM, whole conversion): %e s, peak RSS %M KiB" \
        virt-v2v-in-place -i disk -if raw "$work/v2v.raw" >"$work/v2v.log" 2>&1 || echo "virt-v2v-in-place failed:"
    grep -E "warning|virt-v2v-in-place:|whole conversion" "$work/v2v.log"
    # What it left for the kernel and fstab (read offline): root= by device name boots only
    # where the device has that name.
    debugfs -R "cat /boot/grub/grub.cfg" "$work/v2v.raw?offset=1048576" 2>/dev/null | grep -m 1 -E "^[[:space:]]*linux" | grep -oE "root=[^ ]+" | sed "s/^/virt-v2v-in-place left grub.cfg with /"
    debugfs -R "cat /etc/fstab" "$work/v2v.raw?offset=1048576" 2>/dev/null | grep -E "[[:space:]]/[[:space:]]" | sed "s/^/virt-v2v-in-place left fstab with: /"
fi
