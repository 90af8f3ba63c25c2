import shutil
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl

import orjson
import pytest

from bench.pipeline_mix import (
    BATCH_KINDS,
    GET_SHARE,
    PIXEL_KINDS,
    PIXEL_PATH,
    TP2_PATH,
    TrackerMix,
    TrackerRequest,
    schemas,
)
from libs.formats.collector_payload import CollectorPayload, encode
from libs.iglu_client import DirectoryRepository, RepositorySettings, Resolver
from libs.iglu_repositories import BUILTIN_SCHEMAS
from services.enrich.core import Enricher

NOW_MS = 1_795_000_000_000
CORE_SCHEMAS = BUILTIN_SCHEMAS


def requests(count: int, seed: int = 3) -> list[TrackerRequest]:
    mix = TrackerMix(seed)
    return [mix.request(NOW_MS) for _ in range(count)]


def events_of(request: TrackerRequest) -> list[dict[str, str]]:
    if request.method == "GET":
        return [dict(parse_qsl(request.query))]
    document = orjson.loads(request.body or b"")
    events: list[dict[str, str]] = document["data"]
    return events


def test_the_same_seed_gives_the_same_requests() -> None:
    assert requests(50, seed=9) == requests(50, seed=9)
    assert requests(50, seed=9) != requests(50, seed=10)


def test_each_request_says_how_many_events_it_carries() -> None:
    for request in requests(500):
        assert request.events == len(events_of(request))
        assert request.path == (PIXEL_PATH if request.method == "GET" else TP2_PATH)
        assert (request.body is None) == (request.method == "GET")


def test_invalid_events_are_counted_where_they_are() -> None:
    for request in requests(500):
        invalid = sum(
            "e" not in event or '"total":-1' in event.get("ue_pr", "")
            for event in events_of(request)
        )
        assert request.invalid_events == invalid


def test_the_mix_has_gets_and_batches_of_every_kind_in_its_shares() -> None:
    sample = requests(4000)
    gets = sum(request.method == "GET" for request in sample)
    assert gets / len(sample) == pytest.approx(GET_SHARE, abs=0.03)
    kinds = Counter(event.get("e", "missing") for request in sample for event in events_of(request))
    assert set(kinds) == {"pv", "pp", "se", "ue", "missing"}
    invalid = sum(request.invalid_events for request in sample)
    events = sum(request.events for request in sample)
    invalid_share = (
        dict(BATCH_KINDS)["invalid_data"] * (1 - GET_SHARE)
        + dict(PIXEL_KINDS)["missing_event_type"] * GET_SHARE
    )
    # Batches hold 5.5 events on average, GETs one: events are mostly from batches.
    assert invalid / events == pytest.approx(invalid_share, abs=0.01)


def test_event_ids_are_unique_and_markers_are_lone_valid_page_views() -> None:
    mix = TrackerMix(5)
    ids = [event["eid"] for _ in range(300) for event in events_of(mix.request(NOW_MS))]
    markers = [mix.marker(NOW_MS) for _ in range(100)]
    ids += [marker.marker_id or "" for marker in markers]
    assert len(set(ids)) == len(ids)
    for marker in markers:
        (event,) = events_of(marker)
        assert (marker.method, marker.events, marker.invalid_events) == ("GET", 1, 0)
        assert (event["e"], event["eid"]) == ("pv", marker.marker_id)


def test_schemas_are_self_describing_under_their_paths() -> None:
    for path, schema in schemas().items():
        self_key = schema["self"]
        assert path == "/".join(
            [self_key["vendor"], self_key["name"], self_key["format"], self_key["version"]]
        )
        assert schema["$schema"].endswith("/schema/jsonschema/1-0-0#")


def test_the_enricher_makes_one_good_event_per_valid_event_and_one_bad_row_per_invalid(
    tmp_path: Path,
) -> None:
    shutil.copytree(CORE_SCHEMAS, tmp_path, dirs_exist_ok=True)
    for path, schema in schemas().items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_bytes(orjson.dumps(schema))
    enricher = Enricher(
        Resolver([DirectoryRepository(RepositorySettings(name="t", path=tmp_path))])
    )
    for request in requests(300):
        payload = CollectorPayload(
            ip_address="203.0.113.9",
            timestamp_ms=NOW_MS,
            collector="bench",
            path=request.path,
            querystring=request.query or None,
            body=request.body,
            content_type="application/json" if request.body is not None else None,
        )
        outputs = enricher.enrich(encode(payload), now=datetime.now(UTC))
        assert len(outputs.good) == request.events - request.invalid_events, outputs.bad
        assert len(outputs.bad) == request.invalid_events
