import hashlib

import orjson
import pytest
from snowplow_analytics_sdk.event_transformer import ENRICHED_EVENT_FIELD_TYPES

from libs.pipes import Record
from services.sinks.documents import UnreadableRecord, to_document

EVENT_ID = "c6ef3124-b53a-4b13-a233-0088f79dcbcb"
CONTEXTS = {
    "schema": "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0",
    "data": [
        {
            "schema": "iglu:com.acme/user/jsonschema/1-0-0",
            "data": {"plan": "pro"},
        }
    ],
}


def enriched_tsv(**fields: str) -> bytes:
    names = [name for name, _ in ENRICHED_EVENT_FIELD_TYPES]
    assert set(fields) <= set(names)
    return "\t".join(fields.get(name, "") for name in names).encode()


def record(value: bytes, offset: int = 7) -> Record:
    return Record(
        topic="t", partition=1, offset=offset, value=value, timestamp_ms=1_795_000_000_000
    )


def test_good_event_in_sdk_shape_with_event_id_as_document_id() -> None:
    line = enriched_tsv(
        app_id="shop",
        platform="web",
        collector_tstamp="2026-11-23 10:00:00.123",
        event="page_view",
        event_id=EVENT_ID,
        contexts=orjson.dumps(CONTEXTS).decode(),
    )
    document = to_document("good", record(line))
    assert document.id == EVENT_ID
    assert document.source["@timestamp"] == "2026-11-23T10:00:00.123Z"
    assert document.source["app_id"] == "shop"
    assert document.source["contexts_com_acme_user_1"] == [{"plan": "pro"}]


@pytest.mark.parametrize(
    ("value", "failure_type"),
    [
        (b"\xff\xfe", "NotTSV"),
        (b"only\tthree\tfields", "FieldNumberMismatch"),
        (enriched_tsv(event_id=EVENT_ID, dvce_ismobile="maybe"), "RowDecodingError"),
    ],
)
def test_unreadable_enriched_events_say_why(value: bytes, failure_type: str) -> None:
    with pytest.raises(UnreadableRecord) as raised:
        to_document("good", record(value))
    assert raised.value.failure["type"] == failure_type


def test_bad_row_keeps_its_failure_time_and_is_identified_by_content() -> None:
    value = orjson.dumps(
        {"schema": "iglu:x/y/jsonschema/1-0-0", "data": {"failure": {"timestamp": "T1"}}}
    )
    document = to_document("bad", record(value))
    assert document.id == hashlib.sha256(value).hexdigest()
    assert document.source["@timestamp"] == "T1"
    assert to_document("bad", record(value, offset=99)).id == document.id


def test_bad_row_without_failure_time_takes_the_record_time() -> None:
    document = to_document("bad", record(b'{"schema": "s", "data": {}}'))
    assert document.source["@timestamp"] == "2026-11-18T11:06:40.000Z"


def test_log_lines_are_identified_by_their_place_in_the_topic() -> None:
    document = to_document("logs", record(b'{"message": "m", "@timestamp": "T"}'))
    assert document.id == "t-1-7"
    assert document.source == {"message": "m", "@timestamp": "T"}


@pytest.mark.parametrize(
    ("value", "failure_type"), [(b"not json", "NotJSON"), (b"[1]", "NotJSONObject")]
)
@pytest.mark.parametrize("kind", ["bad", "logs"])
def test_json_topics_refuse_what_is_not_an_object(
    kind: str, value: bytes, failure_type: str
) -> None:
    with pytest.raises(UnreadableRecord) as raised:
        to_document(kind, record(value))  # type: ignore[arg-type]
    assert raised.value.failure["type"] == failure_type
