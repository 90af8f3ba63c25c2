"""The whole pipeline on this machine: tracker traffic into a collector, one enricher, the good
and bad sinks, into Elasticsearch, with Kafka and Elasticsearch on the same box.

Everything runs on ports (handed out by the system), topics, consumer groups and aliases of its
own, against the Kafka and Elasticsearch already running; topics, indices and templates are deleted
afterwards. For FURROW_BENCH_SECONDS (60) a load generator sends the mix of `bench.pipeline_mix` at
FURROW_BENCH_EVENTS_PER_S (3,000) over many keep-alive connections, plus a marker event every
100 ms whose time from send to searchable (with the sinks' default refresh interval) is the
latency. Every second the processes' CPU and RSS, the consumer groups' lag and each stage's
counters are sampled. Once the load ends, the pipeline drains, and every event answered 200 must be
exactly one document in `good` or `bad`.

Before the measured run come discarded ones of FURROW_BENCH_WARMUP_SECONDS (60), on topics and
aliases of their own, until the JIT compilers of Kafka and Elasticsearch have settled: they
compile their hot paths while they run, and a node just started took more than twice the CPU per
document at first (measured: Elasticsearch 372 us per document in its first 40,000, 165 us after
300,000). What an operator's long-running pipeline does is the warm one.

Writes the measurements into `bench/report.json`, the time series into
`bench/pipeline_series.json` and a plot of them into `bench/pipeline.png`.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, fields
from pathlib import Path

import httpx
import orjson
import uvloop

from bench.latency import JvmTimes, compiling_shares
from bench.pipeline_accounting import Accounting
from bench.pipeline_load import TrackerLoad
from bench.pipeline_mix import TrackerMix, schemas
from bench.pipeline_plot import plot
from bench.pipeline_results import (
    PART,
    TARGET_EVENTS_PER_S,
    PipelineRun,
    measurements,
    time_series,
)
from bench.pipeline_sampler import (
    ConsumerGroup,
    Sampler,
    ServiceCounter,
    cpu_seconds,
    jit_cpu_seconds,
    listening_pid,
)
from bench.report import Measurement
from bench.servers import scratch_topics
from devstack import elasticsearch, kafka
from devstack.process import free_ports, run_dir
from devstack.registry import running_registry
from services.sinks.config import SinkConfig
from services.sinks.mappings import template_name
from tests.integration.processes import Service, start_service

HERE = Path(__file__).resolve().parent
SERIES = HERE / "pipeline_series.json"
PLOT = HERE / "pipeline.png"
SUPER_KEY = "bench-pipeline-super-key"
CONNECTIONS = 64
PARTITIONS = 2
# After the load: how long the pipeline may take to drain, and to make no progress at all.
DRAIN_TIMEOUT_S = 180.0
DRAIN_STALL_S = 30.0
# Warm-up runs are repeated, up to this many, until the JIT compilers of Kafka and Elasticsearch
# took less than this share of their JVM's CPU in one: an Elasticsearch just started spent about
# 100 s of CPU in its compiler threads over its first ten minutes under this load, and each run
# until it was done found it slower.
MAX_WARM_UPS = 6
JIT_SETTLED = 0.05


@dataclass(frozen=True)
class Ports:
    """Where one run's registry listens, and each service's HTTP port (health and metrics)."""

    collector: int
    registry: int
    enrich_health: int
    good_sink_health: int
    bad_sink_health: int

    @classmethod
    def unused(cls) -> Ports:
        """Ports the system hands out: a bench run never meets another run's services."""
        return cls(*free_ports(len(fields(cls))))


@dataclass(frozen=True)
class Settings:
    seconds: float
    events_per_s: float
    tag: str
    warm_up_seconds: float = 0.0

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] = os.environ) -> Settings:
        return cls(
            seconds=float(environ.get("FURROW_BENCH_SECONDS", "60")),
            events_per_s=float(environ.get("FURROW_BENCH_EVENTS_PER_S", str(TARGET_EVENTS_PER_S))),
            tag=uuid.uuid4().hex[:8],
            warm_up_seconds=float(environ.get("FURROW_BENCH_WARMUP_SECONDS", "60")),
        )

    def warm_up(self) -> Settings:
        """The discarded run before this one: as long as the warm-up, on names of its own."""
        return Settings(self.warm_up_seconds, self.events_per_s, uuid.uuid4().hex[:8])

    def alias(self, role: str) -> str:
        return f"bench-{self.tag}-{role}"

    def group(self, role: str) -> str:
        return f"bench-{self.tag}-{role}"


def run() -> list[Measurement]:
    kafka.start()
    elasticsearch.start()
    settings = Settings.from_environment()
    jvms = _server_pids()
    if settings.warm_up_seconds > 0:
        _warm_up(settings, jvms)
    print(
        f"{settings.seconds:.0f} s at {settings.events_per_s:,.0f} events/s, "
        f"{CONNECTIONS} connections",
        flush=True,
    )
    before = _jvm_times(jvms)
    result = run_pipeline(settings)
    compiling = compiling_shares(before, _jvm_times(jvms))
    print(result.accounting.describe(), flush=True)
    series = time_series(result)
    SERIES.write_text(orjson.dumps(series, option=orjson.OPT_INDENT_2).decode() + "\n")
    plot(series, PLOT, f"Furrow pipeline, {settings.events_per_s:,.0f} events/s offered")
    print(f"time series: {SERIES}\nplot: {PLOT}", flush=True)
    return measurements(result, series) + [
        Measurement(
            PART,
            f"JIT compiling, {name}",
            100 * share,
            "% of its CPU",
            note=f"while the load ran; the warm-up goes on until this is under {JIT_SETTLED:.0%}",
        )
        for name, share in compiling.items()
    ]


def _warm_up(settings: Settings, jvms: Mapping[str, int]) -> None:
    """Discarded runs until neither JVM is still compiling its hot paths."""
    for number in range(1, MAX_WARM_UPS + 1):
        print(f"warm-up {number}, discarded: {settings.warm_up_seconds:.0f} s", flush=True)
        before = _jvm_times(jvms)
        print(run_pipeline(settings.warm_up()).accounting.describe(), flush=True)
        compiling = compiling_shares(before, _jvm_times(jvms))
        print(
            "JIT compiling: "
            + ", ".join(f"{share:.0%} of {name}'s CPU" for name, share in compiling.items()),
            flush=True,
        )
        if max(compiling.values()) < JIT_SETTLED:
            return
    print(f"still compiling after {MAX_WARM_UPS} warm-up runs: measuring anyway", flush=True)


def _jvm_times(jvms: Mapping[str, int]) -> dict[str, JvmTimes]:
    return {name: JvmTimes(cpu_seconds(pid), jit_cpu_seconds(pid)) for name, pid in jvms.items()}


def _server_pids() -> dict[str, int]:
    """The processes of Kafka and Elasticsearch, whose share of the machine is reported beside
    the services started here."""
    return {
        "kafka": _pid_on(int(kafka.address().rsplit(":", 1)[1])),
        "elasticsearch": _pid_on(int(elasticsearch.address().rsplit(":", 1)[1])),
    }


def run_pipeline(settings: Settings) -> PipelineRun:
    """Start everything, load it, drain it, count, and clean up."""
    ports = Ports.unused()
    with ExitStack() as stack:
        topics = stack.enter_context(scratch_topics("raw", "good", "bad", partitions=PARTITIONS))
        stack.enter_context(_aliases_removed([settings.alias("good"), settings.alias("bad")]))
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="furrow-bench-")))
        registry_url = stack.enter_context(
            running_registry(
                ports.registry,
                {
                    "FURROW_REGISTRY_SUPER_KEY": SUPER_KEY,
                    "FURROW_REGISTRY_DATABASE_URL": f"sqlite:///{scratch / 'registry.db'}",
                    "FURROW_LOGGING_LEVEL": "WARNING",
                },
                run_dir() / "bench-pipeline-registry.log",
            )
        )
        _push_schemas(registry_url)
        services = stack.enter_context(_services(settings, ports, topics, registry_url))
        processes = {name: service.pid for name, service in services.items()}
        processes["registry"] = _pid_on(ports.registry)
        processes.update(_server_pids())
        processes["load generator"] = os.getpid()
        # uvloop's event loop costs the load generator less CPU per request than asyncio's.
        return uvloop.run(_measure(settings, ports, topics, processes))
    raise AssertionError("unreachable: the block returns")


async def _measure(
    settings: Settings, ports: Ports, topics: Mapping[str, str], processes: Mapping[str, int]
) -> PipelineRun:
    loop = asyncio.get_running_loop()
    load = TrackerLoad(
        collector_url=f"http://127.0.0.1:{ports.collector}",
        good_search_url=f"{elasticsearch.address()}/{settings.alias('good')}/_search",
        mix=TrackerMix(seed=17),
        events_per_s=settings.events_per_s,
        connections=CONNECTIONS,
    )
    sampler = Sampler(
        processes=processes,
        groups=[
            ConsumerGroup("enricher", settings.group("enrich"), topics["raw"], PARTITIONS),
            ConsumerGroup("good sink", settings.group("sink-good"), topics["good"], PARTITIONS),
            ConsumerGroup("bad sink", settings.group("sink-bad"), topics["bad"], PARTITIONS),
        ],
        counters=_counters(ports),
        aliases={"good": settings.alias("good"), "bad": settings.alias("bad")},
        bootstrap_servers=kafka.address(),
        elasticsearch_url=elasticsearch.address(),
    )
    load.prepare(settings.seconds)
    load_before = _load_average()
    stop = asyncio.Event()
    started_at = loop.time() + 0.5
    background = [
        asyncio.create_task(sampler.run(started_at, stop)),
        asyncio.create_task(load.poll(started_at, stop)),
    ]
    await load.send(started_at, settings.seconds)
    load_seconds = loop.time() - started_at
    print(f"load sent in {load_seconds:.1f} s: {dict(load.answers.statuses)}", flush=True)
    drained = await _drain(sampler, load, loop.time() + DRAIN_TIMEOUT_S)
    stop.set()
    await asyncio.gather(*background)
    good, bad = _final_counts(settings)
    accounting = Accounting(
        accepted_events=load.answers.accepted_events,
        accepted_invalid=load.answers.accepted_invalid,
        good_documents=good,
        bad_documents=bad,
        refused_events=load.answers.refused_events,
    )
    return PipelineRun(
        settings.events_per_s,
        CONNECTIONS,
        # The sinks' default (the services start with a clean FURROW_* environment): what users
        # get, and what bounds the latency from below.
        SinkConfig.model_fields["refresh_interval"].default,
        load.answers,
        load.markers,
        sampler.samples,
        load_seconds,
        drained,
        accounting,
        (load_before, _load_average()),
    )


def _load_average() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


async def _drain(sampler: Sampler, load: TrackerLoad, deadline: float) -> bool:
    """Wait until everything answered 200 is searchable and every marker was seen; False when
    the deadline passes or the count stops moving for DRAIN_STALL_S."""
    loop = asyncio.get_running_loop()
    expected = load.answers.accepted_events
    last_count, moved_at = -1, loop.time()
    while loop.time() < deadline:
        await asyncio.sleep(0.5)
        if not sampler.samples:
            continue
        count = sum(sampler.samples[-1].searchable.values())
        if count >= expected and not load.markers.pending:
            return True
        if count != last_count:
            last_count, moved_at = count, loop.time()
        elif loop.time() - moved_at > DRAIN_STALL_S:
            break
    print(f"not drained: {last_count:,} of {expected:,} searchable", flush=True)
    return False


def _final_counts(settings: Settings) -> tuple[int, int]:
    """Documents in the good and bad aliases, after a refresh so none is still invisible."""
    counts = []
    with httpx.Client(base_url=elasticsearch.address(), timeout=30) as client:
        for role in ("good", "bad"):
            alias = settings.alias(role)
            client.post(f"/{alias}/_refresh", params={"ignore_unavailable": "true"})
            answer = client.get(f"/{alias}/_count", params={"ignore_unavailable": "true"})
            counts.append(int(answer.json().get("count", 0)))
    return counts[0], counts[1]


def _counters(ports: Ports) -> list[ServiceCounter]:
    def metrics(port: int) -> str:
        return f"http://127.0.0.1:{port}/metrics"

    # What the services wait for (names as in pipeline_results.WAITED): metrics port, histogram.
    waits = {
        "collector Kafka write": (ports.collector, "furrow_collector_kafka_write_seconds"),
        "good sink bulk": (ports.good_sink_health, "furrow_sink_bulk_seconds"),
    }
    sink_documents = ("furrow_sink_documents_indexed_total", "furrow_sink_bad_rows_total")
    return [
        ServiceCounter("collector", metrics(ports.collector), ("furrow_collector_events_total",)),
        ServiceCounter(
            "enricher",
            metrics(ports.enrich_health),
            ("furrow_enrich_good_events_total", "furrow_enrich_bad_rows_total"),
        ),
        ServiceCounter("good sink", metrics(ports.good_sink_health), sink_documents),
        ServiceCounter("bad sink", metrics(ports.bad_sink_health), sink_documents),
        # Where time goes: Kafka's acknowledgements of the collector's writes, and the good
        # sink's bulks (Elasticsearch's answers, retries included).
        *(
            ServiceCounter(f"{waited} {total}", metrics(port), (f"{metric}_{total}",))
            for waited, (port, metric) in waits.items()
            for total in ("sum", "count")
        ),
    ]


def _pid_on(port: int) -> int:
    pid = listening_pid(port)
    if pid is None:
        raise RuntimeError(f"nothing listens on port {port}")
    return pid


def _push_schemas(registry_url: str) -> None:
    with httpx.Client(base_url=registry_url, headers={"apikey": SUPER_KEY}, timeout=10) as client:
        for path, schema in schemas().items():
            answer = client.put(f"/api/schemas/{path}", params={"isPublic": "true"}, json=schema)
            if answer.status_code != 201:
                raise RuntimeError(f"the registry refused {path}: {answer.text}")


@contextmanager
def _services(
    settings: Settings, ports: Ports, topics: Mapping[str, str], registry_url: str
) -> Iterator[dict[str, Service]]:
    """The collector, one enricher and the good and bad sinks, healthy; stopped (SIGTERM,
    drained) in the order data flows when the block ends."""
    shared = {
        "FURROW_KAFKA_BOOTSTRAP_SERVERS": kafka.address(),
        "FURROW_ELASTICSEARCH_URL": elasticsearch.address(),
        "FURROW_TOPICS_RAW": topics["raw"],
        "FURROW_TOPICS_GOOD": topics["good"],
        "FURROW_TOPICS_BAD": topics["bad"],
        "FURROW_LOGGING_LEVEL": "WARNING",
    }
    sinks = {
        kind: {
            f"FURROW_SINK_{kind.upper()}_INDEX": settings.alias(kind),
            f"FURROW_SINK_{kind.upper()}_GROUP_ID": settings.group(f"sink-{kind}"),
            f"FURROW_SINK_{kind.upper()}_HEALTH_PORT": str(port),
        }
        for kind, port in (("good", ports.good_sink_health), ("bad", ports.bad_sink_health))
    }
    plan: list[tuple[str, list[str], dict[str, str], int]] = [
        ("good sink", ["sink", "good"], sinks["good"], ports.good_sink_health),
        ("bad sink", ["sink", "bad"], sinks["bad"], ports.bad_sink_health),
        (
            "enricher",
            ["enrich"],
            {
                "FURROW_ENRICH_GROUP_ID": settings.group("enrich"),
                "FURROW_ENRICH_HEALTH_PORT": str(ports.enrich_health),
                "FURROW_ENRICH_REGISTRY_URL": registry_url,
                "FURROW_ENRICH_REGISTRY_API_KEY": SUPER_KEY,
            },
            ports.enrich_health,
        ),
        (
            "collector",
            ["collector"],
            {"FURROW_COLLECTOR_PORT": str(ports.collector)},
            ports.collector,
        ),
    ]
    started: dict[str, Service] = {}
    try:
        for name, args, environment, port in plan:
            log = run_dir() / f"bench-pipeline-{name.replace(' ', '-')}.log"
            started[name] = start_service(
                args, {**shared, **environment}, health_port=port, log=log
            )
        yield started
    finally:
        for name in reversed(list(started)):
            started[name].stop()


@contextmanager
def _aliases_removed(aliases: Sequence[str]) -> Iterator[None]:
    """Delete what the sinks make for `aliases` (daily indices, templates) when the block ends."""
    try:
        yield
    finally:
        with httpx.Client(base_url=elasticsearch.address(), timeout=30) as client:
            for alias in aliases:
                found = client.get(
                    f"/{alias}-2*",
                    params={"ignore_unavailable": "true", "allow_no_indices": "true"},
                ).json()
                if found:
                    client.delete(f"/{','.join(found)}")
                client.delete(f"/_index_template/{template_name(alias)}")
