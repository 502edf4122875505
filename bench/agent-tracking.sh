#!/usr/bin/env bash
# Tracked writes against the old rescan, on a block device of this machine: an 8 GiB loop
# device with an ext4 file system mounted, replicated continuously by `ferry agent run
# --disk /dev/loopN` to a replication server on 127.0.0.1, first following the kernel's
# block layer trace (--write-tracking auto: the mechanism ferry-agent uses inside a source
# machine), then as before (--write-tracking rescan: every pass reads and hashes every
# block). For each, in the same run:
#   idle:    30 s with nothing written: the agent's CPU, the bytes it read, the points made;
#   writing: 45 s of a writer doing 4 KiB writes at 10 MB/s into a 1 GiB file (O_DIRECT),
#            once at random places and once appending: lag and backlog as the server
#            reports them (`ferry source list`), sampled every 0.5 s, as p50 and p99.
# Lag and backlog over time are drawn in $BENCH_OUT/agent-tracking.svg (default: /tmp).
# Needs root (a loop device, mount, debugfs), losetup, mkfs.ext4 and python3.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "bench/agent-tracking.sh: needs root (a loop device, a mount and the block layer's trace); skipped" >&2; exit 0; }
for tool in losetup mkfs.ext4 mount umount python3; do
  command -v "$tool" >/dev/null || { echo "bench/agent-tracking.sh: $tool is missing (apt-get install mount e2fsprogs python3)" >&2; exit 1; }
done

. bench/release-ferry.sh
. bench/lag-sampling.sh
ferry=$FERRY_BIN
out=${BENCH_OUT:-/tmp}
work=$(mktemp -d "${TMPDIR:-/tmp}/ferry-bench-tracking.XXXXXX")
device=""; server_pid=""; agent_pid=""; writer_pid=""
cleanup() {
  for pid in $writer_pid $agent_pid $server_pid; do kill -TERM "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  # A frozen file system cannot be unmounted: thaw it first (an agent killed mid-freeze).
  fsfreeze -u "$work/mnt" 2>/dev/null || true
  umount "$work/mnt" 2>/dev/null || true
  [ -n "$device" ] && losetup -d "$device" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
if ! losetup -f >/dev/null 2>&1; then echo "bench/agent-tracking.sh: no loop device is available here; skipped" >&2; exit 0; fi

truncate -s 8G "$work/disk.img"
device=$(losetup --find --show "$work/disk.img")
mkfs.ext4 -q -F "$device"
mkdir -p "$work/mnt"
mount "$device" "$work/mnt"
dd if=/dev/zero of="$work/mnt/data" bs=1M count=1024 oflag=direct status=none
sync

cat > "$work/writer.py" <<'PY'
# 4 KiB writes with O_DIRECT at a steady rate, at random places of the file or appended in turn.
import mmap, os, random, sys, time
path, seconds, rate, pattern = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
fd = os.open(path, os.O_WRONLY | os.O_DIRECT)
blocks = os.fstat(fd).st_size // 4096
buffer = mmap.mmap(-1, 4096)
random.seed(5)
start = time.monotonic(); done = 0
while True:
    elapsed = time.monotonic() - start
    if elapsed >= seconds: break
    due = int(elapsed * rate / 4096)
    while done < due:
        buffer[0:8] = done.to_bytes(8, "little")
        at = random.randrange(blocks) if pattern == "random" else done % blocks
        os.pwrite(fd, buffer, at * 4096)
        done += 1
    time.sleep(0.002)
print(done)
PY

"$ferry" init --workspace "$work/ws" >/dev/null
export FERRY_AGENT_TOKEN=$(cat "$work/ws/agent-token")

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
read_bytes() { awk '/^read_bytes/ {print $2}' "/proc/$1/io"; }


# One mode: the server and the agent started afresh, the initial sync, 30 s idle, then the
# two writers; prints one result line per phase and leaves the samples in $work/$mode-*.
run_mode() {
  local mode=$1
  rm -rf "$work/ws/staging" "$work/ws/state.sqlite"* 2>/dev/null || true
  rm -rf "$work/ws"; "$ferry" init --workspace "$work/ws" >/dev/null
  export FERRY_AGENT_TOKEN=$(cat "$work/ws/agent-token")
  rm -f "$work/port"
  "$ferry" replication-server --workspace "$work/ws" --listen 127.0.0.1:0 --port-file "$work/port" > "$work/server-$mode.out" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
  "$ferry" agent run --server "$(cat "$work/port")" --workspace "$work/ws" --disk "$device" --identity "bench-$mode" \
    --continuous --interval 1 --write-tracking "$mode" --output json > "$work/agent-$mode.json" 2> "$work/agent-$mode.err" &
  agent_pid=$!
  for _ in $(seq 1800); do grep -q '"snapshot"' "$work/agent-$mode.json" 2>/dev/null && break; sleep 0.1; done
  if [ "$mode" = auto ] && ! grep -q "^Following writes" "$work/agent-$mode.err"; then
    echo "auto: no tracked writes on this machine: $(grep -m1 "^Every pass" "$work/agent-$mode.err" | sed 's/^Every pass reads every block: //')" | tee -a "$work/results"
    kill -TERM "$agent_pid" "$server_pid" 2>/dev/null || true; wait "$agent_pid" "$server_pid" 2>/dev/null || true; agent_pid=""; server_pid=""
    return 0
  fi
  sleep 2
  local points0 cpu0 read0 points1 cpu1 read1
  points0=$(grep -c '"snapshot"' "$work/agent-$mode.json" || true)
  cpu0=$(cpu_ticks $agent_pid); read0=$(read_bytes $agent_pid)
  sleep 30
  points1=$(grep -c '"snapshot"' "$work/agent-$mode.json" || true)
  cpu1=$(cpu_ticks $agent_pid); read1=$(read_bytes $agent_pid)
  python3 -c "
import sys
ticks, cpu0, cpu1, r0, r1, p0, p1 = map(float, sys.argv[1:])
print(f'$mode idle 30 s: CPU {(cpu1-cpu0)/ticks/30*100:.2f}% of a core, read {(r1-r0)/2**20:.0f} MiB, {int(p1-p0)} points')" \
    "$(getconf CLK_TCK)" "$cpu0" "$cpu1" "$read0" "$read1" "$points0" "$points1" | tee -a "$work/results"
  for pattern in random append; do
    python3 "$work/writer.py" "$work/mnt/data" 45 10000000 "$pattern" > "$work/writes-$mode-$pattern" &
    writer_pid=$!
    sample "$work/samples-$mode-$pattern" 45
    wait "$writer_pid" || true; writer_pid=""
    python3 bench/lag-summary.py "$work/samples-$mode-$pattern" "$mode $pattern 4 KiB writes at 10 MB/s" "$(cat "$work/writes-$mode-$pattern")" 45 | tee -a "$work/results"
    sleep 5
  done
  kill -TERM "$agent_pid" 2>/dev/null || true; wait "$agent_pid" 2>/dev/null || true; agent_pid=""
  kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; server_pid=""
}

: > "$work/results"
run_mode auto
run_mode rescan

python3 bench/lag-plot.py "$work" "$out/agent-tracking.svg" auto rescan "on a loop device"

echo
echo "== Tracked writes against the old rescan (an 8 GiB ext4 loop device, agent and server on 127.0.0.1, interval 1 s) =="
cat "$work/results"
echo "plot: $out/agent-tracking.svg"
