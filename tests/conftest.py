"""Session fixtures for the real servers: each is started once if it is not already running
(a stack from `make run` is reused) and stopped at the end only if this session started it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devstack import elasticsearch, furrow, kafka, postgres


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
