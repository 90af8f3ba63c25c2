from libs.config import KafkaSettings, LoggingSettings, Settings, TopicSettings


class LogListenerConfig(Settings):
    """`[logs]` in the config file, `FURROW_LOGS_*` in the environment."""

    host: str = "127.0.0.1"
    port: int = 9600
    health_host: str = "127.0.0.1"
    health_port: int = 9105
    # Longer lines are cut to this many bytes and tagged, so one peer cannot exhaust memory.
    max_line_bytes: int = 1_048_576
    # A connection silent this long is closed; the appender reconnects when it has logs again.
    idle_timeout_s: float = 300.0
    kafka: KafkaSettings = KafkaSettings()
    topics: TopicSettings = TopicSettings()
    logging: LoggingSettings = LoggingSettings()
