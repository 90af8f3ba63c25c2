"""The I/O edge of `furrow replay`: read the `bad` topic from its beginning to the end offsets it
has when the replay starts, rebuild the chosen bad rows (`services.replay.rebuild`) and write
them to `raw`, where the enricher reads them as any other request."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TextIO

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import KafkaError
from tqdm import tqdm

from libs.config import KafkaSettings, Settings, TopicSettings, load_config
from libs.formats.collector_payload import encode
from libs.kafka import KafkaSink
from libs.kafka_security import KafkaSetupError, admin_client, aiokafka_options, check_connection
from libs.pipes import Message, SinkError
from services.replay.rebuild import (
    NOT_REPLAYABLE,
    REPLAYABLE_TYPES,
    NotReplayable,
    Selection,
    rebuild,
)

_WRITE_BATCH = 500
_POLL_TIMEOUT_MS = 1000


class ReplayError(RuntimeError):
    """Replay could not read `bad` or write `raw`; the message says which and why."""


class ReplayConfig(Settings):
    kafka: KafkaSettings = KafkaSettings()
    topics: TopicSettings = TopicSettings()


@dataclass
class Summary:
    read: int = 0
    matched: int = 0
    replayed: int = 0
    not_replayable: Counter[str] = field(default_factory=Counter)

    def lines(self, *, dry_run: bool) -> list[str]:
        verb = "replayable" if dry_run else "replayed"
        lines = [
            f"read {self.read}, matched {self.matched}, {verb} {self.replayed}, "
            f"not replayable {sum(self.not_replayable.values())}"
        ]
        lines.extend(f"  {count} {reason}" for reason, count in self.not_replayable.most_common())
        return lines


def run(arguments: argparse.Namespace, out: TextIO | None = None) -> int:
    """`furrow replay` as parsed by `services.cli`: prints the summary and returns 0; 2 for bad
    arguments, 1 when Kafka failed (rows already written stay written: replaying them again
    is harmless for events, whose ids keep the sinks idempotent)."""
    out = out or sys.stdout
    if arguments.type not in REPLAYABLE_TYPES:
        reason = NOT_REPLAYABLE.get(arguments.type, "no such bad-row type")
        print(
            f"furrow replay: {arguments.type} cannot be replayed: {reason}; "
            f"replayable: {', '.join(REPLAYABLE_TYPES)}",
            file=sys.stderr,
        )
        return 2
    try:
        since = None if arguments.since is None else parse_since(arguments.since)
    except ValueError:
        print(
            f"furrow replay: --since {arguments.since!r} is not an ISO 8601 time", file=sys.stderr
        )
        return 2
    config = load_config(ReplayConfig, "replay", path=arguments.config)
    selection = Selection(arguments.type, arguments.schema, since)
    try:
        summary = asyncio.run(
            replay(config, selection, dry_run=arguments.dry_run, progress=arguments.progress)
        )
    except (ReplayError, KafkaError, KafkaSetupError, SinkError) as error:
        print(f"furrow replay: {error}", file=sys.stderr)
        return 1
    for line in summary.lines(dry_run=arguments.dry_run):
        print(line, file=out)
    return 0


async def replay(
    config: ReplayConfig, selection: Selection, *, dry_run: bool, progress: bool
) -> Summary:
    """Replay the rows of `selection` in `bad` up to its current end; the summary of it."""
    summary = Summary()
    await asyncio.to_thread(check_connection, config.kafka)
    consumer = AIOKafkaConsumer(
        **aiokafka_options(config.kafka),
        client_id=f"{config.kafka.client_id}-replay",
        enable_auto_commit=False,
    )
    sink = KafkaSink(config.kafka)
    await consumer.start()
    if not dry_run:
        await sink.start()
    try:
        partitions = [TopicPartition(config.topics.bad, p) for p in await _partitions(config)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        starts = await consumer.beginning_offsets(partitions)
        ends = await consumer.end_offsets(partitions)
        pending = {tp for tp in partitions if ends[tp] > starts[tp]}
        total = sum(ends[tp] - starts[tp] for tp in partitions)
        with tqdm(
            total=total, desc="replaying", unit="row", disable=not progress, file=sys.stderr
        ) as bar:
            while pending:
                polled = await consumer.getmany(*pending, timeout_ms=_POLL_TIMEOUT_MS)
                messages: list[Message] = []
                for position, records in polled.items():
                    for record in records:
                        if record.offset >= ends[position]:
                            break
                        summary.read += 1
                        bar.update(1)
                        messages.extend(_replayed(record.value, selection, summary, config))
                    if await consumer.position(position) >= ends[position]:
                        pending.discard(position)
                for start in range(0, len(messages), _WRITE_BATCH):
                    if not dry_run:
                        await sink.write(messages[start : start + _WRITE_BATCH])
                    summary.replayed += len(messages[start : start + _WRITE_BATCH])
    finally:
        await consumer.stop()
        if not dry_run:
            await sink.stop()
    return summary


def _replayed(
    value: bytes | None, selection: Selection, summary: Summary, config: ReplayConfig
) -> list[Message]:
    try:
        row = orjson.loads(value or b"")
    except orjson.JSONDecodeError:
        return []
    if not isinstance(row, dict) or not selection.matches(row):
        return []
    summary.matched += 1
    rebuilt = rebuild(row)
    if isinstance(rebuilt, NotReplayable):
        summary.not_replayable[rebuilt.reason] += 1
        return []
    return [Message(config.topics.raw, encode(rebuilt))]


def parse_since(value: str) -> datetime:
    """`--since`: an ISO 8601 time, UTC when it names no zone."""
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


async def _partitions(config: ReplayConfig) -> list[int]:
    admin = admin_client(config.kafka)
    await admin.start()
    try:
        (description,) = await admin.describe_topics([config.topics.bad])
    finally:
        await admin.close()
    if description["error_code"] != 0 or not description["partitions"]:
        raise ReplayError(
            f"topic {config.topics.bad} does not exist at {config.kafka.bootstrap_servers}"
        )
    return sorted(partition["partition"] for partition in description["partitions"])
