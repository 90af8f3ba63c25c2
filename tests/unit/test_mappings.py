import pytest

from libs.formats.enriched import FIELDS, Kind
from services.sinks.mappings import MAPPINGS, index_name, index_template


@pytest.mark.parametrize("kind", ["good", "bad", "logs"])
def test_a_template_puts_daily_indices_behind_the_alias(kind: str) -> None:
    template = index_template(kind, "shop-events", refresh_interval="5s", total_fields_limit=3000)  # type: ignore[arg-type]
    assert template["index_patterns"] == ["shop-events-2*"]
    assert template["priority"] > 100
    assert template["template"]["aliases"] == {"shop-events": {}}
    settings = template["template"]["settings"]
    assert settings["refresh_interval"] == "5s"
    assert settings["mapping.total_fields.limit"] == 3000
    assert settings["mapping.total_fields.ignore_dynamic_beyond_limit"] is True
    assert index_name("shop-events", "2026.11.23") == "shop-events-2026.11.23"


EXPECTED_TYPES = {
    Kind.STRING: "keyword",
    Kind.INTEGER: "integer",
    Kind.DOUBLE: "double",
    Kind.BOOLEAN: "boolean",
    Kind.TIMESTAMP: "date",
}


@pytest.mark.parametrize(
    ("name", "kind"), [(name, kind) for name, kind in FIELDS if kind in EXPECTED_TYPES]
)
def test_every_atomic_field_of_the_good_index_is_typed(name: str, kind: Kind) -> None:
    properties = MAPPINGS["good"]()["properties"]
    expected = "ip" if name == "user_ipaddress" else EXPECTED_TYPES[kind]
    assert properties[name]["type"] == expected


def test_the_good_index_types_what_the_reader_adds() -> None:
    mappings = MAPPINGS["good"]()
    assert mappings["properties"]["geo_location"] == {"type": "geo_point"}
    assert mappings["properties"]["@timestamp"] == {"type": "date"}
    assert mappings["date_detection"] is False
    paths = {
        tuple(template["path_match"])
        for entry in mappings["dynamic_templates"]
        for template in entry.values()
    }
    assert paths == {("contexts_*", "unstruct_event_*")}


def test_the_json_columns_are_never_mapped_whole() -> None:
    properties = MAPPINGS["good"]()["properties"]
    assert not {"contexts", "derived_contexts", "unstruct_event"} & set(properties)


def test_the_bad_index_indexes_only_what_it_declares() -> None:
    mappings = MAPPINGS["bad"]()
    assert mappings["dynamic"] is False
    data = mappings["properties"]["data"]["properties"]
    assert data["failure"]["type"] == data["payload"]["type"] == "flattened"
    assert data["failure_string"]["type"] == data["payload_string"]["type"] == "text"
    assert mappings["properties"]["failure_type"]["type"] == "keyword"


def test_the_logs_index_types_logbacks_fields() -> None:
    properties = MAPPINGS["logs"]()["properties"]
    assert {name: properties[name]["type"] for name in ("@timestamp", "level", "message")} == {
        "@timestamp": "date",
        "level": "keyword",
        "message": "text",
    }
