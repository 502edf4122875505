# One line of a write-tracking benchmark: "LABEL (R MB/s done), S s: lag p50/p99, backlog
# p50/p99, states", from a samples file ("<unix time> <lag s> <backlog bytes> <state>" per
# line, as lag-sample.py writes them) and the writer's count of 4 KiB writes in its seconds.
# Usage: lag-summary.py SAMPLES "LABEL" WRITES SECONDS
import sys

samples, label, writes, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3] or 0), float(sys.argv[4])
rows = [line.split() for line in open(samples) if line.strip()]
lags = sorted(float(r[1]) for r in rows)
backlog = sorted(int(r[2]) for r in rows)


def pct(values, p):
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] if values else float("nan")


print(f"{label} ({writes * 4096 / max(seconds, 1) / 1e6:.1f} MB/s done), {seconds:.0f} s: "
      f"lag p50 {pct(lags, 50):.1f} s, p99 {pct(lags, 99):.1f} s; "
      f"backlog p50 {pct(backlog, 50) / 2**20:.0f} MiB, p99 {pct(backlog, 99) / 2**20:.0f} MiB; "
      f"states {','.join(sorted(set(r[3] for r in rows)))}")
