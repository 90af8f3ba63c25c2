"""One pipeline under drill: registry, collector, enricher and the good and bad sinks (and, for
some drills, the archive sink or the forwarder) as real processes on topics, aliases and consumer
groups of their own; and what it has stored."""

from __future__ import annotations

import asyncio
import gzip
import shutil
import tempfile
import time
import uuid
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import httpx
from aiokafka import TopicPartition
from elasticsearch import AsyncElasticsearch
from elasticsearch.helpers import async_scan

from devstack.indices import connected, delete_alias_and_indices, refreshed, searchable_count
from devstack.launcher import ChildProcess, answers, clean_environment, furrow_argv
from devstack.process import free_ports
from devstack.topics import (
    admin_client,
    committed_offsets,
    create_topics,
    delete_topics,
    end_offsets,
    offsets_consumer,
    wait_until_consumed,
)
from drills.accounting import BadRowEvent, events_of_bad_row
from drills.receiver import Receiver
from drills.servers import Servers
from drills.traffic import drill_schemas
from libs.formats import badrows
from libs.formats.enriched import FIELDS
from libs.formats.iglu import SchemaKey

SUPER_KEY = "drill-super-key"
PARTITIONS = 2
MAX_POLL_INTERVAL_MS = 60_000
EVENT_ID_COLUMN = [name for name, _ in FIELDS].index("event_id")
# A component's start: the registry migrates its database, a sink installs its templates.
START_TIMEOUT_S = 90.0


@dataclass(frozen=True)
class Ports:
    collector: int
    registry: int
    enrich_health: int
    sink_good_health: int
    sink_bad_health: int
    archive_health: int
    forward_health: int
    # Where the forwarder sends `good`: the drill's own HTTP receiver.
    receiver: int


def unused_ports() -> Ports:
    """Ports the system hands out, so that two runs of the drills never meet."""
    return Ports(*free_ports(len(fields(Ports))))


@dataclass
class Recovery:
    """How the pipeline came back: seconds until healthy (None: it did not), the components
    restarted because their process had exited, and those still unhealthy at the end."""

    seconds: float | None = None
    revived: list[str] = field(default_factory=list)
    unhealthy: list[str] = field(default_factory=list)
    # What each unhealthy component's health URL said at the end.
    said: dict[str, str] = field(default_factory=dict)


class Pipeline:
    """Components are started by `start()` and stopped (SIGTERM) by `stop()`; `cleanup()` then
    removes the topics and indices, which on shared servers belong to nobody else."""

    def __init__(
        self,
        servers: Servers,
        ports: Ports,
        work_dir: Path,
        *,
        session_timeout_s: float,
        stall_exit_after_s: float,
        archives: bool = False,
        forwards: bool = False,
    ) -> None:
        self.servers = servers
        self.ports = ports
        self.session_timeout_s = session_timeout_s
        self.stall_exit_after_s = stall_exit_after_s
        self.tag = f"drill-{uuid.uuid4().hex[:8]}"
        self.work_dir = work_dir
        self.topics = {kind: f"{self.tag}-{kind}" for kind in ("raw", "good", "bad")}
        self.aliases = {kind: f"{self.tag}-{kind}" for kind in ("good", "bad")}
        self.groups = {
            "enrich": f"{self.tag}-enrich",
            "sink_good": f"{self.tag}-sink-good",
            "sink_bad": f"{self.tag}-sink-bad",
            "archive": f"{self.tag}-archive",
            "forward": f"{self.tag}-forward",
        }
        # With `archives`, `good` is also archived to files here: a directory of this pipeline's
        # own, as the files of an earlier run in the same work directory would be counted too.
        self.archive_dir = work_dir / "archive" / self.tag if archives else None
        # With `forwards`, `furrow forward` also sends `good` to this receiver.
        self.receiver = Receiver(ports.receiver) if forwards else None
        self.collector_url = f"http://127.0.0.1:{ports.collector}"
        self.registry_url = f"http://127.0.0.1:{ports.registry}"
        work_dir.mkdir(parents=True, exist_ok=True)
        # A fresh database per pipeline, so the drill schemas are new to it.
        self.registry_database = Path(tempfile.mkdtemp(prefix=f"furrow-{self.tag}-")) / "reg.db"
        self.components = {
            component.name: component
            for component in (
                self._registry(),
                self._collector(),
                self._enricher(),
                self._sink("good", ports.sink_good_health),
                self._sink("bad", ports.sink_bad_health),
                *([self._archive(self.archive_dir)] if self.archive_dir is not None else []),
                *([self._forwarder(self.receiver)] if self.receiver is not None else []),
            )
        }

    async def start(self) -> None:
        await create_topics(
            self.servers.kafka_bootstrap, self.topics.values(), partitions=PARTITIONS
        )
        await asyncio.to_thread(self.components["registry"].start)
        await asyncio.to_thread(self._push_schemas)
        if self.receiver is not None:
            await asyncio.to_thread(self.receiver.serve)
        for name in ("archive", "forward", "sink_good", "sink_bad", "enrich", "collector"):
            if name in self.components:
                await asyncio.to_thread(self.components[name].start)

    def stop(self) -> None:
        for name in (
            "collector",
            "enrich",
            "sink_good",
            "sink_bad",
            "archive",
            "forward",
            "registry",
        ):
            if name in self.components:
                self.components[name].stop()
        if self.receiver is not None:
            self.receiver.stop()

    def unhealthy(self) -> list[str]:
        """The components not healthy now, and `collector/sink-health` while its last Kafka
        write failed."""
        names = [name for name, component in self.components.items() if not component.is_healthy()]
        if not answers(f"{self.collector_url}/sink-health"):
            names.append("collector/sink-health")
        return names

    def revive_exited(self) -> list[str]:
        """Start again every component whose process has exited, as `furrow up` would; the
        names of those restarted."""
        exited = [name for name, c in self.components.items() if not c.is_running()]
        for name in exited:
            self.components[name].start()
        return exited

    def restart(self, names: list[str]) -> list[str]:
        """Stop (SIGTERM) and start the named components, `collector/sink-health` naming the
        collector; the component names restarted."""
        components = sorted({name.split("/")[0] for name in names})
        for name in components:
            self.components[name].restart()
        return components

    async def wait_healthy(self, timeout_s: float) -> Recovery:
        """Poll until every component is healthy (restarting those that exited), for at most
        `timeout_s`."""
        started = time.monotonic()
        recovery = Recovery()
        while time.monotonic() - started < timeout_s:
            revived = await asyncio.to_thread(self.revive_exited)
            recovery.revived.extend(revived)
            recovery.unhealthy = await asyncio.to_thread(self.unhealthy)
            if not recovery.unhealthy:
                recovery.seconds = time.monotonic() - started
                return recovery
            await asyncio.sleep(0.5)
        for name in recovery.unhealthy:
            if (component := self.components.get(name)) is not None:
                recovery.said[name] = await asyncio.to_thread(component.health)
        return recovery

    def replay_settings(self) -> dict[str, str]:
        """The FURROW_* variables that point `furrow replay` at this pipeline."""
        return {
            "FURROW_KAFKA_BOOTSTRAP_SERVERS": self.servers.kafka_bootstrap,
            "FURROW_TOPICS_RAW": self.topics["raw"],
            "FURROW_TOPICS_BAD": self.topics["bad"],
        }

    async def offsets(self, group: str, topic: str) -> tuple[list[int], list[int]]:
        """The end offset of each partition of `topic`, and what `group` has committed of it."""
        bootstrap, partitions = self.servers.kafka_bootstrap, range(PARTITIONS)
        async with admin_client(bootstrap) as admin, offsets_consumer(bootstrap) as consumer:
            ends = await end_offsets(consumer, topic, partitions)
            committed = await committed_offsets(admin, group)
        done = [committed.get(TopicPartition(topic, p), 0) for p in partitions]
        return [ends[p] for p in partitions], done

    async def lag(self, group: str, topic: str) -> int:
        """Records of `topic` that `group` has not committed yet."""
        ends, committed = await self.offsets(group, topic)
        return sum(end - done for end, done in zip(ends, committed, strict=True))

    async def wait_enriched(self, timeout_s: float) -> None:
        """Return once the enricher has committed every raw record written before the call, so
        each one's output is in `good` or `bad`, even while the load goes on."""
        await wait_until_consumed(
            self.servers.kafka_bootstrap,
            self.groups["enrich"],
            self.topics["raw"],
            timeout_s=timeout_s,
        )

    async def drain(self, timeout_s: float) -> float:
        """Seconds until the enricher and both sinks have committed everything in their topics
        (so every event is indexed), checked twice in a row; TimeoutError past `timeout_s`."""
        started = time.monotonic()
        caught_up_once = False
        async with asyncio.timeout(timeout_s):
            while True:
                lags = [
                    await self.lag(self.groups["enrich"], self.topics["raw"]),
                    await self.lag(self.groups["sink_good"], self.topics["good"]),
                    await self.lag(self.groups["sink_bad"], self.topics["bad"]),
                ]
                if self.archive_dir is not None:
                    lags.append(await self.lag(self.groups["archive"], self.topics["good"]))
                if self.receiver is not None:
                    lags.append(await self.lag(self.groups["forward"], self.topics["good"]))
                if not any(lags):
                    if caught_up_once:
                        return time.monotonic() - started
                    caught_up_once = True
                else:
                    caught_up_once = False
                await asyncio.sleep(1.0)

    async def stored(self) -> tuple[list[str], list[BadRowEvent]]:
        """The event ids of every `good` document and the events of every `bad` row."""
        async with connected(self.servers.elasticsearch_url) as client:
            good = [
                hit["_id"] async for hit in self._every(client, self.aliases["good"], source=False)
            ]
            bad: list[BadRowEvent] = []
            async for hit in self._every(client, self.aliases["bad"], source=True):
                bad.extend(events_of_bad_row(hit["_source"]))
        return good, bad

    async def forwarding_errors(self) -> int:
        """How many `event_forwarding_error` rows the bad index holds."""
        async with connected(self.servers.elasticsearch_url) as client:
            return await searchable_count(
                client,
                self.aliases["bad"],
                query={"term": {"schema": badrows.EVENT_FORWARDING_ERROR}},
            )

    def archived(self) -> list[str]:
        """The event id of every enriched event in the archive's files."""
        assert self.archive_dir is not None
        return [
            line.split(b"\t")[EVENT_ID_COLUMN].decode()
            for path in self.archive_dir.rglob("*.tsv.gz")
            for line in gzip.decompress(path.read_bytes()).splitlines()
        ]

    async def cleanup(self) -> None:
        """Delete this pipeline's topics, indices, index templates, registry database and
        archive files."""
        shutil.rmtree(self.registry_database.parent, ignore_errors=True)
        if self.archive_dir is not None:
            shutil.rmtree(self.archive_dir, ignore_errors=True)
        await delete_topics(self.servers.kafka_bootstrap, self.topics.values())
        async with connected(self.servers.elasticsearch_url) as client:
            for alias in self.aliases.values():
                await delete_alias_and_indices(client, alias)

    @staticmethod
    async def _every(client: AsyncElasticsearch, alias: str, *, source: bool) -> Any:
        if not await refreshed(client, alias):
            return
        async for hit in async_scan(
            client, index=alias, query={"query": {"match_all": {}}, "_source": source}
        ):
            yield hit

    def _push_schemas(self) -> None:
        with httpx.Client(
            base_url=f"{self.registry_url}/api", headers={"apikey": SUPER_KEY}, timeout=30
        ) as registry:
            for uri, schema in drill_schemas().items():
                key = SchemaKey.parse_uri(uri)
                response = registry.put(
                    f"/schemas/{key.path}",
                    params={"isPublic": "true"},
                    json=schema,
                )
                response.raise_for_status()

    def _component(
        self, name: str, args: list[str], settings: dict[str, str], health_url: str
    ) -> ChildProcess:
        """`furrow <args>` with `settings` as its only FURROW_* variables: what a drill kills,
        stops and starts again."""
        return ChildProcess(
            name,
            furrow_argv(*args),
            clean_environment(settings),
            health_url,
            self.work_dir / f"{name}.log",
            start_timeout_s=START_TIMEOUT_S,
        )

    def _kafka(self) -> dict[str, str]:
        return {
            "FURROW_KAFKA_BOOTSTRAP_SERVERS": self.servers.kafka_bootstrap,
            # Below Kafka's default, so that the long outage outlasts it: a consumer held up
            # writing its outputs stops polling, and is put out of its group meanwhile.
            "FURROW_KAFKA_MAX_POLL_INTERVAL_MS": str(MAX_POLL_INTERVAL_MS),
            "FURROW_KAFKA_SESSION_TIMEOUT_MS": str(int(self.session_timeout_s * 1000)),
            "FURROW_KAFKA_STALL_EXIT_AFTER_S": str(self.stall_exit_after_s),
            "FURROW_TOPICS_RAW": self.topics["raw"],
            "FURROW_TOPICS_GOOD": self.topics["good"],
            "FURROW_TOPICS_BAD": self.topics["bad"],
        }

    def _registry(self) -> ChildProcess:
        settings = {
            "FURROW_REGISTRY_PORT": str(self.ports.registry),
            "FURROW_REGISTRY_DATABASE_URL": f"sqlite:///{self.registry_database}",
            "FURROW_REGISTRY_SUPER_KEY": SUPER_KEY,
        }
        return self._component(
            "registry", ["registry"], settings, f"{self.registry_url}/api/meta/health"
        )

    def _collector(self) -> ChildProcess:
        settings = {**self._kafka(), "FURROW_COLLECTOR_PORT": str(self.ports.collector)}
        return self._component("collector", ["collector"], settings, f"{self.collector_url}/health")

    def _enricher(self) -> ChildProcess:
        settings = {
            **self._kafka(),
            "FURROW_ENRICH_GROUP_ID": self.groups["enrich"],
            "FURROW_ENRICH_HEALTH_PORT": str(self.ports.enrich_health),
            "FURROW_ENRICH_REGISTRY_URL": self.registry_url,
        }
        return self._component("enrich", ["enrich"], settings, _health(self.ports.enrich_health))

    def _sink(self, kind: str, health_port: int) -> ChildProcess:
        prefix = f"FURROW_SINK_{kind.upper()}"
        settings = {
            **self._kafka(),
            "FURROW_ELASTICSEARCH_URL": self.servers.elasticsearch_url,
            f"{prefix}_INDEX": self.aliases[kind],
            f"{prefix}_GROUP_ID": self.groups[f"sink_{kind}"],
            f"{prefix}_HEALTH_PORT": str(health_port),
            # Retries at least every 5 s once Elasticsearch is back (30 s by default).
            f"{prefix}_MAX_BACKOFF_S": "5",
        }
        return self._component(f"sink_{kind}", ["sink", kind], settings, _health(health_port))

    def _archive(self, directory: Path) -> ChildProcess:
        settings = {
            **self._kafka(),
            "FURROW_ARCHIVE_KINDS": "good",
            "FURROW_ARCHIVE_DIRECTORY": str(directory),
            "FURROW_ARCHIVE_GROUP_ID": self.groups["archive"],
            "FURROW_ARCHIVE_HEALTH_PORT": str(self.ports.archive_health),
            # Files closed often, so that a kill finds some published and some open.
            "FURROW_ARCHIVE_MAX_AGE_S": "2",
        }
        return self._component("archive", ["archive"], settings, _health(self.ports.archive_health))

    def _forwarder(self, receiver: Receiver) -> ChildProcess:
        # A destination is a table in the config file: it has no environment variables.
        config = self.work_dir / "forward.toml"
        config.write_text(
            "[[forward.destinations]]\n"
            'name = "receiver"\n'
            'target = "http"\n'
            f'url = "{receiver.url}"\n'
            f'group_id = "{self.groups["forward"]}"\n'
            # Retries at least every 2 s once the receiver is back, and gives up on an event
            # only after far longer than any outage of the drill.
            "max_backoff_s = 2\n"
            "max_attempts = 1000\n"
        )
        settings = {
            **self._kafka(),
            "FURROW_CONFIG": str(config),
            "FURROW_FORWARD_HEALTH_PORT": str(self.ports.forward_health),
        }
        return self._component("forward", ["forward"], settings, _health(self.ports.forward_health))


def _health(port: int) -> str:
    return f"http://127.0.0.1:{port}/health"
