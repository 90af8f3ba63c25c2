"""Snowplow's enriched event: the 131-field TSV line of the `good` topic, and its JSON shapes.

`to_tsv` writes a line from field values; `to_json` reads one into the analytics-SDK shape that
Elasticsearch indexes (typed atomic fields, `geo_location`, and every context or self-describing
event under its own `contexts_{vendor}_{name}_{model}` / `unstruct_event_...` key); `to_event`
reads one into the event shape of loader bad rows (typed atomic fields, the three JSON columns
kept as the self-describing JSON they are). `to_json_bytes` writes the analytics-SDK shape as
JSON: most lines, contexts included, in one pass by the encoder of `_tsv_json.c`, every other
line through `to_json`.

Reading follows the PyPI `snowplow-analytics-sdk` 0.2.3, the reference reader, except where the
newer Scala and .NET analytics SDKs fixed it: dots *and dashes* in a schema's vendor and name become
underscores (0.2.3 keeps dashes, which makes `contexts_com_acme-corp_...`), `se_value` is a number
(0.2.3 leaves it a string), and contexts of the same schema in `contexts` and `derived_contexts`
are joined in one list (0.2.3 keeps only the derived ones). Invalid values are reported all at
once, each in the shape of the `loader_parsing_error` bad row.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable
from datetime import UTC, datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, Final

import orjson

if TYPE_CHECKING:
    from libs.formats._tsv_json import Encoder


class Kind(Enum):
    STRING = "string"
    INTEGER = "integer"
    DOUBLE = "double"
    BOOLEAN = "boolean"
    TIMESTAMP = "timestamp"
    CONTEXTS = "contexts"
    UNSTRUCT = "unstruct"


_S, _I, _D, _B, _T = Kind.STRING, Kind.INTEGER, Kind.DOUBLE, Kind.BOOLEAN, Kind.TIMESTAMP

# Canonical order of the TSV columns, with each column's type.
FIELDS: Final[tuple[tuple[str, Kind], ...]] = (
    ("app_id", _S),
    ("platform", _S),
    ("etl_tstamp", _T),
    ("collector_tstamp", _T),
    ("dvce_created_tstamp", _T),
    ("event", _S),
    ("event_id", _S),
    ("txn_id", _I),
    ("name_tracker", _S),
    ("v_tracker", _S),
    ("v_collector", _S),
    ("v_etl", _S),
    ("user_id", _S),
    ("user_ipaddress", _S),
    ("user_fingerprint", _S),
    ("domain_userid", _S),
    ("domain_sessionidx", _I),
    ("network_userid", _S),
    ("geo_country", _S),
    ("geo_region", _S),
    ("geo_city", _S),
    ("geo_zipcode", _S),
    ("geo_latitude", _D),
    ("geo_longitude", _D),
    ("geo_region_name", _S),
    ("ip_isp", _S),
    ("ip_organization", _S),
    ("ip_domain", _S),
    ("ip_netspeed", _S),
    ("page_url", _S),
    ("page_title", _S),
    ("page_referrer", _S),
    ("page_urlscheme", _S),
    ("page_urlhost", _S),
    ("page_urlport", _I),
    ("page_urlpath", _S),
    ("page_urlquery", _S),
    ("page_urlfragment", _S),
    ("refr_urlscheme", _S),
    ("refr_urlhost", _S),
    ("refr_urlport", _I),
    ("refr_urlpath", _S),
    ("refr_urlquery", _S),
    ("refr_urlfragment", _S),
    ("refr_medium", _S),
    ("refr_source", _S),
    ("refr_term", _S),
    ("mkt_medium", _S),
    ("mkt_source", _S),
    ("mkt_term", _S),
    ("mkt_content", _S),
    ("mkt_campaign", _S),
    ("contexts", Kind.CONTEXTS),
    ("se_category", _S),
    ("se_action", _S),
    ("se_label", _S),
    ("se_property", _S),
    ("se_value", _D),
    ("unstruct_event", Kind.UNSTRUCT),
    ("tr_orderid", _S),
    ("tr_affiliation", _S),
    ("tr_total", _D),
    ("tr_tax", _D),
    ("tr_shipping", _D),
    ("tr_city", _S),
    ("tr_state", _S),
    ("tr_country", _S),
    ("ti_orderid", _S),
    ("ti_sku", _S),
    ("ti_name", _S),
    ("ti_category", _S),
    ("ti_price", _D),
    ("ti_quantity", _I),
    ("pp_xoffset_min", _I),
    ("pp_xoffset_max", _I),
    ("pp_yoffset_min", _I),
    ("pp_yoffset_max", _I),
    ("useragent", _S),
    ("br_name", _S),
    ("br_family", _S),
    ("br_version", _S),
    ("br_type", _S),
    ("br_renderengine", _S),
    ("br_lang", _S),
    ("br_features_pdf", _B),
    ("br_features_flash", _B),
    ("br_features_java", _B),
    ("br_features_director", _B),
    ("br_features_quicktime", _B),
    ("br_features_realplayer", _B),
    ("br_features_windowsmedia", _B),
    ("br_features_gears", _B),
    ("br_features_silverlight", _B),
    ("br_cookies", _B),
    ("br_colordepth", _S),
    ("br_viewwidth", _I),
    ("br_viewheight", _I),
    ("os_name", _S),
    ("os_family", _S),
    ("os_manufacturer", _S),
    ("os_timezone", _S),
    ("dvce_type", _S),
    ("dvce_ismobile", _B),
    ("dvce_screenwidth", _I),
    ("dvce_screenheight", _I),
    ("doc_charset", _S),
    ("doc_width", _I),
    ("doc_height", _I),
    ("tr_currency", _S),
    ("tr_total_base", _D),
    ("tr_tax_base", _D),
    ("tr_shipping_base", _D),
    ("ti_currency", _S),
    ("ti_price_base", _D),
    ("base_currency", _S),
    ("geo_timezone", _S),
    ("mkt_clickid", _S),
    ("mkt_network", _S),
    ("etl_tags", _S),
    ("dvce_sent_tstamp", _T),
    ("refr_domain_userid", _S),
    ("refr_device_tstamp", _T),
    ("derived_contexts", Kind.CONTEXTS),
    ("domain_sessionid", _S),
    ("derived_tstamp", _T),
    ("event_vendor", _S),
    ("event_name", _S),
    ("event_format", _S),
    ("event_version", _S),
    ("event_fingerprint", _S),
    ("true_tstamp", _T),
)
FIELD_NAMES: Final = tuple(name for name, _ in FIELDS)
FIELD_COUNT: Final = len(FIELDS)
# Every column, empty, in TSV order: a line starts as a copy of it; a value goes to its position.
_EMPTY_COLUMNS: Final = [""] * FIELD_COUNT
_POSITIONS: Final = {name: position for position, name in enumerate(FIELD_NAMES)}
_SEPARATORS: Final = str.maketrans({"\t": " ", "\n": " ", "\r": " "})
_TSV_SAFE: Final = str.maketrans(
    {"\t": "    ", **{chr(code): None for code in [*range(0x20), 0x7F] if code != 0x09}}
)

EnrichedEvent = dict[str, str]
"""An event being enriched: field name -> its TSV text; an absent field is an empty column."""

# The loader bad-row event shape (`loader_runtime_error`) spells this one column differently.
_EVENT_NAMES = {"refr_device_tstamp": "refr_dvce_tstamp"}
_COLLECTOR_TSTAMP: Final = FIELD_NAMES.index("collector_tstamp")
_LATITUDE: Final = FIELD_NAMES.index("geo_latitude")
_LONGITUDE: Final = FIELD_NAMES.index("geo_longitude")
# Integers are 32-bit in the canonical event model (and in the Scala SDK that reads it).
_INT_MIN: Final = -(2**31)
_INT_MAX: Final = 2**31 - 1
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,9})?")
_SCHEMA_URI = re.compile(
    r"iglu:([a-zA-Z0-9\-_.]+)/([a-zA-Z0-9\-_]+)/([a-zA-Z0-9\-_]+)/"
    r"([1-9][0-9]*)-(?:0|[1-9][0-9]*)-(?:0|[1-9][0-9]*)"
)
_DOTS_AND_DASHES = re.compile(r"[.\-]")
_CAMEL_HUMP = re.compile(r"([^A-Z_])([A-Z])")


class EnrichedEventError(ValueError):
    """The line is not a valid enriched event; `failure` says why, as the `failure` object of a
    `loader_parsing_error` bad row (`NotTSV`, `FieldNumberMismatch` or `RowDecodingError`)."""

    def __init__(self, failure: dict[str, Any]) -> None:
        super().__init__(failure)
        self.failure = failure


class _InvalidValue(ValueError):
    pass


def to_tsv(values: dict[str, str]) -> str:
    """The TSV line holding `values` (field name -> its text as it appears in the TSV), every
    other field empty. Tabs and line breaks in values become spaces, as Snowplow writes them.
    Raises ValueError for an unknown name."""
    columns = _EMPTY_COLUMNS.copy()
    try:
        for name, value in values.items():
            columns[_POSITIONS[name]] = value
    except KeyError:
        unknown = values.keys() - _POSITIONS.keys()
        raise ValueError(f"not enriched event fields: {', '.join(sorted(unknown))}") from None
    # Values rarely hold a separator: look for each in all of them at once, clean values only if
    # needed. (`in` scans with memchr; counting the joined line's tabs went through it a
    # character at a time.)
    text = "".join(values.values())
    if "\t" in text or "\n" in text or "\r" in text:
        return "\t".join([value.translate(_SEPARATORS) for value in columns])
    return "\t".join(columns)


def tsv_safe(text: str) -> str:
    """Text as Snowplow's enricher makes a tracker's text safe for a TSV column: a tab becomes
    four spaces and the other ASCII control characters (line breaks included) are removed."""
    # Nearly all text is printable, and that test is cheaper than the translation.
    return text if text.isprintable() else text.translate(_TSV_SAFE)


def timestamp(epoch_ms: int) -> str:
    """An epoch time in milliseconds as the TSV writes timestamps: `2026-11-23 10:00:00.123`."""
    seconds, milliseconds = divmod(epoch_ms, 1000)
    return _second(seconds) + _MILLISECONDS[milliseconds]


_MILLISECONDS: Final = [f".{milliseconds:03d}" for milliseconds in range(1000)]


@functools.lru_cache(maxsize=4096)
def _second(epoch_s: int) -> str:
    # Events of one batch share a handful of seconds; formatting a date is slow. (Milliseconds
    # rarely repeat: caching whole timestamps costs more than it saves.)
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%d %H:%M:%S")


def collector_time(line: bytes) -> datetime:
    """When the collector received the event of an enriched line: its `collector_tstamp`, in
    UTC. Only the columns up to it are split off. ValueError if it is missing or no timestamp."""
    columns = line.split(b"\t", _COLLECTOR_TSTAMP + 1)
    if len(columns) <= _COLLECTOR_TSTAMP:
        raise ValueError("the line ends before collector_tstamp")
    text = columns[_COLLECTOR_TSTAMP].decode("ascii", errors="replace")
    if _TIMESTAMP.fullmatch(text) is None:
        raise ValueError(f"collector_tstamp {text!r} is not a timestamp")
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def to_json(line: str) -> dict[str, Any]:
    """The event in the analytics-SDK shape (see the module docstring); EnrichedEventError if the
    line is not an enriched event."""
    # The good sink's hot path, compiled: plain loops over the columns with each kind's converter
    # called directly cost far less than itemgetter, zip and compress, which build tuples and
    # call converters through Python's calling convention.
    values = _split(line)
    event: dict[str, Any] = {}
    for name, position in _STRING_FIELDS:
        value = values[position]
        if value:
            event[name] = value
    errors: list[dict[str, str]] = []
    for name, position, kind in _TYPED_FIELDS:
        value = values[position]
        if value:
            try:
                event[name] = _typed_value(kind, value)
            except _InvalidValue as invalid:
                errors.append(_invalid(name, value, str(invalid)))
    for name, position in _JSON_FIELDS:
        value = values[position]
        if not value:
            continue
        try:
            _add_shredded(event, position, value)
        except _InvalidValue as invalid:
            errors.append(_invalid(name, value, str(invalid)))
    if errors:
        raise EnrichedEventError({"type": "RowDecodingError", "errors": errors})
    if values[_LATITUDE] and values[_LONGITUDE]:
        event["geo_location"] = f"{values[_LATITUDE]},{values[_LONGITUDE]}"
    return event


class EncodedEvent:
    """An enriched event as JSON, with the two fields a loader derives a document's identity and
    time from ("" when the line has none)."""

    # A plain class: compiled, it is made without the Python-level __new__ of a NamedTuple.
    def __init__(self, json: bytes, event_id: str, collector_tstamp: str) -> None:
        self.json = json
        self.event_id = event_id
        # As in the JSON: `2026-11-23T10:00:00.123Z`.
        self.collector_tstamp = collector_tstamp


def to_json_bytes(line: str | bytes, time_field: str | None = None) -> EncodedEvent:
    """`to_json(line)` encoded, with the collector timestamp also under `time_field` if given
    (a loader's time field, such as `@timestamp`); EnrichedEventError as `to_json`. `line` may
    be the line's UTF-8 bytes, as read from a topic (UnicodeDecodeError if they are not)."""
    encoder = _encoder(time_field)
    encoded = encoder.encode(line) if encoder is not None else None
    if encoded is None:
        return _encoded(to_json(_text(line)), time_field)
    json, returned = encoded
    collector_tstamp, event_id, contexts, unstruct_event, derived_contexts = returned
    # The encoder wrote it in the JSON, so it has the usual shape.
    timestamp = collector_tstamp.replace(" ", "T") + "Z" if collector_tstamp else ""
    if contexts or unstruct_event or derived_contexts:
        # JSON columns the encoder left to Python: a rare spelling, or invalid.
        shredded: dict[str, Any] = {}
        try:
            for position, value in zip(_JSON_POSITIONS, returned[2:], strict=True):
                if value:
                    _add_shredded(shredded, position, value)
        except _InvalidValue:
            # The general path reports every invalid value of the line, as the bad row should.
            return _encoded(to_json(_text(line)), time_field)
        if shredded:
            tail = orjson.dumps(shredded)
            json = tail if json == b"{}" else json[:-1] + b"," + tail[1:]
    return EncodedEvent(json, event_id, timestamp)


def _text(line: str | bytes) -> str:
    return line if isinstance(line, str) else line.decode("utf-8")


def _encoded(event: dict[str, Any], time_field: str | None) -> EncodedEvent:
    timestamp = event.get("collector_tstamp", "")
    if time_field is not None and timestamp:
        event[time_field] = timestamp
    return EncodedEvent(orjson.dumps(event), event.get("event_id", ""), timestamp)


def to_event(line: str) -> dict[str, Any]:
    """The event as the payload of a loader bad row: typed atomic fields, and `contexts`,
    `unstruct_event` and `derived_contexts` as self-describing JSON; EnrichedEventError if the
    line is not an enriched event."""
    values = _split(line)
    event: dict[str, Any] = {}
    errors: list[dict[str, str]] = []
    for name, convert, value in zip(FIELD_NAMES, _CONVERTERS, values, strict=True):
        if not value:
            continue
        try:
            event[_EVENT_NAMES.get(name, name)] = value if convert is None else convert(value)
        except _InvalidValue as invalid:
            errors.append(_invalid(name, value, str(invalid)))
    if errors:
        raise EnrichedEventError({"type": "RowDecodingError", "errors": errors})
    return event


def shredded_name(prefix: str, schema_uri: str) -> str:
    """The document key for entities of `schema_uri`, e.g. `contexts_com_acme_user_profile_1`
    for `iglu:com.acme/userProfile/jsonschema/1-0-2` under prefix `contexts`."""
    # A dict, not lru_cache: looked up from compiled code it costs far less, and events
    # use a handful of schemas. Emptied when full, so arbitrary URIs cannot grow it for ever.
    cache = _SHREDDED_NAMES.get(prefix)
    if cache is None:
        cache = _SHREDDED_NAMES[prefix] = {}
    known = cache.get(schema_uri)
    if known is not None:
        return known
    if len(cache) >= _SHREDDED_NAMES_KEPT:
        cache.clear()
    name = cache[schema_uri] = _shredded_name(prefix, schema_uri)
    return name


# Per prefix, schema URI -> key.
_SHREDDED_NAMES: Final[dict[str, dict[str, str]]] = {}
_SHREDDED_NAMES_KEPT: Final = 4096


def _shredded_name(prefix: str, schema_uri: str) -> str:
    match = _SCHEMA_URI.fullmatch(schema_uri)
    if match is None:
        raise _InvalidValue(f"{schema_uri!r} is not an Iglu schema URI")
    vendor, name, _format, model = match.groups()
    vendor = _DOTS_AND_DASHES.sub("_", vendor).lower()
    name = _CAMEL_HUMP.sub(r"\1_\2", _DOTS_AND_DASHES.sub("_", name)).lower()
    return f"{prefix}_{vendor}_{name}_{model}"


def _split(line: str) -> list[str]:
    values = line.split("\t")
    if len(values) == 1:
        raise EnrichedEventError({"type": "NotTSV"})
    if len(values) != FIELD_COUNT:
        raise EnrichedEventError({"type": "FieldNumberMismatch", "fieldCount": len(values)})
    return values


def _integer(value: str) -> int:
    if _fits_shape(value, _SHORT_DIGITS):
        # Nine digits at most are within 32 bits: read here, far cheaper than int().
        number = 0
        for position in range(len(value)):
            number = number * 10 + ord(value[position]) - _ZERO
        return number
    try:
        number = int(value)
    except ValueError:
        raise _InvalidValue("not an integer") from None
    if not _INT_MIN <= number <= _INT_MAX:
        raise _InvalidValue("outside the 32-bit integer range")
    return number


def _double(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise _InvalidValue("not a number") from None
    if not math.isfinite(number):
        raise _InvalidValue("not a finite number")
    return number


def _boolean(value: str) -> bool:
    if value == "1":
        return True
    if value == "0":
        return False
    raise _InvalidValue("not a boolean (1 or 0)")


# Shapes for _fits_shape. A timestamp as enrichers write it (millisecond precision) has the first;
# the regex checks the other ones.
_USUAL_TIMESTAMP: Final = "0000-00-00 00:00:00.000"
_SHORT_DIGITS: Final = "000000000"
_ZERO: Final = ord("0")


def _fits_shape(value: str, shape: str) -> bool:
    """Whether `value` is non-empty, no longer than `shape`, and each of its characters fits the
    one at the same position in `shape`: any ASCII digit for "0", itself for anything else."""
    # Character codes compared one by one in compiled code: no object is made, unlike a regex
    # match or a translated copy.
    if not 0 < len(value) <= len(shape):
        return False
    for position in range(len(value)):
        code = ord(value[position])
        expected = ord(shape[position])
        if expected == _ZERO:
            if not _ZERO <= code <= _ZERO + 9:
                return False
        elif code != expected:
            return False
    return True


def _timestamp(value: str) -> str:
    usual = len(value) == len(_USUAL_TIMESTAMP) and _fits_shape(value, _USUAL_TIMESTAMP)
    if not usual and _TIMESTAMP.fullmatch(value) is None:
        raise _InvalidValue("not a timestamp (YYYY-MM-DD HH:MM:SS.mmm)")
    return value.replace(" ", "T") + "Z"


def _json_object(value: str) -> dict[str, Any]:
    try:
        parsed = orjson.loads(value)
    except orjson.JSONDecodeError as error:
        raise _InvalidValue(f"not JSON: {error}") from None
    if not isinstance(parsed, dict):
        raise _InvalidValue("not a JSON object")
    return parsed


# Per column, the function turning its text into a JSON value; None for strings, kept as they are.
_CONVERTERS: tuple[Callable[[str], Any] | None, ...] = tuple(
    {
        Kind.STRING: None,
        Kind.INTEGER: _integer,
        Kind.DOUBLE: _double,
        Kind.BOOLEAN: _boolean,
        Kind.TIMESTAMP: _timestamp,
        Kind.CONTEXTS: _json_object,
        Kind.UNSTRUCT: _json_object,
    }[kind]
    for _, kind in FIELDS
)


# The columns of each kind as (name, position), in TSV order; typed ones also with their kind.
_STRING_FIELDS: Final = [(name, i) for i, (name, kind) in enumerate(FIELDS) if kind is Kind.STRING]
_JSON_FIELDS: Final = [
    (name, i) for i, (name, kind) in enumerate(FIELDS) if kind in (Kind.CONTEXTS, Kind.UNSTRUCT)
]
_TYPED_FIELDS: Final = [
    (name, i, kind)
    for i, (name, kind) in enumerate(FIELDS)
    if kind in (Kind.INTEGER, Kind.DOUBLE, Kind.BOOLEAN, Kind.TIMESTAMP)
]
_UNSTRUCT_EVENT: Final = FIELD_NAMES.index("unstruct_event")


def _typed_value(kind: Kind, value: str) -> Any:
    if kind is Kind.TIMESTAMP:
        return _timestamp(value)
    if kind is Kind.INTEGER:
        return _integer(value)
    if kind is Kind.DOUBLE:
        return _double(value)
    return _boolean(value)


def _self_describing(value: object) -> tuple[str, Any]:
    if not isinstance(value, dict) or not isinstance(value.get("schema"), str):
        raise _InvalidValue("not self-describing JSON (schema and data)")
    if "data" not in value:
        raise _InvalidValue(f"self-describing JSON of {value['schema']} has no data")
    return value["schema"], value["data"]


def _shred_contexts(value: str) -> dict[str, list[Any]]:
    # Valid contexts take this fast path; anything it trips on is checked step by step, to say
    # what is wrong.
    try:
        envelope = orjson.loads(value)
        entities = envelope["data"]
        if type(envelope["schema"]) is str and type(entities) is list:
            grouped: dict[str, list[Any]] = {}
            for entity in entities:
                key = shredded_name("contexts", entity["schema"])
                grouped.setdefault(key, []).append(entity["data"])
            return grouped
    except (orjson.JSONDecodeError, KeyError, TypeError, _InvalidValue):
        pass
    return _shred_contexts_checked(value)


def _shred_contexts_checked(value: str) -> dict[str, list[Any]]:
    _, entities = _self_describing(_json_object(value))
    if not isinstance(entities, list):
        raise _InvalidValue("contexts data is not an array")
    grouped: dict[str, list[Any]] = {}
    for entity in entities:
        schema, data = _self_describing(entity)
        grouped.setdefault(shredded_name("contexts", schema), []).append(data)
    return grouped


def _add_shredded(event: dict[str, Any], position: int, value: str) -> None:
    """Put the entities of the JSON column at `position` under their keys in `event`."""
    if position == _UNSTRUCT_EVENT:
        key, data = _shred_unstruct(value)
        event[key] = data
    else:
        for key, entities in _shred_contexts(value).items():
            # The same schema may be in both context columns: one list.
            known = event.get(key)
            if known is None:
                event[key] = entities
            else:
                known.extend(entities)


def _shred_unstruct(value: str) -> tuple[str, Any]:
    _, event = _self_describing(_json_object(value))
    schema, data = _self_describing(event)
    return shredded_name("unstruct_event", schema), data


def _invalid(name: str, value: str, message: str) -> dict[str, str]:
    return {"type": "InvalidValue", "key": name, "value": value, "message": message}


# How the compiled encoder writes each column kind.
_ENCODED_KINDS: Final = {
    Kind.STRING: b"s",
    Kind.INTEGER: b"i",
    Kind.DOUBLE: b"d",
    Kind.BOOLEAN: b"b",
    Kind.TIMESTAMP: b"t",
    Kind.CONTEXTS: b"e",
    Kind.UNSTRUCT: b"w",
}
_JSON_POSITIONS: Final = tuple(position for _, position in _JSON_FIELDS)
# The columns the encoder returns, in column order, as `to_json_bytes` unpacks them: the JSON
# columns come back empty unless the encoder hands them back unshredded.
HANDED_BACK: Final = ("collector_tstamp", "event_id", *(name for name, _ in _JSON_FIELDS))


def _encoder_type() -> type[Encoder] | None:
    try:
        from libs.formats._tsv_json import Encoder
    except ImportError:
        # Not built (make install builds it): every line takes the general path.
        return None
    return Encoder


# Looked up once: a failed import is tried again, at some cost, each time it is asked for.
_ENCODER_TYPE: Final = _encoder_type()


def _encoder(time_field: str | None) -> Encoder | None:
    """The compiled encoder writing the collector timestamp also under `time_field`; None if
    it is not built."""
    known = _ENCODERS.get(time_field)
    if known is not None or _ENCODER_TYPE is None:
        return known
    added: list[tuple[str, int] | tuple[str, int, int]] = [("geo_location", _LATITUDE, _LONGITUDE)]
    if time_field is not None:
        added.append((time_field, _POSITIONS["collector_tstamp"]))
    encoder = _ENCODERS[time_field] = _ENCODER_TYPE(
        FIELD_NAMES,
        b"".join(_ENCODED_KINDS[kind] for _, kind in FIELDS),
        tuple(_POSITIONS[name] for name in HANDED_BACK),
        _entity_key,
        tuple(added),
    )
    return encoder


# By time field: a loader has one.
_ENCODERS: Final[dict[str | None, Encoder]] = {}


def _entity_key(position: int, schema_uri: str) -> str:
    return shredded_name(
        "unstruct_event" if position == _UNSTRUCT_EVENT else "contexts", schema_uri
    )
