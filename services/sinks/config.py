from pathlib import Path
from typing import Any, Literal

from pydantic import Field

from libs.config import (
    ElasticsearchSettings,
    KafkaSettings,
    LoggingSettings,
    Settings,
    TopicSettings,
    load_config,
)

SinkKind = Literal["good", "bad", "logs"]
SINK_KINDS: tuple[SinkKind, ...] = ("good", "bad", "logs")


class SinkConfig(Settings):
    """`[sink_good]`, `[sink_bad]` or `[sink_logs]` in the config file, `FURROW_SINK_<KIND>_*` in
    the environment."""

    # The alias searched by users; documents go to daily indices `<index>-YYYY.MM.DD` behind it.
    index: str
    # Sinks of one kind sharing a group share its topic's partitions.
    group_id: str
    # Where /health and /metrics are served.
    health_host: str = "127.0.0.1"
    health_port: int
    # How soon a document becomes searchable, as the index setting `refresh_interval`. Half of
    # Elasticsearch's 1s: the wait for a refresh after a bulk is acknowledged is the largest part
    # of the latency to searchable, and halving it cost Elasticsearch no measurable CPU (figures
    # in docs/performance.md). Bulk loads that need no freshness go faster with a longer one
    # ("30s").
    refresh_interval: str = "500ms"
    # Fields beyond this many (new contexts, MDC keys) are kept in _source but not indexed.
    total_fields_limit: int = Field(default=2000, ge=200)
    # A bulk request is sent when it holds this many documents or bytes, or is this old.
    bulk_max_documents: int = Field(default=2000, ge=1)
    bulk_max_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    # Below the rate that fills a bulk its age decides when events are sent, so this bounds the
    # latency to searchable under light load (figures in docs/performance.md).
    flush_interval_s: float = Field(default=0.5, gt=0)
    # Bulk requests in flight at once; while all are busy, the sink stops reading Kafka.
    max_concurrent_bulks: int = Field(default=2, ge=1)
    # A bulk request unanswered this long is retried.
    request_timeout_s: float = Field(default=60.0, gt=0)
    # Daily indices whose day is this many days old are deleted (by ILM, else by the sink);
    # 0: kept for ever. The bad sink's default is 30, the others' 0.
    retention_days: int = Field(default=0, ge=0)
    # Retries of a failed bulk wait twice as long each time, up to this.
    max_backoff_s: float = Field(default=30.0, gt=0)
    elasticsearch: ElasticsearchSettings = ElasticsearchSettings()
    kafka: KafkaSettings = KafkaSettings()
    topics: TopicSettings = TopicSettings()
    logging: LoggingSettings = LoggingSettings()


def sink_defaults(kind: SinkKind) -> dict[str, Any]:
    """Each kind of sink writes its own index and has its own group and health port; bad rows
    are kept for 30 days."""
    health_port = 9102 + SINK_KINDS.index(kind)
    return {
        "index": kind,
        "group_id": f"furrow-sink-{kind}",
        "health_port": health_port,
        "retention_days": 30 if kind == "bad" else 0,
    }


def load_sink_config(kind: SinkKind, path: Path | None = None) -> SinkConfig:
    """`[sink_<kind>]` and `FURROW_SINK_<KIND>_*` over the kind's defaults, as the sink reads it."""
    return load_config(SinkConfig, f"sink_{kind}", path=path, defaults=sink_defaults(kind))


def source_topic(kind: SinkKind, topics: TopicSettings) -> str:
    return {"good": topics.good, "bad": topics.bad, "logs": topics.logs}[kind]
