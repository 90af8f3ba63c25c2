from typing import Any, Literal

from libs.config import (
    ElasticsearchSettings,
    KafkaSettings,
    LoggingSettings,
    Settings,
    TopicSettings,
)

SinkKind = Literal["good", "bad", "logs"]
SINK_KINDS: tuple[SinkKind, ...] = ("good", "bad", "logs")


class SinkConfig(Settings):
    """`[sink_good]`, `[sink_bad]` or `[sink_logs]` in the config file, `FURROW_SINK_<KIND>_*` in
    the environment."""

    index: str
    group_id: str
    health_host: str = "127.0.0.1"
    health_port: int
    elasticsearch: ElasticsearchSettings = ElasticsearchSettings()
    kafka: KafkaSettings = KafkaSettings()
    topics: TopicSettings = TopicSettings()
    logging: LoggingSettings = LoggingSettings()


def sink_defaults(kind: SinkKind) -> dict[str, Any]:
    """Each kind of sink writes its own index and has its own group and health port."""
    health_port = 9102 + SINK_KINDS.index(kind)
    return {"index": kind, "group_id": f"furrow-sink-{kind}", "health_port": health_port}


def source_topic(kind: SinkKind, topics: TopicSettings) -> str:
    return {"good": topics.good, "bad": topics.bad, "logs": topics.logs}[kind]
