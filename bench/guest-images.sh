#!/usr/bin/env bash
# The Debian guest images (GuestProfile.debianWordPress, .vmwareDebian): build time with an
# empty package cache (every .deb downloaded) and with the .debs cached, the disks' size, and
# under QEMU TCG the boot to FERRY-BOOT-READY, the first HTTP 200 from WordPress and QEMU's
# RSS, at the profile's minimumMemoryMiB. It runs the DebianGuestBuilder tests, which build
# through GuestImageCache and boot with a plain qemu-system-x86_64, and prints their timings.
# Needs root (mmdebstrap --mode=root) and Debian's archive; about 8 minutes here.
set -euo pipefail

cd "$(dirname "$0")/.."
work=$(mktemp -d "${TMPDIR:-/var/tmp}/ferry-bench-guest-images.XXXXXX")
trap 'rm -rf "$work"' EXIT

swift build --build-tests >/dev/null

tests() { # label disks filter: runs the tests with caches under $work, keeps the timing lines
    local label=$1 disks=$2 filter=$3
    if ! FERRY_GUEST_CACHE="$work/cache" FERRY_TEST_GUEST_CACHE="$work/disks-$disks" \
        swift test --skip-build --no-parallel --filter "$filter" >"$work/$label.log" 2>&1; then
        echo "tests failed ($label):"; tail -40 "$work/$label.log"; exit 1
    fi
    grep -E "built in|packages installed|NIC, -m|gave up at" "$work/$label.log" | sed 's/^\[[a-z-]*\] //'
}

images='DebianGuestBuilderTests/(debianWordPressBootsOnVirtioByLabel|vmwareDebianIsShaped)'
echo "== Build, empty package cache (downloads every .deb)"
tests cold cold "$images"
echo "== Build again, .debs cached"
tests warm warm "$images"
echo "== Disks (4 GiB sparse; allocated):"
du -h "$work"/disks-warm/*.raw
echo "== Boots under TCG"
tests boot warm 'DebianGuestBuilderTests/(debianWordPressBootsOnVirtioAndServes|vmwareDebianBoots|vmwareDebianOnVirtio)'
