"""One drill from start to verdict: pipeline up, load on, fault injected and mended, load off,
pipeline drained, then every event answered 200 looked for in Elasticsearch."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson

from devstack.launcher import LaunchError
from drills.accounting import (
    ArchiveTally,
    ForwardTally,
    Tally,
    archive_tally,
    forward_tally,
    tally,
)
from drills.catalog import Drill, Fault, Scene, Timings
from drills.load import Load
from drills.pipeline import Pipeline, Ports
from drills.servers import Servers

logger = logging.getLogger("drills")
# A bad row in a note is cut to this; the JSON report holds it whole.
MAX_NOTE_CHARS = 1500


@dataclass
class DrillResult:
    name: str
    summary: str
    tally: Tally | None = None
    recovery_s: float | None = None
    drain_s: float | None = None
    notes: list[str] = field(default_factory=list)
    error: str | None = None
    # Components whose process exited during the fault and was started again.
    restarted: list[str] = field(default_factory=list)
    restart_allowed: bool = True
    # Drills that archive `good` too: the files against the good index.
    archive: ArchiveTally | None = None
    # Drills that forward `good` too: what the receiver got against the good index.
    forward: ForwardTally | None = None

    @property
    def passed(self) -> bool:
        return (
            self.error is None
            and (self.archive is None or self.archive.passed)
            and (self.forward is None or self.forward.passed)
            and self.recovery_s is not None
            and self.drain_s is not None
            and self.tally is not None
            and self.tally.passed
            and (self.restart_allowed or not self.restarted)
        )


async def run_drill(
    drill: Drill, servers: Servers, ports: Ports, timings: Timings, work_dir: Path
) -> DrillResult:
    """Run `drill` on a fresh pipeline; the pipeline's processes are stopped and its topics and
    indices deleted afterwards, its logs kept in `work_dir`."""
    result = DrillResult(drill.name, drill.summary, restart_allowed=drill.restart_allowed)
    if drill.needs_own_servers and not servers.own:
        result.error = "stops Kafka or Elasticsearch: runs only on the drills' own servers"
        return result
    pipeline = Pipeline(
        servers,
        ports,
        work_dir / drill.name,
        session_timeout_s=timings.session_timeout_s,
        stall_exit_after_s=timings.stall_exit_after_s,
        archives=drill.archives,
        forwards=drill.forwards,
    )
    try:
        await pipeline.start()
        load = Load(pipeline.collector_url)
        sending = asyncio.create_task(load.run())
        try:
            await asyncio.sleep(timings.warmup_s)
            logger.info("%s: injecting the fault", drill.name)
            fault: Fault = await drill.inject(Scene(pipeline, load, timings))
            _record(result, fault)
            await asyncio.sleep(timings.settle_s)
        finally:
            load.stop()
            await sending
        try:
            result.drain_s = await pipeline.drain(timings.drain_timeout_s)
        except TimeoutError:
            # Counted all the same: what is missing is then in the table.
            result.notes.append(f"not drained within {timings.drain_timeout_s:.0f} s")
        good, bad = await pipeline.stored()
        result.tally = tally(load.sent, good, bad)
        result.notes.extend(_out_of_place(result.tally))
        if pipeline.archive_dir is not None:
            result.archive = archive_tally(good, await asyncio.to_thread(pipeline.archived))
            result.notes.append(f"archive: {result.archive}")
        if pipeline.receiver is not None:
            result.forward = forward_tally(
                good,
                list(pipeline.receiver.received),
                forwarding_errors=await pipeline.forwarding_errors(),
                unavailable_answers=pipeline.receiver.unavailable_answers,
            )
            result.notes.append(f"forward: {result.forward}")
    except (LaunchError, TimeoutError, OSError, httpx.HTTPError) as error:
        result.error = f"{type(error).__name__}: {error}"
    finally:
        await asyncio.to_thread(_stop_quietly, pipeline, result)
        await pipeline.cleanup()
    return result


def _record(result: DrillResult, fault: Fault) -> None:
    recovery = fault.recovery
    result.recovery_s = recovery.seconds
    result.restarted.extend(recovery.revived)
    result.notes.extend(
        f"{name} exited during the fault and was started again, as `furrow up` would"
        + ("" if result.restart_allowed else " (this drill allows no restart)")
        for name in recovery.revived
    )
    if recovery.seconds is None:
        result.notes.append(f"not recovered; unhealthy: {', '.join(recovery.unhealthy)}")
        result.notes.extend(f"{name} said: {said}" for name, said in recovery.said.items())
        logger.info("%s: not recovered (%s)", result.name, ", ".join(recovery.unhealthy))
    else:
        logger.info("%s: healthy again after %.1f s", result.name, recovery.seconds)
    result.notes.extend(fault.notes)


def _out_of_place(counted: Tally) -> list[str]:
    """Notes on the events stored twice or in the wrong index: their bad rows by shape, and a
    few of them with their rows (the whole rows are in the JSON report)."""
    notes = [
        f"out of place: {count} bad rows {shape}"
        for shape, count in sorted(counted.offending_shapes.items())
    ]
    for offender in counted.offenders:
        rows = orjson.dumps(offender.bad_rows).decode()
        notes.append(
            f"out of place: event {offender.event_id} (belongs in {offender.belongs_in or 'none'},"
            f" {offender.in_good} in good), bad rows: {rows[:MAX_NOTE_CHARS]}"
        )
    return notes


def _stop_quietly(pipeline: Pipeline, result: DrillResult) -> None:
    try:
        pipeline.stop()
    except LaunchError as error:
        result.notes.append(str(error))
