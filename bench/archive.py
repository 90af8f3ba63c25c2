"""Archive sink: events/s of one `furrow archive` process writing enriched events waiting in a
`good` topic to gzip files, in a local directory and in s3proxy's bucket, from its first commit
to its last, and its CPU microseconds per event over that time."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time

from bench.report import Measurement
from bench.servers import BIN, follow_commits, scratch_topics, serving, write_records
from devstack import kafka, s3
from devstack.process import unused_port
from tests.enriched_events import enriched_lines

PART = "archive"
EVENTS = 200_000
# A sink that stops committing (crashed, say) fails the bench instead of hanging it.
TIMEOUT_S = 300
MAX_AGE_S = 5


def run() -> list[Measurement]:
    kafka.start()
    s3.start()
    events = list(enriched_lines(EVENTS))
    measurements = []
    for target in ("directory", "s3"):
        rate, cpu_us = _service(target, events)
        measurements.append(
            Measurement(
                PART,
                f"archive sink to {target}, one process",
                rate,
                "events/s",
                note=(
                    f"{EVENTS:,} enriched events, gzip 6, files closed at {MAX_AGE_S} s, "
                    f"{cpu_us:.0f} us CPU per event"
                ),
            )
        )
    return measurements


def _service(target: str, events: list[bytes]) -> tuple[float, float]:
    group = f"bench-archive-{os.getpid()}-{time.monotonic_ns()}"
    health_port = unused_port()
    with scratch_topics("good", "bad") as topics, tempfile.TemporaryDirectory() as directory:
        asyncio.run(write_records(topics["good"], events))
        environment = {
            "FURROW_KAFKA_BOOTSTRAP_SERVERS": kafka.address(),
            "FURROW_TOPICS_GOOD": topics["good"],
            "FURROW_TOPICS_BAD": topics["bad"],
            "FURROW_ARCHIVE_KINDS": "good",
            "FURROW_ARCHIVE_GROUP_ID": group,
            "FURROW_ARCHIVE_HEALTH_PORT": str(health_port),
            # Files closed by age, not only at 64 MiB: the last records are not held for 300 s.
            "FURROW_ARCHIVE_MAX_AGE_S": str(MAX_AGE_S),
            "FURROW_LOGGING_LEVEL": "WARNING",
        }
        if target == "directory":
            environment["FURROW_ARCHIVE_DIRECTORY"] = directory
        else:
            server = s3.server()
            environment |= {
                "FURROW_ARCHIVE_BUCKET": server.bucket,
                "FURROW_ARCHIVE_PREFIX": f"{group}/",
                "FURROW_ARCHIVE_ENDPOINT_URL": server.endpoint_url,
                "FURROW_ARCHIVE_ACCESS_KEY_ID": server.access_key_id,
                "FURROW_ARCHIVE_SECRET_ACCESS_KEY_FILE": str(server.secret_access_key_file),
            }
        health = f"http://127.0.0.1:{health_port}/health"
        with serving([str(BIN / "furrow"), "archive"], health, environment) as pid:
            per_s, cpu_s = asyncio.run(follow_commits(group, len(events), pid, timeout_s=TIMEOUT_S))
    return per_s, cpu_s * 1e6
