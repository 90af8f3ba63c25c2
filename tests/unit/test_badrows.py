from datetime import UTC, datetime

import orjson

from libs.formats import badrows
from libs.version import VERSION


def test_generic_error_is_self_describing_with_processor_failure_and_payload() -> None:
    row = badrows.generic_error(
        "enrich", ["boom"], "raw text", now=datetime(2026, 11, 23, 1, 2, 3, 4000, tzinfo=UTC)
    )
    assert orjson.loads(row) == {
        "schema": "iglu:com.snowplowanalytics.snowplow.badrows/generic_error/jsonschema/1-0-0",
        "data": {
            "processor": {"artifact": "furrow-enrich", "version": VERSION},
            "failure": {"timestamp": "2026-11-23T01:02:03.004Z", "errors": ["boom"]},
            "payload": "raw text",
        },
    }


def test_loader_parsing_error_keeps_the_sdk_failure_shape() -> None:
    row = orjson.loads(
        badrows.loader_parsing_error(
            "sink-good", {"type": "FieldNumberMismatch", "fieldCount": 3}, "a\tb\tc"
        )
    )
    assert row["schema"].endswith("/loader_parsing_error/jsonschema/2-0-0")
    assert row["data"]["failure"] == {"type": "FieldNumberMismatch", "fieldCount": 3}
    assert row["data"]["payload"] == "a\tb\tc"
    assert row["data"]["processor"]["artifact"] == "furrow-sink-good"
