#!/usr/bin/env bash
# Replication benchmark: Ferry's agent and replication server over loopback against
# `cp --sparse=always` and `rsync` on the same images, in the same run.
#   initial sync of a 1 GiB image (random data in scattered regions, zeros elsewhere),
#   then a pass after changing 1% of its blocks.
# Prints times, bytes sent and peak memory (RSS) side by side, and the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."

# Every tool first, with one line naming what is missing: a bench that stops half-way
# measures nothing and may leave its server behind.
for tool in /usr/bin/time rsync cp python3; do
  command -v "$tool" >/dev/null || { echo "bench/replication.sh: $tool is missing (apt-get install time rsync coreutils python3)" >&2; exit 1; }
done
ferry=${FERRY:-$(swift build -c release --show-bin-path)/ferry}
work=$(mktemp -d "${TMPDIR:-/tmp}/ferry-bench-replication.XXXXXX")
server_pid=""
# The server runs under /usr/bin/time: its child is the server, and both must go.
cleanup() {
  if [ -n "$server_pid" ]; then pkill -INT -P "$server_pid" 2>/dev/null || true; kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
timefmt="%e %M"   # elapsed seconds, peak RSS in KiB

image=$work/source.raw
python3 - "$image" <<'PY'
import os, random, sys
path = sys.argv[1]
random.seed(42)
size = 1 << 30
with open(path, "wb") as f:
    f.truncate(size)
    # 48 regions of 4 MiB of random data (192 MiB), scattered; zeros elsewhere.
    for offset in sorted(random.sample(range(0, size // (4 << 20)), 48)):
        f.seek(offset * (4 << 20))
        f.write(os.urandom(4 << 20))
PY
echo "Image: 1 GiB, $(du -m "$image" | cut -f1) MiB allocated"

measure() { # label, command... → "seconds peak_kib"
  local out=$work/time.$1; shift
  /usr/bin/time -o "$out" -f "$timefmt" "$@" >/dev/null 2>&1
  cat "$out"
}

# --- Ferry: initial sync -----------------------------------------------------------
"$ferry" init --workspace "$work/ws" >/dev/null
/usr/bin/time -o "$work/time.server" -f "$timefmt" "$ferry" replication-server --workspace "$work/ws" --listen 127.0.0.1:0 > "$work/server.out" 2>/dev/null &
server_pid=$!
for _ in $(seq 50); do grep -q "listening on" "$work/server.out" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's/.*listening on [0-9.]*:\([0-9]*\).*/\1/p' "$work/server.out")
export FERRY_AGENT_TOKEN=$(cat "$work/ws/agent-token")
/usr/bin/time -o "$work/time.agent1" -f "$timefmt" "$ferry" agent --server 127.0.0.1:$port --workspace "$work/ws" --disk "$image" --identity bench --output json > "$work/agent1.json" 2>/dev/null
read ferry_initial agent_rss1 < "$work/time.agent1"
ferry_sent1=$(python3 -c "import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1])['bytesSent'])" "$work/agent1.json")

# --- Peers: initial copy -------------------------------------------------------------
read cp_time cp_rss < <(measure cp cp --sparse=always "$image" "$work/cp.raw")
read rsync_time rsync_rss < <(measure rsync1 rsync --sparse "$image" "$work/rsync.raw")
rsync_sent1=$(rsync --sparse --stats "$image" "$work/rsync-stats.raw" | sed -n 's/^Total bytes sent: \([0-9,]*\).*/\1/p' | tr -d ,)

# --- Change 1% of the blocks (21 of 2048 blocks of 512 KiB) -------------------------
python3 - "$image" <<'PY'
import os, random, sys
random.seed(7)
with open(sys.argv[1], "r+b") as f:
    for block in random.sample(range(2048), 21):
        f.seek(block * 524288 + 1000)
        f.write(os.urandom(4096))
PY

/usr/bin/time -o "$work/time.agent2" -f "$timefmt" "$ferry" agent --server 127.0.0.1:$port --workspace "$work/ws" --disk "$image" --identity bench --output json > "$work/agent2.json" 2>/dev/null
read ferry_incr agent_rss2 < "$work/time.agent2"
ferry_sent2=$(python3 -c "import json,sys; print(json.loads(open(sys.argv[1]).read().splitlines()[-1])['bytesSent'])" "$work/agent2.json")
read rsync_incr rsync_rss2 < <(measure rsync2 rsync --inplace --no-whole-file "$image" "$work/rsync.raw")
rsync_sent2=$(rsync --inplace --no-whole-file --stats "$image" "$work/rsync-stats.raw" | sed -n 's/^Total bytes sent: \([0-9,]*\).*/\1/p' | tr -d ,)

# GNU time ignores SIGINT while it waits: signal the server itself.
pkill -INT -P $server_pid; wait $server_pid 2>/dev/null || true
server_pid=""
read _ server_rss < <(tail -n 1 "$work/time.server")

ratio() { python3 -c "import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); print(f'{a/b:.2f}x' if b > 0 else 'n/a')" "$1" "$2"; }
echo
echo "== Replication benchmark (1 GiB image, 192 MiB of data; loopback) =="
printf "%-34s %10s %14s %12s\n" "run" "seconds" "bytes sent" "peak RSS"
printf "%-34s %10s %14s %10s KiB\n" "ferry initial sync" "$ferry_initial" "$ferry_sent1" "$agent_rss1"
printf "%-34s %10s %14s %10s KiB\n" "cp --sparse=always" "$cp_time" "-" "$cp_rss"
printf "%-34s %10s %14s %10s KiB\n" "rsync --sparse (local)" "$rsync_time" "$rsync_sent1" "$rsync_rss"
printf "%-34s %10s %14s %10s KiB\n" "ferry 1% incremental pass" "$ferry_incr" "$ferry_sent2" "$agent_rss2"
printf "%-34s %10s %14s %10s KiB\n" "rsync --inplace --no-whole-file" "$rsync_incr" "$rsync_sent2" "$rsync_rss2"
echo "ferry replication server peak RSS: $server_rss KiB"
echo "ratios (ferry / peer, time): initial vs cp $(ratio "$ferry_initial" "$cp_time"), initial vs rsync $(ratio "$ferry_initial" "$rsync_time"), 1% pass vs rsync $(ratio "$ferry_incr" "$rsync_incr")"
echo "ratio (ferry bytes sent on the 1% pass / bytes of the 21 changed 512 KiB blocks): $(ratio "$ferry_sent2" $((21 * 524288)))"
echo "(rsync's 'Total bytes sent' counts what its sender process passed to its receiver on this machine; it is printed as rsync reports it)"
