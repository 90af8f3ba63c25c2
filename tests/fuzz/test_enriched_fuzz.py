"""The enriched-event encoder under arbitrary column values: the JSON written in one pass by the
compiled encoder, or by the general path for what it declines, is always the event's JSON shape,
and a line that has none fails the same way."""

from __future__ import annotations

import random
from typing import Any

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from libs.formats.enriched import (
    FIELD_NAMES,
    EnrichedEventError,
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
    line = to_tsv({**event_fields(seed, random.Random(seed)), **changes})
    expected = _outcome(lambda: to_json(line))
    encoded = _outcome(lambda: to_json_bytes(line))
    if isinstance(expected, EnrichedEventError):
        assert isinstance(encoded, EnrichedEventError)
        assert encoded.failure == expected.failure
        return
    assert not isinstance(encoded, Exception), encoded
    assert orjson.loads(encoded.json) == expected


def _outcome(read: Any) -> Any:
    try:
        return read()
    except EnrichedEventError as error:
        return error
