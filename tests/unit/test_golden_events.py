"""The golden events: the enricher's core over the corpus in tests/golden gives, field by field,
the outputs checked in beside it. A failure here is a change to what Furrow writes: if it is
meant, regenerate with `.venv/bin/python -m tests.golden` and let review see the diff."""

from __future__ import annotations

from typing import Any

import pytest

from libs.formats.enriched import FIELD_NAMES
from libs.iglu_client import DirectoryRepository, RepositorySettings, Resolver
from libs.iglu_repositories import BUILTIN_SCHEMAS
from services.enrich.core import Enricher
from tests import golden


@pytest.fixture(scope="module")
def core() -> Enricher:
    return golden.enricher()


def fields(line: str) -> dict[str, str]:
    return dict(zip(FIELD_NAMES, line.split("\t"), strict=True))


@pytest.mark.parametrize("request_", golden.corpus(), ids=lambda r: r["name"])
def test_the_corpus_enriches_to_its_golden_outputs(
    request_: dict[str, Any], core: Enricher
) -> None:
    actual = golden.enrich(request_, core)
    expected = golden.expected(request_["name"])
    assert len(actual.good) == len(expected.good), "a different number of good events"
    differences = [
        (index, name, want, got)
        for index, (got_line, want_line) in enumerate(zip(actual.good, expected.good, strict=True))
        for name, want in fields(want_line).items()
        if (got := fields(got_line)[name]) != want
    ]
    assert differences == [], "fields differ (event, field, expected, actual)"
    assert actual.bad == expected.bad


def test_every_golden_bad_row_is_valid_against_snowplows_schema() -> None:
    resolver = Resolver(
        [DirectoryRepository(RepositorySettings(name="built in", path=BUILTIN_SCHEMAS))]
    )
    rows = [row for r in golden.corpus() for row in golden.expected(r["name"]).bad]
    assert len(rows) >= 4
    for row in rows:
        # The corpus holds no version of Furrow's, so that a release changes no golden file.
        row["data"]["processor"]["version"] = "0.1.0"
    assert [resolver.validate(row) for row in rows] == [[] for _ in rows]


def test_every_golden_file_has_its_request() -> None:
    names = {request["name"] for request in golden.corpus()}
    files = {path.name.split(".")[0] for path in golden.EXPECTED.iterdir()}
    assert files == names


def test_the_corpus_covers_every_adapter_and_event_type() -> None:
    paths = {request["path"] for request in golden.corpus()}
    assert {"/i", "/com.snowplowanalytics.snowplow/tp2", "/r/tp2"} <= paths
    assert {"/com.snowplowanalytics.iglu/v1", "/v1/telemetry"} <= paths
    events = {
        fields(line)["event"]
        for name in sorted(golden.corpus(), key=lambda r: r["name"])
        for line in golden.expected(name["name"]).good
    }
    types = {"page_view", "page_ping", "struct", "unstruct", "transaction", "transaction_item"}
    assert types | {"ad_impression"} <= events
