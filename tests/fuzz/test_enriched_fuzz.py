"""The enriched-event encoder under arbitrary column values: the JSON written straight from the
line's bytes, or by the general path for what that declines, is always the event's JSON shape, and
a line that has none fails the same way. The JSON columns are also edited a character at a time,
into near-JSON."""

from __future__ import annotations

import json
import random
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from libs.formats.enriched import (
    FIELD_NAMES,
    EnrichedEventError,
    _utf8,
    _written_from_bytes,
    to_json,
    to_json_bytes,
    to_tsv,
)
from tests.enriched_events import event_fields
from tests.fuzz.budget import FUZZ

pytestmark = pytest.mark.fuzz

# Values close to each kind's usual spelling, where a one-pass check is most likely to slip.
NEAR_MISSES = st.sampled_from(
    [
        "0",
        "00",
        "-0",
        "-0.0",
        "1.",
        ".1",
        "1e3",
        "123456789",
        "1234567890",
        "123456789012345",
        "1234567890123456",
        "12345678901234567890",
        "1234567890123456.5",
        "2026-11-23 10:00:00.123",
        "2026-11-23 10:00:00.12",
        "2026-11-23 10:00:00.1234",
        "2026-11-23 24:61:61.999",
        "1",
        "true",
        '"',
        "\\",
        "\x00",
        "\u2028",
        '{"schema":"s","data":[]}',
    ]
)


# What JSON is made of, and what it must not hold.
JSON_PIECES = st.sampled_from(
    [*'{}[]":,\\/ 0123456789-+.eEtrufalsnu', "\x01", "é", '"a"', '"a":1,', "1e99", "\\u00e9"]
)
JSON_EDITS = st.lists(
    st.tuples(st.sampled_from(["insert", "replace", "delete"]), st.floats(0, 1), JSON_PIECES),
    min_size=1,
    max_size=4,
)


@FUZZ
@given(
    seed=st.integers(0, 2**16),
    changes=st.dictionaries(
        st.sampled_from(FIELD_NAMES),
        st.one_of(NEAR_MISSES, st.text(max_size=30)),
        max_size=8,
    ),
)
def test_encoded_lines_are_their_json_shape(seed: int, changes: dict[str, str]) -> None:
    _assert_encoded_as_json_shape(to_tsv({**event_fields(seed, random.Random(seed)), **changes}))


@FUZZ
@given(
    seed=st.integers(0, 2**16),
    column=st.sampled_from(["contexts", "derived_contexts", "unstruct_event"]),
    edits=JSON_EDITS,
)
def test_edited_json_columns_are_their_json_shape(
    seed: int, column: str, edits: list[tuple[str, float, str]]
) -> None:
    fields = event_fields(seed, random.Random(seed))
    text = fields.get(column, '{"schema":"iglu:a/b/jsonschema/1-0-0","data":{"schema":"x"}}')
    for edit, where, piece in edits:
        at = int(where * len(text))
        if edit == "insert":
            text = text[:at] + piece + text[at:]
        elif edit == "replace":
            text = text[:at] + piece + text[at + 1 :]
        else:
            text = text[:at] + text[at + 1 :]
    _assert_encoded_as_json_shape(to_tsv({**fields, column: text}))


def _assert_encoded_as_json_shape(line: str) -> None:
    expected = _outcome(lambda: to_json(line))
    encoded = _outcome(lambda: to_json_bytes(line))
    # Interpreted, to_json_bytes takes the general path: the bytes' own is checked here too.
    written = _written_from_bytes(_utf8(line), time_field=None)
    if isinstance(expected, EnrichedEventError):
        assert isinstance(encoded, EnrichedEventError)
        assert encoded.failure == expected.failure
        assert written is None
        return
    if written is not None:
        assert json.loads(written.json, object_pairs_hook=_no_repeated_keys) == expected
    assert not isinstance(encoded, Exception), encoded
    assert orjson.loads(encoded.json) == expected
    # Elasticsearch refuses an object with a key twice, where Python keeps the last value.
    json.loads(encoded.json, object_pairs_hook=_no_repeated_keys)


def _no_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    assert len(keys) == len(set(keys)), f"a key twice in {keys}"
    return dict(pairs)


def _outcome(read: Any) -> Any:
    try:
        return read()
    except EnrichedEventError as error:
        return error
