from pathlib import Path
from typing import Any

import pytest
from mmdb_writer import MMDBWriter
from netaddr import IPSet

from services.enrich.enrichments.ip_lookups import IpLookups, from_config
from tests.unit.enrichment_inputs import raw_event

MUNICH = {
    "geo_country": "DE",
    "geo_region": "BY",
    "geo_city": "Munich",
    "geo_zipcode": "80937",
    "geo_latitude": "48.1974",
    "geo_longitude": "11.5721",
    "geo_region_name": "Bavaria",
    "geo_timezone": "Europe/Berlin",
}


@pytest.fixture(scope="module")
def bundled() -> IpLookups:
    return from_config({"geo": {"database": "GeoLite2-City.mmdb"}}, {}, Path("/nonexistent"))


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("92.231.54.234", MUNICH),
        # Only a country is known: its centre, no region or city.
        ("8.8.8.8", {"geo_country": "US", "geo_latitude": "37.751", "geo_longitude": "-97.822"}),
        (
            "2001:4860:4860::8888",
            {
                "geo_country": "US",
                "geo_region": "CA",
                "geo_city": "Mountain View",
                "geo_zipcode": "94043",
                "geo_latitude": "37.4192",
                "geo_longitude": "-122.0574",
                "geo_region_name": "California",
                "geo_timezone": "America/Los_Angeles",
            },
        ),
        ("127.0.0.1", {}),
        ("unknown", {}),
        ("1.2.3.x", {}),
    ],
)
def test_geo_fields_from_the_bundled_geolite2_city(
    bundled: IpLookups, address: str, expected: dict[str, str]
) -> None:
    for _ in range(2):  # the second time from the cache
        event = {"user_ipaddress": address}
        assert bundled.apply(event, raw_event()) == []
        assert event == {"user_ipaddress": address, **expected}


def test_no_address_no_lookup(bundled: IpLookups) -> None:
    event: dict[str, str] = {"event": "page_view"}
    bundled.apply(event, raw_event())
    assert event == {"event": "page_view"}


def write_database(path: Path, database_type: str, records: dict[str, dict[str, Any]]) -> None:
    writer = MMDBWriter(ip_version=6, ipv4_compatible=True, database_type=database_type)
    for network, record in records.items():
        writer.insert_network(IPSet([network]), record)
    writer.to_db_file(str(path))


def test_isp_domain_and_connection_type_databases(tmp_path: Path) -> None:
    write_database(
        tmp_path / "GeoIP2-ISP.mmdb",
        "GeoIP2-ISP",
        {
            "198.51.100.0/24": {
                "isp": "Acme Telecom",
                "organization": "Acme Corp",
                "autonomous_system_number": 64500,
            }
        },
    )
    write_database(
        tmp_path / "GeoIP2-Domain.mmdb",
        "GeoIP2-Domain",
        {"198.51.100.0/24": {"domain": "acme.test"}},
    )
    write_database(
        tmp_path / "GeoIP2-Connection-Type.mmdb",
        "GeoIP2-Connection-Type",
        {"198.51.100.0/25": {"connection_type": "Cable/DSL"}},
    )
    lookups = from_config(
        {
            "isp": {"database": "GeoIP2-ISP.mmdb", "uri": str(tmp_path)},
            "domain": {"database": "GeoIP2-Domain.mmdb", "uri": tmp_path.as_uri()},
            "connectionType": {"database": "GeoIP2-Connection-Type.mmdb"},
        },
        {},
        tmp_path,
    )
    event = {"user_ipaddress": "198.51.100.7"}
    lookups.apply(event, raw_event())
    assert event == {
        "user_ipaddress": "198.51.100.7",
        "ip_isp": "Acme Telecom",
        "ip_organization": "Acme Corp",
        "ip_domain": "acme.test",
        "ip_netspeed": "Cable/DSL",
    }
    event = {"user_ipaddress": "198.51.100.200"}
    lookups.apply(event, raw_event())
    assert "ip_netspeed" not in event and event["ip_domain"] == "acme.test"


def test_a_city_database_in_the_enrichments_directory_wins_over_the_bundled_one(
    tmp_path: Path,
) -> None:
    write_database(
        tmp_path / "GeoLite2-City.mmdb",
        "GeoLite2-City",
        {"92.231.54.0/24": {"country": {"iso_code": "FR"}, "city": {"names": {"en": "Paris"}}}},
    )
    lookups = from_config({"geo": {"database": "GeoLite2-City.mmdb"}}, {}, tmp_path)
    event = {"user_ipaddress": "92.231.54.234"}
    lookups.apply(event, raw_event())
    assert event == {"user_ipaddress": "92.231.54.234", "geo_country": "FR", "geo_city": "Paris"}


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        (
            {"geo": {"database": "GeoLite2-City.mmdb", "uri": "http://assets.example.com/maxmind"}},
            "downloads nothing",
        ),
        ({"geo": {"database": "GeoIP2-City.mmdb"}}, "does not exist"),
        ({"isp": {"database": "not-a-database.mmdb"}}, "not a MaxMind database"),
        ({}, "no database"),
        ({"asn": {"database": "GeoLite2-ASN.mmdb"}}, "asn"),
        ({"geo": {"uri": "/tmp"}}, "database"),
    ],
)
def test_bad_parameters(tmp_path: Path, parameters: dict[str, Any], message: str) -> None:
    (tmp_path / "not-a-database.mmdb").write_bytes(b"hello")
    with pytest.raises(ValueError, match=message):
        from_config(parameters, {}, tmp_path)


def test_an_ipv4_only_database_does_not_stop_the_others(tmp_path: Path) -> None:
    writer = MMDBWriter(ip_version=4, database_type="GeoIP2-Domain")
    writer.insert_network(IPSet(["92.231.54.0/24"]), {"domain": "acme.test"})
    writer.to_db_file(str(tmp_path / "GeoIP2-Domain.mmdb"))
    lookups = from_config(
        {"geo": {"database": "GeoLite2-City.mmdb"}, "domain": {"database": "GeoIP2-Domain.mmdb"}},
        {},
        tmp_path,
    )
    event = {"user_ipaddress": "2001:4860:4860::8888"}
    lookups.apply(event, raw_event())
    assert event["geo_city"] == "Mountain View" and "ip_domain" not in event
    event = {"user_ipaddress": "92.231.54.234"}
    lookups.apply(event, raw_event())
    assert event == {"user_ipaddress": "92.231.54.234", **MUNICH, "ip_domain": "acme.test"}
