#!/bin/sh
# Uploads the same 64 MiB raw image as an EBS snapshot with Ferry (`ferry aws import-snapshot`)
# and with a boto3 uploader (boto3_upload.py), against the same moto_server on 127.0.0.1, and
# reports both medians and their ratio. Both skip zero blocks and send 8 blocks at a time.
# Times are each uploader's own, from StartSnapshot to a completed snapshot (Ferry's also
# include its DescribeSnapshots wait for "completed"); process start-up is not counted.
#
#   FERRY_BIN   a ferry binary to use (default: a release build made here)
#   RUNS        uploads per side (default 5), alternating, moto reset before each
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
runs=${RUNS:-5}
work=$(mktemp -d)
moto_pid=""
cleanup() {
    [ -n "$moto_pid" ] && kill -KILL "$moto_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT INT TERM

if [ -z "${FERRY_BIN:-}" ]; then
    echo "Building ferry (release)..."
    (cd "$root" && swift build -c release --product ferry >/dev/null)
    FERRY_BIN="$(cd "$root" && swift build -c release --show-bin-path)/ferry"
fi
command -v moto_server >/dev/null || { echo "moto_server is missing: pip install 'moto[server]==5.2.1'"; exit 1; }
python3 -c "import boto3" 2>/dev/null || { echo "boto3 is missing: pip install boto3"; exit 1; }

# 64 MiB: 56 MiB of random data, then 8 MiB of zeros (skipped by both).
image="$work/disk.raw"
head -c $((56 * 1024 * 1024)) /dev/urandom > "$image"
head -c $((8 * 1024 * 1024)) /dev/zero >> "$image"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
MOTO_EC2_LOAD_DEFAULT_AMIS=false moto_server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
endpoint="http://127.0.0.1:$port"
i=0
until curl -sf "$endpoint/moto-api/" >/dev/null; do
    i=$((i + 1)); [ $i -lt 100 ] || { echo "moto_server did not start"; exit 1; }; sleep 0.1
done

export AWS_ENDPOINT_URL="$endpoint" AWS_ACCESS_KEY_ID=AKIABENCH0000000000 AWS_SECRET_ACCESS_KEY=bench-secret AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1
unset AWS_PROFILE AWS_SESSION_TOKEN 2>/dev/null || true

seconds() { python3 -c 'import json,sys; print(json.load(sys.stdin)["seconds"])'; }
# One unmeasured round first: moto loads its EC2 and EBS backends on first use.
curl -sf -X POST "$endpoint/moto-api/reset" >/dev/null
"$FERRY_BIN" aws import-snapshot "$image" --concurrency 8 --output json >/dev/null
python3 "$here/boto3_upload.py" "$image" --concurrency 8 >/dev/null
: > "$work/ferry.txt"; : > "$work/boto3.txt"
for run in $(seq "$runs"); do
    curl -sf -X POST "$endpoint/moto-api/reset" >/dev/null
    "$FERRY_BIN" aws import-snapshot "$image" --concurrency 8 --output json | seconds >> "$work/ferry.txt"
    curl -sf -X POST "$endpoint/moto-api/reset" >/dev/null
    python3 "$here/boto3_upload.py" "$image" --concurrency 8 | seconds >> "$work/boto3.txt"
done

python3 - "$work/ferry.txt" "$work/boto3.txt" <<'PY'
import statistics, sys
ferry = [float(x) for x in open(sys.argv[1])]
boto3 = [float(x) for x in open(sys.argv[2])]
mib = 56
f, b = statistics.median(ferry), statistics.median(boto3)
print(f"EBS snapshot upload, 64 MiB image (56 MiB data, 112 blocks sent), moto on loopback, {len(ferry)} runs each after a warm-up")
print(f"  {'uploader':<8} {'median s':>9} {'MiB/s':>7}   runs (s)")
print(f"  {'ferry':<8} {f:>9.2f} {mib / f:>7.1f}   " + " ".join(f"{x:.2f}" for x in ferry))
print(f"  {'boto3':<8} {b:>9.2f} {mib / b:>7.1f}   " + " ".join(f"{x:.2f}" for x in boto3))
print(f"  ratio boto3/ferry time: {b / f:.2f}x ({'Ferry faster' if f < b else 'boto3 faster'})")
PY
