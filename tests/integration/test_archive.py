"""`furrow archive` as a process, between the real Kafka and a local directory or the real
s3proxy: records in, gzip files out, and every record exactly once after a kill -9."""

from __future__ import annotations

import asyncio
import gzip
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from devstack import s3
from devstack.launcher import clean_environment, furrow_argv
from devstack.process import REPO_ROOT
from devstack.s3 import S3Server
from devstack.topics import wait_until_consumed
from libs.formats import badrows
from tests.enriched_events import enriched_lines
from tests.integration.kafka import produce
from tests.integration.processes import Names, Service, health_port, start_service

INVALID = [b"not an enriched event", b"three\tcolumns\tonly"]
BAD_ROWS = [
    orjson.dumps({"schema": "iglu:com.acme/test/jsonschema/1-0-0", "data": {"n": n}})
    for n in range(20)
]
LOG_LINES = [orjson.dumps({"message": f"line {n}", "level": "INFO"}) for n in range(30)]


class Archive:
    """Where one test's archive sink writes, and how to read back every line it wrote."""

    def __init__(self, environment: dict[str, str], read: Callable[[], dict[str, bytes]]):
        self.environment = environment
        self._read = read

    def files(self) -> dict[str, list[bytes]]:
        """Every published file's path (under the target) and lines."""
        return {
            path: gzip.decompress(content).splitlines()
            for path, content in sorted(self._read().items())
        }

    def lines(self, topic: str) -> list[bytes]:
        return [
            line
            for path, lines in self.files().items()
            if path.split("/")[-4] == topic
            for line in lines
        ]


def local_archive(root: Path) -> Archive:
    def read() -> dict[str, bytes]:
        # A file still being written is hidden, never ending in .gz.
        return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*.gz")}

    return Archive({"FURROW_ARCHIVE_DIRECTORY": str(root)}, read)


def s3_archive(server: S3Server) -> Archive:
    prefix = f"test-{uuid.uuid4().hex[:10]}/"
    client = s3.client()

    def read() -> dict[str, bytes]:
        found = {}
        for page in client.get_paginator("list_objects_v2").paginate(
            Bucket=server.bucket, Prefix=prefix
        ):
            for item in page.get("Contents", []):
                if not item["Key"].endswith(".gz"):
                    # s3proxy's filesystem backend lists its directories, and an object being
                    # uploaded as `<key>-<uuid>`.
                    continue
                try:
                    body = client.get_object(Bucket=server.bucket, Key=item["Key"])["Body"]
                except client.exceptions.NoSuchKey:
                    # A leftover deleted since the listing (see services/archive/layout.py).
                    continue
                found[item["Key"]] = body.read()
        return found

    return Archive(
        {
            "FURROW_ARCHIVE_BUCKET": server.bucket,
            "FURROW_ARCHIVE_PREFIX": prefix,
            "FURROW_ARCHIVE_ENDPOINT_URL": server.endpoint_url,
            "FURROW_ARCHIVE_ACCESS_KEY_ID": server.access_key_id,
            "FURROW_ARCHIVE_SECRET_ACCESS_KEY_FILE": str(server.secret_access_key_file),
        },
        read,
    )


@pytest.fixture(params=["directory", "s3"])
def archive(request: pytest.FixtureRequest, tmp_path: Path) -> Archive:
    if request.param == "directory":
        return local_archive(tmp_path / "archive")
    server: S3Server = request.getfixturevalue("s3_server")
    return s3_archive(server)


ArchiveStarter = Callable[..., Service]


@pytest.fixture
def start_archive(
    names: Names, kafka_bootstrap: str, archive: Archive, tmp_path: Path
) -> Iterator[ArchiveStarter]:
    started: list[Service] = []

    def start(**settings: str) -> Service:
        port = health_port()
        environment = {
            "FURROW_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
            "FURROW_TOPICS_GOOD": names.topic("good"),
            "FURROW_TOPICS_BAD": names.topic("bad"),
            "FURROW_TOPICS_LOGS": names.topic("logs"),
            "FURROW_ARCHIVE_KINDS": "good,bad,logs",
            "FURROW_ARCHIVE_GROUP_ID": names.group("archive"),
            "FURROW_ARCHIVE_HEALTH_PORT": str(port),
            "FURROW_ARCHIVE_MAX_AGE_S": "1",
            **archive.environment,
            **{f"FURROW_ARCHIVE_{name.upper()}": value for name, value in settings.items()},
        }
        service = start_service(
            ["archive"], environment, health_port=port, log=tmp_path / "archive.log"
        )
        started.append(service)
        return service

    yield start
    for service in started:
        if service.is_running():
            assert service.stop() == 0, service.output()


async def test_records_of_each_topic_are_archived_exactly_as_read(
    names: Names, kafka_bootstrap: str, archive: Archive, start_archive: ArchiveStarter
) -> None:
    events = list(enriched_lines(300))
    archiver = start_archive()
    await produce(kafka_bootstrap, names.topic("good"), [*events, *INVALID])
    await produce(kafka_bootstrap, names.topic("bad"), BAD_ROWS)
    await produce(kafka_bootstrap, names.topic("logs"), LOG_LINES)
    group = names.group("archive")
    for kind in ("good", "logs"):
        await wait_until_consumed(kafka_bootstrap, group, names.topic(kind))
    # The invalid events come back through `bad` as bad rows.
    await wait_until_consumed(kafka_bootstrap, group, names.topic("bad"))
    metrics_url = archiver.health_url.replace("/health", "/metrics")
    metrics = (await asyncio.to_thread(httpx.get, metrics_url)).text
    assert archiver.stop() == 0, archiver.output()
    good = names.topic("good")
    assert f'furrow_archive_records_total{{topic="{good}"}} {len(events)}.0' in metrics
    assert f'furrow_archive_bad_rows_total{{topic="{good}"}} {len(INVALID)}.0' in metrics

    assert sorted(archive.lines(names.topic("good"))) == sorted(events)
    assert sorted(archive.lines(names.topic("logs"))) == sorted(LOG_LINES)
    archived_bad = archive.lines(names.topic("bad"))
    assert sorted(line for line in archived_bad if b"com.acme" in line) == sorted(BAD_ROWS)
    rows = [orjson.loads(line) for line in archived_bad if b"com.acme" not in line]
    assert [badrows.type_of(row["schema"]) for row in rows] == ["loader_parsing_error"] * 2
    assert sorted(row["data"]["payload"] for row in rows) == sorted(i.decode() for i in INVALID)
    for path in archive.files():
        topic, date, hour, name = path.split("/")[-4:]
        assert date.startswith("date=") and hour.startswith("hour="), path
        assert name.startswith(f"{topic}-") and name.endswith((".tsv.gz", ".jsonl.gz")), path


async def test_good_events_can_be_archived_as_the_json_the_good_sink_indexes(
    names: Names, kafka_bootstrap: str, archive: Archive, start_archive: ArchiveStarter
) -> None:
    events = list(enriched_lines(50))
    archiver = start_archive(good_format="json", kinds="good")
    await produce(kafka_bootstrap, names.topic("good"), events)
    await wait_until_consumed(kafka_bootstrap, names.group("archive"), names.topic("good"))
    assert archiver.stop() == 0, archiver.output()
    documents = [orjson.loads(line) for line in archive.lines(names.topic("good"))]
    assert len(documents) == len(events)
    assert all(document["@timestamp"] == document["collector_tstamp"] for document in documents)


async def test_a_kill_mid_stream_leaves_every_record_exactly_once_across_the_files(
    names: Names, kafka_bootstrap: str, archive: Archive, start_archive: ArchiveStarter
) -> None:
    events = list(enriched_lines(20_000, seed=21))
    # Several writes: each goes to one partition, so both partitions get records.
    for start in range(0, len(events), 2_500):
        await produce(kafka_bootstrap, names.topic("good"), events[start : start + 2_500])
    settings = {"kinds": "good", "max_bytes": "200000", "max_age_s": "2"}
    first = start_archive(**settings)
    deadline = time.monotonic() + 60
    while len(archive.files()) < 5:
        assert time.monotonic() < deadline, first.output()
        await asyncio.sleep(0.05)
    first.kill()
    published_at_kill = len(archive.files())

    second = start_archive(**settings)
    await wait_until_consumed(kafka_bootstrap, names.group("archive"), names.topic("good"))
    assert second.stop() == 0, second.output()
    archived = Counter(archive.lines(names.topic("good")))
    assert published_at_kill < len(archive.files()), "killed after the last file"
    assert sorted(archived.elements()) == sorted(events)
    assert set(archived.values()) == {1}


def run_archive(environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        furrow_argv("archive"),
        env=clean_environment(environment),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("target", "change", "message"),
    [
        ("s3", {"BUCKET": "no-such-bucket"}, "bucket 'no-such-bucket' does not exist"),
        ("s3", {"SECRET_ACCESS_KEY_FILE": "WRONG"}, "refused access_key_id"),
        ("s3", {"ENDPOINT_URL": "http://127.0.0.1:9"}, "http://127.0.0.1:9 unreachable"),
        ("s3", {"KINDS": "good,everything"}, "[archive] kinds"),
        ("directory", {"DIRECTORY": "/dev/null/archive"}, "/dev/null/archive cannot be written"),
    ],
)
def test_a_target_that_cannot_be_used_stops_the_service_at_start_naming_it(
    s3_server: S3Server,
    kafka_bootstrap: str,
    tmp_path: Path,
    target: str,
    change: dict[str, str],
    message: str,
) -> None:
    secret = s3_server.secret_access_key()
    wrong = tmp_path / "wrong-secret"
    wrong.write_text("not-the-secret\n")
    chosen = s3_archive(s3_server) if target == "s3" else local_archive(tmp_path)
    environment = {
        "FURROW_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "FURROW_ARCHIVE_KINDS": "good",
        "FURROW_ARCHIVE_HEALTH_PORT": str(health_port()),
        **chosen.environment,
        **{
            f"FURROW_ARCHIVE_{name}": str(wrong) if value == "WRONG" else value
            for name, value in change.items()
        },
    }
    finished = run_archive(environment)
    assert finished.returncode == 2, finished.stderr
    assert finished.stderr.startswith("furrow archive: "), finished.stderr
    assert message in finished.stderr
    assert secret not in finished.stdout + finished.stderr
