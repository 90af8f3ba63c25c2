from libs.config import LoggingSettings, Settings


class RegistryConfig(Settings):
    """`[registry]` in the config file, `FURROW_REGISTRY_*` in the environment."""

    host: str = "127.0.0.1"
    port: int = 8081
    # The key with every right; `make run` generates one when the variable is unset.
    super_key: str | None = None
    logging: LoggingSettings = LoggingSettings()
