"""The sinks part of `make bench`: the good sink's documents/s into Elasticsearch beside a plain
bulk-indexing floor of the same documents, and the log listener's lines/s into Kafka.

The floor sends the sink's own documents, already encoded, in bulks of the same size with the same
concurrency, to an index with the same template: what Elasticsearch takes at all. The sink reads
the same events as TSV from Kafka, converts, indexes and commits. They take turns for a few rounds
(each into a fresh index, deleted before the next run) after a warm-up run of each; the ratio
is the median of the rounds' ratios.
The sink is also run with bulks acknowledged at once, without Elasticsearch: its own capacity,
which says whether it or Elasticsearch is the limit.
"""

from __future__ import annotations

import asyncio
import socket
import statistics
import threading
import time
import uuid
from collections.abc import Sequence
from typing import Any

import orjson
from elasticsearch import AsyncElasticsearch

from bench.forward import forwarder_rate
from bench.report import Measurement
from bench.timed import Timed
from devstack import elasticsearch, kafka
from devstack.indices import delete_alias_and_indices
from devstack.launcher import ChildProcess, clean_environment, furrow_argv
from devstack.process import free_ports, run_dir
from devstack.topics import create_topics, delete_topics, end_offsets, offsets_consumer
from libs.batching import BatchPolicy
from libs.config import ElasticsearchSettings, KafkaSettings
from libs.kafka import KafkaSink, KafkaSource
from libs.memory import freeze_long_lived_objects
from libs.pipes import Message, Record
from services.sinks.bulks import BulkItem, bulk_item
from services.sinks.config import SinkConfig
from services.sinks.documents import Document, good_document
from services.sinks.elastic import BulkIndexer, Rejection, elastic_client, install_template
from services.sinks.loader import Indexer, KafkaBadRows, Loader
from tests.enriched_events import enriched_lines

PART = "sinks"
EVENTS = 40_000
ROUNDS = 5
LOG_CONNECTIONS = 4
LOG_LINES_PER_CONNECTION = 150_000


def run() -> list[Measurement]:
    kafka.start()
    elasticsearch.start()
    floors, sinks, (alone, cpu_us) = asyncio.run(GoodSinkBench().measure())
    # Each round's sink against the floor measured just before it: this machine's speed drifts
    # by a third over minutes, which a ratio of medians taken from different rounds would carry.
    ratio = statistics.median(sink / floor for floor, sink in zip(floors, sinks, strict=True))
    floor, sink = statistics.median(floors), statistics.median(sinks)
    lines = list(enriched_lines(EVENTS, seed=11))
    forwarded = forwarder_rate(KafkaSettings(bootstrap_servers=kafka.address()), lines)
    lines_per_s, peak_mib = _listener_into_kafka()
    return [
        Measurement(PART, "bulk floor (same documents)", floor, "docs/s", note=f"{EVENTS} events"),
        Measurement(PART, "good sink into Elasticsearch", sink, "docs/s", note=f"{EVENTS} events"),
        Measurement(
            PART,
            "good sink / floor",
            ratio,
            "x floor",
            target=">= 0.8",
            note=f"median of {ROUNDS} rounds' ratios (ratio of the medians: {sink / floor:.2f})",
        ),
        Measurement(
            PART,
            "good sink, bulks acknowledged at once",
            alone,
            "docs/s",
            note=f"no Elasticsearch: the sink's own limit, {cpu_us:.0f} us CPU per document",
        ),
        Measurement(
            PART,
            "forwarder to an HTTP receiver",
            forwarded,
            "events/s",
            target=">= 20000",
            note=f"one process, {EVENTS} events, receiver answering at once (good sink alone: "
            f"{alone:,.0f} docs/s)",
        ),
        Measurement(
            PART,
            "log listener into Kafka",
            lines_per_s,
            "lines/s",
            target=">= 50000",
            note=f"one process, {LOG_CONNECTIONS} connections, peak RSS {peak_mib:.0f} MiB",
        ),
    ]


class _Acknowledging:
    """An indexer that takes every document at once, for the sink's own capacity."""

    alias = "none"

    async def index(self, items: Sequence[BulkItem]) -> list[Rejection]:
        await asyncio.sleep(0)
        return []


class GoodSinkBench:
    def __init__(self) -> None:
        self.tag = uuid.uuid4().hex[:8]
        self.kafka = KafkaSettings(bootstrap_servers=kafka.address())
        self.good_topic, self.bad_topic = f"bench-{self.tag}-good", f"bench-{self.tag}-bad"
        self.config = SinkConfig(
            index="unused",
            group_id="unused",
            health_port=0,
            elasticsearch=ElasticsearchSettings(url=elasticsearch.address()),
        )
        self.lines = list(enriched_lines(EVENTS, seed=11))
        documents = [
            good_document(Record("bench", 0, offset, line))
            for offset, line in enumerate(self.lines)
        ]
        size = self.config.bulk_max_documents
        self.bulks = [documents[start : start + size] for start in range(0, EVENTS, size)]
        self.runs = 0
        # The floor's documents stay for the whole run; in a sink's own process they would not
        # exist, so they are kept out of the collector's walks, as `furrow sink` keeps its own
        # long-lived objects.
        freeze_long_lived_objects()

    async def measure(self) -> tuple[list[float], list[float], tuple[float, float]]:
        """Each round's floor and sink docs/s, and the sink's docs/s and CPU microseconds per
        document without Elasticsearch."""
        client = elastic_client(self.config)
        topics = [self.good_topic, self.bad_topic]
        await create_topics(self.kafka.bootstrap_servers, topics, partitions=2)
        writer = KafkaSink(self.kafka)
        await writer.start()
        try:
            await writer.write([Message(self.good_topic, line) for line in self.lines])
            # Elasticsearch compiles its indexing code over the first tens of thousands of
            # documents: after a warm-up of a few bulks the first round's floor was half the next.
            await self._floor(client, self.bulks)
            await self._sink(client, writer)
            floors, sinks = [], []
            for number in range(1, ROUNDS + 1):
                floors.append(await self._floor(client, self.bulks))
                sinks.append(await self._sink(client, writer))
                print(
                    f"round {number}: floor {floors[-1]:,.0f}, sink {sinks[-1]:,.0f} docs/s,"
                    f" {sinks[-1] / floors[-1]:.2f} x"
                )
            cpu_started = time.process_time()
            alone = await self._sink(None, writer)
            cpu_us = (time.process_time() - cpu_started) / EVENTS * 1e6
            return floors, sinks, (alone, cpu_us)
        finally:
            await writer.stop()
            await delete_topics(self.kafka.bootstrap_servers, topics)
            await client.close()

    async def _fresh_alias(self, client: AsyncElasticsearch) -> str:
        self.runs += 1
        alias = f"bench-{self.tag}-{self.runs}"
        await install_template(client, "good", self.config.model_copy(update={"index": alias}))
        return alias

    async def _floor(self, client: AsyncElasticsearch, bulks: list[list[Document]]) -> float:
        alias = await self._fresh_alias(client)
        bodies = [b"".join(bulk_item(alias, document).lines for document in bulk) for bulk in bulks]
        slots = asyncio.Semaphore(self.config.max_concurrent_bulks)

        async def send(body: bytes) -> None:
            async with slots:
                response = await client.perform_request(
                    "POST",
                    "/_bulk",
                    params={"filter_path": "errors"},
                    headers={"accept": "application/json", "content-type": "application/x-ndjson"},
                    body=body,
                )
                assert not response["errors"], "the floor's documents must all be accepted"

        started = time.perf_counter()
        await asyncio.gather(*(send(body) for body in bodies))
        elapsed = time.perf_counter() - started
        await delete_alias_and_indices(client, alias)
        return sum(len(bulk) for bulk in bulks) / elapsed

    async def _sink(self, client: AsyncElasticsearch | None, bad_rows: KafkaSink) -> float:
        """The sink's rate into a fresh alias, or with no Elasticsearch when `client` is None."""
        indexer: Indexer = _Acknowledging()
        if client is not None:
            alias = await self._fresh_alias(client)
            indexer = BulkIndexer(
                client,
                alias,
                max_backoff_s=self.config.max_backoff_s,
                settings=self.config.elasticsearch,
            )
        config = self.config
        limits = BatchPolicy(
            max_bytes=config.bulk_max_bytes,
            max_age_s=config.flush_interval_s,
            max_count=config.bulk_max_documents,
        )
        loader = Loader(
            "good",
            indexer,
            KafkaBadRows(bad_rows, self.bad_topic),
            limits,
            max_concurrent=config.max_concurrent_bulks,
        )
        # A new consumer group each run: every run reads all the events.
        group = f"bench-{self.tag}-{uuid.uuid4().hex[:8]}"
        kafka_source = KafkaSource(self.kafka, [self.good_topic], group)
        source = Timed(kafka_source, EVENTS)
        await kafka_source.start()
        try:
            await loader.run(source)
        finally:
            await kafka_source.stop()
        assert source.first_batch_at is not None
        rate = EVENTS / (time.perf_counter() - source.first_batch_at)
        if client is not None:
            await delete_alias_and_indices(client, indexer.alias)
        return rate


def _log_line(number: int) -> bytes:
    entry: dict[str, Any] = {
        "@timestamp": "2026-11-23T11:00:00.000+01:00",
        "@version": "1",
        "message": f"order {number} handled in {number % 97} ms",
        "logger_name": "com.acme.shop.OrderController",
        "thread_name": f"http-nio-8080-exec-{number % 16}",
        "level": "INFO",
        "level_value": 20000,
        "requestId": f"req-{number}",
        "userId": f"user-{number % 1000}",
    }
    if number % 50 == 0:
        entry["level"], entry["level_value"] = "ERROR", 40000
        entry["stack_trace"] = "java.lang.IllegalStateException: payment declined\n" + "".join(
            f"\tat com.acme.shop.Payments.charge(Payments.java:{line})\n" for line in range(20)
        )
    return orjson.dumps(entry) + b"\n"


def _listener_into_kafka() -> tuple[float, float]:
    """Lines/s from sockets to acknowledged Kafka records, and the listener's peak RSS in MiB."""
    topic = f"bench-{uuid.uuid4().hex[:8]}-logs"
    asyncio.run(create_topics(kafka.address(), [topic], partitions=2))
    port, health_port = free_ports(2)
    environment = clean_environment(
        {
            "FURROW_KAFKA_BOOTSTRAP_SERVERS": kafka.address(),
            "FURROW_TOPICS_LOGS": topic,
            "FURROW_LOGS_PORT": str(port),
            "FURROW_LOGS_HEALTH_PORT": str(health_port),
        }
    )
    listener = ChildProcess(
        "the log listener",
        furrow_argv("logs"),
        environment,
        f"http://127.0.0.1:{health_port}/health",
        run_dir() / "bench-listener.log",
        start_timeout_s=30,
    )
    try:
        listener.start()
        payload = b"".join(_log_line(number) for number in range(LOG_LINES_PER_CONNECTION))
        total = LOG_CONNECTIONS * LOG_LINES_PER_CONNECTION
        senders = [
            threading.Thread(target=_send, args=(port, payload)) for _ in range(LOG_CONNECTIONS)
        ]
        started = time.perf_counter()
        for sender in senders:
            sender.start()
        while asyncio.run(_written(topic)) < total:
            time.sleep(0.1)
        elapsed = time.perf_counter() - started
        for sender in senders:
            sender.join()
        return total / elapsed, listener.memory_bytes(peak=True) / 2**20
    finally:
        listener.stop()
        asyncio.run(delete_topics(kafka.address(), [topic]))


def _send(port: int, payload: bytes) -> None:
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.sendall(payload)


async def _written(topic: str) -> int:
    async with offsets_consumer(kafka.address()) as consumer:
        return sum((await end_offsets(consumer, topic, (0, 1))).values())
