from typing import Literal

from pydantic import Field

from libs.config import KafkaSettings, LoggingSettings, Settings, TopicSettings


class CollectorConfig(Settings):
    """`[collector]` in the config file, `FURROW_COLLECTOR_*` in the environment."""

    # Where the HTTP server listens.
    host: str = "127.0.0.1"
    port: int = 8000
    # Extra request paths stored as if they were another, e.g. {"/com.acme/track" =
    # "/com.snowplowanalytics.snowplow/tp2"}, so ad blockers cannot recognise the tracker.
    paths: dict[str, str] = {}

    # The network user id cookie.
    cookie_enabled: bool = True
    # The cookie's name and lifetime.
    cookie_name: str = "sp"
    cookie_expiry_days: int = 365
    # The first domain that equals the Origin's host or is a suffix of it is the cookie's domain;
    # else the fallback; else the cookie has no Domain attribute (the collector's host).
    cookie_domains: list[str] = []
    cookie_fallback_domain: str | None = None
    # The cookie's attributes; SameSite=None lets third-party trackers send it.
    cookie_secure: bool = True
    cookie_http_only: bool = True
    cookie_same_site: Literal["None", "Lax", "Strict"] = "None"

    # A request carrying this cookie, with a value matching the regex, is answered and not stored.
    do_not_track_cookie_name: str | None = None
    do_not_track_cookie_value: str = ".*"

    # `/r/tp2?u=URL`: off by default, since an open redirect can be abused for phishing.
    redirect_enabled: bool = False
    # Hosts (and their subdomains) `u` may point to; empty allows any host.
    redirect_domains: list[str] = []

    # Take the client IP from X-Forwarded-For / X-Real-Ip only behind a proxy that sets them;
    # otherwise any client could claim any IP.
    trust_proxy_headers: bool = False
    # Kafka key of raw records: none (records spread over partitions) or the client IP.
    partition_key: Literal["random", "ip"] = "random"

    # "acked": answer a tracking request only once Kafka holds its records (503 if it cannot
    # within write_timeout_s, so the tracker retries). "fire_and_forget": answer at once and
    # write in the background; faster, but events in flight are lost if the process dies or
    # Kafka stays down.
    durability: Literal["acked", "fire_and_forget"] = "acked"
    write_timeout_s: float = 5.0
    # How long a write waits for other requests' to share its Kafka produce request (less when
    # enough are waiting, see libs.kafka): fewer, larger produce requests cost the collector and
    # the broker much less CPU per event (figures in docs/performance.md).
    write_linger_ms: float = Field(default=10.0, ge=0)
    # Bodies larger than this are refused with 413 and recorded as a size_violation bad row.
    max_body_bytes: int = 5 * 1_048_576
    # How long browsers may cache a CORS preflight's answer.
    cors_max_age_s: int = 3600

    kafka: KafkaSettings = KafkaSettings()
    topics: TopicSettings = TopicSettings()
    logging: LoggingSettings = LoggingSettings()
