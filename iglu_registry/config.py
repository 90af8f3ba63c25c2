from libs.config import LoggingSettings, Settings


class RegistryConfig(Settings):
    """`[registry]` in the config file, `FURROW_REGISTRY_*` in the environment."""

    # Where the HTTP API listens.
    host: str = "127.0.0.1"
    port: int = 8081
    # The key with every right; `make run` generates one when the variable is unset.
    super_key: str | None = None
    # SQLAlchemy URL. The default SQLite file is relative to the working directory, which is the
    # repo root under `make run`; `postgresql://user:password@host:port/db` selects PostgreSQL.
    database_url: str = "sqlite:///.run/registry/registry.db"
    # Overwriting and deleting published schemas breaks every consumer that cached the old
    # version, so it is off unless a team opts in (Iglu Server's "patchesAllowed").
    allow_patches: bool = False
    # Schemas are a few KiB; anything near this limit is a mistake or an attack.
    max_body_bytes: int = 1_048_576
    # Reads are answered from memory and forgotten on every write made through this process,
    # and when the change feed in the database shows a write by another process sharing it
    # (looked at every change_check_s at most); the TTL bounds the age of a read besides. A read
    # sent with `Cache-Control: no-cache` (a resolver's, after the feed named its schema) is
    # always answered from the database.
    cache_entries: int = 10_000
    cache_ttl_s: float = 30.0
    change_check_s: float = 0.25
    logging: LoggingSettings = LoggingSettings()
