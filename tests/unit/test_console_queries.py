"""The console's parameters and query bodies: what is refused with which reason, and that a
value given by a user only ever lands in a query as data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from libs.formats.iglu import SchemaKey
from services.console import queries
from services.console.lag import partition_lags
from services.console.micro_store import bad_event, bad_query, good_event, good_query
from services.console.queries import EventFilters, ParameterError, TimeRange
from services.micro.shapes import BadFilters, FilterError, GoodFilters

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
BADROWS = "iglu:com.snowplowanalytics.snowplow.badrows"
INJECTIONS = [
    '"} OR 1=1',
    '{"match_all": {}}',
    "*:*",
    "a\\\" || doc['x'].value",
    "ctx._source.clear()",
    "</script><script>alert(1)</script>",
]


@pytest.mark.parametrize(
    ("params", "known", "expected"),
    [
        ([], ["a"], {}),
        ([("a", "1")], ["a", "b"], {"a": "1"}),
        ([("a", "")], ["a"], {}),
    ],
)
def test_only_reads_known_parameters(
    params: list[tuple[str, str]], known: list[str], expected: dict[str, str]
) -> None:
    assert queries.only(params, known) == expected


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ([("b", "1")], "unknown parameter 'b'; this page takes a"),
        ([("a", "1"), ("a", "2")], "given more than once"),
    ],
)
def test_only_refuses(params: list[tuple[str, str]], reason: str) -> None:
    with pytest.raises(ParameterError, match=reason):
        queries.only(params, ["a"])


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, TimeRange(NOW - timedelta(hours=1), NOW)),
        ({"last": "15m"}, TimeRange(NOW - timedelta(minutes=15), NOW)),
        ({"last": "7d"}, TimeRange(NOW - timedelta(days=7), NOW)),
        (
            {"from": "2026-12-03T10:00:00Z", "to": "2026-12-03T11:00:00+00:00"},
            TimeRange(datetime(2026, 12, 3, 10, tzinfo=UTC), datetime(2026, 12, 3, 11, tzinfo=UTC)),
        ),
        (
            {"from": "2026-12-03T10:00:00"},
            TimeRange(datetime(2026, 12, 3, 10, tzinfo=UTC), NOW),
        ),
        (
            {"to": "2026-12-03T11:00:00Z"},
            TimeRange(datetime(2026, 12, 3, 10, tzinfo=UTC), datetime(2026, 12, 3, 11, tzinfo=UTC)),
        ),
    ],
)
def test_time_range(params: dict[str, str], expected: TimeRange) -> None:
    assert queries.time_range(params, NOW) == expected


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"last": "15"}, "last must be a whole number and one of s, m, h, d"),
        ({"last": "m"}, "last must be a whole number"),
        ({"last": "1.5h"}, "last must be a whole number"),
        ({"last": "0m"}, "last must be more than 0"),
        ({"last": "-5m"}, "last must be a whole number"),
        ({"last": "1h", "from": "2026-12-03T10:00:00Z"}, "not both"),
        ({"from": "yesterday"}, "from must be an ISO 8601 time"),
        ({"to": "2026-13-03"}, "to must be an ISO 8601 time"),
        ({"from": "2026-12-03T11:00:00Z", "to": "2026-12-03T10:00:00Z"}, "from must be before to"),
        ({"from": "2026-12-03T11:00:00Z", "to": "2026-12-03T11:00:00Z"}, "from must be before to"),
    ],
)
def test_malformed_ranges_are_refused(params: dict[str, str], reason: str) -> None:
    with pytest.raises(ParameterError, match=reason):
        queries.time_range(params, NOW)


@pytest.mark.parametrize(
    ("text", "reason"),
    [("0", "size must be"), ("501", "size must be"), ("ten", "size must be"), ("²", "size must")],
)
def test_page_size_refuses(text: str, reason: str) -> None:
    with pytest.raises(ParameterError, match=reason):
        queries.page_size({"size": text})


@pytest.mark.parametrize(
    ("span", "width"),
    [
        (timedelta(minutes=15), "1m"),
        (timedelta(hours=6), "1m"),
        (timedelta(hours=7), "5m"),
        (timedelta(days=1), "5m"),
        (timedelta(days=7), "1h"),
        (timedelta(days=365), "1d"),
    ],
)
def test_histogram_width(span: timedelta, width: str) -> None:
    assert queries.histogram_width(span) == width


def test_a_schema_filter_must_be_an_iglu_uri() -> None:
    with pytest.raises(ParameterError, match="schema must be an Iglu URI"):
        queries.event_filters({"schema": "com.acme/checkout"})


@pytest.mark.parametrize(
    ("kind", "filters", "clauses"),
    [
        ("good", EventFilters(), []),
        ("good", EventFilters({"app_id": "shop"}), [{"term": {"app_id": "shop"}}]),
        (
            "bad",
            EventFilters({"app_id": "shop", "platform": "web"}),
            [
                {"term": {"data.payload.enriched.app_id": "shop"}},
                {"term": {"data.payload.enriched.platform": "web"}},
            ],
        ),
        (
            "bad",
            EventFilters(schema="iglu:com.acme/checkout/jsonschema/1-0-0"),
            [
                {
                    "term": {
                        "data.failure.messages.schemaKey": "iglu:com.acme/checkout/jsonschema/1-0-0"
                    }
                }
            ],
        ),
        (
            "good",
            EventFilters(text="alice"),
            [{"multi_match": {"query": "alice", "fields": ["*"], "lenient": True}}],
        ),
    ],
)
def test_filter_clauses(
    kind: queries.Kind, filters: EventFilters, clauses: list[dict[str, Any]]
) -> None:
    assert queries.filter_clauses(kind, filters) == clauses


def test_a_schema_matches_the_event_or_any_entity_of_its_model() -> None:
    [clause] = queries.filter_clauses(
        "good", EventFilters(schema="iglu:com.acme/user-profile/jsonschema/2-1-0")
    )
    should = clause["bool"]["should"]
    assert should[0]["bool"]["filter"] == [
        {"term": {"event_vendor": "com.acme"}},
        {"term": {"event_name": "user-profile"}},
        {"term": {"event_version": "2-1-0"}},
    ]
    assert should[1] == {"exists": {"field": "contexts_com_acme_user_profile_2"}}
    assert should[2] == {"exists": {"field": "unstruct_event_com_acme_user_profile_2"}}


@pytest.mark.parametrize("value", INJECTIONS)
@pytest.mark.parametrize("kind", queries.KINDS)
def test_a_filter_value_is_only_ever_a_term_or_match_value(kind: queries.Kind, value: str) -> None:
    params = {name: value for name in queries.EVENT_FILTERS if name != "schema"}
    span = TimeRange(NOW - timedelta(hours=1), NOW)
    body = queries.events_search(kind, span, queries.event_filters(params), 10, "1m")
    places = list(_places_of(body, value))
    assert places, "the value went missing"
    assert all(place[-1] in ("query",) or place[-2] == "term" for place in places), places
    assert "script" not in _keys(body)


def _keys(tree: Any) -> set[str]:
    if isinstance(tree, dict):
        return set(tree).union(*(_keys(child) for child in tree.values()))
    if isinstance(tree, list):
        return set().union(*(_keys(child) for child in tree))
    return set()


def _places_of(tree: Any, value: str, path: tuple[str, ...] = ()) -> Any:
    if tree == value:
        yield path
    elif isinstance(tree, dict):
        for key, child in tree.items():
            assert value not in key, f"{value!r} spliced into the key {key!r}"
            yield from _places_of(child, value, (*path, key))
    elif isinstance(tree, list):
        for child in tree:
            yield from _places_of(child, value, path)
    elif isinstance(tree, str):
        assert value not in tree, f"{value!r} spliced into {tree!r}"


def test_lookup_takes_the_event_id_as_term_values_only() -> None:
    searches = queries.lookup_searches(INJECTIONS[0])
    assert searches["good"]["query"] == {"term": {"event_id": INJECTIONS[0]}}
    assert all(
        list(clause["term"].values()) == [INJECTIONS[0]]
        for clause in searches["bad"]["query"]["bool"]["should"]
    )


@pytest.mark.parametrize(
    ("by", "bucket", "reason"),
    [
        ("user", "5m", "by must be one of event_name, app_id, schema"),
        ("event_name", "5", "bucket must be a whole number"),
        ("event_name", "1s", "more than 2000 buckets"),
    ],
)
def test_counts_refuse(by: str, bucket: str, reason: str) -> None:
    with pytest.raises(ParameterError, match=reason):
        queries.counts_search(TimeRange(NOW - timedelta(hours=1), NOW), by, bucket)


def test_counts_read_nested_schema_buckets() -> None:
    version = {"buckets": [{"key": "1-0-0", "doc_count": 3}]}
    form = {"buckets": [{"key": "jsonschema", "doc_count": 3, "values": version}]}
    name = {"buckets": [{"key": "checkout", "doc_count": 3, "values": form}]}
    vendor = {"buckets": [{"key": "com.acme", "doc_count": 3, "values": name}]}
    aggregations = {
        "times": {"buckets": [{"key_as_string": "2026-12-03T11:00:00.000Z", "values": vendor}]}
    }
    assert queries.counts(aggregations, "schema") == [
        {
            "start": "2026-12-03T11:00:00.000Z",
            "counts": {"iglu:com.acme/checkout/jsonschema/1-0-0": 3},
        }
    ]


def _message_buckets(position: int, key: str, count: int) -> dict[str, Any]:
    buckets: dict[str, Any] = {
        f"message_{n}": {"buckets": []} for n in range(len(queries.MESSAGE_FIELDS))
    }
    buckets[f"message_{position}"] = {
        "buckets": [
            {
                "key": key,
                "doc_count": count,
                "first": {"value_as_string": "2026-12-03T10:00:00.000Z"},
                "last": {"value_as_string": "2026-12-03T11:00:00.000Z"},
                "examples": {"hits": {"hits": [{"_source": {"n": 1}}]}},
                "over_time": {"buckets": [{"doc_count": 0}, {"doc_count": count}]},
            }
        ]
    }
    return buckets


def test_bad_groups_name_each_by_the_first_field_its_rows_have() -> None:
    checkout = {
        "key": "iglu:com.acme/checkout/jsonschema/1-0-0",
        **_message_buckets(0, "$.total", 3),
    }
    # The same rows also carry the error's class: not a group of its own.
    checkout["message_1"] = _message_buckets(1, "ValidationError", 3)["message_1"]
    protocol = {"key": "", **_message_buckets(2, "eid", 1)}
    aggregations = {
        "types": {
            "buckets": [
                {"key": "schema_violations", "schemas": {"buckets": [checkout]}},
                {"key": "tracker_protocol_violations", "schemas": {"buckets": [protocol]}},
            ]
        }
    }
    groups = queries.bad_groups(aggregations)
    assert [(g.failure_type, g.schema, g.message, g.count) for g in groups] == [
        ("schema_violations", "iglu:com.acme/checkout/jsonschema/1-0-0", "at $.total", 3),
        ("tracker_protocol_violations", "", "parameter eid", 1),
    ]
    assert groups[0].examples == [{"n": 1}]
    assert groups[0].sparkline == [0, 3]


@pytest.mark.parametrize(
    ("filters", "clauses"),
    [
        (GoodFilters(), []),
        (GoodFilters(event_type="page_view"), [{"term": {"event": "page_view"}}]),
        (
            GoodFilters(schema="iglu:com.acme/checkout/jsonschema/1-0-0"),
            [
                {"term": {"event_vendor": "com.acme"}},
                {"term": {"event_name": "checkout"}},
                {"term": {"event_format": "jsonschema"}},
                {"term": {"event_version": "1-0-0"}},
            ],
        ),
        (
            GoodFilters(contexts=("iglu:com.acme/user/jsonschema/1-0-0",)),
            [{"exists": {"field": "contexts_com_acme_user_1"}}],
        ),
    ],
)
def test_micro_good_filters_on_elasticsearch(
    filters: GoodFilters, clauses: list[dict[str, Any]]
) -> None:
    assert good_query(filters) == {"bool": {"filter": clauses}}


def test_micro_filters_that_are_no_iglu_uris_are_refused() -> None:
    with pytest.raises(FilterError, match="schema must hold Iglu URIs"):
        good_query(GoodFilters(schema="checkout"))
    with pytest.raises(FilterError, match="contexts must hold Iglu URIs"):
        good_query(GoodFilters(contexts=("iglu:x",)))


def test_micro_bad_filters_look_where_each_row_type_keeps_the_request() -> None:
    [clause] = bad_query(BadFilters(vendor="com.acme"))["bool"]["filter"]
    assert clause["bool"]["should"] == [
        {"term": {"data.payload.vendor": "com.acme"}},
        {"term": {"data.payload.raw.vendor": "com.acme"}},
    ]


def test_micro_shapes_of_documents() -> None:
    document = {
        "event": "unstruct",
        "event_vendor": "com.acme",
        "event_name": "checkout",
        "event_format": "jsonschema",
        "event_version": "1-0-0",
        "contexts_com_acme_user_1": [{"plan": "pro"}],
    }
    assert good_event(document) == {
        "event": document,
        "rawEvent": None,
        "eventType": "unstruct",
        "schema": "iglu:com.acme/checkout/jsonschema/1-0-0",
        "contexts": ["contexts_com_acme_user_1"],
    }
    row = {
        "schema": f"{BADROWS}/tracker_protocol_violations/jsonschema/1-0-1",
        "failure_type": "tracker_protocol_violations",
        "data": {
            "failure": {"messages": [{"field": "eid", "expectation": "a UUID"}]},
            "payload": {"vendor": "com.snowplowanalytics.snowplow", "version": "tp1"},
        },
    }
    shaped = bad_event(row)
    assert shaped["collectorPayload"] == row["data"]["payload"]
    assert shaped["rawEvent"] is None
    assert shaped["errors"][0] == "tracker_protocol_violations: eid: a UUID"


def test_the_tail_looks_back_for_documents_searchable_late() -> None:
    body = queries.tail_search("bad", NOW, EventFilters({"app_id": "shop"}))
    assert body["query"]["bool"]["filter"] == [
        {"range": {"@timestamp": {"gte": "2026-12-03T11:59:30.000Z"}}},
        {"term": {"data.payload.enriched.app_id": "shop"}},
    ]
    assert body["sort"] == [{"@timestamp": {"order": "desc"}}]


def test_schema_rows_join_sources_versions_and_counts() -> None:
    checkout_1 = SchemaKey.of("com.acme", "checkout", "jsonschema", "1-0-0")
    checkout_2 = SchemaKey.of("com.acme", "checkout", "jsonschema", "1-0-1")
    rows = queries.schema_rows(
        {"built-in": [checkout_2], "registry": [checkout_1, checkout_2]},
        {checkout_1.uri: 4, "iglu:com.other/thing/jsonschema/2-0-0": 1},
        {checkout_2.uri: 2, "not a uri": 7},
    )
    assert [(row.vendor, row.name) for row in rows] == [
        ("com.acme", "checkout"),
        ("com.other", "thing"),
    ]
    assert rows[0].versions == [
        {"version": "1-0-0", "uri": checkout_1.uri, "sources": ["registry"], "good": 4, "bad": 0},
        {
            "version": "1-0-1",
            "uri": checkout_2.uri,
            "sources": ["built-in", "registry"],
            "good": 0,
            "bad": 2,
        },
    ]
    assert rows[1].versions[0]["sources"] == ["events"]


def test_schema_counts_by_uri() -> None:
    vendor = {
        "buckets": [
            {
                "key": "com.acme",
                "values": {
                    "buckets": [
                        {
                            "key": "checkout",
                            "values": {
                                "buckets": [
                                    {
                                        "key": "jsonschema",
                                        "values": {"buckets": [{"key": "1-0-0", "doc_count": 2}]},
                                    }
                                ]
                            },
                        }
                    ]
                },
            }
        ]
    }
    assert queries.schema_counts("good", {"values": vendor}) == {
        "iglu:com.acme/checkout/jsonschema/1-0-0": 2
    }
    bad = {"values": {"buckets": [{"key": "iglu:com.acme/x/jsonschema/1-0-0", "doc_count": 3}]}}
    assert queries.schema_counts("bad", bad) == {"iglu:com.acme/x/jsonschema/1-0-0": 3}


@pytest.mark.parametrize(
    ("failure_type", "schema", "command"),
    [
        (
            "schema_violations",
            "iglu:com.acme/checkout/jsonschema/1-0-0",
            "furrow replay --type schema_violations --schema com.acme/checkout/jsonschema/1-0-0 "
            "--since 2026-12-03T10:00:00.000Z --dry-run",
        ),
        (
            "tracker_protocol_violations",
            "",
            "furrow replay --type tracker_protocol_violations "
            "--since 2026-12-03T10:00:00.000Z --dry-run",
        ),
        ("size_violation", "", None),
        ("loader_parsing_error", "", None),
    ],
)
def test_replay_command_of_a_group(failure_type: str, schema: str, command: str | None) -> None:
    assert queries.replay_command(failure_type, schema, "2026-12-03T10:00:00.000Z") == command


@pytest.mark.parametrize(
    ("params", "clauses"),
    [
        ({}, []),
        ({"level": "ERROR"}, [{"term": {"level": "ERROR"}}]),
        (
            {"logger": "a.B", "service": "shop"},
            [{"term": {"logger_name": "a.B"}}, {"term": {"service": "shop"}}],
        ),
        ({"q": '"} OR *'}, [{"match": {"message": {"query": '"} OR *', "operator": "and"}}}]),
    ],
)
def test_logs_search(params: dict[str, str], clauses: list[dict[str, Any]]) -> None:
    span = TimeRange(NOW - timedelta(hours=1), NOW)
    body = queries.logs_search(span, params, 100)
    assert body["query"]["bool"]["filter"] == [span.as_query(), *clauses]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, []),
        ({"columns": "app_id"}, ["app_id"]),
        (
            {"columns": " app_id , contexts_com_acme_user_1.plan ,"},
            ["app_id", "contexts_com_acme_user_1.plan"],
        ),
    ],
)
def test_columns_read(params: dict[str, str], expected: list[str]) -> None:
    assert queries.columns(params) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (",".join(f"c{n}" for n in range(11)), "at most 10 columns"),
        ("doc['x']", "must be a dotted path"),
        ("a b", "must be a dotted path"),
    ],
)
def test_columns_refuse(text: str, reason: str) -> None:
    with pytest.raises(ParameterError, match=reason):
        queries.columns({"columns": text})


DOCUMENT = {
    "app_id": "shop",
    "se_value": 2.5,
    "contexts_com_acme_user_1": [{"plan": "pro", "seats": 3}, {"plan": "free"}],
    "data": {"failure": {"messages": [{"field": "eid"}]}},
}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("app_id", "shop"),
        ("se_value", "2.5"),
        ("contexts_com_acme_user_1.plan", "pro, free"),
        ("contexts_com_acme_user_1.seats", "3"),
        ("data.failure.messages.field", "eid"),
        ("nothing.here", ""),
        ("app_id.deeper", ""),
    ],
)
def test_value_at(path: str, value: str) -> None:
    assert queries.value_at(DOCUMENT, path) == value


def test_field_paths_reach_entity_fields() -> None:
    assert queries.field_paths([DOCUMENT]) == [
        "app_id",
        "contexts_com_acme_user_1.plan",
        "contexts_com_acme_user_1.seats",
        "data.failure.messages",
        "se_value",
    ]


@pytest.mark.parametrize(
    ("ends", "committed", "lags"),
    [
        ({0: 5, 1: 3}, {0: 2}, [(0, 5, 2, 3), (1, 3, None, 3)]),
        ({0: 5}, {0: 5}, [(0, 5, 5, 0)]),
        ({0: 0}, {0: None}, [(0, 0, None, 0)]),
    ],
)
def test_partition_lags(
    ends: dict[int, int], committed: dict[int, int | None], lags: list[tuple[Any, ...]]
) -> None:
    assert [tuple(row.values()) for row in partition_lags(ends, committed)] == lags
