"""Furrow's built-in `com.snowplowanalytics.snowplow.badrows` schemas give the verdicts of Iglu
Central's: per schema, a table of instances with the verdict the upstream schema gives, quirks
included (Snowplow's `repostitory` misspelling, iglu-error variants without a type, required
lists that upstream leaves out). A case names a type, which is checked against its latest
version, or `type@version` for an earlier one."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from libs.formats import badrows
from libs.iglu_client import DirectoryRepository, RepositorySettings, Resolver
from libs.iglu_repositories import BUILTIN_SCHEMAS

BUILTIN = BUILTIN_SCHEMAS
TYPES = {
    "adapter_failures": "1-0-0",
    "bq_cast_error": "1-0-0",
    "bq_repeater_bigquery_error": "1-0-0",
    "bq_repeater_parsing_error": "1-0-0",
    "bq_repeater_pubsub_error": "1-0-0",
    "collector_payload_format_violation": "1-0-0",
    "enrichment_failures": "2-0-1",
    "event_forwarding_error": "1-0-1",
    "generic_error": "1-0-0",
    "loader_iglu_error": "2-0-1",
    "loader_parsing_error": "2-0-0",
    "loader_recovery_error": "1-0-0",
    "loader_runtime_error": "1-0-1",
    "rdb_loader_deduplication_error": "1-0-0",
    "rdb_loader_shredding_error": "1-0-0",
    "rdb_loader_validation_error": "1-0-0",
    "recovery_error": "1-0-1",
    "relay_failure": "1-0-0",
    "schema_violations": "2-0-1",
    "size_violation": "1-0-0",
    "snowflake_error": "1-0-0",
    "tracker_protocol_violations": "1-0-1",
}
NOW = "2026-11-23T12:00:00.000Z"
IP_LOOKUPS = "iglu:com.snowplowanalytics.snowplow/ip_lookups/jsonschema/2-0-0"
NUID = "c6ef3124-b53a-4b13-a233-0088f79dcbcb"
PROCESSOR = {"artifact": "furrow-enrich", "version": "0.4.0"}
LOOKUP = {
    "repository": "Iglu Central",
    "errors": [{"error": "NotFound"}],
    "attempts": 1,
    "lastAttempt": NOW,
}
RESOLUTION = {"error": "ResolutionError", "lookupHistory": [LOOKUP]}
DATA_REPORT = {
    "message": "$.total: is missing",
    "path": "$",
    "keyword": "required",
    "targets": ["total"],
}
VALIDATION = {"error": "ValidationError", "dataReports": [DATA_REPORT]}
REQUEST = {
    "vendor": "com.snowplowanalytics.snowplow",
    "version": "tp2",
    "querystring": [{"name": "e", "value": "pv"}],
    "contentType": "application/json",
    "body": "{}",
    "collector": "furrow-0.4.0-kafka",
    "encoding": "UTF-8",
    "hostname": "collector.example.com",
    "timestamp": NOW,
    "ipAddress": "203.0.113.9",
    "useragent": "Mozilla/5.0",
    "refererUri": None,
    "headers": ["Host: collector.example.com"],
    "networkUserId": NUID,
}
RAW_EVENT = {
    "vendor": "com.snowplowanalytics.snowplow",
    "version": "tp2",
    "parameters": [{"name": "e", "value": "ue"}],
    "contentType": None,
    "loaderName": "thrift",
    "encoding": "UTF-8",
    "hostname": None,
    "timestamp": NOW,
    "ipAddress": "203.0.113.9",
    "useragent": None,
    "refererUri": None,
    "headers": [],
    "userId": NUID,
}
PARTIAL = {
    "event_id": "e0a5a8b2-0000-4000-8000-000000000003",
    "collector_tstamp": "2026-11-23 12:00:00.000",
    "refr_urlport": 443,
    "geo_latitude": 51.5,
    "se_value": "12.5",
    "br_cookies": 1,
    "refr_dvce_tstamp": None,
}
LOADED = {
    "collector_tstamp": NOW,
    "event_id": "e0a5a8b2-0000-4000-8000-000000000003",
    "v_collector": "furrow-0.4.0-kafka",
    "v_etl": "furrow-enrich-0.4.0",
    "app_id": "shop",
    "txn_id": 7,
    "se_value": 12.5,
    "br_cookies": True,
    "contexts": {
        "schema": "iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0",
        "data": [],
    },
}
EVENT_PAYLOAD = {"raw": RAW_EVENT, "enriched": PARTIAL}


def row(name: str) -> dict[str, Any]:
    """A valid instance of each type."""
    rows: dict[str, dict[str, Any]] = {
        "adapter_failures": {
            "processor": PROCESSOR,
            "failure": {
                "timestamp": NOW,
                "vendor": "com.acme",
                "version": "v9",
                "messages": [{"field": "path", "value": "/com.acme/v9", "expectation": "known"}],
            },
            "payload": {**REQUEST, "vendor": "com.acme", "version": "v9"},
        },
        "tracker_protocol_violations": {
            "processor": PROCESSOR,
            "failure": {
                "timestamp": NOW,
                "vendor": "com.snowplowanalytics.snowplow",
                "version": "tp2",
                "messages": [{"field": "e", "value": None, "expectation": "an event type"}],
            },
            "payload": REQUEST,
        },
        "size_violation": {
            "processor": PROCESSOR,
            "failure": {"timestamp": NOW, "maximumAllowedSizeBytes": 10, "actualSizeBytes": 20},
            "payload": "{",
        },
        "collector_payload_format_violation": {
            "processor": PROCESSOR,
            "failure": {"timestamp": NOW, "loader": "thrift", "message": {"error": "not thrift"}},
            "payload": "AAE=",
        },
        "schema_violations": {
            "processor": PROCESSOR,
            "failure": {
                "timestamp": NOW,
                "messages": [
                    {"schemaKey": "iglu:com.acme/x/jsonschema/1-0-0", "error": VALIDATION}
                ],
            },
            "payload": EVENT_PAYLOAD,
        },
        "enrichment_failures": {
            "processor": PROCESSOR,
            "failure": {
                "timestamp": NOW,
                "messages": [
                    {
                        "enrichment": {
                            "schemaKey": IP_LOOKUPS,
                            "identifier": "ip_lookups",
                        },
                        "message": {"error": "the database is gone"},
                    }
                ],
            },
            "payload": EVENT_PAYLOAD,
        },
        "generic_error": {
            "processor": PROCESSOR,
            "payload": "text",
            "failure": {"timestamp": NOW, "errors": ["boom"]},
        },
        "loader_parsing_error": {
            "processor": PROCESSOR,
            "payload": "a\tb",
            "failure": {"type": "FieldNumberMismatch", "fieldCount": 2},
        },
        "loader_runtime_error": {
            "processor": PROCESSOR,
            "payload": LOADED,
            "failure": "mapper_parsing_exception",
        },
        "loader_iglu_error": {
            "processor": PROCESSOR,
            "payload": LOADED,
            "failure": [{"schemaKey": "iglu:com.acme/x/jsonschema/1-0-0", "error": RESOLUTION}],
        },
        "loader_recovery_error": {
            "processor": PROCESSOR,
            "payload": "x",
            "failure": {"error": {"message": "refused", "location": None, "reason": None}},
        },
        "recovery_error": {
            "processor": PROCESSOR,
            "payload": {
                "schema": badrows.SIZE_VIOLATION,
                "data": {"processor": PROCESSOR, "failure": {}, "payload": "x"},
            },
            "failure": {"error": "still too big"},
            "recoveries": 2,
        },
        "relay_failure": {
            "processor": PROCESSOR,
            "failure": {"timestamp": NOW, "message": {"messageText": "send"}},
            "payload": {"eventRaw": "a\tb"},
        },
        "event_forwarding_error": {
            "processor": PROCESSOR,
            "payload": "a\tb",
            "failure": {"timestamp": NOW, "errorType": "api", "errorMessage": "429"},
            "forwarder": {"id": "", "name": ""},
        },
        "snowflake_error": {
            "processor": PROCESSOR,
            "failures": [{"valueError": {"value": "x", "column": "app_id", "message": "long"}}],
            "enrichedEvent": LOADED,
        },
        "bq_cast_error": {
            "processor": PROCESSOR,
            "errors": [
                {
                    "data": {},
                    "schemaKey": "iglu:com.acme/x/jsonschema/1-0-0",
                    "errors": [{"missingInValue": {"value": {}, "missingKey": "total"}}],
                }
            ],
            "original": LOADED,
        },
        "bq_repeater_bigquery_error": {
            "processor": PROCESSOR,
            "reconstructedEvent": {"atomic": LOADED, "selfDescribingEntities": []},
            "error": {"message": "invalid", "reason": None, "location": None},
        },
        "bq_repeater_parsing_error": {
            "processor": PROCESSOR,
            "payload": "{}",
            "failure": {"message": "no event_id", "location": ["event_id"]},
        },
        "bq_repeater_pubsub_error": {"processor": PROCESSOR, "payload": "x", "error": "gone"},
        "rdb_loader_deduplication_error": {"original": LOADED, "error": "twice"},
        "rdb_loader_shredding_error": {"original": "a\tb", "errors": ["bad"]},
        "rdb_loader_validation_error": {
            "original": LOADED,
            "errors": [{"schema": "iglu:com.acme/x/jsonschema/1-0-0", "anything": 1}],
        },
    }
    return copy.deepcopy(rows[name])


Change = Callable[[dict[str, Any]], object]


def setting(*path: str | int, value: object) -> Change:
    def change(instance: dict[str, Any]) -> None:
        target: Any = instance
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return change


def removing(*path: str | int) -> Change:
    def change(instance: dict[str, Any]) -> None:
        target: Any = instance
        for part in path[:-1]:
            target = target[part]
        del target[path[-1]]

    return change


def replaced(instance: dict[str, Any]) -> Change:
    """The whole row replaced: for an earlier version whose rows have another shape."""

    def change(row: dict[str, Any]) -> None:
        row.clear()
        row.update(copy.deepcopy(instance))

    return change


def unresolved(change: Change) -> Change:
    """`change`, made to a schema violation whose schema could not be resolved."""

    def both(instance: dict[str, Any]) -> None:
        setting(*MESSAGE_ERROR, value=copy.deepcopy(RESOLUTION))(instance)
        change(instance)

    return both


FIRST_MESSAGE = ("failure", "messages", 0)
MESSAGE_ERROR = (*FIRST_MESSAGE, "error")
LOOKUP_ENTRY = (*MESSAGE_ERROR, "lookupHistory", 0)

# (type, what is changed, the change, Iglu Central's verdict).
CASES: list[tuple[str, str, Change | None, bool]] = [
    *((name, "as built", None, True) for name in TYPES),
    # The processor, the same in every row that has one.
    ("generic_error", "version not semantic", setting("processor", "version", value="v1"), False),
    (
        "generic_error",
        "version of 33 characters",
        setting("processor", "version", value="1.0.0" + "x" * 28),
        False,
    ),
    ("generic_error", "processor with more", setting("processor", "host", value="a"), False),
    ("generic_error", "no processor", removing("processor"), False),
    ("loader_runtime_error", "no processor (optional here)", removing("processor"), True),
    (
        "rdb_loader_shredding_error",
        "a processor (unknown here)",
        setting("processor", value=PROCESSOR),
        False,
    ),
    ("generic_error", "no errors", setting("failure", "errors", value=[]), False),
    (
        "generic_error",
        "timestamp not a date-time",
        setting("failure", "timestamp", value="yesterday"),
        False,
    ),
    ("generic_error", "extra top-level key", setting("extra", value=1), False),
    # Sizes.
    (
        "size_violation",
        "size over 1 GiB",
        setting("failure", "actualSizeBytes", value=2**30 + 1),
        False,
    ),
    ("size_violation", "size of 1 GiB", setting("failure", "actualSizeBytes", value=2**30), True),
    (
        "size_violation",
        "expectation of 257",
        setting("failure", "expectation", value="x" * 257),
        False,
    ),
    ("size_violation", "payload an object", setting("payload", value={}), False),
    # Collector payload format.
    (
        "collector_payload_format_violation",
        "unknown loader",
        setting("failure", "loader", value="json"),
        False,
    ),
    (
        "collector_payload_format_violation",
        "field message",
        setting("failure", "message", value={"payloadField": "body", "expectation": "thrift"}),
        True,
    ),
    (
        "collector_payload_format_violation",
        "error of 513",
        setting("failure", "message", value={"error": "x" * 513}),
        False,
    ),
    # Requests.
    ("adapter_failures", "message without value", removing(*FIRST_MESSAGE, "value"), False),
    (
        "tracker_protocol_violations",
        "message without value",
        setting(*FIRST_MESSAGE, value={"field": "e", "expectation": "x"}),
        True,
    ),
    (
        "adapter_failures",
        "parameter without value",
        removing("payload", "querystring", 0, "value"),
        False,
    ),
    (
        "tracker_protocol_violations",
        "parameter without value",
        removing("payload", "querystring", 0, "value"),
        True,
    ),
    (
        "tracker_protocol_violations",
        "querystring a string",
        setting("payload", "querystring", value="e=pv"),
        False,
    ),
    (
        "tracker_protocol_violations",
        "parameter value of 513",
        setting("payload", "querystring", 0, "value", value="x" * 513),
        False,
    ),
    (
        "tracker_protocol_violations",
        "a path (not Snowplow's)",
        setting("payload", "path", value="/i"),
        False,
    ),
    ("tracker_protocol_violations", "no vendor in payload", removing("payload", "vendor"), False),
    (
        "tracker_protocol_violations",
        "collector of 33",
        setting("payload", "collector", value="x" * 33),
        False,
    ),
    (
        "tracker_protocol_violations",
        "network user id not a UUID",
        setting("payload", "networkUserId", value="nuid-1"),
        False,
    ),
    (
        "tracker_protocol_violations",
        "version of 17",
        setting("failure", "version", value="x" * 17),
        False,
    ),
    (
        "tracker_protocol_violations",
        "not-json message",
        setting(*FIRST_MESSAGE, value={"field": "ue_pr", "error": "not JSON"}),
        True,
    ),
    (
        "tracker_protocol_violations",
        "iglu message",
        setting(
            *FIRST_MESSAGE, value={"schemaKey": "iglu:a/b/jsonschema/1-0-0", "error": RESOLUTION}
        ),
        True,
    ),
    (
        "adapter_failures",
        "iglu message (not allowed here)",
        setting(
            *FIRST_MESSAGE, value={"schemaKey": "iglu:a/b/jsonschema/1-0-0", "error": RESOLUTION}
        ),
        False,
    ),
    (
        "adapter_failures",
        "mapping message",
        setting(
            *FIRST_MESSAGE,
            value={"actual": None, "expectedMapping": {"a": "iglu:x"}, "expectation": "known"},
        ),
        True,
    ),
    (
        "adapter_failures",
        "mapping to a number",
        setting(
            *FIRST_MESSAGE,
            value={"actual": None, "expectedMapping": {"a": 1}, "expectation": "known"},
        ),
        False,
    ),
    # Schema violations.
    ("schema_violations", "resolution error", setting(*MESSAGE_ERROR, value=RESOLUTION), True),
    (
        "schema_violations",
        "lookup errors as strings",
        unresolved(setting(*LOOKUP_ENTRY, "errors", value=["not found"])),
        False,
    ),
    (
        "schema_violations",
        "lookup error of unknown kind",
        unresolved(setting(*LOOKUP_ENTRY, "errors", value=[{"error": "InvalidSchema"}])),
        False,
    ),
    (
        "schema_violations",
        "lookup error with a message",
        unresolved(
            setting(*LOOKUP_ENTRY, "errors", value=[{"error": "RepoFailure", "message": "503"}])
        ),
        True,
    ),
    (
        "schema_violations",
        "lookup error message of 257",
        unresolved(
            setting(*LOOKUP_ENTRY, "errors", value=[{"error": "RepoFailure", "message": "x" * 257}])
        ),
        False,
    ),
    (
        "schema_violations",
        "lookup error with more",
        unresolved(setting(*LOOKUP_ENTRY, "errors", value=[{"error": "NotFound", "at": 1}])),
        True,
    ),
    (
        "schema_violations",
        "no lookup errors",
        unresolved(setting(*LOOKUP_ENTRY, "errors", value=[])),
        False,
    ),
    (
        "schema_violations",
        "no lastAttempt",
        unresolved(removing(*LOOKUP_ENTRY, "lastAttempt")),
        False,
    ),
    (
        "schema_violations",
        "no repository",
        unresolved(removing(*LOOKUP_ENTRY, "repository")),
        False,
    ),
    (
        "schema_violations",
        "repository a number",
        unresolved(setting(*LOOKUP_ENTRY, "repository", value=1)),
        True,
    ),
    (
        "schema_violations",
        "misspelt repostitory a number",
        unresolved(setting(*LOOKUP_ENTRY, "repostitory", value=1)),
        False,
    ),
    (
        "schema_violations",
        "negative attempts",
        unresolved(setting(*LOOKUP_ENTRY, "attempts", value=-1)),
        False,
    ),
    (
        "schema_violations",
        "empty lookup history",
        unresolved(setting(*MESSAGE_ERROR, "lookupHistory", value=[])),
        False,
    ),
    (
        "schema_violations",
        "report without targets",
        removing(*MESSAGE_ERROR, "dataReports", 0, "targets"),
        False,
    ),
    (
        "schema_violations",
        "null targets and path",
        setting(
            *MESSAGE_ERROR, "dataReports", 0, value={**DATA_REPORT, "targets": None, "path": None}
        ),
        True,
    ),
    (
        "schema_violations",
        "report with more",
        setting(*MESSAGE_ERROR, "dataReports", 0, "at", value=1),
        False,
    ),
    (
        "schema_violations",
        "superseded",
        setting(*MESSAGE_ERROR, "supersededBy", value="1-0-1"),
        True,
    ),
    (
        "schema_violations",
        "schema issues",
        setting(
            *MESSAGE_ERROR,
            value={"error": "ValidationError", "schemaIssues": [{"path": "$", "message": "bad"}]},
        ),
        True,
    ),
    (
        "schema_violations",
        "iglu error a string (no type upstream)",
        setting(*MESSAGE_ERROR, value="oops"),
        True,
    ),
    (
        "schema_violations",
        "unknown iglu error",
        setting(*MESSAGE_ERROR, value={"error": "Other"}),
        False,
    ),
    (
        "schema_violations",
        "message with nothing (no required upstream)",
        setting(*FIRST_MESSAGE, value={}),
        True,
    ),
    (
        "schema_violations",
        "not self-describing",
        setting(*FIRST_MESSAGE, value={"json": {"schema": "x"}, "error": "INVALID_IGLUURI"}),
        True,
    ),
    (
        "schema_violations",
        "unknown not-self-describing error",
        setting(*FIRST_MESSAGE, value={"json": 1, "error": "BAD"}),
        False,
    ),
    (
        "schema_violations",
        "criterion",
        setting(
            *FIRST_MESSAGE,
            value={
                "schemaKey": "iglu:a/b/jsonschema/1-0-0",
                "schemaCriterion": "iglu:a/b/jsonschema/2-*-*",
            },
        ),
        True,
    ),
    (
        "schema_violations",
        "refr_urlport a string",
        setting("payload", "enriched", "refr_urlport", value="443"),
        False,
    ),
    (
        "schema_violations",
        "se_value a number",
        setting("payload", "enriched", "se_value", value=12.5),
        False,
    ),
    (
        "schema_violations",
        "txn_id an integer",
        setting("payload", "enriched", "txn_id", value=7),
        False,
    ),
    (
        "schema_violations",
        "Furrow's refr_device_tstamp",
        setting("payload", "enriched", "refr_device_tstamp", value="x"),
        False,
    ),
    (
        "schema_violations",
        "unknown column",
        setting("payload", "enriched", "contexts_com_acme_x_1", value=[]),
        False,
    ),
    ("schema_violations", "no payload parts (none required)", setting("payload", value={}), True),
    (
        "schema_violations",
        "raw without loaderName",
        removing("payload", "raw", "loaderName"),
        False,
    ),
    (
        "schema_violations",
        "raw userId not a UUID",
        setting("payload", "raw", "userId", value="x"),
        False,
    ),
    (
        "schema_violations",
        "parameter value of 513",
        setting("payload", "raw", "parameters", 0, "value", value="x" * 513),
        False,
    ),
    (
        "schema_violations",
        "no messages (no minItems)",
        setting("failure", "messages", value=[]),
        True,
    ),
    # Enrichment failures.
    (
        "enrichment_failures",
        "validation: no enrichment",
        setting(*FIRST_MESSAGE, "enrichment", value=None),
        True,
    ),
    (
        "enrichment_failures",
        "enrichment without schemaKey",
        setting(*FIRST_MESSAGE, "enrichment", value={"identifier": "x"}),
        False,
    ),
    (
        "enrichment_failures",
        "error of 513 (the untyped iglu variant takes it)",
        setting(*FIRST_MESSAGE, "message", value={"error": "x" * 513}),
        True,
    ),
    (
        "enrichment_failures",
        "error a number",
        setting(*FIRST_MESSAGE, "message", value={"error": 1, "at": 2}),
        False,
    ),
    (
        "enrichment_failures",
        "expectation message",
        setting(*FIRST_MESSAGE, "message", value={"field": "ip", "expectation": "an IP"}),
        True,
    ),
    (
        "enrichment_failures",
        "iglu message",
        setting(
            *FIRST_MESSAGE,
            "message",
            value={"schemaKey": "iglu:a/b/jsonschema/1-0-0", "error": RESOLUTION},
        ),
        True,
    ),
    (
        "enrichment_failures",
        "failure without timestamp (not required)",
        removing("failure", "timestamp"),
        True,
    ),
    (
        "enrichment_failures",
        "failure with more (not closed)",
        setting("failure", "extra", value=1),
        True,
    ),
    # Loader parsing error.
    ("loader_parsing_error", "not TSV", setting("failure", value={"type": "NotTSV"}), True),
    (
        "loader_parsing_error",
        "field count over 1024",
        setting("failure", value={"type": "FieldNumberMismatch", "fieldCount": 1025}),
        False,
    ),
    (
        "loader_parsing_error",
        "row decoding",
        setting(
            "failure",
            value={
                "type": "RowDecodingError",
                "errors": [
                    {
                        "type": "InvalidValue",
                        "key": "br_cookies",
                        "value": "x",
                        "message": "not a boolean",
                    }
                ],
            },
        ),
        True,
    ),
    (
        "loader_parsing_error",
        "key of 33",
        setting(
            "failure",
            value={
                "type": "RowDecodingError",
                "errors": [{"type": "InvalidValue", "key": "x" * 33, "value": "x", "message": "m"}],
            },
        ),
        False,
    ),
    (
        "loader_parsing_error",
        "no decoding errors",
        setting("failure", value={"type": "RowDecodingError", "errors": []}),
        False,
    ),
    ("loader_parsing_error", "unknown failure", setting("failure", value={"type": "Other"}), False),
    # Loaded events.
    ("loader_runtime_error", "app_id of 256", setting("payload", "app_id", value="x" * 256), False),
    ("loader_runtime_error", "event_id null", setting("payload", "event_id", value=None), False),
    (
        "loader_runtime_error",
        "collector_tstamp not a date-time",
        setting("payload", "collector_tstamp", value="2026-11-23 12:00:00"),
        False,
    ),
    (
        "loader_runtime_error",
        "br_cookies an integer",
        setting("payload", "br_cookies", value=1),
        False,
    ),
    (
        "loader_runtime_error",
        "contexts a string",
        setting("payload", "contexts", value="{}"),
        False,
    ),
    (
        "loader_runtime_error",
        "shredded context",
        setting("payload", "contexts_com_acme_x_1", value=[]),
        False,
    ),
    ("loader_runtime_error", "failure an object", setting("failure", value={}), False),
    (
        "snowflake_error",
        "geo_country of 3",
        setting("enrichedEvent", "geo_country", value="GBR"),
        False,
    ),
    (
        "snowflake_error",
        "both failures in one",
        setting("failures", 0, "deduplicationError", value={"message": "m"}),
        False,
    ),
    (
        "bq_cast_error",
        "schema key of model 0",
        setting("errors", 0, "schemaKey", value="iglu:com.acme/x/jsonschema/0-1-0"),
        False,
    ),
    (
        "bq_cast_error",
        "missing key without value",
        removing("errors", 0, "errors", 0, "missingInValue", "value"),
        False,
    ),
    (
        "rdb_loader_validation_error",
        "schema key of model 0",
        setting("errors", 0, "schema", value="iglu:com.acme/x/jsonschema/0-1-0"),
        True,
    ),
    ("rdb_loader_validation_error", "error without schema", setting("errors", 0, value={}), False),
    (
        "bq_repeater_bigquery_error",
        "entity without data",
        setting("reconstructedEvent", "selfDescribingEntities", value=[{"shreddedType": "x"}]),
        False,
    ),
    # Loader Iglu error.
    (
        "loader_iglu_error",
        "wrong type",
        setting("failure", 0, value={"schemaKey": "k", "value": 1, "expected": "string"}),
        True,
    ),
    (
        "loader_iglu_error",
        "missing key",
        setting("failure", 0, value={"schemaKey": "k", "key": "a", "value": {}}),
        True,
    ),
    (
        "loader_iglu_error",
        "invalid schema",
        setting("failure", 0, value={"schemaKey": "k", "message": "m"}),
        True,
    ),
    (
        "loader_iglu_error",
        "list not found",
        setting(
            "failure",
            0,
            value={"schemaCriterion": "iglu:a/b/jsonschema/1-*-*", "error": RESOLUTION},
        ),
        True,
    ),
    (
        "loader_iglu_error",
        "list without error",
        setting("failure", 0, value={"schemaCriterion": "c"}),
        False,
    ),
    ("loader_iglu_error", "failure an object", setting("failure", value={}), False),
    # The others.
    (
        "loader_recovery_error",
        "parsing error",
        setting("failure", "error", value={"message": "m", "location": ["a"]}),
        True,
    ),
    (
        "loader_recovery_error",
        "runtime error without reason",
        setting("failure", "error", value={"message": "m", "location": None}),
        False,
    ),
    ("loader_recovery_error", "no error", setting("failure", value={}), False),
    (
        "recovery_error",
        "schema not a bad row",
        setting("payload", "schema", value="iglu:com.acme/x/jsonschema/1-0-0"),
        False,
    ),
    (
        "recovery_error",
        "generic error (not recoverable)",
        setting("payload", "schema", value=badrows.GENERIC_ERROR),
        False,
    ),
    (
        "recovery_error",
        "original without processor",
        removing("payload", "data", "processor"),
        False,
    ),
    (
        "recovery_error",
        "failure without error",
        setting("failure", value={"configName": None}),
        False,
    ),
    (
        "relay_failure",
        "both event shapes",
        setting("payload", "eventStruct", value={"v_collector": "c", "v_etl": "e"}),
        False,
    ),
    (
        "relay_failure",
        "event columns",
        setting(
            "payload",
            value={
                "eventStruct": {
                    "v_collector": "c",
                    "v_etl": "e",
                    "txn_id": "7",
                    "dvce_ismobile": "1",
                }
            },
        ),
        True,
    ),
    (
        "relay_failure",
        "v_etl null",
        setting("payload", value={"eventStruct": {"v_etl": None}}),
        False,
    ),
    (
        "relay_failure",
        "event with more (not closed)",
        setting("payload", value={"eventStruct": {"extra": 1}}),
        True,
    ),
    ("relay_failure", "message without text", setting("failure", "message", value={}), False),
    (
        "relay_failure",
        "failure without timestamp (not required)",
        setting("failure", value={}),
        True,
    ),
    (
        "event_forwarding_error",
        "forwarder without name",
        setting("forwarder", value={"id": ""}),
        False,
    ),
    ("event_forwarding_error", "no forwarder (optional)", removing("forwarder"), True),
    (
        "event_forwarding_error",
        "error code null",
        setting("failure", "errorCode", value=None),
        True,
    ),
    ("bq_repeater_pubsub_error", "no error", removing("error"), False),
    (
        "bq_repeater_parsing_error",
        "location a string",
        setting("failure", "location", value="event_id"),
        False,
    ),
    ("rdb_loader_shredding_error", "errors of objects", setting("errors", value=[{}]), False),
    ("rdb_loader_deduplication_error", "error an object", setting("error", value={}), False),
    # Earlier versions.
    ("schema_violations@2-0-0", "as built", None, True),
    (
        "schema_violations@2-0-0",
        "superseded (not yet)",
        setting(*MESSAGE_ERROR, "supersededBy", value="1-0-1"),
        False,
    ),
    (
        "schema_violations@2-0-0",
        "repository a number",
        unresolved(setting(*LOOKUP_ENTRY, "repository", value=1)),
        True,
    ),
    ("schema_violations@1-0-0", "parameters as pairs (an object then)", None, False),
    (
        "schema_violations@1-0-0",
        "parameters as an object",
        setting("payload", "raw", "parameters", value={"e": "ue"}),
        True,
    ),
    (
        "schema_violations@1-0-0",
        "repository a number (typed then)",
        unresolved(setting(*LOOKUP_ENTRY, "repository", value=1)),
        False,
    ),
    (
        "schema_violations@1-0-0",
        "v_collector null",
        setting("payload", "enriched", "v_collector", value=None),
        False,
    ),
    (
        "schema_violations@2-0-1",
        "v_collector null",
        setting("payload", "enriched", "v_collector", value=None),
        True,
    ),
    ("enrichment_failures@2-0-0", "as built", None, True),
    ("enrichment_failures@1-0-0", "parameters as pairs (an object then)", None, False),
    (
        "enrichment_failures@1-0-0",
        "parameters as an object",
        setting("payload", "raw", "parameters", value={}),
        True,
    ),
    ("tracker_protocol_violations@1-0-0", "as built", None, True),
    (
        "tracker_protocol_violations@1-0-0",
        "superseded (not yet)",
        setting(
            *FIRST_MESSAGE,
            value={"schemaKey": "k", "error": {**VALIDATION, "supersededBy": "1-0-1"}},
        ),
        False,
    ),
    (
        "tracker_protocol_violations",
        "superseded",
        setting(
            *FIRST_MESSAGE,
            value={"schemaKey": "k", "error": {**VALIDATION, "supersededBy": "1-0-1"}},
        ),
        True,
    ),
    ("loader_iglu_error@2-0-0", "as built", None, True),
    (
        "loader_iglu_error@2-0-0",
        "superseded (not yet)",
        setting("failure", 0, "error", value={**VALIDATION, "supersededBy": "1-0-1"}),
        False,
    ),
    ("loader_iglu_error@1-0-0", "the 2-0-1 shape", None, False),
    (
        "loader_iglu_error@1-0-0",
        "errors and event",
        replaced(
            {
                "errors": [{"schema": "iglu:com.acme/x/jsonschema/1-0-0", "error": RESOLUTION}],
                "event": LOADED,
            }
        ),
        True,
    ),
    (
        "loader_iglu_error@1-0-0",
        "lookup with more (closed then)",
        replaced(
            {
                "errors": [
                    {
                        "schema": "iglu:com.acme/x/jsonschema/1-0-0",
                        "error": {**RESOLUTION, "lookupHistory": [{**LOOKUP, "at": 1}]},
                    }
                ],
                "event": LOADED,
            }
        ),
        False,
    ),
    (
        "loader_iglu_error@1-0-0",
        "null targets (an array then)",
        replaced(
            {
                "errors": [
                    {
                        "schema": "iglu:com.acme/x/jsonschema/1-0-0",
                        "error": {**VALIDATION, "dataReports": [{**DATA_REPORT, "targets": None}]},
                    }
                ],
                "event": LOADED,
            }
        ),
        False,
    ),
    (
        "loader_iglu_error@1-0-0",
        "schema of model 0",
        replaced(
            {
                "errors": [{"schema": "iglu:com.acme/x/jsonschema/0-1-0", "error": RESOLUTION}],
                "event": LOADED,
            }
        ),
        False,
    ),
    ("loader_parsing_error@1-0-0", "the 2-0-0 shape", None, False),
    (
        "loader_parsing_error@1-0-0",
        "errors as strings",
        replaced({"payload": "x", "errors": ["not TSV"], "processor": PROCESSOR}),
        True,
    ),
    ("loader_runtime_error@1-0-0", "the 1-0-1 shape", None, False),
    (
        "loader_runtime_error@1-0-0",
        "event and error",
        replaced({"event": LOADED, "error": "refused"}),
        True,
    ),
    ("event_forwarding_error@1-0-0", "a forwarder (not yet)", None, False),
    ("event_forwarding_error@1-0-0", "no forwarder", removing("forwarder"), True),
    ("recovery_error@1-0-0", "size violation", None, True),
    (
        "recovery_error@1-0-0",
        "schema violations 2-0-1 (not yet)",
        setting("payload", "schema", value=badrows.SCHEMA_VIOLATIONS),
        False,
    ),
    (
        "recovery_error",
        "schema violations 2-0-1",
        setting("payload", "schema", value=badrows.SCHEMA_VIOLATIONS),
        True,
    ),
]


@pytest.fixture(scope="module")
def resolver() -> Resolver:
    return Resolver([DirectoryRepository(RepositorySettings(name="built in", path=BUILTIN))])


# Earlier versions Iglu Central still holds.
EARLIER = {
    ("enrichment_failures", "1-0-0"),
    ("enrichment_failures", "2-0-0"),
    ("event_forwarding_error", "1-0-0"),
    ("loader_iglu_error", "1-0-0"),
    ("loader_iglu_error", "2-0-0"),
    ("loader_parsing_error", "1-0-0"),
    ("loader_runtime_error", "1-0-0"),
    ("recovery_error", "1-0-0"),
    ("schema_violations", "1-0-0"),
    ("schema_violations", "2-0-0"),
    ("tracker_protocol_violations", "1-0-0"),
}


def test_every_bad_row_schema_of_iglu_central_is_built_in() -> None:
    directory = BUILTIN / badrows.VENDOR
    found = {(path.parent.parent.name, path.name) for path in directory.glob("*/jsonschema/*-*-*")}
    assert found == set(TYPES.items()) | EARLIER


@pytest.mark.parametrize(
    ("bad_type", "change", "valid"),
    [pytest.param(t, c, v, id=f"{t}: {what}") for t, what, c, v in CASES],
)
def test_verdicts_equal_iglu_centrals(
    resolver: Resolver, bad_type: str, change: Change | None, valid: bool
) -> None:
    bad_type, _, version = bad_type.partition("@")
    instance = row(bad_type)
    if change is not None:
        change(instance)
    uri = f"iglu:{badrows.VENDOR}/{bad_type}/jsonschema/{version or TYPES[bad_type]}"
    issues = resolver.validate({"schema": uri, "data": instance})
    assert (issues == []) is valid, issues
