"""The console's questions answered from memory, for `furrow micro`: the documents the sinks
would index, kept per kind up to a cap (the oldest go first; a document of an id already held
replaces it, as in Elasticsearch), and filtered, counted and grouped here as
services/console/queries.py asks Elasticsearch to.

Free text (`q`) matches as it does on the sinks' mappings (services/sinks/mappings.py): a field
whose whole value it is (keywords, and numbers it reads as), or any of its words in a bad row's
text fields.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from libs.formats.enriched import shredded_name
from services.console import queries
from services.console.index import EventsPage
from services.console.queries import (
    BAD_ROW_EVENT_IDS,
    BAD_ROW_SCHEMAS,
    EXAMPLES,
    IN_BAD_ROW,
    LOOKUP_BAD_ROWS,
    MESSAGE_FIELDS,
    NO_SCHEMA,
    BadGroup,
    EventFilters,
    Kind,
    TimeRange,
)
from services.sinks.documents import Document

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
WORD = re.compile(r"\w+")
# The bad rows' fields mapped as analysed text; every other string is a keyword.
TEXT_FIELDS = ("data.failure_string", "data.payload_string", "data.data_string")


@dataclass(frozen=True)
class Stored:
    id: str
    moment: datetime
    source: dict[str, Any]


def stored(document: Document) -> Stored:
    source = orjson.loads(document.source)
    return Stored(document.id, datetime.fromisoformat(source["@timestamp"]), source)


def keywords(source: dict[str, Any], path: str) -> list[str]:
    """The scalar values at `path` as Elasticsearch's keyword and flattened fields hold them."""
    return [
        value if isinstance(value, str) else orjson.dumps(value).decode()
        for value in queries.values_at(source, path)
        if not isinstance(value, dict | list) and value is not None
    ]


def has_schema(kind: Kind, source: dict[str, Any], uri: str) -> bool:
    """An event of this schema or carrying an entity of its model; a bad row naming it."""
    if kind == "bad":
        return uri in keywords(source, BAD_ROW_SCHEMAS)
    key = queries.schema_key(uri)
    return (
        (source.get("event_vendor"), source.get("event_name"), source.get("event_version"))
        == (key.vendor, key.name, str(key.version))
        or shredded_name("contexts", uri) in source
        or shredded_name("unstruct_event", uri) in source
    )


def leaves(value: Any) -> Iterator[Any]:
    if isinstance(value, dict):
        for child in value.values():
            yield from leaves(child)
    elif isinstance(value, list):
        for child in value:
            yield from leaves(child)
    elif value is not None:
        yield value


def is_value(leaf: Any, text: str) -> bool:
    """Whether a query for `text` matches the field value `leaf`, as a keyword or a number."""
    if isinstance(leaf, str):
        return leaf == text
    if isinstance(leaf, bool):
        return text == str(leaf).lower()
    if not isinstance(leaf, int | float):
        return False
    try:
        return float(text) == leaf
    except ValueError:
        return False


def has_text(source: dict[str, Any], text: str) -> bool:
    if any(is_value(leaf, text) for leaf in leaves(source)):
        return True
    wanted = {word.lower() for word in WORD.findall(text)}
    return any(
        not wanted.isdisjoint(word.lower() for word in WORD.findall(value))
        for path in TEXT_FIELDS
        for value in keywords(source, path)
    )


def matches(kind: Kind, source: dict[str, Any], filters: EventFilters) -> bool:
    """Whether a document of `kind` passes `filters`, as queries.filter_clauses selects."""
    prefix = "" if kind == "good" else IN_BAD_ROW
    if any(value not in keywords(source, prefix + name) for name, value in filters.fields.items()):
        return False
    if filters.schema is not None and not has_schema(kind, source, filters.schema):
        return False
    return filters.text is None or has_text(source, filters.text)


def bucket_start(moment: datetime, width: timedelta) -> datetime:
    """The start of the bar holding `moment`, bars laid from the epoch as Elasticsearch's
    fixed intervals are."""
    return EPOCH + ((moment - EPOCH) // width) * width


def bars(span: TimeRange, width: timedelta) -> list[datetime]:
    """The starts of every bar from the one holding the start of `span` to the one holding
    its end."""
    found = [bucket_start(span.start, width)]
    while found[-1] + width <= span.end:
        found.append(found[-1] + width)
    return found


def histogram(
    moments: Iterable[datetime], span: TimeRange, width: timedelta
) -> list[tuple[datetime, int]]:
    """(bar start, count) for every bar of `bars(span, width)`."""
    counts = dict.fromkeys(bars(span, width), 0)
    for moment in moments:
        start = bucket_start(moment, width)
        if start in counts:
            counts[start] += 1
    return list(counts.items())


def first_messages(rows: list[Stored]) -> tuple[str, dict[str, list[Stored]]]:
    """The label of the first of MESSAGE_FIELDS any of `rows` has, and the rows per value of
    it (none if no row has any)."""
    for path, label in MESSAGE_FIELDS:
        by_message: dict[str, list[Stored]] = {}
        for row in rows:
            for message in dict.fromkeys(keywords(row.source, path)):
                by_message.setdefault(message, []).append(row)
        if by_message:
            return label, by_message
    return "", {}


def bad_groups(rows: list[Stored], span: TimeRange) -> list[BadGroup]:
    """Rows (newest first) grouped as queries.bad_groups reads Elasticsearch's answer: by type,
    by each schema they name, then by the values of the first message field any row of the
    pair has."""
    pairs: dict[tuple[str, str], list[Stored]] = {}
    for row in rows:
        schemas = keywords(row.source, BAD_ROW_SCHEMAS) or [NO_SCHEMA]
        for schema in dict.fromkeys(schemas):
            pairs.setdefault((str(row.source.get("failure_type")), schema), []).append(row)
    width = queries.duration(
        queries.histogram_width(span.end - span.start, queries.SPARKLINE_BARS), "width"
    )
    groups: list[BadGroup] = []
    for (failure_type, schema), members in pairs.items():
        label, by_message = first_messages(members)
        groups.extend(
            BadGroup(
                failure_type=failure_type,
                schema=schema,
                message=label.format(message),
                count=len(named),
                first_seen=queries.iso(min(row.moment for row in named)),
                last_seen=queries.iso(max(row.moment for row in named)),
                examples=[row.source for row in named[:EXAMPLES]],
                sparkline=[
                    count for _, count in histogram((row.moment for row in named), span, width)
                ],
            )
            for message, named in by_message.items()
        )
    return sorted(groups, key=lambda group: (-group.count, group.failure_type, group.message))


def counted_value(source: dict[str, Any], by: str) -> str | None:
    """What `source` is counted as for `by`: a schema by its URI; None if it lacks a part."""
    parts = [source.get(name) for name in queries.COUNTED_BY[by]]
    if any(not isinstance(part, str) or not part for part in parts):
        return None
    return "iglu:" + "/".join(parts) if by == "schema" else str(parts[0])  # type: ignore[arg-type]


class MemoryIndex:
    """An EventsIndex of the documents added to it, at most `max_documents` of each kind."""

    def __init__(self, max_documents: int) -> None:
        self._max = max_documents
        self._held: dict[Kind, OrderedDict[str, Stored]] = {
            "good": OrderedDict(),
            "bad": OrderedDict(),
        }

    def add(self, kind: Kind, document: Document) -> None:
        held = self._held[kind]
        held.pop(document.id, None)
        held[document.id] = stored(document)
        if len(held) > self._max:
            held.popitem(last=False)

    def clear(self) -> None:
        for held in self._held.values():
            held.clear()

    def _newest(
        self, kind: Kind, span: TimeRange | None, filters: EventFilters | None = None
    ) -> list[Stored]:
        selected = [
            row
            for row in self._held[kind].values()
            if (span is None or span.start <= row.moment < span.end)
            and (filters is None or matches(kind, row.source, filters))
        ]
        return sorted(selected, key=lambda row: row.moment, reverse=True)

    async def events(
        self, kind: Kind, span: TimeRange, filters: EventFilters, size: int, width: str
    ) -> EventsPage:
        rows = self._newest(kind, span, filters)
        bar = queries.duration(width, "width")
        return EventsPage(
            total=len(rows),
            histogram=[
                (int((start - EPOCH).total_seconds()), count)
                for start, count in histogram((row.moment for row in rows), span, bar)
            ],
            sources=[row.source for row in rows[:size]],
        )

    async def lookup(self, event_id: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        good = [
            row.source
            for row in self._held["good"].values()
            if row.source.get("event_id") == event_id
        ][:1]
        bad = [
            row.source
            for row in self._newest("bad", None)
            if any(event_id in keywords(row.source, path) for path in BAD_ROW_EVENT_IDS)
        ]
        return good, bad[:LOOKUP_BAD_ROWS]

    async def bad_groups(self, span: TimeRange, filters: EventFilters) -> list[BadGroup]:
        return bad_groups(self._newest("bad", span, filters), span)

    async def counts(self, span: TimeRange, by: str, bucket: str) -> list[dict[str, Any]]:
        width = queries.counts_width(span, by, bucket)
        per_bar: dict[datetime, dict[str, int]] = {start: {} for start in bars(span, width)}
        for row in self._newest("good", span):
            value = counted_value(row.source, by)
            counts = per_bar.get(bucket_start(row.moment, width))
            if value is not None and counts is not None:
                counts[value] = counts.get(value, 0) + 1
        return [
            {"start": queries.iso(start), "counts": counts} for start, counts in per_bar.items()
        ]

    async def schema_counts(self, span: TimeRange) -> dict[Kind, dict[str, int]]:
        good: dict[str, int] = {}
        for row in self._newest("good", span):
            uri = counted_value(row.source, "schema")
            if uri is not None:
                good[uri] = good.get(uri, 0) + 1
        bad: dict[str, int] = {}
        for row in self._newest("bad", span):
            for uri in dict.fromkeys(keywords(row.source, BAD_ROW_SCHEMAS)):
                bad[uri] = bad.get(uri, 0) + 1
        return {"good": good, "bad": bad}

    async def tail(
        self, kind: Kind, since: datetime, filters: EventFilters
    ) -> list[tuple[str, dict[str, Any]]]:
        recent = TimeRange(since - queries.TAIL_LOOKBACK, datetime.max.replace(tzinfo=UTC))
        return [
            (row.id, row.source) for row in self._newest(kind, recent, filters)[: queries.TAIL_PAGE]
        ]
