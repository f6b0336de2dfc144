"""Plot home-timeline latency against followees from ``timelines.py``'s JSON: one line per
strategy and shard count, p50 solid and p99 dashed, one panel per mode and concurrency.

    uv run --group bench python benchmarks/plot.py benchmarks/results/timelines.json \
        benchmarks/results/timelines.png
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no screen
import matplotlib.pyplot as plt

COLOURS = {"fan-in": "#d1495b", "fan-out": "#00798c"}
MARKERS = {1: "o", 2: "v", 4: "s", 8: "^"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("output", type=Path, help="a .png or .svg path")
    args = parser.parse_args()
    rows = json.loads(args.results.read_text())["rows"]
    panels = sorted({(r["mode"], r["concurrency"]) for r in rows})
    figure, axes = plt.subplots(
        1, len(panels), figsize=(5 * len(panels), 4.5), squeeze=False, sharey=False
    )
    for axis, (mode, concurrency) in zip(axes[0], panels, strict=True):
        chosen = [r for r in rows if r["mode"] == mode and r["concurrency"] == concurrency]
        for strategy in sorted({r["strategy"] for r in chosen}):
            for shards in sorted({r["shards"] for r in chosen}):
                line = sorted(
                    (r for r in chosen if r["strategy"] == strategy and r["shards"] == shards),
                    key=lambda r: r["followees"],
                )
                if not line:
                    continue
                x = [r["followees"] for r in line]
                style = {"color": COLOURS.get(strategy), "marker": MARKERS.get(shards, "x")}
                axis.plot(
                    x, [r["p50_ms"] for r in line], label=f"{strategy}, {shards} shards", **style
                )
                axis.plot(x, [r["p99_ms"] for r in line], linestyle="--", alpha=0.5, **style)
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xlabel("accounts followed")
        axis.set_ylabel("latency, ms (p50 solid, p99 dashed)")
        axis.set_title(f"{mode}, concurrency {concurrency}")
        axis.grid(True, which="both", alpha=0.3)
    axes[0][0].legend(fontsize="small")
    figure.suptitle("Twoorl home timeline: fan-in vs fan-out (PostgreSQL shards, Redis)")
    figure.tight_layout()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(args.output, dpi=110)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
