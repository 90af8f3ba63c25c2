"""The tracker protocol: one event's parameters read into enriched-event fields.

Pure: every field comes from the parameters and the request; what breaks the protocol is
collected as violations (field, value, expectation) rather than raised one at a time, so a bad
row lists every problem of the event.
"""

from __future__ import annotations

import base64
import functools
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final
from urllib.parse import parse_qsl, urlsplit

import orjson

from libs.formats.enriched import EnrichedEvent, timestamp, tsv_safe
from libs.formats.iglu import IgluError, SchemaKey, schema_key
from services.enrich.decimals import DecimalError, snowplow_decimal
from services.enrich.model import RawEvent, SelfDescribingJson

UNSTRUCT_EVENT: Final = "iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0"
CONTEXTS: Final = "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-"
_CANONICAL_UUID: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
PLATFORMS: Final = frozenset({"web", "iot", "app", "mob", "pc", "cnsl", "tv", "srv", "headset"})

# Event type parameter -> the `event` field and the schema the event is known by.
EVENT_TYPES: Final[dict[str, tuple[str, str | None]]] = {
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
    # The legacy code of structured events, still read by Snowplow.
    "ev": ("struct", "iglu:com.google.analytics/event/jsonschema/1-0-0"),
}

# Parameters copied as text.
TEXT_FIELDS: Final = {
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
    # Legacy names of the structured event's fields, still read by Snowplow.
    "ev_ca": "se_category",
    "ev_ac": "se_action",
    "ev_la": "se_label",
    "ev_pr": "se_property",
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
INTEGER_FIELDS: Final = {
    "tid": "txn_id",
    "vid": "domain_sessionidx",
    "pp_mix": "pp_xoffset_min",
    "pp_max": "pp_xoffset_max",
    "pp_miy": "pp_yoffset_min",
    "pp_may": "pp_yoffset_max",
    "ti_qu": "ti_quantity",
}
# Read as Snowplow reads them (see `services.enrich.decimals`).
DECIMAL_FIELDS: Final = {
    "se_va": "se_value",
    "ev_va": "se_value",
    "tr_tt": "tr_total",
    "tr_tx": "tr_tax",
    "tr_sh": "tr_shipping",
    "ti_pr": "ti_price",
}
BOOLEAN_FIELDS: Final = {
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
TIMESTAMP_FIELDS: Final = {
    "dtm": "dvce_created_tstamp",
    "stm": "dvce_sent_tstamp",
    "ttm": "true_tstamp",
}
DIMENSION_FIELDS: Final = {
    "res": ("dvce_screenwidth", "dvce_screenheight"),
    "vp": ("br_viewwidth", "br_viewheight"),
    "ds": ("doc_width", "doc_height"),
}
# Snowplow's message for a value of an integer field that is no 32-bit integer.
INTEGER_ERROR: Final = "Cannot be converted to java.lang.Integer"
# Largest epoch millisecond a timestamp column can hold (year 9999).
MAX_EPOCH_MS: Final = 253_402_300_799_999
INT32: Final = 2**31


@dataclass(slots=True)
class ProtocolReading:
    """An event read from the tracker protocol: its fields, the self-describing JSON it carries
    (to validate), what breaks the protocol, and the atomic fields that could not be read."""

    event: EnrichedEvent = field(default_factory=dict)
    unstruct_event: SelfDescribingJson | None = None
    contexts: list[SelfDescribingJson] = field(default_factory=list)
    violations: list[dict[str, str]] = field(default_factory=list)
    atomic_errors: list[AtomicError] = field(default_factory=list)

    def violate(self, name: str, value: str | None, expectation: str) -> None:
        self.violations.append({"field": name, "value": value or "", "expectation": expectation})


@dataclass(frozen=True, slots=True)
class AtomicError:
    """A parameter whose value cannot be an atomic field's. Snowplow reports these as schema
    violations of its `atomic` schema, one data report each."""

    parameter: str
    value: str
    message: str

    def data_report(self) -> dict[str, Any]:
        """The error as a data report of the bad row, in the shape of Snowplow's."""
        return {
            "message": self.message,
            "path": self.parameter,
            "keyword": "atomic_field_parse_error",
            "targets": [],
        }


# Every event is read here, so the work per event is kept to a few dictionary operations: fields
# that depend on one value only (event type, URL, screen size) come from caches, and the
# parameters are walked once, each looked up once in `_PARAMETER_KINDS`.
def read_event(raw: RawEvent, *, etl_ms: int, etl_version: str) -> ProtocolReading:
    """The enriched fields of one tracker protocol event."""
    parameters = raw.parameters
    payload = raw.payload
    event: EnrichedEvent = {
        "etl_tstamp": _request_timestamp(etl_ms),
        "collector_tstamp": _request_timestamp(payload.timestamp_ms),
        # A `cv` parameter (set by some collectors and webhooks) names the collector, as in
        # Snowplow; else the raw record does.
        "v_collector": tsv_safe(parameters.get("cv") or "") or payload.collector,
        "v_etl": etl_version,
        "user_ipaddress": first_address(parameters.get("ip")) or payload.ip_address,
    }
    reading = ProtocolReading(event, None, [], [], [])
    if useragent := tsv_safe(parameters.get("ua") or payload.user_agent or ""):
        event["useragent"] = useragent
    # The tracker's `tnuid`, else a `nuid` parameter, else the collector's cookie: Snowplow's order.
    if network_userid := tsv_safe(
        parameters.get("tnuid") or parameters.get("nuid") or payload.network_user_id or ""
    ):
        event["network_userid"] = network_userid
    _read_event_type(parameters.get("e"), reading)
    if (platform := parameters.get("p")) in PLATFORMS:
        event["platform"] = platform
    else:
        reading.violate("p", platform, f"one of {', '.join(sorted(PLATFORMS))}")
    if not parameters.get("tv"):
        reading.violate("tv", None, "the tracker version is required")
    _read_event_id(parameters.get("eid"), reading)
    device_ms: dict[str, int] = {}
    # (kind, parameter, value, expectation): listed in that order once the walk is done, so that
    # the violations of an event come in the same order whatever the order of its parameters.
    malformed: list[tuple[int, str, str, str]] = []
    for name, value in parameters.items():
        kind = _PARAMETER_KINDS.get(name)
        if kind is None:
            continue
        if kind == _TEXT:
            if safe := tsv_safe(value):
                event[TEXT_FIELDS[name]] = safe
        elif kind == _DECIMAL:
            try:
                if decimal := snowplow_decimal(value):
                    event[DECIMAL_FIELDS[name]] = decimal
            except DecimalError as error:
                reading.atomic_errors.append(AtomicError(name, value, str(error)))
        elif kind == _INTEGER:
            if (number := _integer(value)) is None:
                reading.atomic_errors.append(AtomicError(name, value, INTEGER_ERROR))
            elif number:
                event[INTEGER_FIELDS[name]] = number
        # An empty value is no number, time or size: Snowplow refuses it, and so does Furrow.
        elif kind == _CONVERTED:
            target, convert, expectation = CONVERTED_FIELDS[name]
            if (converted := convert(value)) is None:
                malformed.append((kind, name, value, expectation))
            else:
                event[target] = converted
        elif kind == _TIMESTAMP:
            if (milliseconds := _epoch_ms(value)) is None:
                malformed.append((kind, name, value, "epoch milliseconds"))
            else:
                event[TIMESTAMP_FIELDS[name]] = timestamp(milliseconds)
                device_ms[name] = milliseconds
        elif (dimensions := _dimensions(value)) is None:
            malformed.append((kind, name, value, "WIDTHxHEIGHT, two integers"))
        else:
            width, height = DIMENSION_FIELDS[name]
            event[width], event[height] = dimensions
    for _, name, value, expectation in sorted(malformed):
        reading.violate(name, value, expectation)
    if len(reading.atomic_errors) > 1:
        reading.atomic_errors.sort(key=lambda error: error.parameter)
    # A pixel request without `url` was made by the page itself: its Referer is the page.
    page_url = tsv_safe(parameters.get("url", payload.referer_uri or ""))
    if page_url:
        if (page_fields := _page_fields(page_url)) is None:
            reading.violate("url", page_url, "an absolute URL")
        else:
            event.update(page_fields)
    if referer := tsv_safe(parameters.get("refr", "")):
        event.update(_referer_fields(referer))
    if "ue_pr" in parameters or "ue_px" in parameters or event.get("event") == "unstruct":
        _read_unstruct_event(parameters, reading)
    if "co" in parameters or "cx" in parameters:
        _read_contexts(parameters, reading)
    event["derived_tstamp"] = timestamp(
        derived_ms(
            payload.timestamp_ms, device_ms.get("dtm"), device_ms.get("stm"), device_ms.get("ttm")
        )
    )
    return reading


# The events of one request (and of one batch of requests) share these two times.
_request_timestamp: Final = functools.lru_cache(maxsize=256)(timestamp)


def _read_event_type(code: str | None, reading: ProtocolReading) -> None:
    if not code:
        reading.violate("e", None, "the event type is required")
    elif (fields := EVENT_TYPE_FIELDS.get(code)) is None:
        reading.violate("e", code, f"one of {', '.join(EVENT_TYPES)}")
    else:
        reading.event.update(fields)


def _event_schema_fields(key: SchemaKey) -> dict[str, str]:
    return {
        "event_vendor": key.vendor,
        "event_name": key.name,
        "event_format": key.format,
        "event_version": str(key.version),
    }


@functools.lru_cache(maxsize=1024)
def _unstruct_event_fields(schema_uri: str) -> dict[str, str]:
    # Few schemas, many events; callers only read the result.
    return _event_schema_fields(schema_key(schema_uri))


# Event type parameter -> the fields it sets.
EVENT_TYPE_FIELDS: Final[dict[str, dict[str, str]]] = {
    code: {"event": event, **(_event_schema_fields(schema_key(schema)) if schema else {})}
    for code, (event, schema) in EVENT_TYPES.items()
}


def _read_event_id(given: str | None, reading: ProtocolReading) -> None:
    # An empty `eid` is refused, as Snowplow does, rather than replaced.
    if given is None:
        reading.event["event_id"] = str(uuid.uuid4())
    elif _CANONICAL_UUID.fullmatch(given):
        reading.event["event_id"] = given
    elif _CANONICAL_UUID.fullmatch(lowered := given.lower()):
        reading.event["event_id"] = lowered
    else:
        # Only the canonical form, in either case, as Snowplow: no braces, no missing dashes.
        reading.violate("eid", given, "a UUID")


def first_address(ip: str | None) -> str | None:
    """The tracker's `ip` parameter as Snowplow reads it: the first of a comma-separated list
    (as proxies write them), None when empty."""
    if not ip:
        return None
    return tsv_safe(ip.split(",", 1)[0].strip()) or None


def _integer(value: str) -> str | None:
    """The integer as Java's `Integer.parseInt` reads it (a sign, then digits of any script,
    nothing else), empty for `null` as Snowplow reads it; None if not an integer."""
    if value.lower() == "null":
        return ""
    if _JAVA_INTEGER.fullmatch(value) is None:
        return None
    number = int(value)
    return str(number) if -INT32 <= number < INT32 else None


def _boolean(value: str) -> str | None:
    return {"1": "1", "0": "0", "true": "1", "false": "0"}.get(value.lower())


def _epoch_ms(value: str) -> int | None:
    try:
        milliseconds = int(value)
    except ValueError:
        return None
    return milliseconds if 0 <= milliseconds <= MAX_EPOCH_MS else None


@functools.lru_cache(maxsize=4096)
def _dimensions(value: str) -> tuple[str, str] | None:
    width, separator, height = value.partition("x")
    # ASCII digits only (`str.isdigit` would take other scripts' digits, which Snowplow refuses).
    if not (separator and _ASCII_DIGITS.fullmatch(width) and _ASCII_DIGITS.fullmatch(height)):
        return None
    if int(width) >= INT32 or int(height) >= INT32:
        return None
    return str(int(width)), str(int(height))


def derived_ms(
    collector_ms: int, created_ms: int | None, sent_ms: int | None, true_ms: int | None
) -> int:
    """`derived_tstamp` in epoch milliseconds: the true time (`ttm`) if given; else the collector
    time less the device's clock skew (`stm - dtm`) when the device sent after it created; else
    the collector time."""
    if true_ms is not None:
        return true_ms
    if created_ms is not None and sent_ms is not None and created_ms < sent_ms:
        return max(collector_ms - (sent_ms - created_ms), 0)
    return collector_ms


@functools.lru_cache(maxsize=8192)
def _page_fields(url: str) -> dict[str, str] | None:
    """The page fields of a page URL, None if it is not absolute. Pages repeat across events;
    callers only read the result."""
    parts = _url_parts(url)
    if parts is None:
        return None
    fields = {"page_url": url, **{f"page_url{name}": value for name, value in parts.items()}}
    fields.update(_cross_domain_link(parts.get("query")))
    return fields


@functools.lru_cache(maxsize=8192)
def _referer_fields(url: str) -> dict[str, str]:
    parts = _url_parts(url) or {}
    return {"page_referrer": url, **{f"refr_url{name}": value for name, value in parts.items()}}


def _url_parts(url: str) -> dict[str, str] | None:
    try:
        split = urlsplit(url)
        port = split.port
    except ValueError:
        return None
    if not split.scheme or not split.hostname:
        return None
    default_port = {"http": 80, "https": 443}.get(split.scheme.lower())
    # No path is no path (`https://x.com#top`), as Snowplow has it, not `/`.
    parts = {"scheme": split.scheme.lower(), "host": split.hostname}
    if split.path:
        parts["path"] = split.path
    if port or default_port:
        parts["port"] = str(port or default_port)
    if split.query:
        parts["query"] = split.query
    if split.fragment:
        parts["fragment"] = split.fragment
    return parts


def _cross_domain_link(query: str | None) -> dict[str, str]:
    # The JavaScript tracker's cross-domain linker appends `_sp=<domain user id>.<epoch ms>`.
    if not query or "_sp=" not in query:
        return {}
    linker = dict(parse_qsl(query)).get("_sp", "")
    user_id, _, moment = linker.partition(".")
    fields = {"refr_domain_userid": user_id} if user_id else {}
    if (moment_ms := _epoch_ms(moment)) is not None:
        fields["refr_device_tstamp"] = timestamp(moment_ms)
    return fields


def _read_unstruct_event(parameters: dict[str, str], reading: ProtocolReading) -> None:
    event = reading.event
    found = _json_parameter(parameters, "ue_pr", "ue_px", reading)
    if found is None:
        missing = not parameters.get("ue_pr") and not parameters.get("ue_px")
        if missing and event.get("event") == "unstruct":
            reading.violate("ue_pr", None, "a self-describing event needs ue_pr or ue_px")
        return
    envelope, text = found
    inner = _envelope_data(envelope, UNSTRUCT_EVENT, "ue_pr", reading)
    if inner is None:
        return
    if not _is_self_describing(inner):
        reading.violate("ue_pr", None, "unstruct_event data must be self-describing JSON")
        return
    reading.unstruct_event = inner
    # The JSON as the tracker sent it: it was just parsed, so it is valid.
    event["unstruct_event"] = text
    if event.get("event") == "unstruct":
        try:
            event.update(_unstruct_event_fields(inner["schema"]))
        except IgluError as error:
            reading.violate("ue_pr", inner["schema"], str(error))


def _read_contexts(parameters: dict[str, str], reading: ProtocolReading) -> None:
    found = _json_parameter(parameters, "co", "cx", reading)
    if found is None:
        return
    contexts, text = found
    items = _envelope_data(contexts, CONTEXTS, "co", reading)
    if items is None:
        return
    if not isinstance(items, list) or not all(map(_is_self_describing, items)):
        reading.violate("co", None, "contexts data must be an array of self-describing JSON")
        return
    reading.contexts = items
    reading.event["contexts"] = text


def _json_parameter(
    parameters: dict[str, str], plain: str, encoded: str, reading: ProtocolReading
) -> tuple[Any, str] | None:
    """The JSON in the plain parameter, else in the base64 one, with its text."""
    if text := parameters.get(plain):
        source = plain
    elif value := parameters.get(encoded):
        source = encoded
        try:
            text = decode_base64_url(value)
        except ValueError:
            reading.violate(encoded, value[:100], "URL-safe base64 of UTF-8 JSON")
            return None
    else:
        return None
    try:
        return orjson.loads(text), text
    except orjson.JSONDecodeError as error:
        reading.violate(source, text[:100], f"JSON ({error})")
        return None


def decode_base64_url(value: str) -> str:
    """URL-safe base64 (padding optional) of UTF-8 text, decoded; ValueError (binascii's or
    the UTF-8 decoder's) if it is not."""
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode("utf-8")


def _envelope_data(envelope: Any, schema_prefix: str, name: str, reading: ProtocolReading) -> Any:
    if not _is_self_describing(envelope) or not envelope["schema"].startswith(schema_prefix):
        reading.violate(name, None, f"self-describing JSON with schema {schema_prefix}...")
        return None
    return envelope["data"]


def _is_self_describing(value: Any) -> bool:
    return isinstance(value, dict) and isinstance(value.get("schema"), str) and "data" in value


Converter = Callable[[str], str | None]
"""The field's text for a parameter's value, None if invalid."""
# `\d` is any script's decimal digit, as for Java.
_JAVA_INTEGER: Final = re.compile(r"[+-]?\d+")
_ASCII_DIGITS: Final = re.compile(r"[0-9]+")
# Parameter -> (field, converter, what a valid value is).
CONVERTED_FIELDS: Final[dict[str, tuple[str, Converter, str]]] = {
    **{name: (target, _boolean, "1 or 0") for name, target in BOOLEAN_FIELDS.items()},
}

# How `read_event` reads a parameter, by the table it is in.
_TEXT: Final = 0
_CONVERTED: Final = 1
_TIMESTAMP: Final = 2
_DIMENSION: Final = 3
_DECIMAL: Final = 4
_INTEGER: Final = 5
_PARAMETER_KINDS: Final[dict[str, int]] = {
    **dict.fromkeys(TEXT_FIELDS, _TEXT),
    **dict.fromkeys(DECIMAL_FIELDS, _DECIMAL),
    **dict.fromkeys(INTEGER_FIELDS, _INTEGER),
    **dict.fromkeys(CONVERTED_FIELDS, _CONVERTED),
    **dict.fromkeys(TIMESTAMP_FIELDS, _TIMESTAMP),
    **dict.fromkeys(DIMENSION_FIELDS, _DIMENSION),
}
