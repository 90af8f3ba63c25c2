"""`[archive]` in the config file, `FURROW_ARCHIVE_*` in the environment."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr, field_validator, model_validator

from libs.config import (
    KafkaSettings,
    LoggingSettings,
    Settings,
    TopicSettings,
    read_secret,
)

ArchivedKind = Literal["good", "bad", "logs"]
GoodFormat = Literal["tsv", "json"]


class ArchiveConfig(Settings):
    # Which topics to archive: at least one.
    kinds: list[ArchivedKind] = []
    group_id: str = "furrow-archive"
    health_host: str = "127.0.0.1"
    health_port: int = 9106
    # Good events as the enriched TSV line, or as the JSON document the good sink indexes.
    good_format: GoodFormat = "tsv"
    # A file is closed when its records (before compression) reach this many bytes, or when it
    # is this old, whichever comes first; it is also closed when a record of another hour comes.
    max_bytes: int = Field(default=64 * 1024 * 1024, ge=1024)
    max_age_s: float = Field(default=300.0, gt=0)
    # gzip's level: 1 costs less CPU per record than 6 (gzip's default), for larger files.
    compress_level: int = Field(default=6, ge=1, le=9)
    # Files being closed and published at once; with all busy, reading Kafka waits.
    max_concurrent_publishes: int = Field(default=2, ge=1)
    max_backoff_s: float = Field(default=30.0, gt=0)
    # The target: a local directory, or an S3 bucket (any S3-compatible store with endpoint_url).
    directory: Path | None = None
    # Hours of files in `directory` older than this many days are deleted; unset: kept for ever.
    directory_retention_days: float | None = Field(default=None, gt=0)
    bucket: str | None = None
    prefix: str = ""
    endpoint_url: str | None = None
    region: str = "us-east-1"
    access_key_id: str | None = None
    # Best from FURROW_ARCHIVE_SECRET_ACCESS_KEY, or a file holding it. Unset with
    # access_key_id unset: boto3's own chain (AWS_* variables, instance roles).
    secret_access_key: SecretStr | None = None
    secret_access_key_file: Path | None = None
    kafka: KafkaSettings = KafkaSettings()
    topics: TopicSettings = TopicSettings()
    logging: LoggingSettings = LoggingSettings()

    @field_validator("kinds", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        # From the environment: FURROW_ARCHIVE_KINDS=good,bad
        return (
            [part.strip() for part in value.split(",") if part.strip()]
            if isinstance(value, str)
            else value
        )

    @field_validator("prefix")
    @classmethod
    def _directory_like(cls, value: str) -> str:
        if value.startswith("/"):
            raise ValueError("prefix must not start with /")
        return value if not value or value.endswith("/") else value + "/"

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        if (self.directory is None) == (self.bucket is None):
            raise ValueError("set one of directory and bucket")
        if not self.kinds:
            raise ValueError("kinds is empty: name the topics to archive (good, bad, logs)")
        if self.bucket is None:
            for name in (
                "endpoint_url",
                "access_key_id",
                "secret_access_key",
                "secret_access_key_file",
            ):
                if getattr(self, name) is not None:
                    raise ValueError(f"{name} is set, but bucket is not")
        elif self.directory_retention_days is not None:
            raise ValueError("directory_retention_days is set, but directory is not")
        if self.secret_access_key is not None and self.secret_access_key_file is not None:
            raise ValueError("set secret_access_key or secret_access_key_file, not both")
        has_secret = self.secret_access_key is not None or self.secret_access_key_file is not None
        if has_secret != (self.access_key_id is not None):
            raise ValueError("access_key_id and secret_access_key (or its _file) go together")
        self.secret_access_key_value()
        return self

    def secret_access_key_value(self) -> str | None:
        return read_secret(
            self.secret_access_key, self.secret_access_key_file, "secret_access_key_file"
        )

    def topic_of(self, kind: ArchivedKind) -> str:
        return {"good": self.topics.good, "bad": self.topics.bad, "logs": self.topics.logs}[kind]
