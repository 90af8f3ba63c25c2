"""The tracker protocol: one event's parameters read into enriched-event fields.

Pure: every field comes from the parameters and the request; what breaks the protocol is
collected as violations (field, value, expectation) rather than raised one at a time, so a bad
row lists every problem of the event.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson

from libs.formats.enriched import EnrichedEvent, timestamp
from libs.formats.iglu import IgluError, SchemaKey, schema_key
from services.enrich.model import RawEvent, SelfDescribingJson

UNSTRUCT_EVENT = "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"
CONTEXTS = "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-"
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
PLATFORMS = frozenset({"web", "iot", "app", "mob", "pc", "cnsl", "tv", "srv", "headset"})

# Event type parameter -> the `event` field and the schema the event is known by.
EVENT_TYPES: dict[str, tuple[str, str | None]] = {
    "pv": ("page_view", "iglu:com.snowplowanalytics.snowplow/page_view/jsonschema/1-0-0"),
    "pp": ("page_ping", "iglu:com.snowplowanalytics.snowplow/page_ping/jsonschema/1-0-0"),
    "se": ("struct", "iglu:com.google.analytics/event/jsonschema/1-0-0"),
    "tr": ("transaction", "iglu:com.snowplowanalytics.snowplow/transaction/jsonschema/1-0-0"),
    "ti": (
        "transaction_item",
        "iglu:com.snowplowanalytics.snowplow/transaction_item/jsonschema/1-0-0",
    ),
    "ad": ("ad_impression", "iglu:com.snowplowanalytics.snowplow/ad_impression/jsonschema/1-0-0"),
    # A self-describing event is known by the schema of its own data.
    "ue": ("unstruct", None),
}

# Parameters copied as text.
TEXT_FIELDS = {
    "aid": "app_id",
    "tna": "name_tracker",
    "tv": "v_tracker",
    "uid": "user_id",
    "fp": "user_fingerprint",
    "duid": "domain_userid",
    "sid": "domain_sessionid",
    "page": "page_title",
    "se_ca": "se_category",
    "se_ac": "se_action",
    "se_la": "se_label",
    "se_pr": "se_property",
    "tr_id": "tr_orderid",
    "tr_af": "tr_affiliation",
    "tr_ci": "tr_city",
    "tr_st": "tr_state",
    "tr_co": "tr_country",
    "tr_cu": "tr_currency",
    "ti_id": "ti_orderid",
    "ti_sk": "ti_sku",
    "ti_nm": "ti_name",
    "ti_na": "ti_name",
    "ti_ca": "ti_category",
    "ti_cu": "ti_currency",
    "lang": "br_lang",
    "cd": "br_colordepth",
    "tz": "os_timezone",
    "cs": "doc_charset",
}
INTEGER_FIELDS = {
    "tid": "txn_id",
    "vid": "domain_sessionidx",
    "pp_mix": "pp_xoffset_min",
    "pp_max": "pp_xoffset_max",
    "pp_miy": "pp_yoffset_min",
    "pp_may": "pp_yoffset_max",
    "ti_qu": "ti_quantity",
}
NUMBER_FIELDS = {
    "se_va": "se_value",
    "tr_tt": "tr_total",
    "tr_tx": "tr_tax",
    "tr_sh": "tr_shipping",
    "ti_pr": "ti_price",
}
BOOLEAN_FIELDS = {
    "f_pdf": "br_features_pdf",
    "f_fla": "br_features_flash",
    "f_java": "br_features_java",
    "f_dir": "br_features_director",
    "f_qt": "br_features_quicktime",
    "f_realp": "br_features_realplayer",
    "f_wma": "br_features_windowsmedia",
    "f_gears": "br_features_gears",
    "f_ag": "br_features_silverlight",
    "cookie": "br_cookies",
}
TIMESTAMP_FIELDS = {"dtm": "dvce_created_tstamp", "stm": "dvce_sent_tstamp", "ttm": "true_tstamp"}
DIMENSION_FIELDS = {
    "res": ("dvce_screenwidth", "dvce_screenheight"),
    "vp": ("br_viewwidth", "br_viewheight"),
    "ds": ("doc_width", "doc_height"),
}
# Largest epoch millisecond a timestamp column can hold (year 9999).
MAX_EPOCH_MS = 253_402_300_799_999
INT32 = 2**31


@dataclass
class ProtocolReading:
    """An event read from the tracker protocol: its fields, the self-describing JSON it carries
    (to validate), and what breaks the protocol."""

    event: EnrichedEvent = field(default_factory=dict)
    unstruct_event: SelfDescribingJson | None = None
    contexts: list[SelfDescribingJson] = field(default_factory=list)
    violations: list[dict[str, str]] = field(default_factory=list)

    def violate(self, name: str, value: str | None, expectation: str) -> None:
        self.violations.append({"field": name, "value": value or "", "expectation": expectation})


def read_event(raw: RawEvent, *, etl_ms: int, etl_version: str) -> ProtocolReading:
    """The enriched fields of one tracker protocol event."""
    parameters = raw.parameters
    payload = raw.payload
    reading = ProtocolReading()
    event = reading.event
    event["etl_tstamp"] = timestamp(etl_ms)
    event["collector_tstamp"] = timestamp(payload.timestamp_ms)
    event["v_collector"] = payload.collector
    event["v_etl"] = etl_version
    event["user_ipaddress"] = parameters.get("ip") or payload.ip_address
    if useragent := parameters.get("ua") or payload.user_agent:
        event["useragent"] = useragent
    if network_userid := parameters.get("tnuid") or payload.network_user_id:
        event["network_userid"] = network_userid

    _read_event_type(parameters, reading)
    _read_platform(parameters, reading)
    if not parameters.get("tv"):
        reading.violate("tv", None, "the tracker version is required")
    _read_event_id(parameters, reading)
    # An event carries a dozen or two of the known parameters: visit those, not every name.
    for name, value in parameters.items():
        reader = READERS.get(name)
        if reader is None or not value:
            continue
        target, convert, expectation = reader
        if convert is None:
            event[target] = value
        elif (converted := convert(value)) is None:
            reading.violate(name, value, expectation)
        else:
            event[target] = converted
    for name, (width, height) in DIMENSION_FIELDS.items():
        if size := parameters.get(name):
            dimensions = _dimensions(size)
            if dimensions is None:
                reading.violate(name, size, "WIDTHxHEIGHT, two integers")
            else:
                event[width], event[height] = dimensions
    _read_urls(parameters, payload.referer_uri, reading)
    _read_self_describing(parameters, reading)
    event["derived_tstamp"] = derived_timestamp(
        payload.timestamp_ms, parameters.get("dtm"), parameters.get("stm"), parameters.get("ttm")
    )
    return reading


def _read_event_type(parameters: Mapping[str, str], reading: ProtocolReading) -> None:
    code = parameters.get("e")
    if not code:
        reading.violate("e", None, "the event type is required")
        return
    known = EVENT_TYPES.get(code)
    if known is None:
        reading.violate("e", code, f"one of {', '.join(EVENT_TYPES)}")
        return
    reading.event["event"], schema = known
    if schema is not None:
        _set_event_schema(reading.event, schema_key(schema))


def _set_event_schema(event: EnrichedEvent, key: SchemaKey) -> None:
    event["event_vendor"] = key.vendor
    event["event_name"] = key.name
    event["event_format"] = key.format
    event["event_version"] = str(key.version)


def _read_platform(parameters: Mapping[str, str], reading: ProtocolReading) -> None:
    platform = parameters.get("p")
    if platform in PLATFORMS:
        reading.event["platform"] = platform
    else:
        reading.violate("p", platform, f"one of {', '.join(sorted(PLATFORMS))}")


def _read_event_id(parameters: Mapping[str, str], reading: ProtocolReading) -> None:
    given = parameters.get("eid")
    if not given:
        reading.event["event_id"] = str(uuid.uuid4())
        return
    if _CANONICAL_UUID.fullmatch(given):
        reading.event["event_id"] = given
        return
    try:
        reading.event["event_id"] = str(uuid.UUID(given))
    except ValueError:
        reading.violate("eid", given, "a UUID")


def _integer(value: str) -> str | None:
    try:
        number = int(value)
    except ValueError:
        return None
    return str(number) if -INT32 <= number < INT32 else None


def _number(value: str) -> str | None:
    try:
        number = float(value)
    except ValueError:
        return None
    if number != number or number in (float("inf"), float("-inf")):
        return None
    return value.strip()


def _boolean(value: str) -> str | None:
    return {"1": "1", "0": "0", "true": "1", "false": "0"}.get(value.lower())


def _epoch_ms(value: str) -> str | None:
    try:
        milliseconds = int(value)
    except ValueError:
        return None
    return timestamp(milliseconds) if 0 <= milliseconds <= MAX_EPOCH_MS else None


def _dimensions(value: str) -> tuple[str, str] | None:
    width, separator, height = value.partition("x")
    if not separator or not width.isdigit() or not height.isdigit():
        return None
    if int(width) >= INT32 or int(height) >= INT32:
        return None
    return str(int(width)), str(int(height))


def derived_timestamp(
    collector_ms: int, created: str | None, sent: str | None, true: str | None
) -> str:
    """`ttm` if given; else the collector time less the device's clock skew (`stm - dtm`) when
    the device sent after it created; else the collector time."""
    if true and (true_ms := _as_int(true)) is not None and 0 <= true_ms <= MAX_EPOCH_MS:
        return timestamp(true_ms)
    created_ms, sent_ms = _as_int(created), _as_int(sent)
    if created_ms is not None and sent_ms is not None and created_ms < sent_ms:
        return timestamp(max(collector_ms - (sent_ms - created_ms), 0))
    return timestamp(collector_ms)


def _as_int(value: str | None) -> int | None:
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        return None


def _read_urls(
    parameters: Mapping[str, str], request_referer: str | None, reading: ProtocolReading
) -> None:
    event = reading.event
    # A pixel request without `url` was made by the page itself: its Referer is the page.
    page_url = parameters.get("url") or (request_referer if "url" not in parameters else None)
    if page_url:
        parts = _url_parts(page_url)
        if parts is None:
            reading.violate("url", page_url, "an absolute URL")
        else:
            event["page_url"] = page_url
            for name, value in parts.items():
                event[f"page_url{name}"] = value
            _read_cross_domain_link(parts.get("query"), event)
    if referer := parameters.get("refr"):
        event["page_referrer"] = referer
        if (parts := _url_parts(referer)) is not None:
            for name, value in parts.items():
                event[f"refr_url{name}"] = value


@functools.lru_cache(maxsize=8192)
def _url_parts(url: str) -> dict[str, str] | None:
    # Pages and referrers repeat across events; callers only read the parts.
    try:
        split = urlsplit(url)
        port = split.port
    except ValueError:
        return None
    if not split.scheme or not split.hostname:
        return None
    default_port = {"http": 80, "https": 443}.get(split.scheme.lower())
    parts = {"scheme": split.scheme.lower(), "host": split.hostname, "path": split.path or "/"}
    if port or default_port:
        parts["port"] = str(port or default_port)
    if split.query:
        parts["query"] = split.query
    if split.fragment:
        parts["fragment"] = split.fragment
    return parts


def _read_cross_domain_link(query: str | None, event: EnrichedEvent) -> None:
    # The JavaScript tracker's cross-domain linker appends `_sp=<domain user id>.<epoch ms>`.
    if not query or "_sp=" not in query:
        return
    linker = dict(parse_qsl(query)).get("_sp", "")
    user_id, _, moment = linker.partition(".")
    if user_id:
        event["refr_domain_userid"] = user_id
    if (moment_ms := _as_int(moment)) is not None and 0 <= moment_ms <= MAX_EPOCH_MS:
        event["refr_device_tstamp"] = timestamp(moment_ms)


def _read_self_describing(parameters: Mapping[str, str], reading: ProtocolReading) -> None:
    event = reading.event
    envelope = _json_parameter(parameters, "ue_pr", "ue_px", reading)
    if envelope is not None:
        inner = _envelope_data(envelope, UNSTRUCT_EVENT, "ue_pr", reading)
        if inner is not None:
            if not _is_self_describing(inner):
                reading.violate("ue_pr", None, "unstruct_event data must be self-describing JSON")
            else:
                reading.unstruct_event = inner
                event["unstruct_event"] = orjson.dumps(envelope).decode()
                if event.get("event") == "unstruct":
                    try:
                        _set_event_schema(event, schema_key(inner["schema"]))
                    except IgluError as error:
                        reading.violate("ue_pr", inner["schema"], str(error))
    elif (
        event.get("event") == "unstruct"
        and not parameters.get("ue_pr")
        and not parameters.get("ue_px")
    ):
        reading.violate("ue_pr", None, "a self-describing event needs ue_pr or ue_px")
    contexts = _json_parameter(parameters, "co", "cx", reading)
    if contexts is not None:
        items = _envelope_data(contexts, CONTEXTS, "co", reading)
        if items is not None:
            if not isinstance(items, list) or not all(_is_self_describing(i) for i in items):
                reading.violate(
                    "co", None, "contexts data must be an array of self-describing JSON"
                )
            else:
                reading.contexts = items
                event["contexts"] = orjson.dumps(contexts).decode()


def _json_parameter(
    parameters: Mapping[str, str], plain: str, encoded: str, reading: ProtocolReading
) -> Any:
    if text := parameters.get(plain):
        source = plain
    elif value := parameters.get(encoded):
        source = encoded
        try:
            text = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("utf-8")
        except (binascii.Error, ValueError, UnicodeDecodeError):
            reading.violate(encoded, value[:100], "URL-safe base64 of UTF-8 JSON")
            return None
    else:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError as error:
        reading.violate(source, text[:100], f"JSON ({error})")
        return None


def _envelope_data(envelope: Any, schema_prefix: str, name: str, reading: ProtocolReading) -> Any:
    if not _is_self_describing(envelope) or not envelope["schema"].startswith(schema_prefix):
        reading.violate(name, None, f"self-describing JSON with schema {schema_prefix}...")
        return None
    return envelope["data"]


def _is_self_describing(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("schema"), str) and "data" in value


Converter = Callable[[str], str | None]
# Parameter -> (field, converter (None: copied as text), what a valid value is): one lookup per
# parameter of an event.
READERS: dict[str, tuple[str, Converter | None, str]] = {
    **{name: (target, None, "") for name, target in TEXT_FIELDS.items()},
    **{name: (target, _integer, "an integer") for name, target in INTEGER_FIELDS.items()},
    **{name: (target, _number, "a number") for name, target in NUMBER_FIELDS.items()},
    **{name: (target, _boolean, "1 or 0") for name, target in BOOLEAN_FIELDS.items()},
    **{
        name: (target, _epoch_ms, "epoch milliseconds") for name, target in TIMESTAMP_FIELDS.items()
    },
}
