import hashlib
from typing import Any

import orjson
import pytest

from libs.formats import badrows
from libs.formats.enriched import to_tsv
from libs.pipes import Record
from services.sinks.documents import (
    Document,
    UnreadableRecord,
    bad_document,
    rejected_row,
    to_document,
)
from tests.enriched_events import contexts

EVENT_ID = "c6ef3124-b53a-4b13-a233-0088f79dcbcb"
# 2026-11-18T11:06:40Z
RECORD_TIME_MS = 1_795_000_000_000
PROCESSOR = {"artifact": "furrow-enrich", "version": "0.1.0"}


def record(value: bytes, offset: int = 7, topic: str = "t") -> Record:
    return Record(topic=topic, partition=1, offset=offset, value=value, timestamp_ms=RECORD_TIME_MS)


def bad_row(name: str, version: str, data: dict[str, Any]) -> bytes:
    return orjson.dumps(
        {"schema": f"iglu:{badrows.VENDOR}/{name}/jsonschema/{version}", "data": data}
    )


def source(document: Document) -> dict[str, Any]:
    parsed: dict[str, Any] = orjson.loads(document.source)
    return parsed


def unreadable(kind: str, value: bytes) -> dict[str, Any]:
    with pytest.raises(UnreadableRecord) as raised:
        to_document(kind, record(value))  # type: ignore[arg-type]
    row: dict[str, Any] = orjson.loads(raised.value.bad_row)
    return row


def test_good_event_in_sdk_shape_under_its_event_id_and_collector_day() -> None:
    line = to_tsv(
        {
            "app_id": "shop",
            "collector_tstamp": "2026-11-23 23:59:59.999",
            "event_id": EVENT_ID,
            "contexts": contexts(("iglu:com.acme/user/jsonschema/1-0-0", {"plan": "pro"})),
        }
    ).encode()
    document = to_document("good", record(line))
    assert (document.id, document.day) == (EVENT_ID, "2026.11.23")
    assert source(document) == {
        "app_id": "shop",
        "collector_tstamp": "2026-11-23T23:59:59.999Z",
        "event_id": EVENT_ID,
        "contexts_com_acme_user_1": [{"plan": "pro"}],
        "@timestamp": "2026-11-23T23:59:59.999Z",
    }
    # Delivered again at another offset, days later: the same document in the same index.
    again = to_document("good", Record("t", 0, 99, line, timestamp_ms=RECORD_TIME_MS * 2))
    assert (again.id, again.day, again.source) == (document.id, document.day, document.source)


@pytest.mark.parametrize(
    ("value", "failure"),
    [
        (b"\xff\xfe", {"type": "NotTSV"}),
        (b"plain text", {"type": "NotTSV"}),
        (b"only\tthree\tfields", {"type": "FieldNumberMismatch", "fieldCount": 3}),
        (
            to_tsv({"event_id": EVENT_ID, "collector_tstamp": "2026-11-23 10:00:00"}).replace(
                EVENT_ID, "\t"
            ),
            {"type": "FieldNumberMismatch", "fieldCount": 132},
        ),
    ],
)
def test_unreadable_events_become_loader_parsing_errors(
    value: bytes | str, failure: dict[str, Any]
) -> None:
    encoded = value.encode() if isinstance(value, str) else value
    row = unreadable("good", encoded)
    assert row["schema"] == badrows.LOADER_PARSING_ERROR
    assert row["data"]["failure"] == failure
    assert row["data"]["payload"] == encoded.decode(errors="replace")
    assert row["data"]["processor"]["artifact"] == "furrow-sink-good"


def test_invalid_values_are_listed_in_the_loader_parsing_error() -> None:
    fields = {"event_id": EVENT_ID, "collector_tstamp": "2026-11-23 10:00:00.000", "txn_id": "x"}
    row = unreadable("good", to_tsv(fields).encode())
    assert row["data"]["failure"] == {
        "type": "RowDecodingError",
        "errors": [
            {"type": "InvalidValue", "key": "txn_id", "value": "x", "message": "not an integer"}
        ],
    }


@pytest.mark.parametrize("missing", ["event_id", "collector_tstamp"])
def test_an_event_without_id_or_collector_time_cannot_be_placed(missing: str) -> None:
    fields = {"event_id": EVENT_ID, "collector_tstamp": "2026-11-23 10:00:00.000"}
    del fields[missing]
    row = unreadable("good", to_tsv(fields).encode())
    assert row["data"]["failure"] == {
        "type": "RowDecodingError",
        "errors": [
            {"type": "InvalidValue", "key": missing, "value": "", "message": "required, but empty"}
        ],
    }


# One example of each shape of bad row, and where its parts land in the bad index.
BAD_ROWS = [
    (
        "size_violation",
        "1-0-0",
        {
            "failure": {
                "timestamp": "2026-11-23T10:00:00.000Z",
                "maximumAllowedSizeBytes": 1000,
                "actualSizeBytes": 2000,
                "expectation": "smaller",
            },
            "payload": "truncated raw",
        },
        {"failure", "payload_string"},
    ),
    (
        "schema_violations",
        "2-0-1",
        {
            "failure": {
                "timestamp": "2026-11-23T10:00:00.000Z",
                "messages": [
                    {"schemaKey": "iglu:com.acme/x/jsonschema/1-0-0", "error": {"error": "x"}}
                ],
            },
            "payload": {"raw": {"vendor": "v", "parameters": []}, "enriched": {"app_id": None}},
        },
        {"failure", "payload"},
    ),
    (
        "loader_runtime_error",
        "1-0-1",
        {"failure": "document_parsing_exception", "payload": {"event_id": EVENT_ID}},
        {"failure_string", "payload"},
    ),
    (
        "loader_iglu_error",
        "2-0-1",
        {"failure": [{"error": "ResolutionError"}], "payload": {"event_id": EVENT_ID}},
        {"failure", "payload"},
    ),
    (
        "generic_error",
        "1-0-0",
        {"failure": {"timestamp": "2026-11-23T10:00:00.000Z", "errors": ["e"]}, "payload": "p"},
        {"failure", "payload_string"},
    ),
]


@pytest.mark.parametrize(("name", "version", "data", "fields"), BAD_ROWS)
def test_bad_rows_keep_each_shape_under_a_name_of_its_own(
    name: str, version: str, data: dict[str, Any], fields: set[str]
) -> None:
    value = bad_row(name, version, {"processor": PROCESSOR, **data})
    document = bad_document(record(value))
    assert len(document.id) == len(hashlib.sha256(value).hexdigest())
    assert source(document)["failure_type"] == name
    assert source(document)["schema"].endswith(f"/{name}/jsonschema/{version}")
    assert set(source(document)["data"]) == {"processor", *fields}
    assert source(document)["data"]["processor"] == PROCESSOR
    for field in fields:
        original = data[field.removesuffix("_string")]
        assert source(document)["data"][field] == original


def test_bad_rows_are_placed_by_their_failure_time_else_their_record_time() -> None:
    timed = bad_document(record(bad_row("generic_error", "1-0-0", BAD_ROWS[4][2])))
    assert (timed.day, source(timed)["@timestamp"]) == ("2026.11.23", "2026-11-23T10:00:00.000Z")
    untimed = bad_document(record(bad_row("loader_runtime_error", "1-0-1", BAD_ROWS[2][2])))
    assert (untimed.day, source(untimed)["@timestamp"]) == (
        "2026.11.18",
        "2026-11-18T11:06:40.000Z",
    )
    assert bad_document(record(timed.record.value, offset=99)).id == timed.id


def test_a_record_reprocessed_later_makes_the_same_bad_document() -> None:
    def schema_violation(at: str, etl: str, error: str) -> bytes:
        enriched = {"event_id": "c6ef3124-b53a-4b13-a233-0088f79dcbcb", "etl_tstamp": etl}
        failure = {"timestamp": at, "messages": [{"error": error}]}
        data = {"processor": PROCESSOR, "failure": failure, "payload": {"enriched": enriched}}
        return bad_row("schema_violations", "2-0-0", data)

    first = bad_document(record(schema_violation("2026-11-23T10:00:00Z", "1", "too big")))
    again = bad_document(record(schema_violation("2026-11-23T10:05:00Z", "2", "too big")))
    other = bad_document(record(schema_violation("2026-11-23T10:00:00Z", "1", "too small")))
    assert first.id == again.id != other.id


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            {"schema": "iglu:com.acme/thing/jsonschema/1-0-0", "data": {"failure": 3}},
            {"schema": "iglu:com.acme/thing/jsonschema/1-0-0", "data": {"failure_string": "3"}},
        ),
        ({"data": [1, 2]}, {"data": {"data_string": "[1,2]"}}),
        ({"schema": {"odd": True}}, {"schema_string": '{"odd":true}'}),
        (
            {"schema": "s", "data": {"processor": {"artifact": 1}, "payload": [1, "a"]}},
            {
                "schema": "s",
                "data": {"processor_string": '{"artifact":1}', "payload_string": '[1,"a"]'},
            },
        ),
        (
            {"schema": "s", "data": {"failure": []}},
            {"schema": "s", "data": {"failure_string": "[]"}},
        ),
        (
            {"schema": "s", "extra": {"kept": "unindexed"}},
            {"schema": "s", "extra": {"kept": "unindexed"}},
        ),
    ],
)
def test_odd_bad_rows_are_kept_without_breaking_the_mapping(
    row: dict[str, Any], expected: dict[str, Any]
) -> None:
    assert source(bad_document(record(orjson.dumps(row)))) == {
        **expected,
        "failure_type": "unknown",
        "@timestamp": "2026-11-18T11:06:40.000Z",
    }


def test_log_lines_are_identified_by_their_place_in_the_topic() -> None:
    document = to_document("logs", record(b'{"message": "m", "@timestamp": "T"}'))
    assert (document.id, document.day) == ("t-1-7", "2026.11.18")
    assert source(document) == {"message": "m", "@timestamp": "T"}
    assert source(to_document("logs", record(b'{"message": "m"}')))["@timestamp"] == (
        "2026-11-18T11:06:40.000Z"
    )


@pytest.mark.parametrize(
    ("value", "error"), [(b"not json", "not JSON: "), (b"[1]", "not a JSON object")]
)
@pytest.mark.parametrize("kind", ["bad", "logs"])
def test_json_topics_turn_what_is_not_an_object_into_generic_errors(
    kind: str, value: bytes, error: str
) -> None:
    row = unreadable(kind, value)
    assert row["schema"] == badrows.GENERIC_ERROR
    assert row["data"]["failure"]["errors"][0].startswith(error)
    # The record's time, so the row for a redelivered record is byte for byte the same.
    assert row["data"]["failure"]["timestamp"] == "2026-11-18T11:06:40.000Z"
    assert row["data"]["payload"] == value.decode()
    assert row["data"]["processor"]["artifact"] == f"furrow-sink-{kind}"


def test_a_refused_event_becomes_a_loader_runtime_error_with_the_event() -> None:
    line = to_tsv({"event_id": EVENT_ID, "collector_tstamp": "2026-11-23 10:00:00.000"}).encode()
    row = orjson.loads(rejected_row("good", record(line), "mapper_parsing_exception: boom"))
    assert row["schema"] == badrows.LOADER_RUNTIME_ERROR
    assert row["data"]["failure"] == "mapper_parsing_exception: boom"
    assert row["data"]["payload"] == {
        "event_id": EVENT_ID,
        "collector_tstamp": "2026-11-23T10:00:00.000Z",
    }


@pytest.mark.parametrize("kind", ["bad", "logs"])
def test_other_refused_documents_become_generic_errors_with_the_record(kind: str) -> None:
    value = b'{"message": "m"}'
    row = orjson.loads(rejected_row(kind, record(value), "boom"))  # type: ignore[arg-type]
    assert row["schema"] == badrows.GENERIC_ERROR
    assert row["data"]["failure"]["errors"] == ["Elasticsearch refused the document: boom"]
    assert row["data"]["payload"] == value.decode()
