"""Snowplow enrich's own test vectors, as tables Furrow's tests run.

Each `Case` is one input and expected output of a spec in `snowplow/enrich`, under
`modules/common/src/test/scala/com.snowplowanalytics.snowplow.enrich.common/`, named by its file
and its case so the next reader can find the source. Only the facts are taken (inputs, expected
outputs), never code. Where Furrow deliberately does otherwise, the case says what Furrow gives
and why; the test then asserts Furrow's value and that it is not Snowplow's, so a difference can
neither go unnoticed nor quietly disappear. docs/enricher.md lists every such case.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pytest

UPSTREAM = "modules/common/src/test/scala/com.snowplowanalytics.snowplow.enrich.common/"


class _Same:
    def __repr__(self) -> str:
        return "SAME"


SAME: Any = _Same()
"""Furrow gives what Snowplow expects."""


@dataclass(frozen=True)
class Case:
    spec: str
    """The spec file under `UPSTREAM`, e.g. `utils/conversionUtilsSpecs.scala`."""
    name: str
    """The case in that file: its class and example (`StringToJIntegerSpec e1: Empty string`)."""
    given: Any
    expected: Any
    """What Snowplow's spec expects."""
    furrow: Any = SAME
    """What Furrow gives instead, on purpose; `SAME` when it gives what Snowplow expects."""
    reason: str = ""
    """Why Furrow differs; required with `furrow`."""

    @property
    def differs(self) -> bool:
        return self.furrow is not SAME

    def check(self, actual: Any) -> None:
        """Assert `actual` is Snowplow's expected value, or, for a deliberate difference,
        Furrow's documented value (which must not be Snowplow's)."""
        if self.differs:
            assert self.reason, f"{self.name}: a difference needs its reason"
            assert self.furrow != self.expected, f"{self.name}: no longer differs, unmark it"
            assert actual == self.furrow, f"Furrow gave {actual!r}, documented {self.furrow!r}"
        else:
            assert actual == self.expected, f"Furrow gave {actual!r}, Snowplow {self.expected!r}"


def cases(table: Iterable[Case]) -> list[Any]:
    """pytest parameters for a table, each with the spec and case as its id."""
    return [pytest.param(case, id=f"{case.spec}::{case.name}") for case in table]
