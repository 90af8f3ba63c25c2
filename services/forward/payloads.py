"""What a destination is sent for one event: the event's JSON in the analytics-SDK shape (the good
sink's documents, without `@timestamp`), cut to the fields chosen, or Amplitude's event made of
it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import orjson

from libs.formats import enriched
from services.forward.config import DestinationSettings

# Amplitude's event fields filled from an event's own, beside the identities, time and type.
_AMPLITUDE_FIELDS: Final = (
    ("platform", "platform"),
    ("os_name", "os_name"),
    ("language", "br_lang"),
    ("ip", "user_ipaddress"),
    ("country", "geo_country"),
    ("region", "geo_region"),
    ("city", "geo_city"),
    ("location_lat", "geo_latitude"),
    ("location_lng", "geo_longitude"),
)
# What an Amplitude event's properties hold when `fields` does not say: what the event was
# about, not the 130 columns describing where it came from.
AMPLITUDE_PROPERTIES: Final = (
    "app_id",
    "page_url",
    "page_title",
    "page_referrer",
    "se_category",
    "se_action",
    "se_label",
    "se_property",
    "se_value",
)
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


class Unforwardable(ValueError):
    """The event cannot be made into what the destination takes; the message says why."""


Shaper = Callable[[bytes], bytes]


def shaper(destination: DestinationSettings) -> Shaper:
    """The function making an enriched line, as read from `good`, into the bytes of one event
    for `destination`; it raises Unforwardable."""
    fields = None if destination.fields is None else frozenset(destination.fields)
    if destination.target == "amplitude":
        return lambda line: orjson.dumps(amplitude_event(_event(line), fields))
    return lambda line: event_json(line, fields)


def event_json(line: bytes, fields: frozenset[str] | None) -> bytes:
    """The event's JSON with only the keys in `fields` (every key if None)."""
    if fields is None:
        try:
            # The bytes as read: decoding them is the encoder's own, cheaper, check.
            return enriched.to_json_bytes(line).json
        except UnicodeDecodeError:
            raise Unforwardable("not UTF-8 text") from None
        except enriched.EnrichedEventError as error:
            raise Unforwardable(_why(error)) from None
    return orjson.dumps(_selected(_event(line), fields))


def amplitude_event(event: dict[str, Any], properties: frozenset[str] | None) -> dict[str, Any]:
    """An event of Amplitude's HTTP V2 API: user_id, device_id (domain_userid, else
    network_userid), time in ms (derived_tstamp, else collector_tstamp), event_type (the event's
    name), insert_id (event_id, which Amplitude deduplicates on), the keys in `properties` (the
    AMPLITUDE_PROPERTIES and the event's self-describing data and entities if None) as
    event_properties, and where the event has them, platform, OS, language, IP and location."""
    user_id = event.get("user_id")
    device_id = event.get("domain_userid") or event.get("network_userid")
    if not user_id and not device_id:
        raise Unforwardable("Amplitude needs user_id or device_id; the event has neither")
    moment = event.get("derived_tstamp") or event.get("collector_tstamp")
    if not moment:
        raise Unforwardable("the event has neither derived_tstamp nor collector_tstamp")
    amplitude: dict[str, Any] = {
        "event_type": event.get("event_name") or event.get("event") or "unknown",
        "time": _epoch_ms(moment),
        "insert_id": event.get("event_id"),
    }
    if user_id:
        amplitude["user_id"] = user_id
    if device_id:
        amplitude["device_id"] = device_id
    for name, source in _AMPLITUDE_FIELDS:
        if (value := event.get(source)) is not None:
            amplitude[name] = value
    if properties is None:
        amplitude["event_properties"] = {
            key: value
            for key, value in event.items()
            if key in AMPLITUDE_PROPERTIES or key.startswith(("unstruct_event_", "contexts_"))
        }
    else:
        amplitude["event_properties"] = _selected(event, properties)
    return amplitude


def amplitude_request(api_key: str, events: Iterable[bytes]) -> bytes:
    """The body of a request of Amplitude events (each already encoded). IDs as short as one
    character are kept: Amplitude's default drops those under five, and a Snowplow user_id may
    well be shorter."""
    return b"".join(
        (
            b'{"api_key":',
            orjson.dumps(api_key),
            b',"options":{"min_id_length":1},"events":[',
            b",".join(events),
            b"]}",
        )
    )


def _event(line: bytes) -> dict[str, Any]:
    try:
        return enriched.to_json(line.decode())
    except UnicodeDecodeError:
        raise Unforwardable("not UTF-8 text") from None
    except enriched.EnrichedEventError as error:
        raise Unforwardable(_why(error)) from None


def _selected(event: dict[str, Any], fields: frozenset[str]) -> dict[str, Any]:
    return {key: value for key, value in event.items() if key in fields}


def _epoch_ms(moment: str) -> int:
    # The analytics-SDK shape writes `2026-11-23T10:00:00.123Z`.
    return (datetime.fromisoformat(moment) - _EPOCH) // _MILLISECOND


_MILLISECOND: Final = timedelta(milliseconds=1)


def _why(error: enriched.EnrichedEventError) -> str:
    return f"not an enriched event: {orjson.dumps(error.failure).decode()}"
