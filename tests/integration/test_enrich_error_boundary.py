"""An enricher that meets a bug on one record sends that record to `bad` as a `generic_error`
and goes on: no crash, no crash loop, nothing lost, everything committed. With the bug fixed,
`furrow replay --type generic_error` enriches those records again, into `good`."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

import orjson

from devstack.topics import created_topics, wait_until_consumed
from libs.formats.collector_payload import decode
from libs.formats.enriched import to_json
from tests.integration.enricher_with_a_bug import PLANTED_BUG_SCHEMA
from tests.integration.kafka import produce
from tests.integration.processes import health_port, start_service
from tests.integration.raw import TopicTail, tracker_events
from tests.integration.test_replay import furrow_replay, raw_get

UNSTRUCT_EVENT = "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"


def raw_record(**parameters: str) -> bytes:
    return raw_get({"p": "web", "tv": "py-0.1", "eid": str(uuid.uuid4()), **parameters})


def meets_the_bug() -> bytes:
    click = {"targetUrl": "https://shop.example.com/next"}
    event = {"schema": UNSTRUCT_EVENT, "data": {"schema": PLANTED_BUG_SCHEMA, "data": click}}
    return raw_record(e="ue", ue_pr=orjson.dumps(event).decode())


async def test_a_record_that_meets_a_bug_goes_to_bad_the_enricher_goes_on_and_replay_mends_it(
    kafka_bootstrap: str, tmp_path: Path
) -> None:
    topics = {role: f"test-{role}-{uuid.uuid4().hex[:8]}" for role in ("raw", "good", "bad")}
    group = f"test-enrich-{uuid.uuid4().hex[:8]}"
    port = health_port()
    environment = {
        "FURROW_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "FURROW_TOPICS_RAW": topics["raw"],
        "FURROW_TOPICS_GOOD": topics["good"],
        "FURROW_TOPICS_BAD": topics["bad"],
        "FURROW_ENRICH_GROUP_ID": group,
        "FURROW_ENRICH_HEALTH_PORT": str(port),
        # No registry: a page view needs only the schemas built in.
        "FURROW_ENRICH_REGISTRY_URL": "http://127.0.0.1:9",
    }
    buggy = [meets_the_bug(), meets_the_bug()]
    records = [raw_record(e="pv"), buggy[0], raw_record(e="pv"), buggy[1], raw_record(e="pv")]
    async with created_topics(kafka_bootstrap, topics.values(), partitions=1):
        enricher = start_service(
            [],
            environment,
            health_port=port,
            log=tmp_path / "enrich.log",
            module="tests.integration.enricher_with_a_bug",
        )
        try:
            async with (
                TopicTail(kafka_bootstrap, topics["good"]) as good_tail,
                TopicTail(kafka_bootstrap, topics["bad"]) as bad_tail,
            ):
                await produce(kafka_bootstrap, topics["raw"], records)
                good = await good_tail.read(lambda values: len(values) >= 3)
                bad = await bad_tail.read(lambda values: len(values) >= 2)
                committed = await wait_until_consumed(kafka_bootstrap, group, topics["raw"])
                assert committed == {0: len(records)}
                # Nothing more comes: each record had its one output.
                assert await good_tail.fetch(wait_s=2) == []
                assert await bad_tail.fetch(wait_s=0.1) == []
                assert enricher.is_running(), enricher.output()
                assert enricher.is_healthy()
                enricher.stop()

                # The bug fixed: the released enricher, and the rows replayed.
                fixed = start_service(
                    ["enrich"], environment, health_port=port, log=tmp_path / "fixed.log"
                )
                try:
                    replay = await furrow_replay(environment, "generic_error")
                    assert replay.returncode == 0, replay.stderr
                    assert replay.stdout.splitlines()[0] == (
                        "read 2, matched 2, replayed 2, not replayable 0"
                    )
                    mended = await good_tail.read(lambda values: len(values) >= 2)
                finally:
                    fixed.stop()
        finally:
            enricher.stop()
    assert sorted(to_json(line.decode())["event_id"] for line in mended) == sorted(
        tracker_events(decode(record))[0]["eid"] for record in buggy
    )
    assert len(good) == 3
    rows = [orjson.loads(row) for row in bad]
    assert [row["schema"].split("/")[1] for row in rows] == ["generic_error", "generic_error"]
    assert [base64.b64decode(row["data"]["payload"]) for row in rows] == buggy
    assert rows[0]["data"]["failure"]["errors"] == ["unexpected RuntimeError: the planted bug"]
    log = (tmp_path / "enrich.log").read_text()
    assert "a raw record made the enricher fail; it goes to bad" in log
    assert "the planted bug" in log
