from pathlib import Path

from pydantic import Field

from libs.config import LoggingSettings, Settings


class MicroConfig(Settings):
    """`[micro]` in the config file, `FURROW_MICRO_*` in the environment."""

    # Trackers and Micro's API on one port, as Snowplow Micro serves them (9090 is its port).
    host: str = "127.0.0.1"
    port: int = 9090
    # Each of good and bad keeps this many events; older ones are forgotten.
    max_events: int = Field(default=10_000, ge=1)
    # Schemas come from these (a Furrow registry or an Iglu Server, and a directory laid out
    # vendor/name/format/M-R-A), the first that has one winning, then from the schemas built
    # into Furrow.
    registry_url: str | None = None
    registry_api_key: str | None = None
    schema_dir: Path | None = None
    # A directory of enrichment configurations (docs/enrichments.md); none by default, as in
    # Snowplow Micro.
    enrichments_dir: Path | None = None
    logging: LoggingSettings = LoggingSettings()
