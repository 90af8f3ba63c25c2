"""`ip_lookups`: geo and network fields for `user_ipaddress` from MaxMind-format databases.

Parameters as Snowplow's `ip_lookups` 2-0-0: `geo`, `isp`, `domain` and `connectionType`, each
`{"database": file name, "uri": local directory}`. Furrow downloads nothing at run time: `uri`
is a path or a `file:` URI (relative to the enrichments directory); without `uri` the file is
looked for in the enrichments directory, and `GeoLite2-City.mmdb` that is not there is the copy
shipped inside the PyPI package `maxminddb-geolite2` (GeoLite2 City data created by MaxMind,
CC BY-SA, of July 2018: good enough for a demo, too old for production, where a current
GeoLite2/GeoIP2 City or any City database in the same format belongs in `uri`).

Fields: from `geo`, `geo_country` (ISO code), `geo_region` and `geo_region_name` (the most
specific subdivision's ISO code and English name), `geo_city` (English name), `geo_zipcode`,
`geo_latitude`, `geo_longitude` and `geo_timezone`; from `isp`, `ip_isp` and `ip_organization`;
from `domain`, `ip_domain`; from `connectionType`, `ip_netspeed`. Lookups are cached per address
(LRU, `CACHE_SIZE` entries; equal results share one copy, so the cache stays small).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import maxminddb
from maxminddb.reader import Reader

from libs.formats.enriched import EnrichedEvent
from services.enrich.enrichments.config import Parameters, local_file
from services.enrich.model import RawEvent, SelfDescribingJson

NAME = "ip_lookups"
CACHE_SIZE = 20_000
BUNDLED_DATABASE = "GeoLite2-City.mmdb"
BUNDLED_PACKAGE = "_maxminddb_geolite2"  # where maxminddb-geolite2 installs the database

Fields = tuple[tuple[str, str], ...]


class IpLookups:
    """Sets the `geo_*` and `ip_*` fields that the configured databases know for the address."""

    name = NAME
    reads_derived_contexts = False

    def __init__(self, readers: Mapping[str, Reader]) -> None:
        """`readers` maps `geo`, `isp`, `domain`, `connectionType` to open databases."""
        self._lookups: list[tuple[Reader, Callable[[Mapping[str, Any]], Fields]]] = [
            (readers[kind], extract) for kind, extract in _EXTRACTORS.items() if kind in readers
        ]
        self._fields = lru_cache(maxsize=CACHE_SIZE)(self._fields_uncached)
        self._shared: dict[Fields, Fields] = {}

    def apply(self, event: EnrichedEvent, raw: RawEvent) -> list[SelfDescribingJson]:
        address = event.get("user_ipaddress")
        if address:
            event.update(self._fields(address))
        return []

    def _fields_uncached(self, address: str) -> Fields:
        found: Fields = ()
        for reader, extract in self._lookups:
            try:
                record = reader.get(address)
            except ValueError:  # `unknown` (SP-Anonymous), or IPv6 in an IPv4-only database
                continue
            if isinstance(record, dict):
                found += extract(record)
        # Addresses of one network have the same fields: the cache keeps one copy of them.
        if len(self._shared) >= CACHE_SIZE:
            self._shared.clear()
        return self._shared.setdefault(found, found)


def _geo(record: Mapping[str, Any]) -> Fields:
    location = record.get("location") or {}
    subdivisions = record.get("subdivisions") or [{}]
    region = subdivisions[-1]
    return _present(
        ("geo_country", (record.get("country") or {}).get("iso_code")),
        ("geo_region", region.get("iso_code")),
        ("geo_city", _english(record.get("city"))),
        ("geo_zipcode", (record.get("postal") or {}).get("code")),
        ("geo_latitude", _coordinate(location.get("latitude"))),
        ("geo_longitude", _coordinate(location.get("longitude"))),
        ("geo_region_name", _english(region)),
        ("geo_timezone", location.get("time_zone")),
    )


def _isp(record: Mapping[str, Any]) -> Fields:
    return _present(("ip_isp", record.get("isp")), ("ip_organization", record.get("organization")))


def _domain(record: Mapping[str, Any]) -> Fields:
    return _present(("ip_domain", record.get("domain")))


def _connection_type(record: Mapping[str, Any]) -> Fields:
    return _present(("ip_netspeed", record.get("connection_type")))


_EXTRACTORS: dict[str, Callable[[Mapping[str, Any]], Fields]] = {
    "geo": _geo,
    "isp": _isp,
    "domain": _domain,
    "connectionType": _connection_type,
}


def _coordinate(degrees: float | None) -> float | None:
    # Databases hold coordinates as doubles made from 4-decimal values (37.419200000000004):
    # six decimals keep every real digit and drop the noise.
    return None if degrees is None else round(degrees, 6)


def _english(place: Mapping[str, Any] | None) -> str | None:
    names = (place or {}).get("names") or {}
    name: str | None = names.get("en")
    return name


def _present(*pairs: tuple[str, Any]) -> Fields:
    return tuple(
        (field, sys.intern(str(value))) for field, value in pairs if value not in (None, "")
    )


class DatabaseFile(Parameters):
    database: str
    uri: str | None = None


class IpLookupsParameters(Parameters):
    geo: DatabaseFile | None = None
    isp: DatabaseFile | None = None
    domain: DatabaseFile | None = None
    connection_type: DatabaseFile | None = None


def open_database(settings: DatabaseFile, directory: Path) -> Reader:
    """The database a `{database, uri}` pair names, the bundled GeoLite2 City as a fallback."""
    if (
        settings.uri is None
        and settings.database == BUNDLED_DATABASE
        and not (directory / BUNDLED_DATABASE).is_file()
    ):
        bundled = resources.files(BUNDLED_PACKAGE).joinpath(BUNDLED_DATABASE)
        return maxminddb.open_database(str(bundled), maxminddb.MODE_AUTO)
    path = local_file(settings.uri, settings.database, directory)
    try:
        return maxminddb.open_database(str(path), maxminddb.MODE_AUTO)
    except maxminddb.InvalidDatabaseError as error:
        raise ValueError(f"{path} is not a MaxMind database: {error}") from error


def from_config(
    parameters: Mapping[str, Any], extras: Mapping[str, Any], directory: Path
) -> IpLookups:
    settings = IpLookupsParameters.model_validate(parameters)
    files = {
        "geo": settings.geo,
        "isp": settings.isp,
        "domain": settings.domain,
        "connectionType": settings.connection_type,
    }
    readers = {kind: open_database(file, directory) for kind, file in files.items() if file}
    if not readers:
        raise ValueError("no database: configure at least one of geo, isp, domain, connectionType")
    return IpLookups(readers)
