"""Registry part: cached reads of one schema with `wrk` against one worker, and the time
`furrow schemas push` takes for 1,000 schemas. Runs its own registry on a SQLite file."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bench.report import Measurement
from devstack.process import StackError, apt_install, unused_port
from devstack.registry import running_registry
from libs.formats.iglu import SELF_DESCRIBING_SCHEMA

PART = "registry"
SUPER_KEY = "bench-super-key"
SCHEMA_PATH = "/api/schemas/com.bench/page_view/jsonschema/1-0-0"
WRK_SECONDS = 10
WRK_CONNECTIONS = 32
# 100 schemas of 10 versions each, so the push also walks SchemaVer order within each name.
NAMES, VERSIONS = 100, 10


def run() -> list[Measurement]:
    wrk = _wrk()
    with (
        tempfile.TemporaryDirectory(prefix="furrow-bench-registry-") as scratch,
        running_registry(
            unused_port(), _settings(Path(scratch)), Path(scratch) / "registry.log"
        ) as url,
    ):
        _publish_one(url)
        requests_per_s = _load(wrk, url)
        push_s = _push(_tree(Path(scratch) / "tree"), url)
    return [
        Measurement(
            PART,
            "cached GET of one schema, 1 worker",
            requests_per_s,
            "req/s",
            ">= 5000",
            f"wrk -t1 -c{WRK_CONNECTIONS} -d{WRK_SECONDS}s",
        ),
        Measurement(
            PART,
            f"push {NAMES * VERSIONS:,} schemas with the CLI",
            push_s,
            "s",
            note="furrow schemas push, SQLite, one registry worker",
        ),
    ]


def _wrk() -> str:
    """wrk's path, installed from Debian's packages when missing (as root)."""
    if not shutil.which("wrk"):
        apt_install("wrk")
    return shutil.which("wrk") or "wrk"


def _settings(directory: Path) -> dict[str, str]:
    return {
        "FURROW_REGISTRY_SUPER_KEY": SUPER_KEY,
        "FURROW_REGISTRY_DATABASE_URL": f"sqlite:///{directory / 'registry.db'}",
        "FURROW_LOGGING_LEVEL": "WARNING",
    }


def _publish_one(url: str) -> None:
    body = json.dumps({"type": "object", "properties": {"url": {"type": "string"}}}).encode()
    request = urllib.request.Request(
        f"{url}{SCHEMA_PATH}?isPublic=true",
        data=body,
        method="PUT",
        headers={"apikey": SUPER_KEY, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 201


def _load(wrk: str, url: str) -> float:
    command = [wrk, "-t1", f"-c{WRK_CONNECTIONS}", f"-d{WRK_SECONDS}s", f"{url}{SCHEMA_PATH}"]
    # A short run first: the first read fills the cache, and the server's code paths warm up.
    subprocess.run([*command[:3], "-d2s", command[-1]], capture_output=True, check=True)
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    print(output, flush=True)
    if re.search(r"Non-2xx or 3xx responses", output):
        raise StackError(f"wrk saw failed requests:\n{output}")
    found = re.search(r"Requests/sec:\s+([0-9.]+)", output)
    if found is None:
        raise StackError(f"no Requests/sec in wrk's output:\n{output}")
    return float(found.group(1))


def _tree(root: Path) -> Path:
    for index in range(NAMES):
        for addition in range(VERSIONS):
            version = f"1-0-{addition}"
            path = root / "com.bench" / f"event_{index:03d}" / "jsonschema" / version
            path.parent.mkdir(parents=True, exist_ok=True)
            document = {
                "$schema": SELF_DESCRIBING_SCHEMA,
                "self": {
                    "vendor": "com.bench",
                    "name": f"event_{index:03d}",
                    "format": "jsonschema",
                    "version": version,
                },
                "type": "object",
                "properties": {f"field_{n}": {"type": "string"} for n in range(addition + 1)},
            }
            path.write_text(json.dumps(document))
    return root


def _push(root: Path, url: str) -> float:
    furrow = Path(sys.executable).with_name("furrow")
    command = [str(furrow), "schemas", "push", str(root), "--registry", url]
    began = time.monotonic()
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "FURROW_APIKEY": SUPER_KEY},
    )
    took = time.monotonic() - began
    print(result.stdout.strip(), flush=True)
    if result.returncode != 0 or f"created {NAMES * VERSIONS}," not in result.stdout:
        raise StackError(f"the push failed:\n{result.stdout}{result.stderr[-2000:]}")
    return took
