"""The whole-pipeline benchmark's PNG: throughput of each stage, latency to searchable and
consumer lag over time, from the time series of the report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib

# No display: the benchmark runs headless.
matplotlib.use("Agg")

import matplotlib.pyplot as plt


def plot(series: dict[str, Any], path: Path, title: str) -> None:
    """Three panels sharing the time axis: events/s by stage, marker latency (p50 and max per
    second), and lag by consumer group."""
    figure, (throughput, latency, lag) = plt.subplots(3, 1, figsize=(11, 10), sharex=True)
    for stage, points in series["throughput"].items():
        throughput.plot([p[0] for p in points], [p[1] for p in points], label=stage)
    throughput.axhline(series["target_events_per_s"], color="grey", linestyle=":", label="target")
    throughput.set_ylabel("events/s")
    throughput.legend(loc="upper right", fontsize="small")
    throughput.set_title(title)

    points = series["latency"]
    seconds = [p["at_s"] for p in points]
    latency.plot(seconds, [p["p50_s"] for p in points], label="p50 of the second")
    latency.plot(seconds, [p["max_s"] for p in points], label="max of the second")
    latency.axhline(series["target_p99_s"], color="grey", linestyle=":", label="p99 target")
    latency.set_ylabel("send to searchable (s)")
    latency.legend(loc="upper right", fontsize="small")

    for group, group_points in series["lag"].items():
        lag.plot([p[0] for p in group_points], [p[1] for p in group_points], label=group)
    lag.set_ylabel("consumer lag (records)")
    lag.set_xlabel("seconds since the load began")
    lag.legend(loc="upper right", fontsize="small")
    for axes in (throughput, latency, lag):
        axes.axvline(series["load_seconds"], color="black", linewidth=0.8, linestyle="--")
        axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)
