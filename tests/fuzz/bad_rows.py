"""The check every fuzz test makes of the bad rows it sees: each one is valid against the schema
it names, as served by the registry's core schemas."""

from __future__ import annotations

from typing import Any

import orjson

from iglu_registry.bootstrap import CORE_SCHEMAS
from libs.iglu_client import DirectoryRepository, RepositorySettings, Resolver

_CORE = Resolver([DirectoryRepository(RepositorySettings(name="core", path=CORE_SCHEMAS))])


def valid_bad_row(row: bytes) -> dict[str, Any]:
    """The parsed bad row, after asserting it is valid against its own bad-row schema."""
    document: dict[str, Any] = orjson.loads(row)
    assert str(document["schema"]).startswith("iglu:com.snowplowanalytics.snowplow.badrows/")
    assert _CORE.validate(document) == [], document
    return document


def bad_row_type(document: dict[str, Any]) -> str:
    return str(document["schema"]).split("/")[1]
