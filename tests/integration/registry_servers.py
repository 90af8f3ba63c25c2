"""Registry servers for the tests: real processes on loopback ports the system hands out, one
pair per database (patches forbidden, the default, and patches allowed), each on a database of
its own."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest

from devstack.process import unused_port
from devstack.registry import running_registry

SUPER_KEY = "test-super-key"
# Small, so the oversized-body tests send little.
MAX_BODY_BYTES = 65_536


@dataclass(frozen=True)
class RegistryServer:
    url: str
    database: str
    super_key: str = SUPER_KEY

    def client(self, apikey: str | None = None) -> httpx.Client:
        headers = {"apikey": apikey} if apikey else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    @property
    def admin(self) -> httpx.Client:
        return self.client(self.super_key)


def free_port() -> int:
    """A port for a registry of the tests; not one of a fixed range, where a registry that
    another session on the machine started could answer in its place."""
    return unused_port()


@contextlib.contextmanager
def fresh_database(kind: str, tmp: Path, postgres_url: str | None) -> Iterator[str]:
    """An empty database of `kind` (sqlite or postgres) for one registry; dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp / f'registry-{uuid.uuid4().hex[:8]}.db'}"
        return
    assert postgres_url is not None
    name = f"registry_test_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(postgres_url, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield postgres_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@contextlib.contextmanager
def empty_registry(kind: str, tmp: Path, postgres_url: str | None = None) -> Iterator[str]:
    """A registry with the super key SUPER_KEY on a fresh database of `kind`, which has never
    held a schema, until the block ends; its base URL."""
    with (
        fresh_database(kind, tmp, postgres_url) as database,
        running_registry(
            free_port(),
            {"FURROW_REGISTRY_SUPER_KEY": SUPER_KEY, "FURROW_REGISTRY_DATABASE_URL": database},
            tmp / "registry.log",
        ) as url,
    ):
        yield url


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def database(request: pytest.FixtureRequest) -> str:
    """Which database the registry fixtures use: every registry test runs on both."""
    kind: str = request.param
    return kind


def _server(
    request: pytest.FixtureRequest, kind: str, *, allow_patches: bool
) -> Iterator[RegistryServer]:
    tmp: Path = request.getfixturevalue("tmp_path_factory").mktemp(f"registry-{kind}")
    postgres_url = request.getfixturevalue("postgres_url") if kind == "postgres" else None
    settings = {
        "FURROW_REGISTRY_SUPER_KEY": SUPER_KEY,
        "FURROW_REGISTRY_ALLOW_PATCHES": str(allow_patches).lower(),
        "FURROW_REGISTRY_MAX_BODY_BYTES": str(MAX_BODY_BYTES),
    }
    with (
        fresh_database(kind, tmp, postgres_url) as url,
        running_registry(
            free_port(), {**settings, "FURROW_REGISTRY_DATABASE_URL": url}, tmp / "output.log"
        ) as base,
    ):
        yield RegistryServer(base, kind)


@pytest.fixture(scope="session")
def registry(request: pytest.FixtureRequest, database: str) -> Iterator[RegistryServer]:
    """A registry that forbids patches, as configured by default."""
    yield from _server(request, database, allow_patches=False)


@pytest.fixture(scope="session")
def patched_registry(request: pytest.FixtureRequest, database: str) -> Iterator[RegistryServer]:
    """A registry that allows overwriting and deleting schemas."""
    yield from _server(request, database, allow_patches=True)


@pytest.fixture
def vendor() -> str:
    """A vendor no other test uses, so tests share servers without seeing each other."""
    return f"com.test{uuid.uuid4().hex[:10]}"
