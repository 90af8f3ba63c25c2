from datetime import UTC, datetime

import orjson
import pytest

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


def test_loader_runtime_error_carries_the_message_and_the_event() -> None:
    event = {"event_id": "e", "collector_tstamp": "2026-11-23T10:00:00.000Z", "txn_id": 3}
    row = orjson.loads(badrows.loader_runtime_error("sink-good", "mapping conflict", event))
    assert row == {
        "schema": f"iglu:{badrows.VENDOR}/loader_runtime_error/jsonschema/1-0-1",
        "data": {
            "processor": {"artifact": "furrow-sink-good", "version": VERSION},
            "failure": "mapping conflict",
            "payload": event,
        },
    }


@pytest.mark.parametrize(
    ("schema", "bad_row_type"),
    [
        (badrows.GENERIC_ERROR, "generic_error"),
        (badrows.LOADER_RUNTIME_ERROR, "loader_runtime_error"),
        (
            "iglu:com.snowplowanalytics.snowplow.badrows/schema_violations/jsonschema/2-0-1",
            "schema_violations",
        ),
        ("iglu:com.acme/schema_violations/jsonschema/1-0-0", None),
        ("iglu:com.snowplowanalytics.snowplow.badrows/", None),
        ("not a uri", None),
    ],
)
def test_the_type_of_a_bad_row_is_its_schema_name(schema: str, bad_row_type: str | None) -> None:
    assert badrows.type_of(schema) == bad_row_type


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("2026-11-23T10:00:00.000Z", datetime(2026, 11, 23, 10, tzinfo=UTC)),
        ("2026-11-23T11:00:00+01:00", datetime(2026, 11, 23, 10, tzinfo=UTC)),
        ("2026-11-23T10:00:00", None),
        ("yesterday", None),
        (1795000000000, None),
        (None, None),
    ],
)
def test_times_in_bad_rows_are_read_only_with_a_zone(written: object, read: object) -> None:
    assert badrows.parse_time(written) == read
