# Draws lag over time as an SVG: one panel per writer pattern (random, append), one line per
# mode (the tracked agent in blue, the rescanning peer in red), from the samples files the
# write-tracking benchmarks leave: "<unix time> <lag s> <backlog bytes> <state>" per line.
# Usage: lag-plot.py WORK_DIR TARGET.svg TRACKED_MODE RESCAN_MODE "WHERE" [PATTERN,PATTERN]
# (the patterns name the samples files, samples-MODE-PATTERN; default random,append).
import sys

work, target, tracked, rescan, where = sys.argv[1:6]
patterns = sys.argv[6].split(",") if len(sys.argv) > 6 else ["random", "append"]
colors = {tracked: "#1f77b4", rescan: "#d62728"}
panels = []
for pattern in patterns:
    series = {}
    for mode in colors:
        try:
            rows = [line.split() for line in open(f"{work}/samples-{mode}-{pattern}") if line.strip()]
        except FileNotFoundError:
            continue
        if rows:
            t0 = float(rows[0][0])
            series[mode] = [(float(r[0]) - t0, float(r[1]), int(r[2])) for r in rows]
    panels.append((pattern, series))
width, height, pad = 640, 220, 40
top = max([p[1] for _, s in panels for v in s.values() for p in v] + [1.0])
svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height * len(patterns) + 20}" font-family="sans-serif" font-size="11">']
for i, (pattern, series) in enumerate(panels):
    y0 = i * (height + 10)
    svg.append(f'<text x="{pad}" y="{y0 + 14}">lag (s), 4 KiB writes at up to 10 MB/s, {pattern}, {where}: 0 to {top:.0f} s over 45 s</text>')
    svg.append(f'<rect x="{pad}" y="{y0 + 20}" width="{width - 2 * pad}" height="{height - 50}" fill="none" stroke="#999"/>')
    for mode, points in series.items():
        path = " ".join(f"{pad + t / 45 * (width - 2 * pad):.1f},{y0 + 20 + (height - 50) * (1 - lag / top):.1f}" for t, lag, _ in points)
        svg.append(f'<polyline fill="none" stroke="{colors[mode]}" stroke-width="1.5" points="{path}"/>')
    legend = "   ".join(f"{mode}: backlog up to {max(b for _, _, b in pts) / 2**20:.0f} MiB" for mode, pts in series.items())
    svg.append(f'<text x="{pad}" y="{y0 + height - 14}">{legend} (blue: tracked writes, red: rescan)</text>')
svg.append("</svg>")
open(target, "w").write("\n".join(svg))
