from pathlib import Path
from typing import Self

from pydantic import Field, model_validator

from libs.config import KafkaSettings, LoggingSettings, Settings, TopicSettings


class LogListenerConfig(Settings):
    """`[logs]` in the config file, `FURROW_LOGS_*` in the environment."""

    # Where the TCP listener accepts connections.
    host: str = "127.0.0.1"
    port: int = 9600
    # Where /health and /metrics are served.
    health_host: str = "127.0.0.1"
    health_port: int = 9105
    # Longer lines are cut to this many bytes and tagged, so one peer cannot exhaust memory.
    max_line_bytes: int = Field(default=512 * 1024, ge=1024)
    # A connection silent this long is closed; the appender reconnects when it has logs again.
    idle_timeout_s: float = Field(default=300.0, gt=0)
    # Connections beyond this many are closed at once: memory is bounded per connection.
    max_connections: int = Field(default=10_000, ge=1)
    # Lines of all connections go to Kafka in writes of up to this many bytes, each sent once it
    # is full or has waited `linger_s`, with up to `max_in_flight` writes awaiting acknowledgement.
    batch_bytes: int = Field(default=1024 * 1024, ge=1024)
    linger_s: float = Field(default=0.005, ge=0)
    max_in_flight: int = Field(default=4, ge=1)
    # Past this much not yet acknowledged by Kafka, reading from the sockets pauses.
    max_buffered_bytes: int = Field(default=64 * 1024 * 1024, ge=1024 * 1024)
    # Failed Kafka writes are retried, waiting twice as long each time up to this.
    max_backoff_s: float = Field(default=10.0, gt=0)
    # On SIGTERM, how long to keep trying to write what was read before exiting anyway.
    drain_timeout_s: float = Field(default=30.0, ge=0)
    # Both set: the listener speaks TLS only (PEM files).
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    kafka: KafkaSettings = KafkaSettings()
    topics: TopicSettings = TopicSettings()
    logging: LoggingSettings = LoggingSettings()

    @model_validator(mode="after")
    def _tls_files_come_in_pairs(self) -> Self:
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise ValueError("set both tls_cert_file and tls_key_file, or neither")
        return self
