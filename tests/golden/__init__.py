"""Golden events: a corpus of raw requests (`requests.json`), one per event type and tracker
shape Furrow's tests send, and what the enricher makes of each with the default enrichment
configurations (`config/enrichments/`), checked in under `expected/`: `<name>.tsv` holds the
good events' enriched TSV lines, `<name>.bad.json` the bad rows. Any change to the enriched
output shows as a change to these files in review.

What differs from run to run or pipeline to pipeline is pinned or normalised: the enrichment
time is fixed (`NOW`), `v_etl` and the processor's version are written `<version>`, and an
`event_id` the enricher made (the request sent none) is written `<generated>`. The collector's
time and name come from the corpus. Regenerate with `.venv/bin/python -m tests.golden`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from libs.formats.collector_payload import CollectorPayload, encode
from libs.formats.enriched import FIELD_NAMES
from libs.iglu_client import DirectoryRepository, RepositorySettings, Resolver
from services.enrich.core import Enricher
from services.enrich.enrichments import load_enrichments

HERE = Path(__file__).resolve().parent
CLONE = HERE.parents[1]
EXPECTED = HERE / "expected"
NOW = datetime(2026, 11, 18, 11, 6, 45, tzinfo=UTC)
VERSION = "<version>"
GENERATED = "<generated>"


@dataclass(frozen=True)
class Outputs:
    """One request's outputs, normalised: TSV lines of good events, bad rows as JSON."""

    good: list[str]
    bad: list[Any]


def corpus() -> list[dict[str, Any]]:
    requests: list[dict[str, Any]] = orjson.loads((HERE / "requests.json").read_bytes())
    return requests


def raw_record(request: dict[str, Any]) -> bytes:
    """The request as a collector stores it: a Thrift CollectorPayload."""
    body = request.get("body")
    if body is not None and not isinstance(body, str):
        body = orjson.dumps(body).decode()
    return encode(
        CollectorPayload(
            ip_address=request["ip_address"],
            timestamp_ms=request["timestamp_ms"],
            collector="ssc-3.2.0-kafka",
            path=request["path"],
            querystring=request.get("query"),
            body=None if body is None else body.encode(),
            content_type=request.get("content_type"),
            headers=tuple(request["headers"]),
            user_agent=request.get("user_agent"),
            referer_uri=request.get("referer_uri"),
            network_user_id=request.get("network_user_id"),
            hostname="collector.acme.com",
        )
    )


def enricher() -> Enricher:
    """The enricher with the default enrichments, schemas from the corpus and Furrow's own."""
    repositories = [
        DirectoryRepository(RepositorySettings(name=name, path=path))
        for name, path in [
            ("golden", HERE / "schemas"),
            ("builtin", CLONE / "libs" / "builtin_schemas"),
        ]
    ]
    return Enricher(
        validator=Resolver(list(repositories)),
        enrichments=load_enrichments(CLONE / "config" / "enrichments"),
    )


def enrich(request: dict[str, Any], core: Enricher) -> Outputs:
    outputs = core.enrich(raw_record(request), now=NOW)
    sent = orjson.dumps(request).decode()
    good = [_normalised_line(line, sent) for line in outputs.good]
    bad = [_normalised_bad_row(orjson.loads(row), sent) for row in outputs.bad]
    return Outputs(good, bad)


def expected(name: str) -> Outputs:
    good = EXPECTED / f"{name}.tsv"
    bad = EXPECTED / f"{name}.bad.json"
    return Outputs(
        good.read_text().splitlines() if good.exists() else [],
        orjson.loads(bad.read_bytes()) if bad.exists() else [],
    )


def write(name: str, outputs: Outputs) -> None:
    """Replace the expected outputs of one request."""
    EXPECTED.mkdir(exist_ok=True)
    good = EXPECTED / f"{name}.tsv"
    bad = EXPECTED / f"{name}.bad.json"
    good.unlink(missing_ok=True)
    bad.unlink(missing_ok=True)
    if outputs.good:
        good.write_text("".join(f"{line}\n" for line in outputs.good))
    if outputs.bad:
        options = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS | orjson.OPT_APPEND_NEWLINE
        bad.write_bytes(orjson.dumps(outputs.bad, option=options))


def _generated(event_id: str, sent: str) -> bool:
    """True for an event id the enricher made: a random (version 4) UUID the request did not
    send. Telemetry's ids, derived from message ids (version 5), stay as they are."""
    try:
        return uuid.UUID(event_id).version == 4 and event_id not in sent
    except ValueError:
        return False


def _normalised_line(line: str, sent: str) -> str:
    fields = dict(zip(FIELD_NAMES, line.split("\t"), strict=True))
    fields["v_etl"] = VERSION
    if _generated(fields["event_id"], sent):
        fields["event_id"] = GENERATED
    return "\t".join(fields[name] for name in FIELD_NAMES)


def _normalised_bad_row(row: dict[str, Any], sent: str) -> Any:
    data = row["data"]
    data["processor"]["version"] = VERSION
    payload = data.get("payload")
    enriched = payload.get("enriched") if isinstance(payload, dict) else None
    if isinstance(enriched, dict):
        enriched["v_etl"] = VERSION
        if _generated(str(enriched.get("event_id")), sent):
            enriched["event_id"] = GENERATED
    return row
