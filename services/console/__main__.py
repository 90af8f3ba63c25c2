"""`furrow console`: read the config, open an Elasticsearch client, serve the console."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import uvicorn
from starlette.applications import Starlette

from libs.config import load_config
from libs.elastic import elasticsearch_client
from libs.iglu_client import RepositorySettings, Resolver
from libs.iglu_repositories import BuiltinRepository, resolver_repositories
from libs.log import configure_logging
from services.console.app import Console, Registry, build_app
from services.console.config import ConsoleConfig
from services.console.index import ElasticIndex, ElasticLogs
from services.console.latency import IndexedLatencySource
from services.console.micro_store import ElasticMicroStore
from services.console.pipeline import PipelineView
from services.endpoints import consumer_groups, endpoints
from services.micro.api import micro_app
from services.sinks.config import load_sink_config


def build(config: ConsoleConfig, config_path: Path | None) -> Starlette:
    client = elasticsearch_client(config.elasticsearch, request_timeout=30)
    registry = (
        [
            RepositorySettings(
                name="registry", url=config.registry_url, api_key=config.registry_api_key
            )
        ]
        if config.registry_url
        else []
    )
    resolver = Resolver(resolver_repositories(registry), attempts=1)
    micro = ElasticMicroStore(
        client, config.good_index, config.bad_index, reset_enabled=config.micro_reset_enabled
    )
    good_sink = load_sink_config("good", config_path)
    console = Console(
        ElasticIndex(client, config.good_index, config.bad_index),
        listed={"built-in": BuiltinRepository().schema_keys},
        registry=Registry(config.registry_url, config.registry_api_key)
        if config.registry_url
        else None,
        logs=ElasticLogs(client, config.logs_index),
        pipeline=PipelineView(
            components=endpoints(config_path),
            kafka=config.kafka,
            groups=consumer_groups(config_path),
            indexed_latency=IndexedLatencySource(
                f"http://{good_sink.health_host}:{good_sink.health_port}/metrics",
                good_sink.refresh_interval,
            ),
        ),
    )
    app = build_app(console, micro_app(micro, resolver.schema))

    @asynccontextmanager
    async def client_open(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await client.close()

    app.router.lifespan_context = client_open
    return app


def run(config_path: Path | None) -> None:
    config = load_config(ConsoleConfig, "console", path=config_path)
    configure_logging("console", config.logging)
    uvicorn.run(
        build(config, config_path),
        host=config.host,
        port=config.port,
        log_config=None,
        access_log=False,
    )


if __name__ == "__main__":
    run(None)
