"""The Furrow services as one background process (`furrow up`) and where each one answers."""

from __future__ import annotations

import functools
import os
import sys
import uuid
from pathlib import Path

from devstack.launcher import answers
from devstack.process import (
    REPO_ROOT,
    StackError,
    read_pid,
    run_dir,
    start_background,
    stop_process,
    wait_until,
)
from services.endpoints import Endpoint, endpoints

__all__ = ["Endpoint", "endpoints"]

NAME = "furrow"
SUPER_KEY_VARIABLE = "FURROW_REGISTRY_SUPER_KEY"


def super_key() -> tuple[str, bool]:
    """The registry's super key: the environment's, else the one kept under `.run/`, else a new
    one; True when it was generated now."""
    if key := os.environ.get(SUPER_KEY_VARIABLE):
        return key, False
    key_file = run_dir() / "registry-super-key"
    if key_file.exists():
        return key_file.read_text().strip(), False
    key = str(uuid.uuid4())
    key_file.write_text(key + "\n")
    key_file.chmod(0o600)
    return key, True


def start() -> bool:
    """Start `furrow up` in the background unless it runs; wait until every service is healthy."""
    started = False
    if read_pid(NAME) is None:
        key, _ = super_key()
        # The enricher reads private schemas too; on one machine the super key is its key.
        environment = {
            **os.environ,
            SUPER_KEY_VARIABLE: key,
            "FURROW_ENRICH_REGISTRY_API_KEY": os.environ.get("FURROW_ENRICH_REGISTRY_API_KEY", key),
        }
        furrow = Path(sys.executable).with_name("furrow")
        # From the repo root: the registry's default SQLite file is `.run/registry/registry.db`.
        start_background(NAME, [str(furrow), "up"], env=environment, cwd=REPO_ROOT)
        started = True
    log = run_dir() / NAME / "output.log"
    try:
        for endpoint in endpoints():
            wait_until(
                functools.partial(answers, endpoint.health_url),
                what=f"furrow {endpoint.component}",
                timeout=60,
                log=log,
                pid_name=NAME,
            )
    except StackError:
        # A half-started stack would be reused by the next `make run` as if it were healthy.
        if started:
            stop()
        raise
    return started


def stop() -> bool:
    return stop_process(NAME, timeout=40)


def is_ready() -> bool:
    return read_pid(NAME) is not None and all(answers(e.health_url) for e in endpoints())
