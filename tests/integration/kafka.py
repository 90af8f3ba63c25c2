"""Kafka chores shared by the integration tests."""

from __future__ import annotations

from collections.abc import Iterable

from libs.config import KafkaSettings
from libs.kafka import KafkaSink
from libs.pipes import Message


async def produce(bootstrap: str, topic: str, values: Iterable[bytes]) -> None:
    sink = KafkaSink(KafkaSettings(bootstrap_servers=bootstrap))
    await sink.start()
    try:
        await sink.write([Message(topic, value) for value in values])
    finally:
        await sink.stop()
