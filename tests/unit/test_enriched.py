"""The enriched-event reader against the reference reader, the PyPI snowplow-analytics-sdk."""

import json
import random
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
from snowplow_analytics_sdk.event_transformer import ENRICHED_EVENT_FIELD_TYPES, transform

from libs.formats import enriched
from libs.formats.enriched import (
    FIELD_NAMES,
    EnrichedEventError,
    collector_time,
    shredded_name,
    to_event,
    to_json,
    to_json_bytes,
    to_tsv,
)
from tests.enriched_events import contexts, event_fields, unstruct


def sdk_shape(line: str) -> dict[str, Any]:
    """The SDK's JSON with its one documented divergence from ours undone: se_value a number."""
    event: dict[str, Any] = transform(line)
    if "se_value" in event:
        event["se_value"] = float(event["se_value"])
    return event


def test_the_columns_are_the_sdks_in_its_order() -> None:
    assert [name for name, _ in ENRICHED_EVENT_FIELD_TYPES] == list(FIELD_NAMES)


@pytest.mark.parametrize("number", range(25))
def test_realistic_events_read_as_the_sdk_reads_them(number: int) -> None:
    fields = event_fields(number, random.Random(number))
    # The SDK keeps only the derived contexts when both columns hold the same schema; ours are
    # disjoint here, so the shapes must agree exactly.
    line = to_tsv(fields)
    assert to_json(line) == sdk_shape(line)


@pytest.mark.parametrize(
    ("schema", "key"),
    [
        ("iglu:com.acme/user/jsonschema/1-0-0", "contexts_com_acme_user_1"),
        ("iglu:com.acme/userProfile/jsonschema/2-1-0", "contexts_com_acme_user_profile_2"),
        ("iglu:com.acme/PascalCase/jsonschema/13-0-0", "contexts_com_acme_pascal_case_13"),
        ("iglu:com.Acme.Shop/user/jsonschema/1-0-0", "contexts_com_acme_shop_user_1"),
        # Where SDK 0.2.3 keeps the dashes (`com_acme-corp`, `checkout-step`), newer SDKs and
        # our reference turn them into underscores as well.
        (
            "iglu:com.acme-corp/checkout-step/jsonschema/1-0-0",
            "contexts_com_acme_corp_checkout_step_1",
        ),
        ("iglu:com.acme/user_2fa/jsonschema/3-0-1", "contexts_com_acme_user_2fa_3"),
    ],
)
def test_shredded_names(schema: str, key: str) -> None:
    assert shredded_name("contexts", schema) == key


def test_dashed_vendors_differ_from_sdk_0_2_3_only_in_the_key() -> None:
    line = to_tsv(
        {
            "event_id": "e",
            "collector_tstamp": "2026-11-23 10:00:00.000",
            "contexts": contexts(("iglu:com.acme-corp/cart/jsonschema/1-0-0", {"items": 2})),
            "unstruct_event": unstruct("iglu:com.acme-corp/checkout-step/jsonschema/1-0-0", {}),
        }
    )
    ours, theirs = to_json(line), sdk_shape(line)
    assert ours["contexts_com_acme_corp_cart_1"] == theirs["contexts_com_acme-corp_cart_1"]
    assert "unstruct_event_com_acme_corp_checkout_step_1" in ours
    assert "unstruct_event_com_acme-corp_checkout-step_1" in theirs


def test_the_same_context_in_both_columns_is_one_list() -> None:
    user = "iglu:com.acme/user/jsonschema/1-0-0"
    line = to_tsv(
        {
            "contexts": contexts((user, {"id": 1})),
            "derived_contexts": contexts((user, {"id": 2}), (user, {"id": 3})),
        }
    )
    assert to_json(line)["contexts_com_acme_user_1"] == [{"id": 1}, {"id": 2}, {"id": 3}]


def test_typed_values() -> None:
    line = to_tsv(
        {
            "collector_tstamp": "2026-11-23 10:00:00.123",
            "txn_id": "-7",
            "geo_latitude": "52.5",
            "geo_longitude": "13.4",
            "br_cookies": "1",
            "dvce_ismobile": "0",
            "se_value": "2.5",
        }
    )
    assert to_json(line) == {
        "collector_tstamp": "2026-11-23T10:00:00.123Z",
        "txn_id": -7,
        "geo_latitude": 52.5,
        "geo_longitude": 13.4,
        "geo_location": "52.5,13.4",
        "br_cookies": True,
        "dvce_ismobile": False,
        "se_value": 2.5,
    }


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("2026-11-23 10:00:00.123", "2026-11-23T10:00:00.123Z"),
        ("2026-11-23 10:00:00", "2026-11-23T10:00:00Z"),
        ("2026-11-23 10:00:00.123456", "2026-11-23T10:00:00.123456Z"),
    ],
)
def test_timestamps_with_other_precisions_are_read(written: str, read: str) -> None:
    # Among timestamps of the usual precision, which are checked together more cheaply.
    usual = "2026-11-23 09:00:00.000"
    line = to_tsv({"etl_tstamp": usual, "collector_tstamp": written, "derived_tstamp": usual})
    event = to_json(line)
    assert (event["etl_tstamp"], event["collector_tstamp"]) == ("2026-11-23T09:00:00.000Z", read)


@pytest.mark.parametrize(
    ("line", "collected"),
    [
        (
            to_tsv({"collector_tstamp": "2026-11-23 10:00:00.123"}).encode(),
            datetime(2026, 11, 23, 10, 0, 0, 123000, tzinfo=UTC),
        ),
        (
            to_tsv({"collector_tstamp": "2026-11-23 10:00:00"}).encode(),
            datetime(2026, 11, 23, 10, 0, 0, tzinfo=UTC),
        ),
        # Only the columns up to it are read.
        (
            b"app\tweb\t2026-11-23 09:00:00.000\t2026-11-23 10:00:00.5",
            datetime(2026, 11, 23, 10, 0, 0, 500000, tzinfo=UTC),
        ),
        (b"app\tweb\t\t2026-11-23T10:00:00.123\t", None),
        (to_tsv({"event_id": "x"}).encode(), None),
        (b"no columns", None),
    ],
)
def test_the_collector_time_of_a_line(line: bytes, collected: datetime | None) -> None:
    if collected is None:
        with pytest.raises(ValueError):
            collector_time(line)
    else:
        assert collector_time(line) == collected


@pytest.mark.parametrize(
    "written",
    [
        "2026-11-23T10:00:00.123",
        "2026-11-23 10:00",
        "\uff12\uff10\uff12\uff16-11-23 10:00:00.123",
        "2026-1-23 1:0:0",
        "2026-11-23 10:00:00.12x",
        "2026-11-23 10:00:00:123",
        "2026/11/23 10:00:00.123",
        "2026-11-23 10:00:00.\u0661\u0662\u0663",
    ],
)
def test_a_timestamp_among_valid_ones_is_still_checked(written: str) -> None:
    usual = "2026-11-23 09:00:00.000"
    line = to_tsv({"etl_tstamp": usual, "collector_tstamp": written, "derived_tstamp": usual})
    with pytest.raises(EnrichedEventError) as raised:
        to_json(line)
    assert [error["key"] for error in raised.value.failure["errors"]] == ["collector_tstamp"]


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("0", 0),
        ("7", 7),
        ("007", 7),
        ("123456789", 123_456_789),
        ("1234567890", 1_234_567_890),
        ("2147483647", 2**31 - 1),
        ("-2147483648", -(2**31)),
        ("-7", -7),
        ("+7", 7),
        (" 7", 7),
        ("1_000", 1000),
        ("\u0667", 7),
    ],
)
def test_integers_are_read_as_int_reads_them(written: str, read: int) -> None:
    # Short runs of ASCII digits are read without int(), which reads everything else.
    assert to_json(to_tsv({"txn_id": written}))["txn_id"] == read


@pytest.mark.parametrize(
    ("line", "failure"),
    [
        ("no tabs at all", {"type": "NotTSV"}),
        ("three\tfields\there", {"type": "FieldNumberMismatch", "fieldCount": 3}),
        ("\t" * 131, {"type": "FieldNumberMismatch", "fieldCount": 132}),
    ],
)
def test_what_is_no_enriched_event(line: str, failure: dict[str, Any]) -> None:
    with pytest.raises(EnrichedEventError) as raised:
        to_json(line)
    assert raised.value.failure == failure


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("txn_id", "seven", "not an integer"),
        ("txn_id", "2147483648", "outside the 32-bit integer range"),
        ("geo_latitude", "north", "not a number"),
        ("tr_total", "nan", "not a finite number"),
        ("br_cookies", "yes", "not a boolean (1 or 0)"),
        ("collector_tstamp", "yesterday", "not a timestamp (YYYY-MM-DD HH:MM:SS.mmm)"),
        ("contexts", "{not json", "not JSON: "),
        ("contexts", "[]", "not a JSON object"),
        ("contexts", '{"schema": "s", "data": {}}', "contexts data is not an array"),
        ("contexts", '{"schema": "s", "data": [{"data": 1}]}', "not self-describing JSON"),
        ("unstruct_event", '{"schema": "s", "data": {"schema": "x", "data": 1}}', "'x' is not"),
        ("unstruct_event", '{"schema": "s"}', "self-describing JSON of s has no data"),
    ],
)
def test_invalid_values_are_reported_as_loader_parsing_errors(
    field: str, value: str, message: str
) -> None:
    with pytest.raises(EnrichedEventError) as raised:
        to_json(to_tsv({field: value}))
    (error,) = raised.value.failure["errors"]
    assert raised.value.failure["type"] == "RowDecodingError"
    assert error["type"] == "InvalidValue"
    assert (error["key"], error["value"]) == (field, value)
    assert error["message"].startswith(message)


def test_every_invalid_value_is_reported_at_once() -> None:
    with pytest.raises(EnrichedEventError) as raised:
        to_json(to_tsv({"txn_id": "x", "br_cookies": "x", "app_id": "fine"}))
    assert [error["key"] for error in raised.value.failure["errors"]] == ["txn_id", "br_cookies"]


def test_the_event_shape_keeps_the_json_columns_whole() -> None:
    context = contexts(("iglu:com.acme/user/jsonschema/1-0-0", {"plan": "pro"}))
    line = to_tsv(
        {
            "event_id": "e",
            "collector_tstamp": "2026-11-23 10:00:00.000",
            "refr_device_tstamp": "2026-11-23 09:59:59.000",
            "domain_sessionidx": "3",
            "contexts": context,
            "geo_latitude": "1",
            "geo_longitude": "2",
        }
    )
    assert to_event(line) == {
        "event_id": "e",
        "collector_tstamp": "2026-11-23T10:00:00.000Z",
        # The loader bad-row schemas name the column as the canonical event model does.
        "refr_dvce_tstamp": "2026-11-23T09:59:59.000Z",
        "domain_sessionidx": 3,
        "contexts": orjson.loads(context),
        "geo_latitude": 1.0,
        "geo_longitude": 2.0,
    }


def test_tsv_refuses_unknown_fields() -> None:
    with pytest.raises(ValueError, match="unknown_field"):
        to_tsv({"unknown_field": "x"})


@pytest.mark.parametrize(
    ("values", "field", "written"),
    [
        ({"app_id": "a\tb"}, "app_id", "a b"),
        ({"page_title": "two\nlines\r\n"}, "page_title", "two lines  "),
        ({"platform": "web", "app_id": "a\rb"}, "app_id", "a b"),
        ({"platform": "web", "page_title": "\t"}, "page_title", " "),
        (
            {"page_url": "https://a.test/" + "x" * 200 + "\t", "platform": "web"},
            "page_url",
            "https://a.test/" + "x" * 200 + " ",
        ),
    ],
)
def test_tsv_writes_separators_in_values_as_spaces(
    values: dict[str, str], field: str, written: str
) -> None:
    columns = to_tsv(values).split("\t")
    assert len(columns) == 131
    assert columns[FIELD_NAMES.index(field)] == written


# Lines written straight from their bytes: every kind of column, and strings that need escaping.
ENCODED_IN_ONE_PASS = [
    *(to_tsv(event_fields(number, random.Random(number))) for number in range(10)),
    to_tsv({"page_title": 'Say "hi"', "se_label": "C:\\temp\\x", "useragent": "a\x01b\x1fc\x7fd"}),
    to_tsv({"page_title": "Caf\u00e9 \u2014 \U0001f600 \u2028", "event_id": "e"}),
    to_tsv({"txn_id": "0", "domain_sessionidx": "123456789", "tr_total": "-0.50", "se_value": "7"}),
    to_tsv({"tr_total": "123456789012345", "tr_tax": "0.12345678901234"}),
    to_tsv(
        {"br_cookies": "1", "dvce_ismobile": "0", "collector_tstamp": "2026-11-23 10:00:00.123"}
    ),
    to_tsv({"geo_latitude": "52.5", "geo_longitude": "-13"}),
    to_tsv({"geo_latitude": "52.5"}),
    to_tsv({"contexts": contexts(("iglu:com.acme/user/jsonschema/1-0-0", {"q": '"'}))}),
    to_tsv({}),
]

# Self-describing JSON as written, for spellings orjson would not make.
USER = "iglu:com.acme/user/jsonschema/1-0-0"
CONTEXTS = "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1"
UNSTRUCT = "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"


def user(data: str) -> str:
    """Contexts holding one `user` entity whose data is written `data`."""
    return f'{{"schema":"{CONTEXTS}","data":[{{"schema":"{USER}","data":{data}}}]}}'


# Lines whose JSON columns are valid: their entities are written with the rest of the line.
VALID_JSON_COLUMNS = [
    to_tsv(
        {
            "contexts": contexts((USER, {"id": 1}), ("iglu:com.acme/page/jsonschema/1-0-0", {})),
            "derived_contexts": contexts((USER.replace("1-0-0", "1-1-2"), {"id": 2})),
            "unstruct_event": unstruct("iglu:com.acme/buttonClick/jsonschema/2-0-0", {"b": [1]}),
        }
    ),
    to_tsv({"contexts": f'{{"schema":"{CONTEXTS}","data":[]}}'}),
    to_tsv({"contexts": f' {{ "data" : [ ] , "schema" : "{CONTEXTS}" , "other": {{}} }} '}),
    to_tsv({"contexts": user('{"a": [1, -0, 0.5, 1.5e10, 2E-5, 1e+99, true, false, null]}')}),
    to_tsv({"contexts": user('{"a": "caf\\u00e9 \\n \\/ \\" \\\\ \\t é 😀"}')}),
    to_tsv({"contexts": user('{"a": {"b": {"c": [[], {}, [{"d": ""}]]}}}')}),
    to_tsv({"contexts": user('"just a string"')}),
    to_tsv({"unstruct_event": f'{{"schema":"{UNSTRUCT}","data":{{"data":7,"schema":"{USER}"}}}}'}),
    to_tsv({"contexts": user(str(10**17))}),
    # Spellings orjson would not make, read and written again by it: a key twice (which
    # Elasticsearch refuses) once with its last value, escapes and numbers as orjson writes them.
    to_tsv({"contexts": user('{"a": 1, "a": 2}')}),
    to_tsv({"contexts": user('{"a": {"b": 1, "b": 2}}')}),
    to_tsv({"contexts": user('{"\\u0061": 1, "a": 2}')}),
    to_tsv({"contexts": user(str(10**18))}),
    to_tsv({"contexts": user("1e100")}),
    to_tsv({"contexts": user('"\\ud83d\\ude00"')}),
    to_tsv({"contexts": user("[" * 40 + "]" * 40)}),
    to_tsv({"contexts": user("{" + ",".join(f'"k{n}":{n}' for n in range(70)) + "}")}),
    to_tsv({"contexts": contexts(*[(USER, {"n": n}) for n in range(70)])}),
    to_tsv({"contexts": user("1").replace(USER, USER.replace("/", "\\/"))}),
    to_tsv({"contexts": contexts((USER, {})), "derived_contexts": user("1e100")}),
]
# Lines with an invalid JSON column: the general path says what is wrong.
INVALID_JSON_COLUMNS = [
    to_tsv({"contexts": user("[1,]")}),
    to_tsv({"contexts": user("NaN")}),
    to_tsv({"contexts": user("01")}),
    to_tsv({"contexts": user("1.")}),
    to_tsv({"contexts": user('"\x01"')}),
    to_tsv({"contexts": user('"\\x"')}),
    to_tsv({"contexts": user("tru")}),
    to_tsv({"contexts": user("{}") + "x"}),
    to_tsv({"contexts": user("{}")[:-1]}),
    to_tsv({"contexts": user("1").replace(USER, "not a schema")}),
    to_tsv({"contexts": f'{{"schema":"{CONTEXTS}","data":[{{"schema":"{USER}"}}]}}'}),
    to_tsv({"contexts": f'{{"schema":"{CONTEXTS}","data":{{}}}}'}),
    to_tsv({"contexts": f'{{"schema":"{CONTEXTS}","data":[1]}}'}),
    to_tsv({"contexts": '{"schema":7,"data":[]}'}),
    to_tsv({"unstruct_event": f'{{"schema":"{UNSTRUCT}","data":[]}}'}),
    to_tsv({"unstruct_event": f'{{"schema":"{UNSTRUCT}","data":{{"schema":"{USER}"}}}}'}),
]
# Lines it declines, for the general path to read (or to report).
DECLINED = [
    to_tsv({"txn_id": "007"}),
    to_tsv({"txn_id": "-7"}),
    to_tsv({"txn_id": "1234567890"}),
    to_tsv({"txn_id": "2147483648"}),
    to_tsv({"txn_id": "seven"}),
    to_tsv({"se_value": "1e5"}),
    to_tsv({"se_value": ".5"}),
    to_tsv({"se_value": "5."}),
    to_tsv({"se_value": "+5"}),
    to_tsv({"se_value": "nan"}),
    to_tsv({"se_value": "1" * 16}),
    to_tsv({"se_value": "0.1234567890123456"}),
    to_tsv({"collector_tstamp": "2026-11-23 10:00:00"}),
    to_tsv({"collector_tstamp": "2026-11-23 10:00:00.123456"}),
    to_tsv({"collector_tstamp": "2026-11-23T10:00:00.123"}),
    to_tsv({"br_cookies": "yes"}),
    "no tabs at all",
    "three\tfields\there",
    "\t" * 131,
]


def outcome(read: Callable[[str], Any], line: str) -> Any:
    try:
        return read(line)
    except EnrichedEventError as error:
        return error.failure


@pytest.mark.parametrize(
    "line", ENCODED_IN_ONE_PASS + DECLINED + VALID_JSON_COLUMNS + INVALID_JSON_COLUMNS
)
def test_encoded_events_are_their_json_shape(line: str) -> None:
    expected = outcome(to_json, line)
    encoded = outcome(to_json_bytes, line)
    if isinstance(encoded, dict):
        assert encoded == expected, "the same failure as the JSON shape's"
        return
    assert orjson.loads(encoded.json) == expected
    # Elasticsearch refuses an object with a key twice, where Python keeps the last value.
    json.loads(encoded.json, object_pairs_hook=no_repeated_keys)
    # Interpreted, to_json_bytes takes the general path: the bytes' own is checked here too.
    if (written := written_from_bytes(line)) is not None:
        assert json.loads(written, object_pairs_hook=no_repeated_keys) == expected
    timed = to_json_bytes(line, time_field="@timestamp")
    has_time = (
        {"@timestamp": expected["collector_tstamp"]} if "collector_tstamp" in expected else {}
    )
    assert orjson.loads(timed.json) == {**expected, **has_time}
    assert (timed.event_id, timed.collector_tstamp) == (encoded.event_id, encoded.collector_tstamp)
    assert encoded.event_id == expected.get("event_id", "")
    assert encoded.collector_tstamp == expected.get("collector_tstamp", "")


def test_invalid_json_columns_are_reported_with_every_other_invalid_value() -> None:
    line = to_tsv({"contexts": "{not json", "unstruct_event": "[]", "app_id": "fine"})
    with pytest.raises(EnrichedEventError) as raised:
        to_json_bytes(line)
    assert [error["key"] for error in raised.value.failure["errors"]] == [
        "contexts",
        "unstruct_event",
    ]


def written_from_bytes(line: str | bytes) -> bytes | None:
    """The JSON written straight from the line's bytes; None where the general path reads it."""
    encoded = enriched._written_from_bytes(
        line if isinstance(line, bytes) else line.encode(), time_field=None
    )
    return None if encoded is None else encoded.json


def test_usual_lines_are_written_from_their_bytes_and_unusual_ones_declined() -> None:
    usual = ENCODED_IN_ONE_PASS + VALID_JSON_COLUMNS
    assert [written_from_bytes(line) is not None for line in usual] == [True] * len(usual)
    unusual = DECLINED + INVALID_JSON_COLUMNS
    assert [written_from_bytes(line) for line in unusual] == [None] * len(unusual)


def no_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    assert len(keys) == len(set(keys)), f"a key twice in {keys}"
    return dict(pairs)


COLLECTED = "2026-11-23 10:00:00.123"
ADDED_MEMBERS = [
    (
        {"collector_tstamp": COLLECTED, "geo_latitude": "52.5", "geo_longitude": "-13"},
        ["collector_tstamp", "geo_latitude", "geo_longitude", "geo_location", "@timestamp"],
    ),
    ({"geo_latitude": "52.5", "app_id": 'x"'}, ["app_id", "geo_latitude"]),
    (
        {"collector_tstamp": COLLECTED, "contexts": contexts((USER, {}))},
        ["collector_tstamp", "contexts_com_acme_user_1", "@timestamp"],
    ),
    ({"contexts": contexts((USER, {}))}, ["contexts_com_acme_user_1"]),
    ({}, []),
]


@pytest.mark.parametrize(("values", "keys"), ADDED_MEMBERS)
def test_added_members_follow_the_columns_when_theirs_are_not_empty(
    values: dict[str, str], keys: list[str]
) -> None:
    encoded = enriched._written_from_bytes(to_tsv(values).encode(), time_field="@timestamp")
    assert encoded is not None
    assert list(json.loads(encoded.json, object_pairs_hook=no_repeated_keys)) == keys


UTF8_SAMPLES = [
    b"plain",
    "caf\u00e9 \u20ac \U0001f600 \U0010ffff \u2028".encode(),
    b"0123456789abcdef\xc3\xa9",
    b"\xff",
    b"\x80",
    b"\xc0\x80",
    b"\xc1\xbf",
    b"\xe0\x9f\xbf",
    b"\xed\xa0\x80",
    b"\xf0\x8f\xbf\xbf",
    b"\xf4\x90\x80\x80",
    b"\xf5\x80\x80\x80",
    b"\xe2\x82",
    b"0123456789abcdef\xe2\x82",
    b"\xe2\x82x",
]


@pytest.mark.parametrize("value", UTF8_SAMPLES)
def test_bytes_are_written_as_their_text_and_declined_unless_utf8(value: bytes) -> None:
    before, after = to_tsv({"page_title": "|", "txn_id": "5"}).encode().split(b"|")
    line = before + value + after
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        assert written_from_bytes(line) is None
    else:
        written = written_from_bytes(line)
        assert written is not None
        assert orjson.loads(written) == orjson.loads(to_json_bytes(text).json)


def test_an_event_read_as_bytes_is_its_text_or_a_decoding_error() -> None:
    line = to_tsv(event_fields(3, random.Random(3)))
    assert to_json_bytes(line.encode()).json == to_json_bytes(line).json
    with pytest.raises(UnicodeDecodeError):
        to_json_bytes(line.encode() + b"\xff")
