#!/usr/bin/env bash
# The agent on an idle disk: an 8 GiB image with 1 GiB of data, replicated once, then left
# alone for 30 s in continuous mode. Reports the agent's CPU use while idle and its peak
# memory, beside rsync's peak memory copying the same image (the peer), in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in /usr/bin/time rsync python3; do
  command -v "$tool" >/dev/null || { echo "bench/agent-idle.sh: $tool is missing (apt-get install time rsync python3)" >&2; exit 1; }
done

ferry=${FERRY:-$(swift build -c release --show-bin-path)/ferry}
work=$(mktemp -d "${TMPDIR:-/tmp}/ferry-bench-idle.XXXXXX")
server_pid=""; agent_pid=""
cleanup() { for pid in $agent_pid $server_pid; do pkill -TERM -P "$pid" 2>/dev/null || true; kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

image=$work/idle.raw
python3 - "$image" <<'PY'
import os, random, sys
random.seed(11)
size = 8 << 30
with open(sys.argv[1], "wb") as f:
    f.truncate(size)
    for offset in sorted(random.sample(range(0, size // (8 << 20)), 128)):  # 128 x 8 MiB = 1 GiB
        f.seek(offset * (8 << 20))
        f.write(os.urandom(8 << 20))
PY

"$ferry" init --workspace "$work/ws" >/dev/null
"$ferry" replication-server --workspace "$work/ws" --listen 127.0.0.1:0 --port-file "$work/port" > "$work/server.out" 2>&1 &
server_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
server=$(cat "$work/port")
export FERRY_AGENT_TOKEN=$(cat "$work/ws/agent-token")

# Continuous: the initial sync, then 30 s with nothing written.
/usr/bin/time -o "$work/time.agent" -f "%e %U %S %M" "$ferry" agent run --server "$server" --workspace "$work/ws" --disk "$image" \
  --identity idle --continuous --interval 2 --output json > "$work/agent.json" 2>/dev/null &
agent_pid=$!
for _ in $(seq 600); do grep -q '"snapshot"' "$work/agent.json" 2>/dev/null && break; sleep 0.1; done
synced=$(date +%s.%N)
cpu_before=$(awk '{print $14 + $15}' "/proc/$(pgrep -P $agent_pid -f 'agent run' | head -1)/stat")
sleep 30
agent_proc=$(pgrep -P $agent_pid -f 'agent run' | head -1)
cpu_after=$(awk '{print $14 + $15}' "/proc/$agent_proc/stat")
passes=$(grep -c '"snapshot"' "$work/agent.json" || true)
# A background job of a script ignores SIGINT: TERM ends it.
kill -TERM "$agent_proc"; wait "$agent_pid" 2>/dev/null || true
# GNU time writes "Command terminated by signal 15" first, then its figures.
read _ _ _ agent_rss < <(tail -n 1 "$work/time.agent")
ticks=$(getconf CLK_TCK)
idle_cpu=$(python3 -c "import sys; print(f'{(float(sys.argv[2])-float(sys.argv[1]))/float(sys.argv[3])/30*100:.2f}')" "$cpu_before" "$cpu_after" "$ticks")

/usr/bin/time -o "$work/time.rsync" -f "%e %M" rsync --sparse "$image" "$work/rsync.raw" >/dev/null 2>&1
read _ rsync_rss < "$work/time.rsync"

echo
echo "== The agent on an idle disk (8 GiB image, 1 GiB of data; continuous, 30 s idle) =="
echo "agent CPU while idle:        ${idle_cpu}% of a core ($((passes - 1)) passes after the initial sync)"
echo "agent peak RSS:              $agent_rss KiB"
echo "rsync --sparse peak RSS:     $rsync_rss KiB (the same image, copied once)"
echo "ratio (agent peak RSS / rsync's): $(python3 -c "import sys; print(f'{float(sys.argv[1])/float(sys.argv[2]):.2f}x')" "$agent_rss" "$rsync_rss")"
echo "(after the pass that sent the data comes one more; then the agent skips passes while the image's change stamp, its size and modification time, stays the same. Inside a machine ferry-agent follows the kernel's block layer trace instead and makes no point while nothing is written)"
