"""The index templates of the `good`, `bad` and `logs` indices: settings and mappings.

Each sink installs its template on start. It applies to the daily indices `<alias>-YYYY.MM.DD`
and puts every one of them behind the alias, which is what users search (Kibana's `good*`, ...).

Every field a sink writes on purpose has an explicit type; whatever arrives that nobody declared
(context and self-describing event fields, MDC keys) is typed by dynamic templates that avoid the
usual traps (strings as keyword, never as date; numbers as double, so that 1 then 1.5 does not
truncate). Past `total_fields_limit` fields, new ones stay in `_source` unindexed instead of
failing the document.
"""

from __future__ import annotations

from typing import Any

from libs.formats.enriched import FIELDS, Kind
from services.sinks.config import SinkKind

# Before a template of Elastic's own (priority 100, e.g. `logs-*-*`) for our daily indices.
PRIORITY = 200
# Longer strings are kept in _source but not indexed as keywords: one term may not pass 32 KiB,
# and 8191 characters are at most 32764 bytes of UTF-8.
MAX_KEYWORD_CHARS = 8191
# For fields nobody declared, long values are rarely what one aggregates on.
MAX_DYNAMIC_KEYWORD_CHARS = 1024
# Bad rows nest: schema violations carry the raw event and the Iglu client's error reports.
FLATTENED_DEPTH_LIMIT = 100

KEYWORD: dict[str, Any] = {"type": "keyword", "ignore_above": MAX_KEYWORD_CHARS}
DATE: dict[str, Any] = {"type": "date"}
TEXT: dict[str, Any] = {"type": "text"}
_FLATTENED: dict[str, Any] = {
    "type": "flattened",
    "ignore_above": MAX_KEYWORD_CHARS,
    "depth_limit": FLATTENED_DEPTH_LIMIT,
}
_ATOMIC_TYPES: dict[Kind, dict[str, Any]] = {
    Kind.STRING: KEYWORD,
    Kind.INTEGER: {"type": "integer"},
    Kind.DOUBLE: {"type": "double"},
    Kind.BOOLEAN: {"type": "boolean"},
    Kind.TIMESTAMP: DATE,
}


def template_name(alias: str) -> str:
    return f"furrow-{alias}"


def index_name(alias: str, day: str) -> str:
    """The daily index of `day` (`YYYY.MM.DD`) behind `alias`."""
    return f"{alias}-{day}"


def index_template(
    kind: SinkKind,
    alias: str,
    *,
    refresh_interval: str,
    total_fields_limit: int,
    lifecycle_policy: str | None = None,
) -> dict[str, Any]:
    """The body of `PUT _index_template/<template_name(alias)>` for sinks of `kind`, its daily
    indices under the ILM policy `lifecycle_policy` if given."""
    lifecycle = lifecycle_settings(lifecycle_policy) if lifecycle_policy is not None else {}
    return {
        # `-2*`, not `-*`: the daily suffix starts with the year, and the plain wildcard would
        # also claim the data streams of Elastic's own `logs-*-*` template.
        "index_patterns": [f"{alias}-2*"],
        "priority": PRIORITY,
        "_meta": {"managed_by": "furrow", "kind": kind},
        "template": {
            "aliases": {alias: {}},
            "settings": {
                "number_of_shards": 1,
                # No replica on a single node (a green cluster), one as soon as there are two.
                "auto_expand_replicas": "0-1",
                **dynamic_settings(
                    refresh_interval=refresh_interval, total_fields_limit=total_fields_limit
                ),
                **lifecycle,
            },
            "mappings": MAPPINGS[kind](),
        },
    }


def dynamic_settings(*, refresh_interval: str, total_fields_limit: int) -> dict[str, Any]:
    """The settings of the template that an existing index can change too."""
    return {
        "refresh_interval": refresh_interval,
        "mapping.total_fields.limit": total_fields_limit,
        "mapping.total_fields.ignore_dynamic_beyond_limit": True,
    }


def lifecycle_settings(policy: str | None) -> dict[str, Any]:
    """The index settings that put a daily index under the ILM policy `policy`, its age counted
    from the day in its name; with None, under none (null removes a setting of an index)."""
    return {
        "index.lifecycle.name": policy,
        "index.lifecycle.parse_origination_date": True if policy is not None else None,
    }


def good_mappings() -> dict[str, Any]:
    """Every atomic field of the enriched event typed; contexts and self-describing events under
    dynamic templates."""
    properties: dict[str, Any] = {
        name: _ATOMIC_TYPES[kind] for name, kind in FIELDS if kind in _ATOMIC_TYPES
    }
    properties["user_ipaddress"] = {
        "type": "ip",
        # Anonymised (`1.2.x.x`) or `unknown` addresses are no IPs; they stay searchable as text.
        "ignore_malformed": True,
        "fields": {"keyword": KEYWORD},
    }
    properties["geo_location"] = {"type": "geo_point"}
    properties["@timestamp"] = DATE
    return {
        "dynamic": True,
        "date_detection": False,
        "dynamic_templates": _dynamic_templates(["contexts_*", "unstruct_event_*"]),
        "properties": properties,
    }


def bad_mappings() -> dict[str, Any]:
    """Bad rows of any type in one index: the parts whose shape differs between types are
    `flattened` (every leaf a keyword, whatever its JSON type) or were renamed by type (see
    `documents.bad_document`); anything else stays in `_source` unindexed."""
    return {
        "dynamic": False,
        "properties": {
            "@timestamp": DATE,
            "schema": KEYWORD,
            "schema_string": KEYWORD,
            "failure_type": KEYWORD,
            "data": {
                "properties": {
                    "processor": {"properties": {"artifact": KEYWORD, "version": KEYWORD}},
                    "processor_string": KEYWORD,
                    "failure": _FLATTENED,
                    "failure_string": {**TEXT, "fields": {"keyword": KEYWORD}},
                    "payload": _FLATTENED,
                    "payload_string": {**TEXT, "fields": {"keyword": KEYWORD}},
                    "data_string": TEXT,
                },
            },
        },
    }


def logs_mappings() -> dict[str, Any]:
    """The fields of logback's LogstashEncoder and of the listener typed; MDC keys and custom
    fields under dynamic templates."""
    return {
        "dynamic": True,
        "date_detection": False,
        "dynamic_templates": _dynamic_templates(["*"]),
        "properties": {
            "@timestamp": DATE,
            "@version": KEYWORD,
            "received_at": DATE,
            "message": TEXT,
            "stack_trace": TEXT,
            "logger_name": KEYWORD,
            "thread_name": KEYWORD,
            "level": KEYWORD,
            "level_value": {"type": "integer"},
            "tags": KEYWORD,
            "host": KEYWORD,
            "port": {"type": "integer"},
            "service": KEYWORD,
        },
    }


MAPPINGS = {"good": good_mappings, "bad": bad_mappings, "logs": logs_mappings}


def _dynamic_templates(paths: list[str]) -> list[dict[str, Any]]:
    return [
        {
            "strings_as_keywords": {
                "path_match": paths,
                "match_mapping_type": "string",
                "mapping": {"type": "keyword", "ignore_above": MAX_DYNAMIC_KEYWORD_CHARS},
            }
        },
        {
            "numbers_as_doubles": {
                "path_match": paths,
                "match_mapping_type": ["long", "double"],
                "mapping": {"type": "double"},
            }
        },
    ]
