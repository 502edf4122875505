#!/usr/bin/env bash
# Agentless write tracking at the hypervisor against the old agentless agent, natively on
# this machine: an 8 GiB qcow2 drive held by qemu-storage-daemon (QEMU's block layer, with
# the QMP monitor, dirty bitmaps, backup jobs and NBD server of the sandbox's QEMU), 1 GiB
# of it written, replicated continuously by `ferry agent run` to a replication server on
# 127.0.0.1, first with --hypervisor-monitor (QEMU's dirty bitmap, reads through QEMU,
# points by image fleecing), then as the agentless agent did before (the image file read
# from outside, every block at every pass). For each, in the same run:
#   idle:    30 s with nothing written: the agent's CPU, the bytes its reads returned
#            (rchar: QMP and NBD replies, or the image file), the points made;
#   writing: 45 s of a writer doing 4 KiB writes at 10 MB/s through QEMU (NBD) over 1 GiB
#            and over 64 MiB of the drive, at random places: lag and backlog as the server
#            reports them, sampled every 0.5 s, as p50 and p99. Interval 1 s.
# Lag and backlog over time are drawn in $BENCH_OUT/agent-hypervisor.svg (default: /tmp).
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in qemu-storage-daemon qemu-img python3; do
  command -v "$tool" >/dev/null || { echo "bench/agent-hypervisor.sh: $tool is missing (apt-get install qemu-system-common qemu-utils python3)" >&2; exit 1; }
done

. bench/release-ferry.sh
. bench/lag-sampling.sh
ferry=$FERRY_BIN
out=${BENCH_OUT:-/tmp}
# Short: Unix socket paths hold 108 bytes.
work=$(mktemp -d /tmp/ferry-bench-qemu.XXXXXX)
server_pid=""; agent_pid=""; writer_pid=""
daemon_pid() { cat "$work/qsd.pid" 2>/dev/null || true; }
cleanup() {
  for pid in $writer_pid $agent_pid $server_pid $(daemon_pid); do kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

cat > "$work/writer.py" <<'PY'
# 4 KiB writes through QEMU's NBD export at a steady rate: `random` places within the first
# `span` bytes, or `fill` (1 MiB writes over the span, once, as fast as it goes).
import os, random, socket, struct, sys, time
path, export, seconds, rate, pattern, span = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), sys.argv[5], int(sys.argv[6])
s = socket.socket(socket.AF_UNIX); s.connect(path)
def recv(n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk: raise SystemExit("NBD server closed the connection")
        data += chunk
    return data
assert recv(8) == b"NBDMAGIC" and recv(8) == b"IHAVEOPT"
flags = struct.unpack(">H", recv(2))[0]
s.sendall(struct.pack(">I", 3 if flags & 2 else 1))
name = export.encode()
s.sendall(b"IHAVEOPT" + struct.pack(">II", 1, len(name)) + name)   # NBD_OPT_EXPORT_NAME
recv(10 + (0 if flags & 2 else 124))
handle = 0
def write(offset, data):
    global handle
    handle += 1
    s.sendall(struct.pack(">IHHQQI", 0x25609513, 0, 1, handle, offset, len(data)) + data)
    magic, error, h = struct.unpack(">IIQ", recv(16))
    if error: raise SystemExit(f"write at {offset}: error {error}")
done = 0
if pattern == "fill":
    block = os.urandom(1 << 20)
    for offset in range(0, span, 1 << 20): write(offset, block); done += 1
else:
    random.seed(5)
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        due = int((time.monotonic() - start) * rate / 4096)
        while done < due:
            write(random.randrange(span // 4096) * 4096, done.to_bytes(8, "little") * 512)
            done += 1
        time.sleep(0.002)
print(done)
PY

qemu-img create -q -f qcow2 "$work/disk.qcow2" 8G
qemu-storage-daemon \
  --blockdev "driver=file,filename=$work/disk.qcow2,node-name=file0" \
  --blockdev driver=qcow2,file=file0,node-name=disk0 \
  --nbd-server "addr.type=unix,addr.path=$work/nbd.sock" \
  --export type=nbd,id=writer,node-name=disk0,name=writer,writable=on \
  --chardev "socket,path=$work/qmp.sock,server=on,wait=off,id=agent" --monitor chardev=agent \
  --daemonize --pidfile "$work/qsd.pid"
python3 "$work/writer.py" "$work/nbd.sock" writer 0 0 fill $((1 << 30)) > /dev/null

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
read_chars() { awk '/^rchar/ {print $2}' "/proc/$1/io"; }


run_mode() {
  local mode=$1
  rm -rf "$work/ws"; "$ferry" init --workspace "$work/ws" >/dev/null
  export FERRY_AGENT_TOKEN=$(cat "$work/ws/agent-token")
  rm -f "$work/port"
  "$ferry" replication-server --workspace "$work/ws" --listen 127.0.0.1:0 --port-file "$work/port" > "$work/server-$mode.out" 2>&1 &
  server_pid=$!
  for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
  local tracking=()
  [ "$mode" = qemu ] && tracking=(--hypervisor-monitor "$work/qmp.sock" --hypervisor-nbd "$work/nbd.sock")
  "$ferry" agent run --server "$(cat "$work/port")" --workspace "$work/ws" --disk "$work/disk.qcow2" --identity "bench-$mode" \
    --continuous --interval 1 "${tracking[@]}" --output json > "$work/agent-$mode.json" 2> "$work/agent-$mode.err" &
  agent_pid=$!
  for _ in $(seq 1800); do grep -q '"snapshot"' "$work/agent-$mode.json" 2>/dev/null && break; sleep 0.1; done
  if [ "$mode" = qemu ] && ! grep -q "^Following writes" "$work/agent-$mode.err"; then
    echo "bench/agent-hypervisor.sh: the agent did not follow QEMU's bitmaps: $(head -3 "$work/agent-$mode.err")" >&2; exit 1
  fi
  sleep 3
  local points0 cpu0 read0 points1 cpu1 read1
  points0=$(grep -c '"snapshot"' "$work/agent-$mode.json" || true)
  cpu0=$(cpu_ticks $agent_pid); read0=$(read_chars $agent_pid)
  sleep 30
  points1=$(grep -c '"snapshot"' "$work/agent-$mode.json" || true)
  cpu1=$(cpu_ticks $agent_pid); read1=$(read_chars $agent_pid)
  python3 -c "
import sys
ticks, cpu0, cpu1, r0, r1, p0, p1 = map(float, sys.argv[1:])
print(f'$mode idle 30 s (8 GiB drive, 1 GiB written): CPU {(cpu1-cpu0)/ticks/30*100:.2f}% of a core, read {(r1-r0)/2**20:.1f} MiB, {int(p1-p0)} points')" \
    "$(getconf CLK_TCK)" "$cpu0" "$cpu1" "$read0" "$read1" "$points0" "$points1" | tee -a "$work/results"
  for span in 64 1024; do
    python3 "$work/writer.py" "$work/nbd.sock" writer 45 10000000 random $((span << 20)) > "$work/writes-$mode-$span" &
    writer_pid=$!
    sample "$work/samples-$mode-random-$span" 45
    wait "$writer_pid" || true; writer_pid=""
    python3 bench/lag-summary.py "$work/samples-$mode-random-$span" "$mode random 4 KiB writes over $span MiB at 10 MB/s" "$(cat "$work/writes-$mode-$span")" 45 | tee -a "$work/results"
    sleep 5
  done
  kill -TERM "$agent_pid" 2>/dev/null || true; wait "$agent_pid" 2>/dev/null || true; agent_pid=""
  kill -TERM "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; server_pid=""
}

: > "$work/results"
run_mode qemu
run_mode rescan
python3 bench/lag-plot.py "$work" "$out/agent-hypervisor.svg" qemu rescan "at the hypervisor (MiB written over)" random-64,random-1024

echo
echo "== Agentless at the hypervisor against the old agentless agent (an 8 GiB qcow2 in QEMU's block layer, agent and server on 127.0.0.1, interval 1 s) =="
cat "$work/results"
echo "plot: $out/agent-hypervisor.svg"
