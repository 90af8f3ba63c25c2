"""The console's pipeline view: each component's health, consumer lag, rates per stage and the
time from collector to indexed, read from the services, Kafka and the good sink's metrics."""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict, dataclass
from typing import Any

import httpx

from libs.config import KafkaSettings
from services.console.lag import consumer_lags
from services.console.latency import (
    Buckets,
    IndexedLatencySource,
    collector_to_indexed,
    histogram_buckets,
)
from services.console.rates import MIN_INTERVAL_S, OffsetsSample, offsets_sample, rates
from services.endpoints import ConsumerGroup, Endpoint

HEALTH_TIMEOUT_S = 2.0


@dataclass(frozen=True)
class PipelineLook:
    """What the pipeline view saw, for the next one to tell rates and recent latencies from."""

    offsets: OffsetsSample
    # None: the good sink's metrics did not answer.
    latency: Buckets | None


class PipelineView:
    def __init__(
        self,
        *,
        components: list[Endpoint],
        kafka: KafkaSettings,
        groups: list[ConsumerGroup],
        indexed_latency: IndexedLatencySource,
    ) -> None:
        self._components = components
        self._kafka = kafka
        self._groups = groups
        self._indexed_latency = indexed_latency
        # Kept until a look at least MIN_INTERVAL_S later replaces it, so that rates are never
        # divided by a moment, however often the view is asked for.
        self._earlier: PipelineLook | None = None

    async def look(self) -> dict[str, Any]:
        """Each component's health, as its own `/health` answers it; each consumer group's lag
        per partition; records per second written to each topic and committed by each group;
        and percentiles of the time from collector to indexed, as the good sink measures it."""
        async with httpx.AsyncClient(timeout=HEALTH_TIMEOUT_S) as client:
            states, (lags, kafka_problem), (latency, latency_problem) = await asyncio.gather(
                asyncio.gather(
                    *(_health(client, component.health_url) for component in self._components)
                ),
                consumer_lags(self._kafka, self._groups),
                _latency_buckets(client, self._indexed_latency.metrics_url),
            )
        now = PipelineLook(offsets_sample(lags, time.monotonic()), latency)
        earlier = self._earlier
        if earlier is None or now.offsets.taken - earlier.offsets.taken >= MIN_INTERVAL_S:
            self._earlier = now
        found = rates(earlier.offsets if earlier is not None else None, now.offsets)
        indexed = {
            "metrics_url": self._indexed_latency.metrics_url,
            "refresh_interval": self._indexed_latency.refresh_interval,
            "problem": latency_problem,
        }
        if latency is not None:
            indexed |= collector_to_indexed(
                earlier.latency if earlier is not None else None,
                latency,
                now.offsets.taken - earlier.offsets.taken if earlier is not None else None,
            )
        return {
            "lags": [
                {
                    **group,
                    "written_per_s": found.written.get(group["topic"]),
                    "committed_per_s": found.committed.get(group["group_id"]),
                }
                for group in lags
            ],
            "kafka_problem": kafka_problem,
            "rates": {"unit": "records/s", "over_s": found.interval_s, "note": found.note},
            "collector_to_indexed": indexed,
            "components": [
                {**asdict(component), "up": up, "says": says}
                for component, (up, says) in zip(self._components, states, strict=True)
            ],
        }


async def _health(client: httpx.AsyncClient, url: str) -> tuple[bool, str]:
    """Whether `url` answers 200, and what it says (or why it does not answer)."""
    try:
        answer = await client.get(url)
    except httpx.HTTPError as error:
        return False, f"no answer: {error!r}"
    return answer.status_code == 200, f"{answer.status_code} {answer.text[:300].strip()}"


async def _latency_buckets(
    client: httpx.AsyncClient, url: str
) -> tuple[Buckets | None, str | None]:
    """The good sink's collector-to-indexed histogram, or why it could not be read."""
    try:
        answer = await client.get(url)
        answer.raise_for_status()
        return histogram_buckets(answer.text), None
    except httpx.HTTPError as error:
        return None, f"{url} did not answer: {error!r}"
    except ValueError as error:
        return None, f"{url} is not in the Prometheus text format: {error}"
