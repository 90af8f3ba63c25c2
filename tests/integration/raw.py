"""Reading what the collector wrote: the tail of a topic, and the tracker events in a payload."""

from __future__ import annotations

import asyncio
import base64
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from devstack.topics import partitions_of
from libs.formats.collector_payload import CollectorPayload, decode


class TopicTail:
    """The records appended to a topic after this was entered (no consumer group involved)."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self._consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
        self._bootstrap = bootstrap
        self._topic = topic

    async def __aenter__(self) -> TopicTail:
        partitions = [
            TopicPartition(self._topic, p)
            for p in await partitions_of(self._bootstrap, self._topic)
        ]
        await self._consumer.start()
        self._consumer.assign(partitions)
        await self._consumer.seek_to_end(*partitions)
        for partition in partitions:
            # position() resolves the lazy seek now, before anything new is written.
            await self._consumer.position(partition)
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._consumer.stop()

    async def fetch(self, wait_s: float = 0.5) -> list[bytes]:
        """What arrived since the last read, waiting up to `wait_s` for something to."""
        batches = await self._consumer.getmany(timeout_ms=int(wait_s * 1000))
        return [record.value for records in batches.values() for record in records]

    async def read(self, enough: Any, timeout_s: float = 30.0) -> list[bytes]:
        """Values read until `enough(values)` is true."""
        values: list[bytes] = []
        async with asyncio.timeout(timeout_s):
            while not enough(values):
                batches = await self._consumer.getmany(timeout_ms=500)
                values.extend(record.value for records in batches.values() for record in records)
        return values


def tracker_events(payload: CollectorPayload) -> list[dict[str, str]]:
    """The tracker-protocol events of one raw record: its query string for GET, each element of
    the payload_data body for POST."""
    if payload.body is None:
        return [dict(parse_qsl(payload.querystring or ""))]
    document = orjson.loads(payload.body)
    assert document["schema"].startswith(
        "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-"
    )
    return list(document["data"])


def events_in(records: list[bytes]) -> list[dict[str, str]]:
    return [event for record in records for event in tracker_events(decode(record))]


def self_describing(event: dict[str, str], plain: str, encoded: str) -> Any:
    """The JSON in `plain` (ue_pr, co) or the URL-safe base64 in `encoded` (ue_px, cx)."""
    if plain in event:
        return orjson.loads(event[plain])
    value = event[encoded]
    return orjson.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
