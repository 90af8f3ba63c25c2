import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest

from services.enrich.enrichments import ORDER, EnrichmentConfigError, load_enrichments
from tests.unit.enrichment_inputs import raw_event

EXAMPLES = Path(__file__).resolve().parents[2] / "config" / "enrichments"
SNOWPLOW = "com.snowplowanalytics.snowplow"


def config(
    name: str,
    parameters: dict[str, Any] | None = None,
    *,
    enabled: bool = True,
    schema: str | None = None,
    **data: Any,
) -> dict[str, Any]:
    document: dict[str, Any] = {
        "schema": schema or f"iglu:{SNOWPLOW}/{name}/jsonschema/1-0-0",
        "data": {"name": name, "vendor": SNOWPLOW, "enabled": enabled, **data},
    }
    if parameters is not None:
        document["data"]["parameters"] = parameters
    return document


def write(directory: Path, file_name: str, document: Any) -> Path:
    path = directory / file_name
    path.write_bytes(document if isinstance(document, bytes) else orjson.dumps(document))
    return path


def test_the_example_directory_loads_every_enrichment_but_pii_in_order() -> None:
    names = [enrichment.name for enrichment in load_enrichments(EXAMPLES)]
    assert names == [name for name in ORDER if name != "pii_enrichment_config"]


def test_the_example_pii_configuration_is_valid_once_enabled(tmp_path: Path) -> None:
    document = orjson.loads((EXAMPLES / "pii_enrichment_config.json").read_bytes())
    document["data"]["enabled"] = True
    write(tmp_path, "pii.json", document)
    assert [e.name for e in load_enrichments(tmp_path)] == ["pii_enrichment_config"]


def test_order_is_fixed_whatever_the_file_names(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.json",
        config(
            "pii_enrichment_config",
            {"pii": [], "strategy": {}},
            schema=f"iglu:{SNOWPLOW}.enrichments/pii_enrichment_config/jsonschema/2-0-0",
            emitEvent=False,
        ),
    )
    write(tmp_path, "b.json", config("anon_ip", {"anonOctets": 1}))
    write(
        tmp_path,
        "c.json",
        config(
            "ip_lookups",
            {"geo": {"database": "GeoLite2-City.mmdb"}},
            schema=f"iglu:{SNOWPLOW}/ip_lookups/jsonschema/2-0-0",
        ),
    )
    write(tmp_path, "d.json", config("event_fingerprint_config", {}))
    write(tmp_path, "notes.txt", b"not a configuration")
    assert [e.name for e in load_enrichments(tmp_path)] == [
        "ip_lookups",
        "anon_ip",
        "event_fingerprint_config",
        "pii_enrichment_config",
    ]


def test_disabled_enrichments_are_skipped_even_with_bad_parameters(tmp_path: Path) -> None:
    write(tmp_path, "anon_ip.json", config("anon_ip", {"anonOctets": 9}, enabled=False))
    write(tmp_path, "ua.json", config("ua_parser_config", {}))
    assert [e.name for e in load_enrichments(tmp_path)] == ["ua_parser_config"]


def test_an_empty_directory_gives_no_enrichments(tmp_path: Path) -> None:
    assert load_enrichments(tmp_path) == []


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b"{not json", "not JSON"),
        ([1, 2], "not self-describing"),
        ({"data": {}}, "not self-describing"),
        (
            config(
                "anon_ip",
                {"anonOctets": 1},
                schema="iglu:com.snowplowanalytics.snowplow/anon_ip/avro/1-0-0",
            ),
            "not iglu:vendor/name/jsonschema",
        ),
        (config("anon_ip", {"anonOctets": 1}, schema="anon_ip"), "not iglu:vendor/name/jsonschema"),
        # Unknown schemas: an enrichment Furrow does not have, or another vendor's.
        (config("weather_enrichment_config", {}), "unknown enrichment schema"),
        (
            config("anon_ip", {"anonOctets": 1}, schema="iglu:com.acme/anon_ip/jsonschema/1-0-0"),
            "unknown enrichment schema",
        ),
        (
            config(
                "anon_ip", {"anonOctets": 1}, schema=f"iglu:{SNOWPLOW}/anon_ip/jsonschema/2-0-0"
            ),
            "version 2-0-0 of anon_ip is not supported",
        ),
        (
            {"schema": f"iglu:{SNOWPLOW}/anon_ip/jsonschema/1-0-0", "data": []},
            '"data" must be an object',
        ),
        (
            {
                **config("anon_ip", {"anonOctets": 1}),
                "data": {"name": "ua_parser_config", "vendor": SNOWPLOW, "enabled": True},
            },
            "data.name is 'ua_parser_config'",
        ),
        (config("anon_ip", {"anonOctets": 1}, enabled="yes"), "enabled must be true or false"),  # type: ignore[arg-type]
        (config("anon_ip", {"anonOctets": 1}, emitEvent=False), "unknown keys in data"),
        # Bad parameters.
        (config("anon_ip", {"anonOctets": 5}), "bad parameters for anon_ip"),
        (config("anon_ip", {}), "anonOctets"),
        (config("anon_ip", {"anonOctets": 1, "anonSegment": 2}), "anonSegment"),
        (config("anon_ip", ["x"]), "parameters must be an object"),  # type: ignore[arg-type]
        (config("event_fingerprint_config", {"hashAlgorithm": "CRC32"}), "hashAlgorithm"),
        (config("campaign_attribution", {"mapping": "script", "fields": {}}), "mapping"),
        (
            config(
                "http_header_extractor_config",
                {"headersPattern": "("},
                schema=f"iglu:{SNOWPLOW}.enrichments/http_header_extractor_config/jsonschema/1-0-0",
            ),
            "not a regular expression",
        ),
        (config("cookie_extractor_config", {"cookies": "sp"}), "cookies"),
        (
            config(
                "ua_parser_config",
                {"uri": "https://assets.example.com/ua", "database": "regexes.yaml"},
            ),
            "uri",
        ),
        (
            config(
                "referer_parser",
                {
                    "internalDomains": [],
                    "database": "referers-latest.json",
                    "uri": "https://assets.example.com/referer-parser/",
                },
                schema=f"iglu:{SNOWPLOW}/referer_parser/jsonschema/2-0-0",
            ),
            "downloads nothing",
        ),
        (config("anon_ip", {"anonOctets": 1}, events=[{"eventType": "page_vue"}]), "eventType"),
        (
            config(
                "anon_ip", {"anonOctets": 1}, events=[{"eventType": "unstruct", "schema": "iglu:x"}]
            ),
            "schema criterion",
        ),
    ],
)
def test_unusable_files_are_errors_that_name_the_file(
    tmp_path: Path, document: Any, message: str
) -> None:
    path = write(tmp_path, "broken.json", document)
    with pytest.raises(EnrichmentConfigError, match=message) as raised:
        load_enrichments(tmp_path)
    assert str(path) in str(raised.value)
    assert raised.value.path == path


def test_a_second_file_for_the_same_enrichment_is_an_error(tmp_path: Path) -> None:
    write(tmp_path, "a.json", config("anon_ip", {"anonOctets": 1}))
    write(tmp_path, "b.json", config("anon_ip", {"anonOctets": 2}))
    with pytest.raises(EnrichmentConfigError, match="configured a second time"):
        load_enrichments(tmp_path)


def test_a_missing_directory_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(EnrichmentConfigError, match="not a directory"):
        load_enrichments(tmp_path / "missing")


@pytest.mark.parametrize(
    ("event", "anonymised"),
    [
        ({"event": "page_view"}, True),
        ({"event": "struct"}, False),
        (
            {
                "event": "unstruct",
                "event_vendor": "com.acme",
                "event_name": "signup",
                "event_format": "jsonschema",
                "event_version": "1-0-3",
            },
            True,
        ),
        (
            {
                "event": "unstruct",
                "event_vendor": "com.acme",
                "event_name": "signup",
                "event_format": "jsonschema",
                "event_version": "2-0-0",
            },
            False,
        ),
        (
            {
                "event": "unstruct",
                "event_vendor": "com.acme",
                "event_name": "login",
                "event_format": "jsonschema",
                "event_version": "1-0-0",
            },
            False,
        ),
        ({}, False),
    ],
)
def test_the_events_list_selects_the_events_enriched(
    tmp_path: Path, event: dict[str, str], anonymised: bool
) -> None:
    events = [
        {"eventType": "page_view"},
        {"eventType": "unstruct", "schema": "iglu:com.acme/signup/jsonschema/1-*-*"},
    ]
    write(tmp_path, "anon_ip.json", config("anon_ip", {"anonOctets": 1}, events=events))
    [enrichment] = load_enrichments(tmp_path)
    assert enrichment.name == "anon_ip"
    enriched = {**event, "user_ipaddress": "203.0.113.7"}
    enrichment.apply(enriched, raw_event())
    assert enriched["user_ipaddress"] == ("203.0.113.x" if anonymised else "203.0.113.7")


def test_relative_uris_are_read_from_the_enrichments_directory(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "refs.json").write_text('{"social": {"Acme": {"domains": ["acme.test"]}}}')
    write(
        tmp_path,
        "referer.json",
        config(
            "referer_parser",
            {"internalDomains": [], "database": "refs.json", "uri": "data"},
            schema=f"iglu:{SNOWPLOW}/referer_parser/jsonschema/2-0-0",
        ),
    )
    [enrichment] = load_enrichments(tmp_path)
    event = {"page_referrer": "https://acme.test/", "page_url": "https://shop.example.com/"}
    enrichment.apply(event, raw_event())
    assert (event["refr_medium"], event["refr_source"]) == ("social", "Acme")


def test_snowplows_own_example_files_load_unchanged(tmp_path: Path) -> None:
    # As Snowplow's documentation shows them (local database files aside).
    shutil.copy(EXAMPLES / "anon_ip.json", tmp_path)
    write(
        tmp_path,
        "campaign.json",
        config(
            "campaign_attribution",
            {
                "mapping": "static",
                "fields": {
                    "mktMedium": ["utm_medium"],
                    "mktSource": ["utm_source"],
                    "mktTerm": ["utm_term"],
                    "mktContent": ["utm_content"],
                    "mktCampaign": ["utm_campaign"],
                },
            },
            schema=f"iglu:{SNOWPLOW}/campaign_attribution/jsonschema/1-0-1",
        ),
    )
    write(
        tmp_path,
        "fingerprint.json",
        config(
            "event_fingerprint_config",
            {"excludeParameters": ["cv", "eid", "nuid", "stm"], "hashAlgorithm": "MD5"},
        ),
    )
    write(tmp_path, "ua.json", config("ua_parser_config", {}))
    write(tmp_path, "cookies.json", config("cookie_extractor_config", {"cookies": ["sp"]}))
    write(
        tmp_path, "referer.json", config("referer_parser", {"internalDomains": ["www.example.com"]})
    )
    assert len(load_enrichments(tmp_path)) == 6
