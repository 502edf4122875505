#!/usr/bin/env bash
# The sandbox's guest profiles, through `ferry` as a user runs them: the image's build time,
# the boot from `ferry sandbox launch` to the guest's first-boot marker and to its first
# HTTP 200, and QEMU's peak memory (VmHWM). The peer is the busybox profile, measured in the
# same run on the same machine: the Debian profiles are reported as ratios to it.
#
# The Debian images are built with an empty disk cache; the .debs come from the user's guest
# cache (~/.cache/ferry/guests/packages) when there, so "build" is mmdebstrap installing
# and the disk being written, not the download. Needs root (mmdebstrap) and Debian's archive.
# vmware-debian has a static address that only a 10.0.0.0/24 subnet reaches, which the CLI
# does not make: its HTTP time is not measured here (DebianGuestBootTests checks it).
set -euo pipefail

cd "$(dirname "$0")/.."
work=$(mktemp -d "${TMPDIR:-/var/tmp}/ferry-bench-guest-images.XXXXXX")
cleanup() {
    "$FERRY_BIN" sandbox destroy --workspace "$work/ws" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

. bench/release-ferry.sh
export FERRY_GUEST_CACHE="$work/cache"
mkdir -p "$work/cache"
packages="${XDG_CACHE_HOME:-$HOME/.cache}/ferry/guests/packages"
[ -d "$packages" ] && ln -s "$packages" "$work/cache/packages"
"$FERRY_BIN" init --workspace "$work/ws" >/dev/null

now() { date +%s.%N; }
since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$(now)"; }

declare -A build_s ready_s http_s rss_mib
for profile in busybox debian-wordpress vmware-debian; do
    echo "== $profile"
    started=$(now)
    image=$("$FERRY_BIN" sandbox image build --profile "$profile" --workspace "$work/ws" --output json | python3 -c "import json, sys; print(json.load(sys.stdin)['id'])")
    build_s[$profile]=$(since "$started")
    flags=()
    [ "$profile" = busybox ] && flags=(--wordpress)
    started=$(now)
    launched=$("$FERRY_BIN" sandbox launch "$image" "${flags[@]}" --no-wait --workspace "$work/ws" --output json)
    instance=$(echo "$launched" | python3 -c "import json, sys; print(json.load(sys.stdin)['instance']['id'])")
    port=$(echo "$launched" | python3 -c "import json, sys; print(next((p['hostPort'] for p in json.load(sys.stdin)['forwardedPorts'] if p['guestPort'] == 80), ''))")
    pid=$(pgrep -f -- "-name $instance" | head -n 1)
    path=/
    [ "$profile" != busybox ] && path=/wp-admin/install.php
    ready_s[$profile]=-; http_s[$profile]=-
    for _ in $(seq 1 1200); do
        if [ "${ready_s[$profile]}" = - ] && "$FERRY_BIN" sandbox console "$instance" --workspace "$work/ws" 2>/dev/null | grep -q "FERRY-BOOT-READY $instance"; then
            ready_s[$profile]=$(since "$started")
        fi
        if [ "${http_s[$profile]}" = - ] && [ -n "$port" ] && [ "$profile" != vmware-debian ] \
            && [ "$(curl -s -o /dev/null -w '%{http_code}' -m 5 "http://127.0.0.1:$port$path")" = 200 ]; then
            http_s[$profile]=$(since "$started")
        fi
        if [ "${ready_s[$profile]}" != - ] && { [ "${http_s[$profile]}" != - ] || [ "$profile" = vmware-debian ]; }; then break; fi
        sleep 0.5
    done
    rss_mib[$profile]=$(awk '/VmHWM/ {printf "%d", $2 / 1024}' "/proc/$pid/status" 2>/dev/null || echo -)
    "$FERRY_BIN" sandbox terminate "$instance" --workspace "$work/ws" >/dev/null
    echo "   build ${build_s[$profile]} s, boot to READY ${ready_s[$profile]} s, to HTTP 200 ${http_s[$profile]} s, QEMU peak ${rss_mib[$profile]} MiB"
done

ratio() { python3 -c "import sys; a, b = sys.argv[1:]; print('-' if '-' in (a, b) else f'{float(a) / float(b):.1f}x')" "$1" "$2"; }
echo
printf '%-18s %10s %12s %12s %10s   %s\n' profile "build s" "ready s" "HTTP 200 s" "peak MiB" "ratio to busybox (build, ready)"
for profile in busybox debian-wordpress vmware-debian; do
    printf '%-18s %10s %12s %12s %10s   %s, %s\n' "$profile" "${build_s[$profile]}" "${ready_s[$profile]}" "${http_s[$profile]}" "${rss_mib[$profile]}" \
        "$(ratio "${build_s[$profile]}" "${build_s[busybox]}")" "$(ratio "${ready_s[$profile]}" "${ready_s[busybox]}")"
done
