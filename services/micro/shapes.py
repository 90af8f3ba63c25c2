"""What Snowplow Micro's API answers, as JSON: good events, bad events and the summary, and the
filters its `/micro/good` and `/micro/bad` take. Pure functions; the stores (in memory for
`furrow micro`, Elasticsearch for the console) hold and select the records."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

import orjson

from libs.formats import badrows
from libs.formats.collector_payload import CollectorPayload


class FilterError(ValueError):
    """A filter Micro's API does not take, or a value of the wrong type; the reason is the
    message, answered with a 400."""


@dataclass(frozen=True)
class GoodFilters:
    """`/micro/good`: events of this type (`page_view`, `unstruct`, ...), of this schema, carrying
    every one of these entity schemas; at most `limit`, newest first."""

    event_type: str | None = None
    schema: str | None = None
    contexts: tuple[str, ...] = ()
    limit: int | None = None


@dataclass(frozen=True)
class BadFilters:
    """`/micro/bad`: bad events of requests to this vendor and tracker-protocol version."""

    vendor: str | None = None
    version: str | None = None
    limit: int | None = None


GOOD_FILTER_KEYS = frozenset({"event_type", "schema", "contexts", "limit"})
BAD_FILTER_KEYS = frozenset({"vendor", "version", "limit"})


def good_filters(given: dict[str, Any]) -> GoodFilters:
    """The filters of a POST body (or a query string read as one); FilterError says what is
    wrong."""
    _only(given, GOOD_FILTER_KEYS)
    contexts = given.get("contexts")
    if contexts is None:
        contexts = []
    if not isinstance(contexts, list) or not all(isinstance(c, str) for c in contexts):
        raise FilterError("contexts must be a list of schema URIs")
    return GoodFilters(
        event_type=_text(given, "event_type"),
        schema=_text(given, "schema"),
        contexts=tuple(contexts),
        limit=_limit(given),
    )


def bad_filters(given: dict[str, Any]) -> BadFilters:
    _only(given, BAD_FILTER_KEYS)
    return BadFilters(
        vendor=_text(given, "vendor"), version=_text(given, "version"), limit=_limit(given)
    )


def query_filters(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Query-string parameters as a filter body: `contexts` may repeat, `limit` is a number."""
    given: dict[str, Any] = {}
    for name, value in pairs:
        if name == "contexts":
            given.setdefault("contexts", []).append(value)
        elif name in given:
            raise FilterError(f"{name} given more than once")
        elif name == "limit":
            if not value.isascii() or not value.isdigit():
                raise FilterError("limit must be a whole number")
            given[name] = int(value)
        else:
            given[name] = value
    return given


def _only(given: dict[str, Any], known: frozenset[str]) -> None:
    unknown = sorted(set(given) - known)
    if unknown:
        raise FilterError(f"unknown filter {', '.join(unknown)}; known: {', '.join(sorted(known))}")


def _text(given: dict[str, Any], name: str) -> str | None:
    value = given.get(name)
    if value is not None and not isinstance(value, str):
        raise FilterError(f"{name} must be a string")
    return value


def _limit(given: dict[str, Any]) -> int | None:
    value = given.get("limit")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise FilterError("limit must be a whole number, 0 or more")
    return value


def event_schema(event: dict[str, Any]) -> str | None:
    """The schema URI of an enriched event (analytics-SDK JSON), from its event_vendor, _name,
    _format and _version; None if one is missing."""
    parts = [event.get(f"event_{part}") for part in ("vendor", "name", "format", "version")]
    if not all(isinstance(part, str) and part for part in parts):
        return None
    return "iglu:" + "/".join(str(part) for part in parts)


def api(vendor: str, version: str) -> dict[str, str]:
    return {"vendor": vendor, "version": version}


def _request(payload: CollectorPayload) -> dict[str, Any]:
    return {
        "source": {
            "name": payload.collector,
            "encoding": payload.encoding,
            "hostname": payload.hostname,
        },
        "context": {
            "timestamp": _iso(payload.timestamp_ms),
            "ipAddress": payload.ip_address,
            "useragent": payload.user_agent,
            "refererUri": payload.referer_uri,
            "headers": list(payload.headers),
            "userId": payload.network_user_id,
        },
    }


def raw_event(
    payload: CollectorPayload, vendor: str, version: str, parameters: dict[str, str]
) -> dict[str, Any]:
    """One event as the adapter read it: Micro's `rawEvent`."""
    return {
        "api": api(vendor, version),
        "parameters": parameters,
        "contentType": payload.content_type,
        **_request(payload),
    }


def collector_payload(payload: CollectorPayload, vendor: str, version: str) -> dict[str, Any]:
    """The request as the collector stored it: Micro's `collectorPayload`."""
    return {
        "api": api(vendor, version),
        "querystring": badrows.name_values(
            parse_qsl(payload.querystring or "", keep_blank_values=True)
        ),
        "contentType": payload.content_type,
        "body": None if payload.body is None else payload.body.decode("utf-8", errors="replace"),
        **_request(payload),
    }


def good_event(event: dict[str, Any], raw: dict[str, Any] | None) -> dict[str, Any]:
    """Micro's GoodEvent for an enriched event read with `enriched.to_event` (as the Scala
    analytics SDK encodes an event: `contexts`, `unstruct_event` and `derived_contexts` kept as
    self-describing JSON). `contexts` lists the schemas of the tracker's entities, not of the
    derived ones, as Micro does."""
    return {
        "event": event,
        "rawEvent": raw,
        "eventType": event.get("event"),
        "schema": event_schema(event),
        "contexts": entity_schemas(event),
    }


def entity_schemas(event: dict[str, Any]) -> list[str]:
    """The schema URIs of the entities in `contexts` of an enriched event read with
    `enriched.to_event` (the JSON columns kept whole)."""
    contexts = event.get("contexts")
    if not isinstance(contexts, dict) or not isinstance(contexts.get("data"), list):
        return []
    return [
        entity["schema"]
        for entity in contexts["data"]
        if isinstance(entity, dict) and isinstance(entity.get("schema"), str)
    ]


def bad_event(
    bad_row: bytes, collector: dict[str, Any] | None, raw: dict[str, Any] | None
) -> dict[str, Any]:
    """Micro's BadEvent: the request, the event if the adapter read one, and why it is bad: a
    line that says so, then the bad row itself."""
    return {
        "collectorPayload": collector,
        "rawEvent": raw,
        "errors": [bad_row_summary(orjson.loads(bad_row)), bad_row.decode()],
    }


def bad_row_summary(row: dict[str, Any]) -> str:
    """One line saying why: the bad-row type, then each message the row's failure gives."""
    schema = row.get("schema")
    kind = (badrows.type_of(schema) if isinstance(schema, str) else None) or "unknown"
    data = row.get("data")
    failure = data.get("failure") if isinstance(data, dict) else None
    reasons = failure_reasons(failure)
    return f"{kind}: {'; '.join(reasons)}" if reasons else kind


def failure_reasons(failure: object) -> list[str]:
    """The messages of a bad row's `failure`, whatever its type: `schemaKey: path: message` for
    schema violations, the enrichment's error, the protocol's expectation, ..."""
    if isinstance(failure, str):
        return [failure]
    if not isinstance(failure, dict):
        return []
    if isinstance(failure.get("expectation"), str):  # size_violation
        return [str(failure["expectation"])]
    reasons: list[str] = []
    for message in _list(failure.get("messages")) + _list(failure.get("errors")):
        reasons.extend(_message_reasons(message))
    if not reasons and isinstance(failure.get("error"), str):
        reasons.append(failure["error"])
    return reasons


def object_at(parent: dict[str, Any], key: str) -> dict[str, Any]:
    """`parent[key]` if it is an object, else an empty one: bad rows differ in shape by type."""
    value = parent.get(key)
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[Any]:
    return value if isinstance(value, list) else []


def _message_reasons(message: object) -> list[str]:
    if isinstance(message, str):
        return [message]
    if not isinstance(message, dict):
        return []
    schema_key = message.get("schemaKey")
    error = message.get("error")
    prefix = f"{schema_key}: " if isinstance(schema_key, str) else ""
    if isinstance(error, dict):
        reports = _list(error.get("dataReports"))
        if reports:
            return [
                prefix + f"{report.get('path', '$')}: {report.get('message')}"
                for report in reports
                if isinstance(report, dict)
            ]
        return [prefix + str(error.get("error", error))]
    if isinstance(error, str):
        return [prefix + error]
    if isinstance(message.get("expectation"), str):  # tracker protocol and adapter failures
        return [f"{message.get('field')}: {message['expectation']}"]
    return [prefix + orjson.dumps(message).decode()] if prefix else []


def _iso(epoch_ms: int) -> str:
    moment = datetime.fromtimestamp(epoch_ms / 1000, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
