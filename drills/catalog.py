"""The drills: for each, the fault injected mid-stream and how it is mended."""

from __future__ import annotations

import asyncio
import functools
import subprocess
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from devstack.launcher import clean_environment, furrow_argv
from devstack.process import REPO_ROOT
from drills import servers
from drills.load import Load
from drills.pipeline import Pipeline, Recovery
from drills.traffic import LATE


@dataclass(frozen=True)
class Timings:
    """How long each phase lasts, in seconds."""

    warmup_s: float = 10.0  # load before the fault
    settle_s: float = 10.0  # load after the pipeline is healthy again
    kafka_down_s: float = 30.0
    # Longer than a consumer's session timeout and than the drills' max.poll.interval.ms.
    kafka_long_down_s: float = 120.0
    # The flapping broker: stopped for this long, then up for this long, three times.
    kafka_flap_s: float = 10.0
    elasticsearch_down_s: float = 60.0
    registry_down_s: float = 10.0
    # The forwarding destination refuses connections for the first half, answers 503 the second.
    forward_down_s: float = 30.0
    recover_timeout_s: float = 120.0
    drain_timeout_s: float = 180.0
    # The consumers' session timeout: how long a killed member keeps its partitions, and how
    # long an outage lasts before every member has to join its group again (Kafka's default).
    session_timeout_s: float = 45.0
    # How long a consumer asks in vain past its stall before it is replaced (the default).
    stall_exit_after_s: float = 60.0


KAFKA_FLAPS = 3


@dataclass
class Fault:
    """What a drill did, for its report: how the pipeline recovered once the fault was lifted."""

    recovery: Recovery
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Scene:
    pipeline: Pipeline
    load: Load
    timings: Timings


@dataclass(frozen=True)
class Drill:
    name: str
    summary: str
    inject: Callable[[Scene], Awaitable[Fault]]
    # Stops servers of its own: never run against shared ones.
    needs_own_servers: bool = False
    # A server's outage must be ridden out by every component, without a restart.
    restart_allowed: bool = True
    # The pipeline also archives `good` to files, counted against the good index.
    archives: bool = False
    # The pipeline also forwards `good` to the drill's receiver, counted against the good index.
    forwards: bool = False


async def _killed_and_restarted(scene: Scene, component: str) -> Fault:
    target = scene.pipeline.components[component]
    await asyncio.to_thread(target.kill)
    # The restart is part of the recovery: the harness plays the supervisor.
    recovery = await scene.pipeline.wait_healthy(scene.timings.recover_timeout_s)
    recovery.revived.remove(component)
    return Fault(recovery)


def _kill(component: str) -> Callable[[Scene], Awaitable[Fault]]:
    async def inject(scene: Scene) -> Fault:
        return await _killed_and_restarted(scene, component)

    return inject


async def _server_down(
    scene: Scene, stop: Callable[[], None], start: Callable[[], None], down_s: float
) -> Fault:
    await asyncio.to_thread(stop)
    await asyncio.sleep(down_s)
    lifted = time.monotonic()
    await asyncio.to_thread(start)
    recovery = await scene.pipeline.wait_healthy(scene.timings.recover_timeout_s)
    if recovery.seconds is not None:
        # From the moment the server was started again, its own start-up included.
        recovery.seconds = time.monotonic() - lifted
        return Fault(recovery)
    # Not recovered on its own: restarted by hand, as an operator would, so that the accounting
    # still says whether anything answered 200 was lost. The drill fails all the same.
    restarted = await asyncio.to_thread(scene.pipeline.restart, recovery.unhealthy)
    after = await scene.pipeline.wait_healthy(scene.timings.recover_timeout_s)
    note = f"restarted by the drill: {', '.join(restarted)}; healthy after that: "
    return Fault(recovery, [note + ("yes" if after.seconds is not None else "no")])


async def _kafka_down(scene: Scene) -> Fault:
    return await _server_down(
        scene, servers.stop_kafka, servers.start_kafka, scene.timings.kafka_down_s
    )


async def _kafka_down_long(scene: Scene) -> Fault:
    return await _server_down(
        scene, servers.stop_kafka, servers.start_kafka, scene.timings.kafka_long_down_s
    )


async def _kafka_flapping(scene: Scene) -> Fault:
    """Stopped and started KAFKA_FLAPS times, `kafka_flap_s` apart; the last start is the one
    the pipeline recovers from."""
    flap_s = scene.timings.kafka_flap_s
    for _ in range(KAFKA_FLAPS - 1):
        await asyncio.to_thread(servers.stop_kafka)
        await asyncio.sleep(flap_s)
        await asyncio.to_thread(servers.start_kafka)
        await asyncio.sleep(flap_s)
    return await _server_down(scene, servers.stop_kafka, servers.start_kafka, flap_s)


async def _elasticsearch_down(scene: Scene) -> Fault:
    return await _server_down(
        scene,
        servers.stop_elasticsearch,
        servers.start_elasticsearch,
        scene.timings.elasticsearch_down_s,
    )


async def _forward_down(scene: Scene) -> Fault:
    """The forwarder's destination refuses connections, then answers 503, then takes events
    again; recovered once the forwarder is healthy after that."""
    receiver = scene.pipeline.receiver
    assert receiver is not None, "forward-down drills a pipeline that forwards"
    half_s = scene.timings.forward_down_s / 2
    await asyncio.to_thread(receiver.refuse)
    await asyncio.sleep(half_s)
    return await _server_down(
        scene, functools.partial(receiver.serve, unavailable=True), receiver.serve, half_s
    )


async def _registry_down(scene: Scene) -> Fault:
    """Events of a schema no enricher has cached arrive while the registry is down: they become
    `schema_violations` rows with a resolution error, and `furrow replay` puts them into `good`
    once the registry is back."""
    pipeline, registry = scene.pipeline, scene.pipeline.components["registry"]
    await asyncio.to_thread(registry.stop)
    scene.load.late = True
    await asyncio.sleep(scene.timings.registry_down_s)
    scene.load.late = False
    lifted = time.monotonic()
    await asyncio.to_thread(registry.start)
    recovery = await pipeline.wait_healthy(scene.timings.recover_timeout_s)
    if recovery.seconds is not None:
        recovery.seconds = time.monotonic() - lifted
    # Every late event has been enriched (to `bad`, or to `good` if the registry was back
    # first) before replay takes `bad` up to its current end.
    await pipeline.wait_enriched(scene.timings.drain_timeout_s)
    schema = LATE.removeprefix("iglu:").rsplit("/", 2)[0]
    replay = await asyncio.to_thread(
        subprocess.run,
        [
            *furrow_argv("replay"),
            *("--type", "schema_violations", "--schema", schema, "--no-progress"),
        ],
        env=clean_environment(pipeline.replay_settings()),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    summary = replay.stdout.strip().splitlines()[-1:] or [replay.stderr.strip()]
    fault = Fault(recovery, notes=[f"furrow replay: {summary[0]}"])
    if replay.returncode != 0:
        fault.notes.append(f"furrow replay exited {replay.returncode}: {replay.stderr.strip()}")
    return fault


DRILLS = {
    drill.name: drill
    for drill in (
        Drill("collector-kill", "kill -9 of the collector, restarted", _kill("collector")),
        Drill("enrich-kill", "kill -9 of the enricher, restarted", _kill("enrich")),
        Drill("sink-good-kill", "kill -9 of the good sink, restarted", _kill("sink_good")),
        Drill("sink-bad-kill", "kill -9 of the bad sink, restarted", _kill("sink_bad")),
        Drill(
            "archive-kill",
            "kill -9 of the archive sink, restarted: every good event once in its files",
            _kill("archive"),
            archives=True,
        ),
        Drill(
            "kafka-down",
            "Kafka stopped, then started",
            _kafka_down,
            needs_own_servers=True,
            restart_allowed=False,
        ),
        Drill(
            "kafka-down-long",
            "Kafka stopped past the session timeout and max.poll.interval.ms, then started",
            _kafka_down_long,
            needs_own_servers=True,
            restart_allowed=False,
        ),
        Drill(
            "kafka-flapping",
            f"Kafka stopped and started {KAFKA_FLAPS} times",
            _kafka_flapping,
            needs_own_servers=True,
            restart_allowed=False,
        ),
        Drill(
            "elasticsearch-down",
            "Elasticsearch stopped, then started",
            _elasticsearch_down,
            needs_own_servers=True,
            restart_allowed=False,
        ),
        Drill(
            "forward-down",
            "forwarding destination refusing connections, then answering 503, then back",
            _forward_down,
            restart_allowed=False,
            forwards=True,
        ),
        Drill(
            "registry-down",
            "registry stopped, unseen schema's events sent, restarted, replayed",
            _registry_down,
        ),
    )
}
