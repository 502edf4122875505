#!/usr/bin/env bash
# Block reads through the plugin protocol versus the same reads in-process, in the same
# run, on the same input. Each command reads a whole disk through a source adapter and
# writes it to a sparse raw image (`ferry disk export --adapter NAME`):
#
#   raw disk:   physical (in-process)  vs  a Swift plugin  vs  a Python plugin
#               (both plugins are `ferry adapter new` scaffolds, unchanged: they pread the file)
#   qcow2 disk: physical (in-process qcow2 reader)  vs  the example qcow2 plugin (Python)
#               vs  qemu-img convert, the named peer
#
# The raw pair isolates the protocol's cost (framing, pipes, a process hop); the qcow2 pair
# is what a team writing a plugin in Python should expect. Ferry is built in release mode
# (FERRY_BIN overrides the binary).
set -euo pipefail

cd "$(dirname "$0")/.."
root=$PWD
work=$(mktemp -d "${TMPDIR:-/tmp}/ferry-bench-plugin-read.XXXXXX")
trap 'rm -rf "$work"' EXIT

if [ -z "${FERRY_BIN:-}" ]; then
  echo "Building ferry (release)…"
  scratch=${FERRY_SCRATCH:+--scratch-path $FERRY_SCRATCH}
  ${SWIFT:-swift} build -c release --product ferry $scratch >/dev/null
  FERRY_BIN="$(${SWIFT:-swift} build -c release $scratch --show-bin-path)/ferry"
fi

echo "Making the input: 1 GiB, 512 MiB of data in 1 MiB regions, raw and qcow2…"
python3 - "$work/source.raw" <<'PY'
import os, random, sys, base64
random.seed(2)
mib = 1 << 20
with open(sys.argv[1], "wb") as f:
    f.truncate(1024 * mib)
    for index, slot in enumerate(sorted(random.sample(range(1024), 512))):
        f.seek(slot * mib)
        f.write(os.urandom(mib) if index % 2 == 0 else base64.b64encode(os.urandom(mib * 3 // 4))[:mib])
PY
qemu-img convert -f raw -O qcow2 "$work/source.raw" "$work/source.qcow2"

echo "Writing the plugins: the example qcow2 adapter and two scaffolds…"
mkdir -p "$work/plugins"
cp Plugins/examples/qcow2/ferry-adapter-qcow2 "$work/plugins/"
"$FERRY_BIN" adapter new rawpy --kind source --lang python --dir "$work/rawpy" >/dev/null
cp "$work/rawpy/ferry-adapter-rawpy" "$work/plugins/"
"$FERRY_BIN" adapter new rawswift --kind source --lang swift --dir "$work/rawswift" >/dev/null
(cd "$work/rawswift" && ${SWIFT:-swift} build -c release >/dev/null)
cp "$work/rawswift/.build/release/ferry-adapter-rawswift" "$work/plugins/"
export FERRY_PLUGIN_PATH="$work/plugins"
"$FERRY_BIN" adapters | grep -E "^(qcow2|rawpy|rawswift) " || { echo "the plugins did not load" >&2; exit 1; }

export_with() { echo "$FERRY_BIN disk export --workspace $work/ws --adapter $1 --option $2 -o $work/$3.raw"; }
runs=${RUNS:-5}
hyperfine --warmup 1 --runs "$runs" --export-json "$work/result.json" \
  --command-name raw-in-process "$(export_with physical disk=$work/source.raw raw-in-process)" \
  --command-name raw-plugin-swift "$(export_with rawswift path=$work/source.raw raw-plugin-swift)" \
  --command-name raw-plugin-python "$(export_with rawpy path=$work/source.raw raw-plugin-python)" \
  --command-name qcow2-in-process "$(export_with physical disk=$work/source.qcow2 qcow2-in-process)" \
  --command-name qcow2-plugin-python "$(export_with qcow2 path=$work/source.qcow2 qcow2-plugin-python)" \
  --command-name qemu-img "qemu-img convert -f qcow2 -O raw $work/source.qcow2 $work/qemu-img.raw"

for output in raw-plugin-swift raw-plugin-python qcow2-in-process qcow2-plugin-python qemu-img; do
  cmp -s "$work/raw-in-process.raw" "$work/$output.raw" || { echo "$output.raw differs from raw-in-process.raw" >&2; exit 1; }
done
echo "all six outputs identical (cmp)"

python3 - "$work/result.json" <<'PY'
import json, sys
r = {x["command"]: x["mean"] for x in json.load(open(sys.argv[1]))["results"]}
data = 512  # MiB of allocated data read per run
def line(name, peer):
    print(f"  {name:20s} {r[name]:6.2f} s  {data / r[name]:7.0f} MiB/s of data   {r[name] / r[peer]:5.2f}x the time of {peer}")
print("Block reads through the plugin protocol versus in-process (means):")
for name in ["raw-in-process", "raw-plugin-swift", "raw-plugin-python"]: line(name, "raw-in-process")
for name in ["qcow2-in-process", "qcow2-plugin-python"]: line(name, "qcow2-in-process")
line("qcow2-plugin-python", "qemu-img")
line("qcow2-in-process", "qemu-img")
PY
