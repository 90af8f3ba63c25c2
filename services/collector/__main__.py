"""`furrow collector`: read the config, open the Kafka sink, serve HTTP."""

from __future__ import annotations

from pathlib import Path

from libs.config import load_config
from libs.kafka import KafkaSink
from libs.log import configure_logging
from services.collector.app import build_app, serve
from services.collector.config import CollectorConfig


def run(config_path: Path | None) -> None:
    config = load_config(CollectorConfig, "collector", path=config_path)
    configure_logging("collector", config.logging)
    sink = KafkaSink(
        config.kafka,
        write_timeout_s=config.write_timeout_s,
        linger_s=config.write_linger_ms / 1000,
    )
    serve(build_app(config, sink), config)


if __name__ == "__main__":
    run(None)
