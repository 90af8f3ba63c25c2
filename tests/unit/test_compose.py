"""compose.yaml cannot be run here (no Docker engine), so its shape is checked instead."""

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
