"""compose.yaml cannot be run here (no Docker engine), so its shape is checked instead, and so
are the Kibana saved objects it imports."""

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from services.cli import parser

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return document


def published_ports(service: dict[str, Any]) -> set[int]:
    return {int(str(mapping).split(":")[0]) for mapping in service.get("ports", [])}


def test_every_service_has_an_image_or_a_build(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        assert "image" in service or "build" in service, name


def test_the_documented_ports_are_published(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert published_ports(services["collector"]) == {8000}
    assert published_ports(services["registry"]) == {8081}
    assert published_ports(services["logs"]) == {9600}
    assert published_ports(services["elasticsearch"]) == {9200}
    assert published_ports(services["kibana"]) == {5601}
    assert published_ports(services["kafka"]) == {9092}


def test_official_images_for_the_infrastructure(compose: dict[str, Any]) -> None:
    images = {name: service.get("image", "") for name, service in compose["services"].items()}
    assert images["kafka"].startswith("apache/kafka:")
    assert images["elasticsearch"].startswith("docker.elastic.co/elasticsearch/elasticsearch:")
    assert images["kibana"].startswith("docker.elastic.co/kibana/kibana:")
    assert images["postgres"].startswith("postgres:")
    assert images["s3proxy"].startswith("andrewgaul/s3proxy:")


def test_the_archive_its_store_and_the_forwarder_run_only_when_asked_for(
    compose: dict[str, Any],
) -> None:
    from devstack import s3

    services = compose["services"]
    for name, service in services.items():
        assert ("profiles" in service) is (name in ("archive", "s3proxy", "forward")), name
    assert services["s3proxy"]["image"].endswith(f"-{s3.VERSION}")
    assert services["archive"]["environment"]["FURROW_ARCHIVE_BUCKET"] in " ".join(
        services["s3proxy"]["entrypoint"]
    )


def test_elasticsearch_and_kibana_versions_match_the_local_stack(compose: dict[str, Any]) -> None:
    from devstack import elasticsearch, kafka

    images = {name: service.get("image", "") for name, service in compose["services"].items()}
    assert images["elasticsearch"].endswith(f":{elasticsearch.VERSION}")
    assert images["kibana"].endswith(f":{elasticsearch.VERSION}")
    assert images["kafka"].endswith(f":{kafka.VERSION}")


def test_furrow_services_run_real_subcommands_from_the_dockerfile(compose: dict[str, Any]) -> None:
    furrow_services = {
        name: service for name, service in compose["services"].items() if "build" in service
    }
    assert set(furrow_services) == {
        "registry",
        "collector",
        "enrich",
        "sink-good",
        "sink-bad",
        "sink-logs",
        "logs",
        "forward",
        "archive",
    }
    for name, service in furrow_services.items():
        assert service["build"]["dockerfile"] == "docker/Dockerfile", name
        assert (ROOT / service["build"]["dockerfile"]).exists()
        parser().parse_args(service["command"])


def test_dockerfile_copies_every_package() -> None:
    dockerfile = (ROOT / "docker/Dockerfile").read_text()
    for package in ("libs", "services", "iglu_registry"):
        assert f"COPY {package} ./{package}" in dockerfile


def test_the_registry_uses_the_compose_postgres_by_url(compose: dict[str, Any]) -> None:
    services = compose["services"]
    postgres = services["postgres"]["environment"]
    url = services["registry"]["environment"]["FURROW_REGISTRY_DATABASE_URL"]
    assert url == (
        f"postgresql://{postgres['POSTGRES_USER']}:{postgres['POSTGRES_PASSWORD']}"
        f"@postgres:5432/{postgres['POSTGRES_DB']}"
    )
    assert "postgres" in services["registry"]["depends_on"]


KIBANA = ROOT / "docker" / "kibana"
# Field types a Kibana terms or date_histogram aggregation can run on.
AGGREGATABLE = {"keyword", "date", "integer", "long", "double", "boolean", "ip"}


@pytest.fixture(scope="module")
def saved_objects() -> dict[str, dict[str, Any]]:
    objects: dict[str, dict[str, Any]] = {}
    for path in sorted(KIBANA.glob("*.ndjson")):
        for line in path.read_text().splitlines():
            saved = json.loads(line)
            assert saved["id"] not in objects, saved["id"]
            objects[saved["id"]] = saved
    return objects


def test_kibana_setup_imports_the_saved_objects_once_kibana_is_up(
    compose: dict[str, Any],
) -> None:
    services = compose["services"]
    assert "healthcheck" in services["kibana"]
    setup = services["kibana-setup"]
    assert setup["image"].startswith("curlimages/curl:")
    assert setup["depends_on"] == {"kibana": {"condition": "service_healthy"}}
    assert setup["volumes"] == ["./docker/kibana:/kibana:ro"]
    script = setup["entrypoint"][-1].replace("/kibana/", "")
    text = (KIBANA / script).read_text()
    assert "/api/saved_objects/_import?overwrite=true" in text
    assert "*.ndjson" in text


def test_data_views_cover_the_three_indices_by_time(
    saved_objects: dict[str, dict[str, Any]],
) -> None:
    data_views = {
        saved["attributes"]["title"]: saved["attributes"]["timeFieldName"]
        for saved in saved_objects.values()
        if saved["type"] == "index-pattern"
    }
    assert data_views == {"good*": "@timestamp", "bad*": "@timestamp", "logs*": "@timestamp"}


def test_every_reference_points_at_an_object_in_the_files(
    saved_objects: dict[str, dict[str, Any]],
) -> None:
    for saved in saved_objects.values():
        for reference in saved["references"]:
            assert reference["id"] in saved_objects, (saved["id"], reference)
            assert saved_objects[reference["id"]]["type"] == reference["type"]


def test_visualizations_aggregate_on_fields_the_sinks_map(
    saved_objects: dict[str, dict[str, Any]],
) -> None:
    from services.sinks.mappings import MAPPINGS

    used = set()
    for saved in saved_objects.values():
        if saved["type"] != "visualization":
            continue
        (reference,) = saved["references"]
        kind = saved_objects[reference["id"]]["attributes"]["title"].removesuffix("*")
        properties = MAPPINGS[kind]()["properties"]
        search = json.loads(saved["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])
        assert search["indexRefName"] == reference["name"]
        vis_state = json.loads(saved["attributes"]["visState"])
        assert vis_state["title"] == saved["attributes"]["title"]
        for aggregation in vis_state["aggs"]:
            field = aggregation["params"].get("field")
            if field is not None:
                assert properties[field]["type"] in AGGREGATABLE, (saved["id"], field)
                used.add((kind, field))
    assert {("good", "event_name"), ("bad", "failure_type"), ("logs", "level")} <= used


def test_the_dashboard_shows_every_visualization(
    saved_objects: dict[str, dict[str, Any]],
) -> None:
    (dashboard,) = [saved for saved in saved_objects.values() if saved["type"] == "dashboard"]
    panels = json.loads(dashboard["attributes"]["panelsJSON"])
    references = {reference["name"]: reference["id"] for reference in dashboard["references"]}
    shown = {references[panel["panelRefName"]] for panel in panels}
    assert shown == {
        id_ for id_, saved in saved_objects.items() if saved["type"] == "visualization"
    }
    titles = {saved_objects[id_]["attributes"]["title"] for id_ in shown}
    assert titles == {
        "Events over time by event type",
        "Top event schemas",
        "Bad rows over time by failure type",
        "Log levels over time",
    }


def test_the_secured_settings_in_comments_are_real_settings() -> None:
    from libs.config import ElasticsearchSettings, KafkaSettings

    models = {"KAFKA": KafkaSettings, "ELASTICSEARCH": ElasticsearchSettings}
    named = re.findall(
        r"# (FURROW_(KAFKA|ELASTICSEARCH)_(\w+)):", (ROOT / "compose.yaml").read_text()
    )
    assert len(named) > 10
    for variable, section, field in named:
        assert field.lower() in models[section].model_fields, variable
