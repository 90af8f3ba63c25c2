"""`furrow registry`: read the config, prepare the database and serve the Iglu API."""

from __future__ import annotations

from pathlib import Path

import uvicorn

from iglu_registry.app import build_app
from iglu_registry.bootstrap import open_store
from iglu_registry.config import RegistryConfig
from iglu_registry.service import Registry
from libs.config import load_config
from libs.log import configure_logging


def run(config_path: Path | None) -> None:
    config = load_config(RegistryConfig, "registry", path=config_path)
    configure_logging("registry", config.logging)
    app = build_app(Registry(config, open_store(config.database_url)))
    uvicorn.run(app, host=config.host, port=config.port, log_config=None, access_log=False)


if __name__ == "__main__":
    run(None)
