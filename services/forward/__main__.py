"""`furrow forward`: every configured destination reads `good` in a consumer group of its own and
forwards what passes its filter to its target.

One process, one task and one consumer group per destination: a destination that is slow or down
holds up only its own reading and commits (its group lags, the others go on), and one process
keeps the supervisor, compose and the metrics port as they are for the other services. They share
a core; a destination that needs one of its own runs in a process of its own with only it
configured.
"""

from __future__ import annotations

import asyncio
import math
import os
from collections.abc import Callable
from pathlib import Path

from prometheus_client import Gauge

from libs.config import ConfigError, load_config
from libs.consumer import serve_sources
from libs.kafka import KafkaSink, KafkaSource
from libs.log import configure_logging
from services.forward.config import ForwardConfig
from services.forward.forwarder import Forwarder, destination_forwarder
from services.forward.targets import Target, target_for

LAG = Gauge(
    "furrow_forward_lag_records",
    "Records of good the destination's consumer group has not committed",
    ["destination"],
)


async def serve(config: ForwardConfig, secrets: dict[str, str | None]) -> None:
    bad_sink = KafkaSink(config.kafka)
    sources: list[KafkaSource] = []
    targets: list[Target] = []
    forwarders: list[Forwarder] = []
    for destination in config.destinations:
        source = KafkaSource(config.kafka, [config.topics.good], destination.consumer_group)
        target = target_for(destination, secrets[destination.name], config.kafka)
        forwarders.append(
            destination_forwarder(
                destination, target, bad_sink=bad_sink, bad_topic=config.topics.bad
            )
        )
        LAG.labels(destination.name).set_function(_lag_of(source))
        sources.append(source)
        targets.append(target)

    async def forward() -> None:
        for target in targets:
            await target.start()
        try:
            async with asyncio.TaskGroup() as destinations:
                for forwarder, source in zip(forwarders, sources, strict=True):
                    destinations.create_task(forwarder.run(source))
        finally:
            for target in targets:
                await target.stop()

    def health_problem() -> str | None:
        for destination, source in zip(config.destinations, sources, strict=True):
            if (problem := source.health_problem()) is not None:
                return f"destination {destination.name}: {problem}"
        return bad_sink.health_problem()

    await serve_sources(
        sources,
        [bad_sink],
        forward,
        health_host=config.health_host,
        health_port=config.health_port,
        health_problem=health_problem,
    )


def _lag_of(source: KafkaSource) -> Callable[[], float]:
    def lag() -> float:
        measured = source.lag()
        return math.nan if measured is None else float(measured)

    return lag


def run(config_path: Path | None) -> None:
    config = load_config(ForwardConfig, "forward", path=config_path)
    if not config.destinations:
        raise ConfigError("no destination configured: add [[forward.destinations]] (README)")
    # Read once, here: the secrets live in the environment, never in the file or the logs.
    secrets = {d.name: d.secret(os.environ) for d in config.destinations}
    configure_logging("forward", config.logging)
    asyncio.run(serve(config, secrets))
