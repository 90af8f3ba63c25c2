from libs.config import ElasticsearchSettings, KafkaSettings, LoggingSettings, Settings


class ConsoleConfig(Settings):
    """`[console]` in the config file, `FURROW_CONSOLE_*` in the environment."""

    # Only this machine by default: the console shows every event, and nothing guards it.
    host: str = "127.0.0.1"
    port: int = 9190
    # The aliases the sinks write (their `index` settings).
    good_index: str = "good"
    bad_index: str = "bad"
    logs_index: str = "logs"
    # Schemas for /micro/iglu, after the built-in ones' priority rules (libs.iglu_repositories).
    registry_url: str | None = "http://127.0.0.1:8081"
    registry_api_key: str | None = None
    # Micro's /micro/reset deletes every good and bad event of the pipeline: refused unless on.
    micro_reset_enabled: bool = False
    elasticsearch: ElasticsearchSettings = ElasticsearchSettings()
    # For the consumer lag of the pipeline view.
    kafka: KafkaSettings = KafkaSettings()
    logging: LoggingSettings = LoggingSettings()
