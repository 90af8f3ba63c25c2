from libs.config import KafkaSettings, LoggingSettings, Settings, TopicSettings


class CollectorConfig(Settings):
    """`[collector]` in the config file, `FURROW_COLLECTOR_*` in the environment."""

    host: str = "127.0.0.1"
    port: int = 8000
    kafka: KafkaSettings = KafkaSettings()
    topics: TopicSettings = TopicSettings()
    logging: LoggingSettings = LoggingSettings()
