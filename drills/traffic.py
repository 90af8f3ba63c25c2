"""What the drills send: tracker requests (GET and POST tp2, valid and invalid events), each event
with a unique id and the index it belongs in. Pure: the sender does the HTTP."""

from __future__ import annotations

import base64
import itertools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal

import orjson

VENDOR = "dev.furrow.drill"
CHECKOUT = f"iglu:{VENDOR}/checkout/jsonschema/1-0-0"
# Registered before the registry drill but used only while the registry is down, so no enricher
# has it cached when its events arrive.
LATE = f"iglu:{VENDOR}/late_arrival/jsonschema/1-0-0"
UNSTRUCT_EVENT = "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"
PAYLOAD_DATA = "iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4"
TP2 = "/com.snowplowanalytics.snowplow/tp2"

Index = Literal["good", "bad"]


def drill_schemas() -> dict[str, dict[str, Any]]:
    """The schemas the drills' events use, by Iglu URI, to push to the registry."""
    return {CHECKOUT: _checkout_schema(), LATE: _late_schema()}


@dataclass(frozen=True)
class TrackerEvent:
    event_id: str
    parameters: dict[str, str]
    belongs_in: Index


@dataclass(frozen=True)
class TrackerRequest:
    """One HTTP request to the collector: a GET of one event or a POST tp2 batch."""

    method: Literal["GET", "POST"]
    path: str
    events: tuple[TrackerEvent, ...]

    def query(self) -> dict[str, str]:
        return self.events[0].parameters if self.method == "GET" else {}

    def body(self) -> bytes | None:
        if self.method == "GET":
            return None
        return orjson.dumps(
            {"schema": PAYLOAD_DATA, "data": [event.parameters for event in self.events]}
        )


def page_view(event_id: str) -> TrackerEvent:
    parameters = {"e": "pv", "p": "web", "tv": "drill-1", "aid": "drill", "eid": event_id}
    return TrackerEvent(event_id, {**parameters, "url": "https://drill.furrow.dev/"}, "good")


def checkout(event_id: str, *, valid: bool) -> TrackerEvent:
    """A self-describing event; an invalid one breaks its schema (a `schema_violations` row)."""
    amount: object = 12.5 if valid else "twelve"
    data = {"sku": f"sku-{event_id[:4]}", "amount": amount}
    return TrackerEvent(event_id, _unstruct(event_id, CHECKOUT, data), "good" if valid else "bad")


def late_arrival(event_id: str) -> TrackerEvent:
    """A valid event of the schema no enricher has seen before the registry drill."""
    return TrackerEvent(event_id, _unstruct(event_id, LATE, {"note": "late"}), "good")


def broken_base64(event_id: str) -> TrackerEvent:
    """An event whose `ue_px` is not base64 (a `tracker_protocol_violations` row)."""
    parameters = {"e": "ue", "p": "web", "tv": "drill-1", "eid": event_id, "ue_px": "%%not*b64"}
    return TrackerEvent(event_id, parameters, "bad")


def requests(*, late: bool = False) -> Iterator[TrackerRequest]:
    """An endless mix, one request in seven invalid in part or whole; with `late`, every other
    request is a late_arrival event instead."""
    fresh = _event_ids()
    shapes = itertools.cycle(range(7))
    for shape in shapes:
        if late and shape % 2 == 0:
            yield _get(late_arrival(next(fresh)))
        elif shape == 0:
            yield _get(page_view(next(fresh)))
        elif shape == 1:
            yield _get(checkout(next(fresh), valid=True))
        elif shape == 2:
            yield _get(checkout(next(fresh), valid=False))
        elif shape == 3:
            yield _get(broken_base64(next(fresh)))
        elif shape == 4:
            yield _post(page_view(next(fresh)), checkout(next(fresh), valid=True))
        elif shape == 5:
            yield _post(checkout(next(fresh), valid=False), page_view(next(fresh)))
        else:
            yield _post(page_view(next(fresh)))


def _get(event: TrackerEvent) -> TrackerRequest:
    return TrackerRequest("GET", "/i", (event,))


def _post(*events: TrackerEvent) -> TrackerRequest:
    return TrackerRequest("POST", TP2, events)


def _event_ids() -> Iterator[str]:
    while True:
        yield str(uuid.uuid4())


def _unstruct(event_id: str, schema: str, data: dict[str, Any]) -> dict[str, str]:
    envelope = {"schema": UNSTRUCT_EVENT, "data": {"schema": schema, "data": data}}
    encoded = base64.urlsafe_b64encode(orjson.dumps(envelope)).decode()
    return {"e": "ue", "p": "web", "tv": "drill-1", "eid": event_id, "ue_px": encoded}


def _checkout_schema() -> dict[str, Any]:
    return _schema(
        "checkout",
        {"sku": {"type": "string"}, "amount": {"type": "number"}},
        ["sku", "amount"],
    )


def _late_schema() -> dict[str, Any]:
    return _schema("late_arrival", {"note": {"type": "string"}}, ["note"])


def _schema(name: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "$schema": "http://iglucentral.com/schemas/com.snowplowanalytics.self-desc/schema/jsonschema/1-0-0#",
        "description": f"Fault drill event {name}",
        "self": {"vendor": VENDOR, "name": name, "format": "jsonschema", "version": "1-0-0"},
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }
