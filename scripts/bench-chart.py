#!/usr/bin/env python3
"""Draws the benchmark chart (PNG) from apoxy-bench's JSON result file.

Usage: scripts/bench-chart.py benchmark-results.json docs/benchmark.png
Needs matplotlib (scripts/bench.sh installs it into .venv).
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main() -> None:
    source, target = sys.argv[1], sys.argv[2]
    with open(source) as f:
        data = json.load(f)
    results = {r["name"]: r for r in data["results"]}
    levels = sorted({int(n.split("c=")[1].split()[0]) for n in results if n.startswith("raw sqlite insert c=")})

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.5))
    width = 0.2
    series = [
        ("raw sqlite insert", "raw insert"),
        ("api create", "API create"),
        ("raw sqlite update", "raw update"),
        ("api update (PUT)", "API update (PUT)"),
    ]
    for offset, (prefix, label) in enumerate(series):
        values = [results.get(f"{prefix} c={c}", {}).get("throughput_per_s", 0) for c in levels]
        left.bar([i + (offset - 1.5) * width for i in range(len(levels))], values, width, label=label)
    left.set_xticks(range(len(levels)), [f"c={c}" for c in levels])
    left.set_ylabel("operations / s")
    left.set_title("Durable writes: API over HTTP vs raw SQLite (same run)")
    left.legend()

    names = [n for n in results if n.startswith("api ") and "c=" in n and "p99 target" not in n]
    names += [n for n in results if n.startswith("api list") or n.startswith("watch")]
    p50 = [results[n]["p50_ms"] for n in names]
    p99 = [results[n]["p99_ms"] for n in names]
    y = range(len(names))
    right.barh([i + 0.2 for i in y], p99, 0.4, label="p99")
    right.barh([i - 0.2 for i in y], p50, 0.4, label="p50")
    right.set_yticks(list(y), names, fontsize=7)
    right.set_xscale("log")
    right.set_xlabel("latency (ms, log scale)")
    right.set_title("Latency per operation")
    right.legend()
    fig.tight_layout()
    fig.savefig(target, dpi=110)


if __name__ == "__main__":
    main()
