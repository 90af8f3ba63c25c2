"""`furrow micro`: the collector and the enricher in one process, with no Kafka and no
Elasticsearch, answering Snowplow Micro's API, for testing tracking in CI."""

from __future__ import annotations

import logging
from pathlib import Path

from starlette.applications import Starlette

from libs.config import load_config
from libs.iglu_client import RepositorySettings, Resolver
from libs.iglu_repositories import resolver_repositories
from libs.log import configure_logging
from services.collector.app import Collector, Receive, Scope, Send, serve
from services.collector.config import CollectorConfig
from services.enrich.core import Enricher
from services.micro.api import micro_app
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


class MicroApp:
    """Micro's API under `/micro/`, the collector for every other path (and the lifespan)."""

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
    store = MemoryStore(config.max_events)
    sink = EnrichingSink(
        Enricher(validator=resolver, enrichments=enrichments), store, collector_config.topics.raw
    )
    return MicroApp(Collector(collector_config, sink), micro_app(store, resolver.schema))


def run(config_path: Path | None) -> None:
    config = load_config(MicroConfig, "micro", path=config_path)
    configure_logging("micro", config.logging)
    # The collector's own settings (cookie, custom paths, body limit) apply, on Micro's port.
    collector_config = load_config(CollectorConfig, "collector", path=config_path).model_copy(
        update={"host": config.host, "port": config.port}
    )
    app = build_app(config, collector_config)
    logger.info("micro listening", extra={"url": f"http://{config.host}:{config.port}/micro/all"})
    serve(app, collector_config)


if __name__ == "__main__":
    run(None)
