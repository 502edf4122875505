#!/usr/bin/env bash
# Reading a 1 GiB streamOptimized VMDK to a raw image: Ferry versus qemu-img convert, in
# the same run, on the same input. Prints both timings and the ratio.
#
# The input is made here, not committed: a 1 GiB disk with 256 MiB of random data, 256 MiB
# of compressible text-like data, and holes, converted to streamOptimized by qemu-img.
# Ferry is built in release mode (FERRY_BIN overrides the binary).
set -euo pipefail

cd "$(dirname "$0")/.."
work=$(mktemp -d "${TMPDIR:-/tmp}/ferry-bench-disk-read.XXXXXX")
trap 'rm -rf "$work"' EXIT

. bench/release-ferry.sh

echo "Making the input: 1 GiB, half data, streamOptimized…"
python3 - "$work/source.raw" <<'PY'
import os, random, sys, base64
random.seed(1)
path = sys.argv[1]
mib = 1 << 20
with open(path, "wb") as f:
    f.truncate(1024 * mib)
    # 512 data regions of 1 MiB at random 1 MiB slots: half random, half compressible.
    for index, slot in enumerate(sorted(random.sample(range(1024), 512))):
        f.seek(slot * mib)
        if index % 2 == 0:
            f.write(os.urandom(mib))
        else:
            f.write(base64.b64encode(os.urandom(mib * 3 // 4))[:mib])
PY
qemu-img convert -f raw -O vmdk -o subformat=streamOptimized "$work/source.raw" "$work/source.vmdk"
ls -l "$work/source.vmdk" | awk '{ printf "input: %s bytes of streamOptimized VMDK\n", $5 }'

if command -v hyperfine >/dev/null; then
  hyperfine --warmup 1 --runs "${RUNS:-5}" --export-json "$work/result.json" \
    --command-name ferry "$FERRY_BIN disk export $work/source.vmdk -o $work/ferry.raw --format raw" \
    --command-name qemu-img "qemu-img convert -f vmdk -O raw $work/source.vmdk $work/qemu.raw"
  python3 - "$work/result.json" <<'PY'
import json, sys
results = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
ferry, qemu = results["ferry"]["mean"], results["qemu-img"]["mean"]
print(f"ferry {ferry:.2f} s, qemu-img {qemu:.2f} s (means): ferry takes {ferry / qemu:.2f}x the time of qemu-img convert")
PY
else
  for tool in ferry qemu-img; do
    start=$(date +%s.%N)
    if [ $tool = ferry ]; then "$FERRY_BIN" disk export "$work/source.vmdk" -o "$work/ferry.raw" --format raw >/dev/null
    else qemu-img convert -f vmdk -O raw "$work/source.vmdk" "$work/qemu.raw"; fi
    echo "$tool $(echo "$(date +%s.%N) - $start" | bc)" >> "$work/times"
  done
  awk '{ t[$1] = $2; print $1 ": " $2 " s" } END { printf "ferry takes %.2fx the time of qemu-img convert\n", t["ferry"] / t["qemu-img"] }' "$work/times"
fi

qemu-img compare -f raw -F raw "$work/ferry.raw" "$work/qemu.raw" >/dev/null && echo "outputs identical (qemu-img compare)"
