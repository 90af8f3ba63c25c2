from pathlib import Path

from libs.config import KafkaSettings, LoggingSettings, Settings, TopicSettings
from libs.iglu_client import RepositorySettings
from libs.iglu_repositories import BUILTIN_PRIORITY


class EnrichConfig(Settings):
    """`[enrich]` in the config file, `FURROW_ENRICH_*` in the environment."""

    # Enrichers sharing a group share the raw topic's partitions.
    group_id: str = "furrow-enrich"
    # Where /health and /metrics are served.
    health_host: str = "127.0.0.1"
    health_port: int = 9101

    # Schemas come from Furrow's registry (priority 0), then from any extra repositories (Iglu
    # Servers, static HTTP repositories such as Iglu Central, directories), by vendor prefix and
    # priority (lower first), then from the schemas built into Furrow, at `builtin_priority`: a
    # repository given a lower number is consulted before them, so its copy wins.
    registry_url: str = "http://127.0.0.1:8081"
    registry_api_key: str | None = None
    extra_repositories: list[RepositorySettings] = []
    builtin_priority: int = BUILTIN_PRIORITY
    # Schemas and validators kept in memory, and for how long at most.
    schema_cache_size: int = 1000
    schema_cache_ttl_s: float = 600.0
    # A schema is live: the registry's change feed is polled every schema_changes_poll_s, and
    # what it names is looked up again; a schema found nowhere is looked up again after
    # schema_miss_ttl_s (a publication is then seen even where no feed tells of it).
    schema_changes_poll_s: float = 0.5
    schema_miss_ttl_s: float = 1.0

    # A directory of enrichment configuration files in Snowplow's format (docs/enrichments.md);
    # the default is the repository's own, relative to the working directory. None: no
    # enrichments.
    enrichments_dir: Path | None = Path("config/enrichments")
    # Sunbird/DIGIT telemetry events get schemas iglu:<vendor>/<eid>/jsonschema/1-0-0.
    telemetry_vendor: str = "org.sunbird.telemetry"

    # Events whose device clock is further behind, or ahead of, the collector's become bad rows.
    max_device_age_s: float | None = None
    max_device_future_s: float | None = None
    # Atomic fields every event must have; an event without one becomes a bad row.
    required_fields: list[str] = []

    # Exact duplicates (event id and fingerprint) seen within the window are dropped; at most
    # dedup_max_events pairs are remembered, which bounds the memory it takes.
    dedup_window_s: float = 600.0
    dedup_max_events: int = 200_000

    # While Kafka does not take the outputs, they are written again after 0.5 s, 1 s, 2 s ... up
    # to this; the raw records stay uncommitted meanwhile.
    max_backoff_s: float = 30.0

    kafka: KafkaSettings = KafkaSettings()
    topics: TopicSettings = TopicSettings()
    logging: LoggingSettings = LoggingSettings()

    def repositories(self) -> list[RepositorySettings]:
        registry = RepositorySettings(
            name="furrow registry", url=self.registry_url, api_key=self.registry_api_key
        )
        return [registry, *self.extra_repositories]
