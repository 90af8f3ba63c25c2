"""Where each Furrow service answers and which consumer groups it runs, from the same
configuration the services read: for `make run`'s table and its health checks, and the
console's pipeline view."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from iglu_registry.config import RegistryConfig
from libs.config import load_config, section_given
from services.archive.config import ArchiveConfig
from services.collector.config import CollectorConfig
from services.console.config import ConsoleConfig
from services.enrich.config import EnrichConfig
from services.forward.config import ForwardConfig
from services.log_listener.config import LogListenerConfig
from services.sinks.config import SINK_KINDS, SinkKind, load_sink_config, source_topic


@dataclass(frozen=True)
class Endpoint:
    component: str
    listens: str
    health_url: str


def endpoints(config_path: Path | None = None) -> list[Endpoint]:
    """Every service's address and health URL, from the same configuration the services read."""
    registry = load_config(RegistryConfig, "registry", path=config_path)
    collector = load_config(CollectorConfig, "collector", path=config_path)
    enrich = load_config(EnrichConfig, "enrich", path=config_path)
    listener = load_config(LogListenerConfig, "logs", path=config_path)
    found = [
        Endpoint(
            "registry",
            f"http://{registry.host}:{registry.port}/api",
            f"http://{registry.host}:{registry.port}/api/meta/health",
        ),
        Endpoint(
            "collector",
            f"http://{collector.host}:{collector.port}",
            f"http://{collector.host}:{collector.port}/health",
        ),
        Endpoint(
            "enrich",
            f"raw -> good, bad (metrics :{enrich.health_port})",
            f"http://{enrich.health_host}:{enrich.health_port}/health",
        ),
    ]
    for kind in SINK_KINDS:
        sink = load_sink_config(kind, config_path)
        found.append(
            Endpoint(
                f"sink {kind}",
                f"{kind} -> index {sink.index} (metrics :{sink.health_port})",
                f"http://{sink.health_host}:{sink.health_port}/health",
            )
        )
    forward = load_config(ForwardConfig, "forward", path=config_path)
    if forward.destinations:
        names = ", ".join(destination.name for destination in forward.destinations)
        found.append(
            Endpoint(
                "forward",
                f"good -> {names} (metrics :{forward.health_port})",
                f"http://{forward.health_host}:{forward.health_port}/health",
            )
        )
    if section_given("archive", path=config_path):
        archive = load_config(ArchiveConfig, "archive", path=config_path)
        target = archive.directory or f"s3://{archive.bucket}/{archive.prefix}"
        found.append(
            Endpoint(
                "archive",
                f"{', '.join(archive.kinds)} -> {target} (metrics :{archive.health_port})",
                f"http://{archive.health_host}:{archive.health_port}/health",
            )
        )
    found.append(
        Endpoint(
            "log listener",
            f"tcp://{listener.host}:{listener.port} (metrics :{listener.health_port})",
            f"http://{listener.health_host}:{listener.health_port}/health",
        )
    )
    console = load_config(ConsoleConfig, "console", path=config_path)
    found.append(
        Endpoint(
            "console",
            f"http://{console.host}:{console.port}",
            f"http://{console.host}:{console.port}/health",
        )
    )
    return found


@dataclass(frozen=True)
class ConsumerGroup:
    component: str
    group_id: str
    topic: str
    # Who writes the topic: its end offsets grow with their output.
    topic_written_by: str


# The writers of each sink's topic.
TOPIC_WRITERS: dict[SinkKind, str] = {
    "good": "enrich",
    "bad": "enrich, and any stage's bad rows",
    "logs": "log listener",
}


def consumer_groups(config_path: Path | None = None) -> list[ConsumerGroup]:
    """The pipeline's consumer groups and the topic each reads, from the services' own
    configuration."""
    enrich = load_config(EnrichConfig, "enrich", path=config_path)
    found = [ConsumerGroup("enrich", enrich.group_id, enrich.topics.raw, "collector")]
    for kind in SINK_KINDS:
        sink = load_sink_config(kind, config_path)
        found.append(
            ConsumerGroup(
                f"sink {kind}",
                sink.group_id,
                source_topic(kind, sink.topics),
                TOPIC_WRITERS[kind],
            )
        )
    return found
