#!/usr/bin/env bash
# Block reads through the plugin protocol versus the same reads in-process, in the same
# run, on the same input. Each command reads a whole disk through a source adapter
# (`ferry disk export --adapter NAME -o /dev/null`), process start-up and handshakes
# included:
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

. bench/release-ferry.sh

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
cp -L examples/qcow2/ferry-adapter-qcow2 examples/qcow2/ferry_framing.py "$work/plugins/"
"$FERRY_BIN" adapter new rawpy --kind source --lang python --dir "$work/rawpy" >/dev/null
cp "$work/rawpy/ferry-adapter-rawpy" "$work/rawpy/ferry_framing.py" "$work/plugins/"
"$FERRY_BIN" adapter new rawswift --kind source --lang swift --dir "$work/rawswift" >/dev/null
(cd "$work/rawswift" && ${SWIFT:-swift} build -c release >/dev/null)
cp "$work/rawswift/.build/release/ferry-adapter-rawswift" "$work/plugins/"
export FERRY_PLUGIN_PATH="$work/plugins"
# The Python plugins start with `#!/usr/bin/env python3`: the system's interpreter, as on a
# fresh Debian machine, rather than a version manager's shim earlier on PATH, whose start-up
# (about 0.1 s per process here) is not the protocol's cost.
if [ -x /usr/bin/python3 ]; then export PATH="/usr/bin:$PATH"; fi
"$FERRY_BIN" adapters | grep -E "^(qcow2|rawpy|rawswift) " || { echo "the plugins did not load" >&2; exit 1; }

# The reads first, each to a file, checked against the in-process read; then the timed
# runs write to /dev/null, so that what is measured is reading (qemu-img cannot write to
# /dev/null: it writes to a file in memory, /dev/shm, which is close to free).
read_with() { echo "$FERRY_BIN disk export --workspace $work/ws --adapter $1 --option $2 -o $3"; }
declare -A runs=(
  [raw-in-process]="physical disk=$work/source.raw"
  [raw-plugin-swift]="rawswift path=$work/source.raw"
  [raw-plugin-python]="rawpy path=$work/source.raw"
  [qcow2-in-process]="physical disk=$work/source.qcow2"
  [qcow2-plugin-python]="qcow2 path=$work/source.qcow2"
)
for name in "${!runs[@]}"; do
  set -- ${runs[$name]}
  $(read_with "$1" "$2" "$work/$name.raw") >/dev/null
  cmp -s "$work/source.raw" "$work/$name.raw" || { echo "$name: what it read differs from the source" >&2; exit 1; }
  rm -f "$work/$name.raw"
done
echo "all five read the source byte for byte (cmp)"

shm=$(mktemp -d /dev/shm/ferry-bench-plugin-read.XXXXXX)
trap 'rm -rf "$work" "$shm"' EXIT
runs_count=${RUNS:-5}
arguments=()
for name in raw-in-process raw-plugin-swift raw-plugin-python qcow2-in-process qcow2-plugin-python; do
  set -- ${runs[$name]}
  arguments+=(--command-name "$name" "$(read_with "$1" "$2" /dev/null)")
done
hyperfine --warmup 1 --runs "$runs_count" --export-json "$work/result.json" "${arguments[@]}" \
  --command-name qemu-img "qemu-img convert -f qcow2 -O raw $work/source.qcow2 $shm/qemu-img.raw"

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
