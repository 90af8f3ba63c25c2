from libs.config import KafkaSettings, LoggingSettings, Settings, TopicSettings


class EnrichConfig(Settings):
    """`[enrich]` in the config file, `FURROW_ENRICH_*` in the environment."""

    group_id: str = "furrow-enrich"
    health_host: str = "127.0.0.1"
    health_port: int = 9101
    kafka: KafkaSettings = KafkaSettings()
    topics: TopicSettings = TopicSettings()
    logging: LoggingSettings = LoggingSettings()
