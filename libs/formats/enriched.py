"""Snowplow's enriched event: the 131-field TSV line of the `good` topic, and its JSON shapes.

`to_tsv` writes a line from field values; `to_json` reads one into the analytics-SDK shape that
Elasticsearch indexes (typed atomic fields, `geo_location`, and every context or self-describing
event under its own `contexts_{vendor}_{name}_{model}` / `unstruct_event_...` key); `to_event`
reads one into the event shape of loader bad rows (typed atomic fields, the three JSON columns
kept as the self-describing JSON they are). `to_json_bytes` writes the analytics-SDK shape as
JSON: a line in the usual spellings straight from its columns' bytes, any other through `to_json`.

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
from typing import Any, Final

import orjson
from librt.strings import BytesWriter
from mypy_extensions import i64


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
    encoded = (
        _written_from_bytes(line if isinstance(line, bytes) else _utf8(line), time_field)
        if _COMPILED
        else None
    )
    if encoded is None:
        return _encoded(to_json(_text(line)), time_field)
    return encoded


def _utf8(line: str) -> bytes | None:
    try:
        return line.encode()
    except UnicodeEncodeError:
        # Lone surrogates: only the general path reads them.
        return None


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
    if value.isascii() and _fits_shape(value.encode(), _SHORT_DIGITS):
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
_USUAL_TIMESTAMP: Final = b"0000-00-00 00:00:00.000"
_SHORT_DIGITS: Final = b"000000000"
_ZERO: Final = 0x30  # "0"


def _fits_shape(value: bytes, shape: bytes) -> bool:
    """Whether `value` is non-empty, no longer than `shape`, and each of its bytes fits the one
    at the same position in `shape`: any ASCII digit for "0", itself for anything else."""
    # Compared one by one in compiled code: no object is made, unlike a regex match.
    if not 0 < len(value) <= len(shape):
        return False
    position: i64 = 0
    while position < len(value):
        code = value[position]
        expected = shape[position]
        if expected == _ZERO:
            if not _ZERO <= code <= _ZERO + 9:
                return False
        elif code != expected:
            return False
        position += 1
    return True


def _is_usual_timestamp(value: bytes) -> bool:
    return len(value) == len(_USUAL_TIMESTAMP) and _fits_shape(value, _USUAL_TIMESTAMP)


def _timestamp(value: str) -> str:
    usual = value.isascii() and _is_usual_timestamp(value.encode())
    if not usual and _TIMESTAMP.fullmatch(value) is None:
        raise _InvalidValue("not a timestamp (YYYY-MM-DD HH:MM:SS.mmm)")
    return _iso_timestamp(value)


def _iso_timestamp(value: str) -> str:
    """`YYYY-MM-DD HH:MM:SS.mmm` as the analytics SDKs write it: ISO 8601 in UTC."""
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


# The JSON of a line in the usual spellings is written straight from its columns' bytes: strings
# as they are (escaped if need be), numbers and booleans checked, timestamps barely changed, the
# entities of JSON columns read by orjson. Building the dict of `to_json` and encoding it costs
# the good sink several times as much; a line in any other spelling takes that general path.

# Interpreted, those loops over bytes cost more than the dict and orjson: the general path is the
# faster one there (the package built without mypyc, or FURROW_PURE=1).
_COMPILED: Final = not __file__.endswith(".py")

# How each column is written, a byte per column: indexing bytes is cheap once compiled.
_AS_STRING: Final = 0
_AS_INTEGER: Final = 1
_AS_DECIMAL: Final = 2
_AS_BOOLEAN: Final = 3
_AS_TIMESTAMP: Final = 4
_AS_ENTITIES: Final = 5
_WRITTEN_AS: Final = bytes(
    {
        Kind.STRING: _AS_STRING,
        Kind.INTEGER: _AS_INTEGER,
        Kind.DOUBLE: _AS_DECIMAL,
        Kind.BOOLEAN: _AS_BOOLEAN,
        Kind.TIMESTAMP: _AS_TIMESTAMP,
        Kind.CONTEXTS: _AS_ENTITIES,
        Kind.UNSTRUCT: _AS_ENTITIES,
    }[kind]
    for _, kind in FIELDS
)
# Per column, the start of its member: `{"name":` for the first member of the object, `,"name":`
# for the others.
_FIRST_MEMBERS: Final = [b'{"' + name.encode() + b'":' for name in FIELD_NAMES]
_MEMBERS: Final = [b',"' + name.encode() + b'":' for name in FIELD_NAMES]
_EVENT_ID: Final = FIELD_NAMES.index("event_id")
# Byte values as literals, which compiled code inlines (it would call ord() at import, then read
# a global each time).
_QUOTE: Final = 0x22
_BACKSLASH: Final = 0x5C
_SPACE: Final = 0x20
_COMMA: Final = 0x2C
_MINUS: Final = 0x2D
_POINT: Final = 0x2E
_HEX_DIGITS: Final = b"0123456789abcdef"
# `YYYY-MM-DD HH:MM:SS.mmm`: where the space is, which JSON writes as `T`.
_DATE_LENGTH: Final = 10
_LETTER_T: Final = 0x54
_DIGITS_OF_A_DOUBLE: Final = 15


def _written_from_bytes(line: bytes | None, time_field: str | None) -> EncodedEvent | None:
    """The event's JSON written from the line's bytes; None if they are not UTF-8, or the line
    is not 131 columns in the usual spellings (see `_written_value`), or a JSON column is not
    valid: the general path then reads it, or says what is wrong."""
    if line is None or not _is_utf8(line):
        return None
    values = line.split(b"\t")
    if len(values) != FIELD_COUNT:
        return None
    out = BytesWriter()
    first = True
    shredded: dict[str, Any] = {}
    for column in range(FIELD_COUNT):
        value = values[column]
        if len(value) == 0:
            continue
        written_as = _WRITTEN_AS[column]
        if written_as == _AS_ENTITIES:
            try:
                _add_shredded(shredded, column, value.decode())
            except _InvalidValue:
                return None
            continue
        out.write(_FIRST_MEMBERS[column] if first else _MEMBERS[column])
        first = False
        if not _written_value(out, written_as, value):
            return None
    if shredded:
        # `"key":[...],...`: orjson's object without its braces.
        entities = orjson.dumps(shredded)
        out.write(b"{" if first else b",")
        out.write(entities[1:-1])
        first = False
    latitude, longitude = values[_LATITUDE], values[_LONGITUDE]
    if len(latitude) > 0 and len(longitude) > 0:
        out.write(b'{"geo_location":"' if first else b',"geo_location":"')
        first = False
        out.write(latitude)
        out.append(_COMMA)
        out.write(longitude)
        out.append(_QUOTE)
    collector_tstamp = values[_COLLECTOR_TSTAMP]
    if time_field is not None and len(collector_tstamp) > 0:
        out.write(b"{" if first else b",")
        first = False
        out.write(_time_member(time_field))
        _written_value(out, _AS_TIMESTAMP, collector_tstamp)
    out.write(b"{}" if first else b"}")
    timestamp = _iso_timestamp(collector_tstamp.decode()) if collector_tstamp else ""
    return EncodedEvent(out.getvalue(), values[_EVENT_ID].decode(), timestamp)


def _is_utf8(line: bytes) -> bool:
    if line.isascii():
        return True
    try:
        line.decode()
    except UnicodeDecodeError:
        return False
    return True


def _written_value(out: BytesWriter, written_as: int, value: bytes) -> bool:
    """Write a non-empty column's JSON value; False if it is not in its usual spelling: a
    timestamp other than `YYYY-MM-DD HH:MM:SS.mmm`, an integer with a sign, a leading zero or
    more than nine digits, a decimal with an exponent or more than 15 digits, or a boolean
    other than 1 or 0."""
    if written_as == _AS_STRING:
        out.append(_QUOTE)
        if _needs_escapes(value):
            _write_escaped(out, value)
        else:
            out.write(value)
        out.append(_QUOTE)
    elif written_as == _AS_TIMESTAMP:
        if not _is_usual_timestamp(value):
            return False
        out.append(_QUOTE)
        space = len(out) + _DATE_LENGTH
        out.write(value)
        out[space] = _LETTER_T
        out.write(b'Z"')
    elif written_as == _AS_INTEGER:
        # Nine digits at most are within 32 bits.
        if not _fits_shape(value, _SHORT_DIGITS) or (len(value) > 1 and value[0] == _ZERO):
            return False
        out.write(value)
    elif written_as == _AS_DECIMAL:
        if not _is_plain_decimal(value):
            return False
        out.write(value)
    elif value == b"1":
        out.write(b"true")
    elif value == b"0":
        out.write(b"false")
    else:
        return False
    return True


def _is_plain_decimal(value: bytes) -> bool:
    """`-?(0|[1-9][0-9]*)(\\.[0-9]+)?` with at most 15 digits: a JSON number that is the double
    Python's float() reads from the same text. (float() also takes `1e5`, `.5`, `+1`, `inf`.)"""
    end: i64 = len(value)
    at: i64 = 1 if value[0] == _MINUS else 0
    integer_start = at
    while at < end and _ZERO <= value[at] <= _ZERO + 9:
        at += 1
    digits = at - integer_start
    if digits == 0 or (digits > 1 and value[integer_start] == _ZERO):
        return False
    if at < end:
        if value[at] != _POINT or at + 1 == end:
            return False
        at += 1
        while at < end and _ZERO <= value[at] <= _ZERO + 9:
            at += 1
            digits += 1
    return at == end and digits <= _DIGITS_OF_A_DOUBLE


def _needs_escapes(text: bytes) -> bool:
    """Whether `text` holds what a JSON string escapes: a quote, a backslash or a control
    character."""
    position: i64 = 0
    while position < len(text):
        code = text[position]
        if code < _SPACE or code in (_QUOTE, _BACKSLASH):
            return True
        position += 1
    return False


def _write_escaped(out: BytesWriter, text: bytes) -> None:
    position: i64 = 0
    while position < len(text):
        code = text[position]
        if code in (_QUOTE, _BACKSLASH):
            out.append(_BACKSLASH)
            out.append(code)
        elif code < _SPACE:
            out.write(b"\\u00")
            out.append(_HEX_DIGITS[code >> 4])
            out.append(_HEX_DIGITS[code & 15])
        else:
            out.append(code)
        position += 1


def _time_member(time_field: str) -> bytes:
    """`"name":` for the time field."""
    known = _TIME_MEMBERS.get(time_field)
    if known is None:
        known = _TIME_MEMBERS[time_field] = orjson.dumps(time_field) + b":"
    return known


# By time field: a loader has one.
_TIME_MEMBERS: Final[dict[str, bytes]] = {}
