"""What a run of the whole-pipeline benchmark comes to: its time series, for the JSON file and
the plot, and its measurements, for the report. Pure: computed from what was sent, answered,
seen and sampled."""

from __future__ import annotations

import itertools
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bench.latency import (
    by_second,
    cpu_percent,
    drained_after,
    interval_means,
    percentile,
    rates,
    spaced,
    steady_rate,
)
from bench.pipeline_accounting import Accounting
from bench.pipeline_load import POLL_INTERVAL_S, Answers, Markers
from bench.pipeline_sampler import Sample
from bench.report import Measurement

PART = "pipeline"
TARGET_EVENTS_PER_S = 3000
TARGET_P99_S = 2.0
# Stage rates are fitted over the load's time from this fraction of it: before, the first bulks
# are still filling and nothing is searchable yet.
STEADY_FROM = 1 / 6
# Seconds per point of the throughput plot.
THROUGHPUT_WINDOW_S = 5.0
# Histograms of what the services wait for, sampled as "<name> sum" and "<name> count".
WAITED = ("collector Kafka write", "good sink bulk")
# Servers shared with other users of the machine, whose CPU is not the benchmark's alone.
SHARED_SERVERS = frozenset({"kafka", "elasticsearch"})


@dataclass(frozen=True)
class PipelineRun:
    events_per_s: float  # offered
    connections: int
    refresh_interval: str
    answers: Answers
    markers: Markers
    samples: list[Sample]
    load_seconds: float
    drained: bool
    accounting: Accounting
    load_averages: tuple[str, str]  # the 1-minute load average before and after the load


def time_series(result: PipelineRun) -> dict[str, Any]:
    """Everything sampled, by second since the load began, for the JSON file and the plot."""
    samples = result.samples
    # Stages count in bursts (a batch, a bulk, a refresh): rates over a few seconds read better.
    answered = [(0.0, 0.0)]
    for second, (_, events) in sorted(result.answers.per_second.items()):
        answered.append((second + 1.0, answered[-1][1] + events))
    throughput: dict[str, list[tuple[float, float]]] = {
        "collector (answered 200)": rates(spaced(answered, THROUGHPUT_WINDOW_S))
    }
    for stage in ("enricher", "good sink", "bad sink"):
        counted = [(s.at_s, s.counters.get(stage, 0.0)) for s in samples]
        throughput[stage] = rates(spaced(counted, THROUGHPUT_WINDOW_S))
    searchable = [(s.at_s, float(sum(s.searchable.values()))) for s in samples]
    throughput["searchable (good + bad)"] = rates(spaced(searchable, THROUGHPUT_WINDOW_S))
    latency = [
        {
            "at_s": second,
            "p50_s": percentile(values, 50),
            "max_s": max(values),
            "markers": len(values),
        }
        for second, values in by_second(result.markers.latencies())
    ]
    names = sorted({name for s in samples for name in s.cpu_seconds})
    cpu = {
        name: [
            (
                later.at_s,
                cpu_percent(
                    earlier.cpu_seconds[name], later.cpu_seconds[name], later.at_s - earlier.at_s
                ),
            )
            for earlier, later in itertools.pairwise(samples)
            if name in earlier.cpu_seconds
            and name in later.cpu_seconds
            and later.at_s > earlier.at_s
        ]
        for name in names
    }
    machine = [
        (
            later.at_s,
            100.0
            * (later.machine_ticks[0] - earlier.machine_ticks[0])
            / max(1, later.machine_ticks[1] - earlier.machine_ticks[1]),
        )
        for earlier, later in itertools.pairwise(samples)
    ]
    return {
        "load_seconds": result.load_seconds,
        "target_events_per_s": result.events_per_s,
        "target_p99_s": TARGET_P99_S,
        "refresh_interval": result.refresh_interval,
        "throughput": throughput,
        "latency": latency,
        "lag": {role: [(s.at_s, s.lag[role]) for s in samples] for role in samples[0].lag},
        "cpu_percent": cpu,
        "machine_busy_percent": machine,
        "rss_mb": {
            name: [(s.at_s, s.rss_bytes[name] / 2**20) for s in samples if name in s.rss_bytes]
            for name in names
        },
        "searchable": [(s.at_s, s.searchable) for s in samples],
        "mean_wait_s": {
            waited: interval_means(
                [(s.at_s, s.counters.get(f"{waited} sum", 0.0)) for s in samples],
                [(s.at_s, s.counters.get(f"{waited} count", 0.0)) for s in samples],
            )
            for waited in WAITED
        },
    }


def measurements(result: PipelineRun, series: Mapping[str, Any]) -> list[Measurement]:
    answers, samples, seconds = result.answers, result.samples, result.load_seconds
    offered = f"{result.events_per_s:,.0f} events/s offered for {seconds:.0f} s"

    def stage_rate(points: list[tuple[float, float]]) -> float:
        try:
            return steady_rate(points, seconds * STEADY_FROM, seconds)
        except ValueError:
            return 0.0

    def counted(stage: str) -> list[tuple[float, float]]:
        return [(s.at_s, s.counters.get(stage, 0.0)) for s in samples]

    searchable = [(s.at_s, float(sum(s.searchable.values()))) for s in samples]
    drained_note = (
        f"all {answers.accepted_events:,} answered events searchable"
        if result.drained
        else f"NOT drained: {int(searchable[-1][1]):,} of {answers.accepted_events:,} searchable"
    )
    latencies = [latency for _, latency in result.markers.latencies()] or [float("inf")]
    markers_note = (
        f"{len(result.markers.found_at)} of {len(result.markers.sent_at)} markers seen, "
        f"refresh_interval {result.refresh_interval}, polled every {POLL_INTERVAL_S * 1000:.0f} ms"
    )
    found = [
        Measurement(
            PART,
            "collector requests answered 200",
            answers.accepted_requests / seconds,
            "req/s",
            note=f"{result.connections} keep-alive connections; answers {dict(answers.statuses)}",
        ),
        Measurement(
            PART, "collector events", answers.accepted_events / seconds, "events/s", note=offered
        ),
        Measurement(
            PART,
            "enricher",
            stage_rate(counted("enricher")),
            "events/s",
            note="good events + bad rows written a second while the load ran",
        ),
        Measurement(PART, "good sink", stage_rate(counted("good sink")), "docs/s"),
        Measurement(PART, "bad sink", stage_rate(counted("bad sink")), "docs/s"),
        Measurement(
            PART,
            "end to end, sustained",
            stage_rate(searchable),
            "events/s",
            target=f">= {TARGET_EVENTS_PER_S}",
            note=f"documents in good + bad searchable a second while the load ran; {drained_note}",
        ),
        Measurement(
            PART,
            "everything searchable after the load ended",
            drained_after(searchable, seconds),
            "s",
            note=f"{answers.accepted_events / seconds:,.0f} events/s answered over {seconds:.0f} s",
        ),
    ]
    for percent in (50, 95, 99):
        found.append(
            Measurement(
                PART,
                f"send to searchable p{percent}",
                percentile(latencies, percent),
                "s",
                target=f"<= {TARGET_P99_S:g}" if percent == 99 else None,
                note=markers_note if percent == 99 else "",
            )
        )
    found.append(
        Measurement(
            PART,
            "events answered 200 without exactly one document",
            float(result.accounting.discrepancy),
            "events",
            target="<= 0",
            note=result.accounting.describe(),
        )
    )
    in_load = [s for s in samples if 0 <= s.at_s <= seconds]
    for name, points in series["cpu_percent"].items():
        during = [share for at_s, share in points if 0 < at_s <= seconds]
        if len(in_load) >= 2 and name in in_load[0].cpu_seconds and name in in_load[-1].cpu_seconds:
            mean = cpu_percent(
                in_load[0].cpu_seconds[name],
                in_load[-1].cpu_seconds[name],
                in_load[-1].at_s - in_load[0].at_s,
            )
            found.append(
                Measurement(
                    PART,
                    f"CPU {name}",
                    mean,
                    "% of a core",
                    note=f"mean over the load, peak second {max(during, default=0):.0f}%",
                )
            )
        peak_rss = max((mb for _, mb in series["rss_mb"].get(name, [])), default=0.0)
        found.append(Measurement(PART, f"peak RSS {name}", peak_rss, "MB"))
    # CPU time per event over the whole run, drain included: unlike CPU shares, it does not
    # shrink when other processes take the cores (contention still inflates it somewhat), so
    # it says what the target would take.
    per_event_us = {
        name: (samples[-1].cpu_seconds[name] - samples[0].cpu_seconds[name])
        / max(1, answers.accepted_events)
        * 1e6
        for name in series["cpu_percent"]
        if name in samples[0].cpu_seconds and name in samples[-1].cpu_seconds
    }
    for name, micros in per_event_us.items():
        shared = " (includes other users' traffic)" if name in SHARED_SERVERS else ""
        found.append(
            Measurement(PART, f"CPU per event, {name}", micros, "us", note=f"whole run{shared}")
        )
    pipeline_us = sum(us for name, us in per_event_us.items() if name != "load generator")
    found.append(
        Measurement(
            PART,
            f"cores the pipeline needs for {TARGET_EVENTS_PER_S:,} events/s",
            pipeline_us * TARGET_EVENTS_PER_S / 1e6,
            "cores",
            note=f"{pipeline_us:.0f} us CPU per event over every process but the load generator",
        )
    )
    ends = (in_load[0], in_load[-1])
    for waited in WAITED:
        means = interval_means(
            [(s.at_s, s.counters.get(f"{waited} sum", 0.0)) for s in ends],
            [(s.at_s, s.counters.get(f"{waited} count", 0.0)) for s in ends],
        )
        for _, mean_s in means:
            found.append(
                Measurement(PART, f"mean {waited}", mean_s * 1000, "ms", note="over the load")
            )
    busy = [share for at_s, share in series["machine_busy_percent"] if 0 < at_s <= seconds]
    found.append(
        Measurement(
            PART,
            "machine busy",
            sum(busy) / max(1, len(busy)),
            "% of all cores",
            note=f"{os.cpu_count()} cores, mean over the load, other users included; 1-minute "
            f"load average {result.load_averages[0]} before, {result.load_averages[1]} after",
        )
    )
    for role, points in series["lag"].items():
        found.append(
            Measurement(PART, f"max lag, {role}", float(max(lag for _, lag in points)), "records")
        )
    return found
