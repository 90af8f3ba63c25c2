"""`furrow micro`: the collector and the enricher in one process, with no Kafka and no
Elasticsearch, answering Snowplow Micro's API, for testing tracking in CI, with the console's
pages under `/micro/ui` over the same events."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from starlette.applications import Starlette

from libs.config import load_config
from libs.formats.iglu import SchemaKey
from libs.iglu_client import DirectoryRepository, RepositorySettings, Resolver
from libs.iglu_repositories import BuiltinRepository, resolver_repositories
from libs.log import configure_logging
from services.collector.app import Collector, Receive, Scope, Send, serve
from services.collector.config import CollectorConfig
from services.console.app import Console, Registry
from services.console.app import build_app as console_app
from services.console.memory import MemoryIndex
from services.enrich.core import Enricher
from services.micro.api import UI_PATH, micro_app
from services.micro.config import MicroConfig
from services.micro.sink import EnrichingSink
from services.micro.store import MemoryStore

logger = logging.getLogger(__name__)


def build_resolver(config: MicroConfig) -> Resolver:
    repositories: list[RepositorySettings] = []
    if config.registry_url:
        repositories.append(
            RepositorySettings(
                name="registry", url=config.registry_url, api_key=config.registry_api_key
            )
        )
    if config.schema_dir:
        repositories.append(RepositorySettings(name="schema directory", path=config.schema_dir))
    resolver = Resolver(resolver_repositories(repositories), attempts=1)
    resolver.follow_changes()
    return resolver


def console_sources(config: MicroConfig) -> dict[str, Callable[[], list[SchemaKey]]]:
    """The schemas the console lists besides the registry's: the built-in ones, and the
    schema directory's as it is at each look."""
    listed: dict[str, Callable[[], list[SchemaKey]]] = {"built-in": BuiltinRepository().schema_keys}
    if config.schema_dir:
        directory = RepositorySettings(name="schema directory", path=config.schema_dir)
        listed["schema directory"] = DirectoryRepository(directory).schema_keys
    return listed


class MicroApp:
    """Micro's API under `/micro/` (the console's pages under `/micro/ui`), the collector for
    every other path (and the lifespan)."""

    def __init__(self, collector: Collector, micro: Starlette) -> None:
        self._collector = collector
        self._micro = micro

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and (path == "/micro" or path.startswith("/micro/")):
            await self._micro(scope, receive, send)
        else:
            await self._collector(scope, receive, send)


def build_app(config: MicroConfig, collector_config: CollectorConfig) -> MicroApp:
    resolver = build_resolver(config)
    enrichments = []
    if config.enrichments_dir:
        # Imported only when wanted: their parsers and data take a good part of a start.
        from services.enrich.enrichments import load_enrichments

        enrichments = load_enrichments(config.enrichments_dir)
    documents = MemoryIndex(config.max_events)
    store = MemoryStore(config.max_events, kept_alongside=[documents])
    sink = EnrichingSink(
        Enricher(validator=resolver, enrichments=enrichments),
        store,
        documents,
        collector_config.topics.raw,
    )
    console = Console(
        documents,
        listed=console_sources(config),
        registry=Registry(config.registry_url, config.registry_api_key)
        if config.registry_url
        else None,
        logs=None,
        pipeline=None,
    )
    return MicroApp(
        Collector(collector_config, sink), micro_app(store, resolver.schema, console_app(console))
    )


def run(config_path: Path | None) -> None:
    config = load_config(MicroConfig, "micro", path=config_path)
    configure_logging("micro", config.logging)
    # The collector's own settings (cookie, custom paths, body limit) apply, on Micro's port.
    collector_config = load_config(CollectorConfig, "collector", path=config_path).model_copy(
        update={"host": config.host, "port": config.port}
    )
    app = build_app(config, collector_config)
    url = f"http://{config.host}:{config.port}"
    logger.info("micro listening", extra={"url": f"{url}/micro/all", "console": f"{url}{UI_PATH}"})
    serve(app, collector_config)


if __name__ == "__main__":
    run(None)
