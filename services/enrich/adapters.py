"""Adapters: a raw request, by its path, read into tracker-protocol events.

`/i`, `/ice.png` and `/com.snowplowanalytics.snowplow/tp2` carry the tracker protocol itself; the
Iglu webhook, the redirect endpoint and Sunbird/DIGIT telemetry are turned into self-describing
events. A request no adapter can read is an adapter failure; one that breaks the tracker protocol
is a protocol violation. Either way every problem is listed, and the enricher makes a bad row.
"""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_to_bytes

import orjson

from libs.formats.collector_payload import CollectorPayload
from libs.formats.iglu import IgluError, SchemaKey
from services.enrich.model import RawEvent, SelfDescribingJson
from services.enrich.protocol import UNSTRUCT_EVENT

PAYLOAD_DATA = "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-"
CONTEXTS_1_0_1 = "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-1"
URI_REDIRECT = "iglu:com.snowplowanalytics.snowplow/uri_redirect/jsonschema/1-0-0"
PIXEL_PATHS = frozenset({"/i", "/ice.png"})
_BAD_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")

SchemaCheck = Callable[[SelfDescribingJson], list[str]]
"""Validates self-describing JSON against its schema; the problems found, empty if valid."""


@dataclass
class Adapted:
    """What an adapter made of a request: its events, or the problems that stopped it."""

    vendor: str
    version: str
    events: list[RawEvent] = field(default_factory=list)
    # Set when no adapter exists for the path or the request is not what it expects.
    adapter_failures: list[dict[str, str]] = field(default_factory=list)
    # Set when the request is for the tracker protocol but breaks it.
    protocol_violations: list[dict[str, str]] = field(default_factory=list)


def vendor_and_version(path: str) -> tuple[str, str]:
    if path in PIXEL_PATHS:
        return "com.snowplowanalytics.snowplow", "tp1"
    vendor, _, version = path.strip("/").partition("/")
    return vendor, version


def adapt(payload: CollectorPayload, check: SchemaCheck, *, telemetry_vendor: str) -> Adapted:
    """The events of one request."""
    vendor, version = vendor_and_version(payload.path)
    adapted = Adapted(vendor, version)
    query = parse_query(payload.querystring or "", adapted.protocol_violations, "querystring")
    if adapted.protocol_violations:
        return adapted
    if payload.path in PIXEL_PATHS or (vendor, version) == (
        "com.snowplowanalytics.snowplow",
        "tp2",
    ):
        _tracker_protocol(payload, query, check, adapted)
    elif (vendor, version) == ("r", "tp2"):
        _redirect(payload, query, adapted)
    elif (vendor, version) == ("com.snowplowanalytics.iglu", "v1"):
        _iglu_webhook(payload, query, adapted)
    elif (vendor, version) == ("v1", "telemetry"):
        _telemetry(payload, query, telemetry_vendor, adapted)
    else:
        adapted.adapter_failures.append(
            {"field": "path", "value": payload.path, "expectation": "a supported vendor/version"}
        )
    return adapted


def parse_query(query: str, problems: list[dict[str, str]], where: str) -> dict[str, str]:
    """The parameters of a query string; malformed percent-encoding or non-UTF-8 values are
    problems, not silently replaced characters."""
    parameters: dict[str, str] = {}
    for pair in query.split("&"):
        if not pair:
            continue
        name, _, value = pair.partition("=")
        decoded = []
        for part in (name, value):
            if _BAD_PERCENT.search(part):
                problems.append(
                    {"field": where, "value": pair[:100], "expectation": "valid %-encoding"}
                )
                break
            try:
                decoded.append(unquote_to_bytes(part.replace("+", " ")).decode("utf-8"))
            except UnicodeDecodeError:
                problems.append({"field": where, "value": pair[:100], "expectation": "UTF-8"})
                break
        else:
            parameters[decoded[0]] = decoded[1]
    return parameters


def _tracker_protocol(
    payload: CollectorPayload, query: dict[str, str], check: SchemaCheck, adapted: Adapted
) -> None:
    if payload.body is None:
        if not query:
            adapted.protocol_violations.append(
                {"field": "querystring", "value": "", "expectation": "tracker parameters"}
            )
            return
        adapted.events.append(RawEvent(query, payload))
        return
    document = _json_body(payload, adapted.protocol_violations)
    if document is None:
        return
    schema = document.get("schema") if isinstance(document, dict) else None
    if not isinstance(schema, str) or not schema.startswith(PAYLOAD_DATA):
        adapted.protocol_violations.append(
            {"field": "body", "value": str(schema), "expectation": f"schema {PAYLOAD_DATA}*"}
        )
        return
    if problems := check(document):
        adapted.protocol_violations.extend(
            {"field": "body", "value": schema, "expectation": problem} for problem in problems
        )
        return
    for parameters in document["data"]:
        # Query-string parameters apply to every event of the batch, over the event's own, as
        # in Snowplow (a collector's `nuid` or a proxy's `tv` win).
        adapted.events.append(RawEvent({**parameters, **query}, payload))


def _json_body(payload: CollectorPayload, problems: list[dict[str, str]]) -> Any:
    content_type = (payload.content_type or "application/json").lower()
    if not content_type.startswith("application/json"):
        problems.append(
            {"field": "contentType", "value": content_type, "expectation": "application/json"}
        )
        return None
    try:
        document = orjson.loads(payload.body or b"")
    except orjson.JSONDecodeError as error:
        body = (payload.body or b"")[:100].decode("utf-8", errors="replace")
        problems.append({"field": "body", "value": body, "expectation": f"JSON ({error})"})
        return None
    if document is None:
        # Callers take None for an unreadable body; a JSON null must not vanish without a problem.
        problems.append({"field": "body", "value": "null", "expectation": "JSON other than null"})
    return document


def _redirect(payload: CollectorPayload, query: dict[str, str], adapted: Adapted) -> None:
    """Snowplow's redirect adapter: the target is the event (`uri_redirect`), or, when the
    request names its event type, an entity added in front of its contexts."""
    if not payload.querystring:
        adapted.protocol_violations.append(
            {
                "field": "querystring",
                "value": "",
                "expectation": "empty querystring: not a valid URI redirect",
            }
        )
        return
    target = query.pop("u", None)
    if not target:
        adapted.protocol_violations.append(
            {
                "field": "querystring",
                "value": payload.querystring,
                "expectation": "missing `u` parameter: not a valid URI redirect",
            }
        )
        return
    redirect = {"schema": URI_REDIRECT, "data": {"uri": target}}
    parameters = {"tv": "r-tp2", "p": "web", **query}
    if "e" not in parameters:
        parameters["e"] = "ue"
        parameters["ue_pr"] = _unstruct_envelope(redirect)
    elif not _add_redirect_entity(parameters, redirect, adapted.protocol_violations):
        return
    adapted.events.append(RawEvent(parameters, payload))


def _add_redirect_entity(
    parameters: dict[str, str], redirect: SelfDescribingJson, problems: list[dict[str, str]]
) -> bool:
    """Put `redirect` first in the contexts of `co` (JSON) or `cx` (base64), or in new contexts;
    False, with the problem, when those contexts are not JSON."""
    encoded = not parameters.get("co") and bool(parameters.get("cx"))
    text = parameters.get("cx", "") if encoded else parameters.get("co", "")
    if not text:
        parameters["co"] = orjson.dumps({"schema": CONTEXTS_1_0_1, "data": [redirect]}).decode()
        return True
    try:
        if encoded:
            text = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()
        contexts = orjson.loads(text)
        contexts["data"] = [redirect, *contexts["data"]]
    except (ValueError, TypeError, KeyError) as error:
        problems.append({"field": "co|cx", "value": text[:100], "expectation": f"JSON ({error})"})
        return False
    written = orjson.dumps(contexts)
    if encoded:
        parameters["cx"] = base64.urlsafe_b64encode(written).decode().rstrip("=")
    else:
        parameters["co"] = written.decode()
    return True


# The tracker parameters Snowplow's webhook adapters keep as such rather than as event data.
_WEBHOOK_TRACKER_PARAMETERS = frozenset({"nuid", "aid", "cv", "eid", "ttm", "url"})
_JSON_TYPES = ("application/json", "application/json; charset=utf-8")
_FORM_TYPE = "application/x-www-form-urlencoded"


def _iglu_webhook(payload: CollectorPayload, query: dict[str, str], adapted: Adapted) -> None:
    """Snowplow's Iglu webhook adapter: the schema in the `schema` parameter, the data in the
    other parameters (empty ones null), or in a JSON body (an array is one event per element)
    or a form body; else a self-describing JSON body."""
    failures = adapted.adapter_failures
    schema = query.pop("schema", None)
    content_type = payload.content_type.lower() if payload.content_type else None
    expected = f"expected one of {', '.join((*_JSON_TYPES, _FORM_TYPE))}"
    if payload.body is not None and content_type is None:
        failures.append({"field": "contentType", "value": "", "expectation": expected})
        return
    if schema is None:
        if payload.body is None:
            failures.append({"field": "schema", "value": "", "expectation": "empty `schema` field"})
            failures.append({"field": "body", "value": "", "expectation": "empty body"})
        elif content_type not in _JSON_TYPES:
            expectation = f"expected one of {', '.join(_JSON_TYPES)}"
            failures.append(
                {"field": "contentType", "value": content_type or "", "expectation": expectation}
            )
        elif (document := _json_body(payload, failures)) is not None:
            if isinstance(document, dict) and isinstance(document.get("schema"), str):
                _webhook_event(
                    document["schema"], document.get("data"), query, "app", payload, adapted
                )
            else:
                failures.append(
                    {"field": "body", "value": "", "expectation": "self-describing JSON"}
                )
        return
    try:
        SchemaKey.parse_uri(schema)
    except IgluError as error:
        failures.append({"field": "schema", "value": schema, "expectation": str(error)})
        return
    if payload.body is None:
        data = {
            name: value or None
            for name, value in query.items()
            if name != "p" and name not in _WEBHOOK_TRACKER_PARAMETERS
        }
        _webhook_event(schema, data, query, "app", payload, adapted)
    elif content_type == _FORM_TYPE:
        body = payload.body.decode("utf-8", errors="replace")
        form = parse_query(body, failures, "body")
        if not failures:
            _webhook_event(schema, form, query, "srv", payload, adapted)
    elif content_type not in _JSON_TYPES:
        failures.append(
            {"field": "contentType", "value": content_type or "", "expectation": expected}
        )
    elif (document := _json_body(payload, failures)) is not None:
        body_text = payload.body.decode("utf-8", errors="replace")
        if isinstance(document, list):
            if not document:
                failures.append(
                    {"field": "body", "value": body_text, "expectation": "empty array of events"}
                )
            for element in document:
                _webhook_event(schema, element, query, "app", payload, adapted)
        elif not isinstance(document, dict) or not document:
            failures.append(
                {"field": "body", "value": body_text, "expectation": "has no key-value pairs"}
            )
        else:
            _webhook_event(schema, document, query, "app", payload, adapted)


def _webhook_event(
    schema: str,
    data: Any,
    query: dict[str, str],
    platform: str,
    payload: CollectorPayload,
    adapted: Adapted,
) -> None:
    parameters = {
        "tv": "com.snowplowanalytics.iglu-v1",
        "e": "ue",
        "p": query.get("p", platform),
        "ue_pr": _unstruct_envelope({"schema": schema, "data": data}),
        **{k: v for k, v in query.items() if k in _WEBHOOK_TRACKER_PARAMETERS},
    }
    adapted.events.append(RawEvent(parameters, payload))


def _telemetry(
    payload: CollectorPayload, query: dict[str, str], vendor: str, adapted: Adapted
) -> None:
    document = _json_body(payload, adapted.adapter_failures)
    if document is None:
        return
    events = document.get("events") if isinstance(document, dict) else None
    if not isinstance(events, list) or not events:
        adapted.adapter_failures.append(
            {"field": "events", "value": "", "expectation": "a non-empty array of telemetry events"}
        )
        return
    params = document.get("params")
    batch = {
        "id": str(document.get("id", "")),
        "ver": str(document.get("ver", "")),
        "msgid": str(params.get("msgid", "")) if isinstance(params, Mapping) else "",
    }
    context = {"schema": f"iglu:{vendor}/telemetry_batch/jsonschema/1-0-0", "data": batch}
    for index, telemetry in enumerate(events):
        name = telemetry.get("eid") if isinstance(telemetry, dict) else None
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_-]+", name):
            adapted.adapter_failures.append(
                {
                    "field": f"events[{index}].eid",
                    "value": str(name),
                    "expectation": "an event name",
                }
            )
            continue
        parameters = {
            "e": "ue",
            "p": query.get("p", "app"),
            "tv": f"sunbird-telemetry-{batch['ver']}",
            "ue_pr": _unstruct_envelope(
                {"schema": f"iglu:{vendor}/{name.lower()}/jsonschema/1-0-0", "data": telemetry}
            ),
            "co": orjson.dumps({"schema": CONTEXTS_1_0_1, "data": [context]}).decode(),
        }
        if isinstance(mid := telemetry.get("mid"), str) and mid:
            # A stable id per telemetry message: a resent batch deduplicates downstream.
            parameters["eid"] = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{vendor}/{mid}"))
        if isinstance(ets := telemetry.get("ets"), int):
            parameters["dtm"] = str(ets)
        adapted.events.append(RawEvent(parameters, payload))


def _unstruct_envelope(event: SelfDescribingJson) -> str:
    return orjson.dumps({"schema": UNSTRUCT_EVENT, "data": event}).decode()
