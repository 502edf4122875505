#!/usr/bin/env bash
# ferry-agent inside a sandbox guest (the workshop's VMware-shaped Debian, under QEMU's
# emulator), following its writes with the kernel's block layer trace — the measurements
# of write tracking that need a kernel letting the agent read its trace (this machine's may
# not: see bench/agent-tracking.sh). The peer is the same agent with --write-tracking rescan
# (every pass reads and hashes every block: the design before write tracking), in the same
# guest, in the same run:
#   idle:    60 s with nothing written: the agent's CPU (of an emulated core) and the bytes
#            it read, from /proc inside the guest, measured by a script that writes nothing
#            to the disk until it is done (its figures go to /run, a tmpfs);
#   writing: 45 s of 4 KiB writes at a target of 10 MB/s into a 256 MiB file, at random
#            places and appended in turn (perl, fsync every 0.1 s): lag and backlog as the
#            replication server reports them (`ferry source list`), every 0.5 s, p50 / p99.
# Lag over time is drawn in $BENCH_OUT/agent-in-guest.svg (default /tmp). Needs what the
# workshop needs (root for the image build, QEMU) and the agent built (`make agent`).
set -euo pipefail
cd "$(dirname "$0")/.."
for tool in python3 qemu-system-x86_64; do
  command -v "$tool" >/dev/null || { echo "bench/agent-in-guest.sh: $tool is missing (make deps installs it)" >&2; exit 1; }
done
[ -x .build-agent/release/ferry-agent ] || [ -n "${FERRY_AGENT_BINARY:-}" ] || { echo "bench/agent-in-guest.sh: the agent is not built: run make agent" >&2; exit 1; }
. bench/release-ferry.sh
. bench/lag-sampling.sh
out=${BENCH_OUT:-/tmp}
work=$(mktemp -d "${TMPDIR:-/var/tmp}/ferry-bench-agent-guest.XXXXXX")
run_id=""
cleanup() {
  [ -n "$run_id" ] && "$FERRY_BIN" recipe destroy "$run_id" --workspace "$work/ws" >/dev/null 2>&1 || true
  "$FERRY_BIN" sandbox destroy --workspace "$work/ws" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

cat > "$work/agent-in-guest.yaml" <<'YAML'
name: bench-agent-in-guest
title: The agent installed in a Debian guest, for a benchmark
steps:
  - {id: source-network, title: SourceVPC, action: network.create-vpc, inputs: {name: SourceVPC, cidr: 10.0.0.0/16, subnet_cidr: 10.0.0.0/24}}
  - {id: staging-network, title: StagingVPC, action: network.create-vpc, inputs: {name: StagingVPC, cidr: 10.1.0.0/16, subnet_cidr: 10.1.1.0/24}}
  - {id: source-web, title: HTTP in, action: network.create-security-group, inputs: {vpc_id: "${steps.source-network.vpc_id}", name: source-web, ingress: ["tcp:80:0.0.0.0/0"]}}
  - id: replication-group
    title: replication servers
    action: network.create-security-group
    inputs: {vpc_id: "${steps.staging-network.vpc_id}", name: replication-servers, ingress: ["tcp:1500:0.0.0.0/0"], egress: ["tcp:443:0.0.0.0/0", "udp:53:0.0.0.0/0"]}
  - {id: image, title: image, action: image.find, inputs: {name: vmware-debian}}
  - id: source
    title: the source server
    action: workload.launch-instance
    inputs: {name: source, image_id: "${steps.image.image_id}", subnet_id: "${steps.source-network.subnet_id}", security_group_ids: ["${steps.source-web.security_group_id}"], instance_type: t3.medium, role: workload}
    checks:
      - action: verify.http
        inputs: {url: "${steps.source.url}", instance_id: "${steps.source.instance_id}", timeout_seconds: 600}
  - id: replication-server
    title: the replication server
    action: replication.start-server
    inputs: {subnet_id: "${steps.staging-network.subnet_id}", security_group_ids: ["${steps.replication-group.security_group_id}"]}
  - id: agent
    title: the agent
    action: agent.install
    inputs: {instance_id: "${steps.source.instance_id}", server: "${steps.replication-server.agent_address}", subnet_id: "${steps.source-network.subnet_id}", mode: in-guest}
  - {id: initial-sync, title: initial sync, action: replication.wait, inputs: {source_server_id: "${steps.agent.source_server_id}"}}
YAML

echo "Building the guest image and installing the agent in it (several minutes under emulation)…"
"$FERRY_BIN" init --workspace "$work/ws" >/dev/null
"$FERRY_BIN" sandbox image build --profile vmware-debian --workspace "$work/ws" >/dev/null
"$FERRY_BIN" recipe run "$work/agent-in-guest.yaml" --yes --workspace "$work/ws" > "$work/recipe.out"
run_id=$("$FERRY_BIN" recipe status --workspace "$work/ws" --output json | python3 -c "import json,sys; print(json.load(sys.stdin)[0]['id'])")
status=$("$FERRY_BIN" recipe status "$run_id" --workspace "$work/ws" --output json)
instance=$(python3 -c "import json,sys; s=json.loads(sys.argv[1]); print([x for x in s['steps'] if x['stepID']=='source'][0]['outputs']['instance_id'])" "$status")
guest() { "$FERRY_BIN" sandbox run-command "$instance" --workspace "$work/ws" --timeout 600 -- "$1"; }

# The writer: 4 KiB at random places or appended, paced in 10 ms ticks, fsync every 0.1 s.
guest "$(cat <<'SH'
cat > /root/bench-writer.pl <<'PL'
use strict; use IO::Handle;
my ($path, $seconds, $rate, $pattern) = @ARGV;
open(my $fh, "+<", $path) or die "$path: $!";
my $blocks = int((-s $path) / 4096);
my $per_tick = $rate / 4096 / 100;
my $buf = "b" x 4096;
my ($done, $owed, $ticks) = (0, 0, 0);
my $start = time;
while (time - $start < $seconds) {
  $owed += $per_tick;
  while ($owed >= 1) {
    my $at = $pattern eq "random" ? int(rand($blocks)) : $done % $blocks;
    sysseek($fh, $at * 4096, 0); syswrite($fh, $buf, 4096); $done++; $owed--;
  }
  $fh->sync if ++$ticks % 10 == 0;
  select(undef, undef, undef, 0.01);
}
$fh->sync;
print "$done ", time - $start, "\n";
PL
dd if=/dev/zero of=/root/bench.data bs=1M count=256 conv=fsync status=none
SH
)" >/dev/null
# The idle meter: reads /proc only, sleeps, writes its figures to /run (not the replicated disk).
guest "$(cat <<'SH'
cat > /run/idle.sh <<'IDLE'
# The login that started this wrote to the disk (wtmp, the journal): its point and the
# settling one come first.
sleep 30
pid=$(pgrep -f "ferry-agent run" | head -1)
t0=$(awk '{print $14 + $15}' /proc/$pid/stat); r0=$(awk '/^read_bytes/ {print $2}' /proc/$pid/io)
sleep 60
t1=$(awk '{print $14 + $15}' /proc/$pid/stat); r1=$(awk '/^read_bytes/ {print $2}' /proc/$pid/io)
echo "$t0 $t1 $r0 $r1 $(getconf CLK_TCK)" > /run/idle.out
IDLE
SH
)" >/dev/null


measure() {  # mode
  local mode=$1
  # Settle: whatever the last step wrote (the writer's file, a restart and its scan) is
  # committed first.
  for _ in $(seq 120); do
    "$FERRY_BIN" source list --workspace "$work/ws" --output json | grep -q '"CONTINUOUS"' && break
    sleep 5
  done
  sleep 20
  guest "rm -f /run/idle.out; nohup sh /run/idle.sh >/dev/null 2>&1 &" >/dev/null
  sleep 95
  python3 -c "
import sys
t0, t1, r0, r1, hz = map(float, sys.argv[1].split())
print(f'$mode idle 60 s in the guest: CPU {(t1-t0)/hz/60*100:.2f}% of an emulated core, read {(r1-r0)/2**20:.1f} MiB')" "$(guest 'cat /run/idle.out' | tail -1)" | tee -a "$work/results"
  for pattern in random append; do
    guest "nohup perl /root/bench-writer.pl /root/bench.data 45 10000000 $pattern > /run/writes-$pattern 2>&1 &" >/dev/null
    sample "$work/samples-$mode-$pattern" 45
    sleep 3
    local writes
    writes=$(guest "cat /run/writes-$pattern" | tail -1)
    python3 bench/lag-summary.py "$work/samples-$mode-$pattern" "$mode $pattern 4 KiB writes in the guest (target 10 MB/s)" ${writes:-0 45} | tee -a "$work/results"
  done
}

: > "$work/results"
measure tracked
# The peer: the same agent reading every block at every pass (its interval: the same 10 s).
guest "systemctl stop ferry-agent; nohup ferry-agent run --write-tracking rescan > /run/rescan.log 2>&1 &" >/dev/null
measure rescan

python3 bench/lag-plot.py "$work" "$out/agent-in-guest.svg" tracked rescan "in the guest"

echo
echo "== ferry-agent in a Debian guest under emulation: tracked writes against the rescan (interval 10 s) =="
cat "$work/results"
echo "plot: $out/agent-in-guest.svg"
