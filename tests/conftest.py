"""Session fixtures for the real servers: each is started once if it is not already running
(a stack from `make run` is reused) and stopped at the end only if this session started it.
Before any test, a check that no module compiled by `make install` is older than its source; with
FURROW_PURE=1, the repository's modules are imported from their sources instead, compiled or not.
"""

from __future__ import annotations

import importlib.machinery
import os
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The packages whose modules the package build may compile.
COMPILED_PACKAGES = (ROOT / "libs", ROOT / "services")
PURE = os.environ.get("FURROW_PURE") == "1"


def _sources_only(directory: str) -> importlib.machinery.FileFinder:
    """A finder of the sources in `directory`, if it is in one of the compiled packages: Python
    would import a module's compiled extension before its source."""
    if not any(Path(directory).resolve().is_relative_to(package) for package in COMPILED_PACKAGES):
        raise ImportError(directory)
    loader = (importlib.machinery.SourceFileLoader, importlib.machinery.SOURCE_SUFFIXES)
    return importlib.machinery.FileFinder(directory, loader)


if PURE:
    # Before anything imports them (the fixtures below import devstack, which imports libs).
    sys.path_hooks.insert(0, _sources_only)
    sys.path_importer_cache.clear()

from devstack import elasticsearch, furrow, kafka, postgres, s3  # noqa: E402


def stale_modules() -> list[str]:
    """The compiled modules' sources edited since the package was last built (`make install`).
    Python imports a compiled module before its source: such an edit would be silently left out
    of a run."""
    # The record pip writes into the environment each time it installs the package.
    records = Path(sysconfig.get_paths()["purelib"]).glob("furrow-*.dist-info/RECORD")
    built = max((record.stat().st_mtime for record in records), default=0.0)
    return [
        str(source.relative_to(ROOT))
        for package in COMPILED_PACKAGES
        for compiled in package.rglob("*.so")
        if (source := compiled.with_name(compiled.name.split(".")[0] + ".py")).exists()
        and source.stat().st_mtime > built
    ]


def pytest_sessionstart(session: pytest.Session) -> None:
    if PURE:
        return
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
