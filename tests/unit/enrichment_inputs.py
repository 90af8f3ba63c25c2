"""What the enrichment tests feed enrichments: a raw event with its request, and a check that
derived contexts are valid against their schemas in the registry's core schemas."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jsonschema
import orjson

from libs.formats.collector_payload import CollectorPayload
from libs.iglu_repositories import BUILTIN_SCHEMAS
from services.enrich.model import RawEvent, SelfDescribingJson

SCHEMAS = BUILTIN_SCHEMAS


def raw_event(
    parameters: Mapping[str, str] | None = None,
    *,
    headers: Sequence[str] = (),
    user_agent: str | None = None,
    ip_address: str = "203.0.113.7",
) -> RawEvent:
    """A tracker event as the adapter hands it over, with the request it came in."""
    payload = CollectorPayload(
        ip_address=ip_address,
        timestamp_ms=1_795_000_000_000,
        collector="furrow-test",
        path="/i",
        headers=tuple(headers),
        user_agent=user_agent,
    )
    return RawEvent(
        parameters=dict(parameters or {"e": "pv", "p": "web", "tv": "t"}), payload=payload
    )


def assert_valid(contexts: list[SelfDescribingJson]) -> None:
    """Each context is valid against its schema in `SCHEMAS`."""
    for context in contexts:
        vendor, name, schema_format, version = context["schema"].removeprefix("iglu:").split("/")
        schema: dict[str, Any] = orjson.loads(
            (SCHEMAS / vendor / name / schema_format / version).read_bytes()
        )
        jsonschema.Draft4Validator(schema).validate(context["data"])
