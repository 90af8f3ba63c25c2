"""What the console asks Elasticsearch, as pure functions: request parameters checked and read
(an unknown name or a malformed value is a ParameterError, answered with a 400), and query
bodies built from them as dicts, every value given by a user passed as data (term, match and
range values), never spliced into query text or scripts.

The `good` index holds enriched events in the analytics-SDK shape, the `bad` index bad rows with
`failure` and `payload` as flattened fields (see services/sinks/mappings.py): a filter on an
event's field reads the field itself in `good` and the partly enriched event of the row in
`bad`.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal

import orjson

from libs.formats.enriched import shredded_name
from libs.formats.iglu import IgluError, SchemaKey
from libs.formats.iglu import schema_key as parse_schema_key
from services.replay.rebuild import REPLAYABLE_TYPES

Kind = Literal["good", "bad"]
KINDS: Final[tuple[Kind, ...]] = ("good", "bad")


class ParameterError(ValueError):
    """A request parameter the console does not take, or a value it cannot read."""


# -- parameters ------------------------------------------------------------------------------------

DURATION_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400}
DEFAULT_RANGE: Final = timedelta(hours=1)
MAX_PAGE_SIZE: Final = 500
# A chart or a counts answer of more buckets than this is refused rather than computed.
MAX_BUCKETS: Final = 2000
# The widths a histogram picks from, the narrowest that keeps it under HISTOGRAM_BARS bars.
HISTOGRAM_WIDTHS: Final = ("1m", "5m", "15m", "1h", "6h", "1d")
HISTOGRAM_BARS: Final = 360
# A bad-row group's sparkline: its rows over the range in at most this many bars.
SPARKLINE_BARS: Final = 60


def only(params: Iterable[tuple[str, str]], known: Iterable[str]) -> dict[str, str]:
    """The parameters as a dict, once each is known and given once; an empty value (a form's
    field left blank) is as good as none."""
    allowed = set(known)
    found: dict[str, str] = {}
    for name, value in params:
        if name not in allowed:
            raise ParameterError(
                f"unknown parameter {name!r}; this page takes {', '.join(sorted(allowed))}"
            )
        if name in found:
            raise ParameterError(f"parameter {name!r} given more than once")
        if value:
            found[name] = value
    return found


def duration(text: str, name: str) -> timedelta:
    """`90s`, `15m`, `6h`, `7d`: a whole number and a unit."""
    number, unit = text[:-1], text[-1:]
    if unit not in DURATION_UNITS or not number.isascii() or not number.isdigit():
        raise ParameterError(f"{name} must be a whole number and one of s, m, h, d, e.g. 15m")
    if int(number) == 0:
        raise ParameterError(f"{name} must be more than 0")
    return timedelta(seconds=int(number) * DURATION_UNITS[unit])


def moment(text: str, name: str) -> datetime:
    """An ISO 8601 time; UTC when it names no zone."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ParameterError(
            f"{name} must be an ISO 8601 time, e.g. 2026-12-03T10:00:00Z"
        ) from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


@dataclass(frozen=True)
class TimeRange:
    start: datetime
    end: datetime

    def as_query(self) -> dict[str, Any]:
        return {"range": {"@timestamp": {"gte": iso(self.start), "lt": iso(self.end)}}}


def time_range(params: Mapping[str, str], now: datetime) -> TimeRange:
    """`from` and `to` (ISO 8601), or `last` (a duration up to now); the last hour by default."""
    if "last" in params:
        if "from" in params or "to" in params:
            raise ParameterError("give last, or from and to, not both")
        return TimeRange(now - duration(params["last"], "last"), now)
    end = moment(params["to"], "to") if "to" in params else now
    start = moment(params["from"], "from") if "from" in params else end - DEFAULT_RANGE
    if start >= end:
        raise ParameterError("from must be before to")
    return TimeRange(start, end)


def page_size(params: Mapping[str, str], default: int = 50) -> int:
    text = params.get("size")
    if text is None:
        return default
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_PAGE_SIZE:
        raise ParameterError(f"size must be a whole number from 1 to {MAX_PAGE_SIZE}")
    return int(text)


def histogram_width(span: timedelta, bars: int = HISTOGRAM_BARS) -> str:
    """The narrowest width of HISTOGRAM_WIDTHS that draws `span` in at most `bars` bars."""
    for width in HISTOGRAM_WIDTHS:
        if span / duration(width, "width") <= bars:
            return width
    return HISTOGRAM_WIDTHS[-1]


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# -- event filters ---------------------------------------------------------------------------------

EVENT_FILTERS: Final = (
    "app_id",
    "event_name",
    "platform",
    "user_id",
    "domain_userid",
    "network_userid",
    "schema",
    "q",
)

# Where a bad row keeps the field of the event it was about (rows of enrichment and schema
# failures carry the partly enriched event).
IN_BAD_ROW: Final = "data.payload.enriched."
# Where a bad row names the schemas it failed on, and the event ids it may carry.
BAD_ROW_SCHEMAS: Final = "data.failure.messages.schemaKey"
# A lookup shows at most this many bad rows naming the event, the newest.
LOOKUP_BAD_ROWS: Final = 20
BAD_ROW_EVENT_IDS: Final = (
    "data.payload.enriched.event_id",
    "data.payload.raw.parameters.value",
    "data.payload.querystring.value",
)


@dataclass(frozen=True)
class EventFilters:
    fields: dict[str, str] = field(default_factory=dict)
    schema: str | None = None
    text: str | None = None


def event_filters(params: Mapping[str, str]) -> EventFilters:
    """The filters among `params`; an empty value is no filter."""
    fields = {
        name: params[name]
        for name in EVENT_FILTERS
        if name not in ("schema", "q") and params.get(name)
    }
    schema = params.get("schema") or None
    if schema is not None:
        schema_key(schema)
    return EventFilters(fields, schema, params.get("q") or None)


def schema_key(uri: str) -> SchemaKey:
    try:
        return parse_schema_key(uri)
    except IgluError as error:
        raise ParameterError(
            f"schema must be an Iglu URI (iglu:vendor/name/format/M-R-A): {error}"
        ) from None


def filter_clauses(kind: Kind, filters: EventFilters) -> list[dict[str, Any]]:
    """The query clauses that select events matching `filters` in the index of `kind`."""
    prefix = "" if kind == "good" else IN_BAD_ROW
    clauses: list[dict[str, Any]] = [
        {"term": {prefix + name: value}} for name, value in filters.fields.items()
    ]
    if filters.schema is not None:
        clauses.append(_schema_clause(kind, filters.schema))
    if filters.text is not None:
        clauses.append({"multi_match": {"query": filters.text, "fields": ["*"], "lenient": True}})
    return clauses


def _schema_clause(kind: Kind, uri: str) -> dict[str, Any]:
    """An event of this schema, or one that carries an entity of it (of its model: the index
    keeps entities by vendor, name and model)."""
    key = schema_key(uri)
    if kind == "bad":
        return {"term": {BAD_ROW_SCHEMAS: uri}}
    return {
        "bool": {
            "should": [
                {
                    "bool": {
                        "filter": [
                            {"term": {"event_vendor": key.vendor}},
                            {"term": {"event_name": key.name}},
                            {"term": {"event_version": str(key.version)}},
                        ]
                    }
                },
                {"exists": {"field": shredded_name("contexts", uri)}},
                {"exists": {"field": shredded_name("unstruct_event", uri)}},
            ],
            "minimum_should_match": 1,
        }
    }


def events_search(
    kind: Kind, span: TimeRange, filters: EventFilters, size: int, width: str
) -> dict[str, Any]:
    """The newest `size` events of `kind` in `span` matching `filters`, and their histogram."""
    return {
        "size": size,
        "sort": [{"@timestamp": {"order": "desc"}}],
        "track_total_hits": True,
        "query": {"bool": {"filter": [span.as_query(), *filter_clauses(kind, filters)]}},
        "aggs": {
            "histogram": {
                "date_histogram": {
                    "field": "@timestamp",
                    "fixed_interval": width,
                    "min_doc_count": 0,
                    "extended_bounds": {"min": iso(span.start), "max": iso(span.end)},
                }
            }
        },
    }


def histogram_points(aggregations: Mapping[str, Any]) -> list[tuple[int, int]]:
    """(bucket start in epoch seconds, count) of an `events_search` answer."""
    return [
        (int(bucket["key"]) // 1000, int(bucket["doc_count"]))
        for bucket in aggregations["histogram"]["buckets"]
    ]


# -- columns -------------------------------------------------------------------------------------

MAX_COLUMNS: Final = 10
_COLUMN = re.compile(r"[A-Za-z0-9_@.\-]{1,200}")


def columns(params: Mapping[str, str]) -> list[str]:
    """The extra columns asked for: dotted paths into a document (`app_id`,
    `contexts_com_acme_user_1.plan`), separated by commas."""
    asked = [path.strip() for path in params.get("columns", "").split(",") if path.strip()]
    if len(asked) > MAX_COLUMNS:
        raise ParameterError(f"at most {MAX_COLUMNS} columns")
    for path in asked:
        if not _COLUMN.fullmatch(path):
            raise ParameterError(
                f"column {path!r} must be a dotted path of letters, digits, _, @, - and ."
            )
    return asked


def values_at(document: Any, path: str) -> list[Any]:
    """The values at a dotted path, through lists (an entity per element)."""
    found = [document]
    for part in path.split("."):
        found = [
            item
            for value in found
            if isinstance(value, dict) and part in value
            for item in (value[part] if isinstance(value[part], list) else [value[part]])
        ]
    return found


def value_at(document: Any, path: str) -> str:
    """The value at a dotted path, through lists, as text."""
    return ", ".join(
        value if isinstance(value, str) else orjson.dumps(value).decode()
        for value in values_at(document, path)
    )


def field_paths(documents: Iterable[Any], depth: int = 3) -> list[str]:
    """The dotted paths to the leaves of `documents` (through lists), up to `depth` parts: the
    columns one can pick, entity fields included."""
    found: set[str] = set()

    def walk(value: Any, prefix: str, left: int) -> None:
        if isinstance(value, list):
            for item in value:
                walk(item, prefix, left)
        elif isinstance(value, dict) and left > 0:
            for key, child in value.items():
                walk(child, f"{prefix}.{key}" if prefix else str(key), left - 1)
        elif prefix:
            found.add(prefix)

    for document in documents:
        walk(document, "", depth)
    return sorted(found)


# -- live tail -----------------------------------------------------------------------------------

# A document becomes searchable a refresh after it was written, with the time it was collected
# (or failed): each poll looks this far back, and the caller skips what it has shown.
TAIL_LOOKBACK: Final = timedelta(seconds=30)
TAIL_PAGE: Final = 200


def tail_search(kind: Kind, since: datetime, filters: EventFilters) -> dict[str, Any]:
    """The newest TAIL_PAGE events of `kind` at or after `since` (less the lookback) matching
    `filters`: a tail shows what arrives now, and skips what it cannot show in time."""
    moment = {"range": {"@timestamp": {"gte": iso(since - TAIL_LOOKBACK)}}}
    return {
        "size": TAIL_PAGE,
        "sort": [{"@timestamp": {"order": "desc"}}],
        "query": {"bool": {"filter": [moment, *filter_clauses(kind, filters)]}},
    }


# -- logs ----------------------------------------------------------------------------------------

LOG_FILTERS: Final = ("level", "logger", "service", "q")


def logs_search(span: TimeRange, params: Mapping[str, str], size: int) -> dict[str, Any]:
    """The newest `size` log lines in `span` of this level, logger and service whose message
    has these words, and the count per level."""
    clauses: list[dict[str, Any]] = [span.as_query()]
    for name, field_name in (("level", "level"), ("logger", "logger_name"), ("service", "service")):
        if name in params:
            clauses.append({"term": {field_name: params[name]}})
    if "q" in params:
        clauses.append({"match": {"message": {"query": params["q"], "operator": "and"}}})
    return {
        "size": size,
        "sort": [{"@timestamp": {"order": "desc"}}],
        "track_total_hits": True,
        "query": {"bool": {"filter": clauses}},
        "aggs": {"levels": {"terms": {"field": "level", "size": 20}}},
    }


# -- lookup ----------------------------------------------------------------------------------------


def lookup_searches(event_id: str) -> dict[Kind, dict[str, Any]]:
    """Where an event id may be: the good event, and bad rows naming it in their partly enriched
    event, their raw parameters or their request's query string."""
    return {
        "good": {"size": 1, "query": {"term": {"event_id": event_id}}},
        "bad": {
            "size": LOOKUP_BAD_ROWS,
            "sort": [{"@timestamp": {"order": "desc"}}],
            "query": {
                "bool": {
                    "should": [{"term": {path: event_id}} for path in BAD_ROW_EVENT_IDS],
                    "minimum_should_match": 1,
                }
            },
        },
    }


# -- bad rows grouped ------------------------------------------------------------------------------

# Where each type of bad row says what went wrong, as keys of the flattened `failure`, and how a
# group names it. A group of rows of one type and schema is named by the first of these its rows
# have: the path in the instance for schema violations (the message differs by value; the
# newest example shows one), the lookup's error, the tracker parameter, the enrichment's error.
MESSAGE_FIELDS: Final = (
    ("data.failure.messages.error.dataReports.path", "at {}"),
    ("data.failure.messages.error.error", "{}"),
    ("data.failure.messages.field", "parameter {}"),
    ("data.failure.messages.message.error", "{}"),
    ("data.failure.messages.error", "{}"),
    ("data.failure.expectation", "{}"),
    ("data.failure.errors", "{}"),
)
NO_SCHEMA: Final = ""
EXAMPLES: Final = 3


def bad_groups_search(span: TimeRange, filters: EventFilters) -> dict[str, Any]:
    """Bad rows in `span` by type, then schema, then what went wrong, with counts, first and
    last seen, rows over time, and the newest rows as examples."""
    per_message = {
        "over_time": {
            "date_histogram": {
                "field": "@timestamp",
                "fixed_interval": histogram_width(span.end - span.start, SPARKLINE_BARS),
                "min_doc_count": 0,
                "extended_bounds": {"min": iso(span.start), "max": iso(span.end)},
            }
        },
        "first": {"min": {"field": "@timestamp"}},
        "last": {"max": {"field": "@timestamp"}},
        "examples": {"top_hits": {"size": EXAMPLES, "sort": [{"@timestamp": {"order": "desc"}}]}},
    }
    messages = {
        f"message_{position}": {"terms": {"field": path, "size": 20}, "aggs": per_message}
        for position, (path, _) in enumerate(MESSAGE_FIELDS)
    }
    return {
        "size": 0,
        "query": {"bool": {"filter": [span.as_query(), *filter_clauses("bad", filters)]}},
        "aggs": {
            "types": {
                "terms": {"field": "failure_type", "size": 50},
                "aggs": {
                    "schemas": {
                        "terms": {
                            "field": BAD_ROW_SCHEMAS,
                            "size": 50,
                            "missing": NO_SCHEMA,
                        },
                        "aggs": messages,
                    }
                },
            }
        },
    }


def replay_command(failure_type: str, schema: str, since: str) -> str | None:
    """The `furrow replay` command that sends a group's rows back to enrichment (after a fix),
    dry-run first; None for a type that cannot be replayed."""
    if failure_type not in REPLAYABLE_TYPES:
        return None
    words = ["furrow", "replay", "--type", failure_type]
    if schema:
        key = parse_schema_key(schema)
        words += ["--schema", key.path]
    words += ["--since", since, "--dry-run"]
    return shlex.join(words)


@dataclass(frozen=True)
class BadGroup:
    failure_type: str
    schema: str
    message: str
    count: int
    first_seen: str
    last_seen: str
    examples: list[dict[str, Any]]
    # Rows per bar over the range.
    sparkline: list[int]


def bad_groups(aggregations: Mapping[str, Any]) -> list[BadGroup]:
    """The groups of a `bad_groups_search` answer, the largest first."""
    groups: list[BadGroup] = []
    for kind in aggregations["types"]["buckets"]:
        for schema in kind["schemas"]["buckets"]:
            named = [
                (position, label, bucket)
                for position, (_, label) in enumerate(MESSAGE_FIELDS)
                for bucket in schema[f"message_{position}"]["buckets"]
            ]
            first = named[0][0] if named else None
            groups.extend(
                BadGroup(
                    failure_type=str(kind["key"]),
                    schema=str(schema["key"]),
                    message=label.format(message["key"]),
                    count=int(message["doc_count"]),
                    first_seen=str(message["first"]["value_as_string"]),
                    last_seen=str(message["last"]["value_as_string"]),
                    examples=[hit["_source"] for hit in message["examples"]["hits"]["hits"]],
                    sparkline=[int(bar["doc_count"]) for bar in message["over_time"]["buckets"]],
                )
                for position, label, message in named
                if position == first
            )
    return sorted(groups, key=lambda group: (-group.count, group.failure_type, group.message))


# -- counts ----------------------------------------------------------------------------------------

# The fields whose values are counted; a schema is its four parts, nested (the multi_terms
# aggregation needs a licence some clusters lack).
COUNTED_BY: Final = {
    "event_name": ("event_name",),
    "app_id": ("app_id",),
    "schema": ("event_vendor", "event_name", "event_format", "event_version"),
}
MAX_VALUES: Final = 100


def _nested_terms(fields: tuple[str, ...]) -> dict[str, Any]:
    terms: dict[str, Any] = {"terms": {"field": fields[0], "size": MAX_VALUES}}
    if len(fields) > 1:
        terms["aggs"] = {"values": _nested_terms(fields[1:])}
    return terms


def _flattened(
    values: Mapping[str, Any], parts: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], int]]:
    for bucket in values["buckets"]:
        key = (*parts, str(bucket["key"]))
        if "values" in bucket:
            yield from _flattened(bucket["values"], key)
        else:
            yield key, int(bucket["doc_count"])


def counts_width(span: TimeRange, by: str, bucket: str) -> timedelta:
    """The width of `bucket`, once `by` names what can be counted and `span` takes at most
    MAX_BUCKETS of them."""
    if by not in COUNTED_BY:
        raise ParameterError(f"by must be one of {', '.join(COUNTED_BY)}")
    width = duration(bucket, "bucket")
    if (span.end - span.start) / width > MAX_BUCKETS:
        raise ParameterError(
            f"more than {MAX_BUCKETS} buckets: choose a wider bucket or a shorter range"
        )
    return width


def counts_search(span: TimeRange, by: str, bucket: str) -> dict[str, Any]:
    """Good events in `span` per `bucket` (a duration) and per value of `by`."""
    counts_width(span, by, bucket)
    return {
        "size": 0,
        "query": {"bool": {"filter": [span.as_query()]}},
        "aggs": {
            "times": {
                "date_histogram": {
                    "field": "@timestamp",
                    "fixed_interval": bucket,
                    "min_doc_count": 0,
                    "extended_bounds": {"min": iso(span.start), "max": iso(span.end)},
                },
                "aggs": {"values": _nested_terms(COUNTED_BY[by])},
            }
        },
    }


def counts(aggregations: Mapping[str, Any], by: str) -> list[dict[str, Any]]:
    """`[{"start": ISO time, "counts": {value: n}}]` of a `counts_search` answer; a schema is
    named by its URI."""
    found = []
    for bucket in aggregations["times"]["buckets"]:
        values = {
            ("iglu:" + "/".join(key) if by == "schema" else key[0]): count
            for key, count in _flattened(bucket["values"], ())
        }
        found.append({"start": str(bucket["key_as_string"]), "counts": values})
    return found


# -- schemas ---------------------------------------------------------------------------------------


def schema_counts_searches(span: TimeRange) -> dict[Kind, dict[str, Any]]:
    """Good events in `span` per event schema, and bad rows per schema they name."""
    return {
        "good": {
            "size": 0,
            "query": {"bool": {"filter": [span.as_query()]}},
            "aggs": {"values": _nested_terms(COUNTED_BY["schema"])},
        },
        "bad": {
            "size": 0,
            "query": {"bool": {"filter": [span.as_query()]}},
            "aggs": {"values": {"terms": {"field": BAD_ROW_SCHEMAS, "size": MAX_VALUES}}},
        },
    }


def schema_counts(kind: Kind, aggregations: Mapping[str, Any]) -> dict[str, int]:
    """Counts per schema URI of a `schema_counts_searches` answer."""
    return {
        ("iglu:" + "/".join(key) if kind == "good" else key[0]): count
        for key, count in _flattened(aggregations["values"], ())
    }


@dataclass(frozen=True)
class SchemaRow:
    vendor: str
    name: str
    format: str
    # Each version with the sources that hold it ("built-in", "registry") and its counts.
    versions: list[dict[str, Any]]


def schema_rows(
    sources: Mapping[str, Iterable[SchemaKey]], good: Mapping[str, int], bad: Mapping[str, int]
) -> list[SchemaRow]:
    """One row per schema (vendor, name, format), its versions in SchemaVer order, each with the
    sources that hold it and its good and bad counts; a schema only events name (from a
    repository the console is not given) has the source `events`."""
    found: dict[tuple[str, str, str], dict[SchemaKey, list[str]]] = {}
    for source, keys in sources.items():
        for key in keys:
            found.setdefault(key.family, {}).setdefault(key, []).append(source)
    for uri in (*good, *bad):
        try:
            key = parse_schema_key(uri)
        except IgluError:
            continue
        found.setdefault(key.family, {}).setdefault(key, ["events"])
    return [
        SchemaRow(
            *family,
            versions=[
                {
                    "version": str(key.version),
                    "uri": key.uri,
                    "sources": held_by,
                    "good": good.get(key.uri, 0),
                    "bad": bad.get(key.uri, 0),
                }
                for key, held_by in sorted(versions.items())
            ],
        )
        for family, versions in sorted(found.items())
    ]
