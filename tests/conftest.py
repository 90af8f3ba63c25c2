"""Session fixtures for the real servers: each is started once if it is not already running
(a stack from `make run` is reused) and stopped at the end only if this session started it.
Before any test, a check that no module compiled by `make install` is older than its source."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from devstack import elasticsearch, furrow, kafka, postgres, s3

ROOT = Path(__file__).resolve().parents[1]


def stale_modules() -> list[str]:
    """The sources edited since `make install` compiled them. Python imports a compiled module
    before its source: such an edit would be silently left out of a run."""
    return [
        str(source.relative_to(ROOT))
        for directory in ("libs", "services")
        for compiled in (ROOT / directory).rglob("*.so")
        for suffix in (".py", ".c")
        if (source := compiled.with_name(compiled.name.split(".")[0] + suffix)).exists()
        and source.stat().st_mtime > compiled.stat().st_mtime
    ]


def pytest_sessionstart(session: pytest.Session) -> None:
    if stale := stale_modules():
        pytest.exit(f"compiled before their last edit: {', '.join(stale)}; run make install", 2)


@pytest.fixture(scope="session")
def kafka_bootstrap() -> Iterator[str]:
    started = kafka.start()
    yield kafka.address()
    if started:
        kafka.stop()


@pytest.fixture(scope="session")
def elasticsearch_url() -> Iterator[str]:
    started = elasticsearch.start()
    yield elasticsearch.address()
    if started:
        elasticsearch.stop()


@pytest.fixture(scope="session")
def furrow_stack(kafka_bootstrap: str, elasticsearch_url: str) -> Iterator[list[furrow.Endpoint]]:
    """Every Furrow service running and healthy, as `make run` leaves them."""
    started = furrow.start()
    yield furrow.endpoints()
    if started:
        furrow.stop()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The `furrow` database of a PostgreSQL cluster started for this session unless one runs."""
    started = postgres.start()
    yield postgres.address()
    if started:
        postgres.stop()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[s3.S3Server]:
    """s3proxy (filesystem backend) with its bucket, started for this session unless it runs."""
    started = s3.start()
    yield s3.server()
    if started:
        s3.stop()
