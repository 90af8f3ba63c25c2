"""`[kafka]`'s security settings mapped onto both client libraries in use, aiokafka and librdkafka,
so that a setting means the same to every client; and the problems either one meets at start
told in terms of those settings."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.helpers import create_ssl_context
from confluent_kafka import KafkaError as LibrdkafkaError
from confluent_kafka import KafkaException, Producer

from libs.config import KafkaSettings, SetupError
from libs.tls import speaks_tls


class KafkaSetupError(SetupError):
    """The Kafka settings cannot work with these brokers; the message names the setting."""


def aiokafka_options(settings: KafkaSettings) -> dict[str, Any]:
    """Keyword arguments of every aiokafka client (producer, consumer, admin). Secret files are
    read now: a client made after a rotation gets the new secret."""
    options: dict[str, Any] = {
        "bootstrap_servers": settings.bootstrap_servers,
        "security_protocol": settings.security_protocol,
    }
    if _uses_tls(settings):
        options["ssl_context"] = create_ssl_context(
            cafile=_path(settings.ssl_ca_file),
            certfile=_path(settings.ssl_cert_file),
            keyfile=_path(settings.ssl_key_file),
            password=settings.ssl_key_password_value(),
        )
    if settings.security_protocol.startswith("SASL_"):
        options["sasl_mechanism"] = settings.sasl_mechanism
        options["sasl_plain_username"] = settings.sasl_username
        options["sasl_plain_password"] = settings.sasl_password_value()
    return options


def librdkafka_options(settings: KafkaSettings) -> dict[str, Any]:
    """The librdkafka configuration properties the same settings mean."""
    options: dict[str, Any] = {
        "bootstrap.servers": settings.bootstrap_servers,
        "security.protocol": settings.security_protocol,
    }
    if _uses_tls(settings):
        # Unset, librdkafka would look only where its own bundled OpenSSL was built to; "probe"
        # finds the system's CAs, as Python's ssl module does for aiokafka.
        options["ssl.ca.location"] = _path(settings.ssl_ca_file) or "probe"
        # librdkafka's default since 2.0, spelt out: the broker's name must match its certificate,
        # as Python's ssl module requires.
        options["ssl.endpoint.identification.algorithm"] = "https"
        if settings.ssl_cert_file is not None:
            options["ssl.certificate.location"] = _path(settings.ssl_cert_file)
            options["ssl.key.location"] = _path(settings.ssl_key_file)
        key_password = settings.ssl_key_password_value()
        if key_password is not None:
            options["ssl.key.password"] = key_password
    if settings.security_protocol.startswith("SASL_"):
        options["sasl.mechanism"] = settings.sasl_mechanism
        options["sasl.username"] = settings.sasl_username
        options["sasl.password"] = settings.sasl_password_value()
    return options


def admin_client(settings: KafkaSettings, **options: Any) -> AIOKafkaAdminClient:
    """An aiokafka admin client of the brokers `settings` name, as they must be reached."""
    return AIOKafkaAdminClient(
        **aiokafka_options(settings), client_id=settings.client_id, **options
    )


def check_connection(settings: KafkaSettings, *, timeout_s: float = 10.0) -> bool:
    """Connect once as every client will, and raise KafkaSetupError, naming the setting at fault,
    when the brokers refuse these settings: wrong credentials or mechanism, a certificate not
    signed by the CA trusted, TLS on one side only. Returns True once the brokers answer, or
    False after `timeout_s` when they cannot be reached at all: brokers that are down may come
    back, and the clients wait for them as they do later on.

    Blocks for as long as it takes; done with librdkafka, which tells each of these failures
    apart (aiokafka only logs them before failing with "Unable to bootstrap")."""
    problems: list[str] = []

    def on_error(error: LibrdkafkaError) -> None:
        if (problem := librdkafka_setup_problem(settings, error)) is not None:
            problems.append(problem)

    probe = Producer(
        {
            **librdkafka_options(settings),
            "client.id": settings.client_id,
            "error_cb": on_error,
            "socket.connection.setup.timeout.ms": int(timeout_s * 1000),
            # What it finds is raised; the clients made next log what they meet themselves.
            "log_level": 2,
        },
        logger=logging.getLogger("librdkafka"),
    )
    try:
        answered, problem = _first_answer(settings, probe, problems, timeout_s)
    finally:
        # Now, on this thread: a client left to the interpreter's exit crashed it there.
        probe.close()
    if problem is not None:
        raise KafkaSetupError(problem)
    return answered


def settings_refused(settings: KafkaSettings, *, timeout_s: float = 3.0) -> str | None:
    """What the brokers have against `settings` now (`check_connection`'s message), or None."""
    try:
        check_connection(settings, timeout_s=timeout_s)
    except KafkaSetupError as refused:
        return str(refused)
    return None


def _first_answer(
    settings: KafkaSettings, probe: Producer, problems: list[str], timeout_s: float
) -> tuple[bool, str | None]:
    """Whether the brokers answered `probe`, and what they have against the settings."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            probe.list_topics(timeout=1.0)
            return True, None
        except KafkaException:
            probe.poll(0)
        if problems:
            return False, problems[0]
        if not _uses_tls(settings) and any(
            speaks_tls(*address) for address in _addresses(settings)
        ):
            return False, _plaintext_to_tls(settings)
    return False, None


def librdkafka_setup_problem(settings: KafkaSettings, error: LibrdkafkaError) -> str | None:
    """What an error librdkafka reports (to `error_cb`) says about the settings; None when it
    says nothing of them (the brokers may only be down, and come back)."""
    reason = error.str()
    if error.code() == LibrdkafkaError._AUTHENTICATION:
        if "Unsupported SASL mechanism" in reason:
            return _unsupported_mechanism(settings, reason)
        return _refused_credentials(settings)
    if "alert bad certificate" in reason or "alert certificate required" in reason:
        return _client_certificate_refused(settings)
    if "SSL handshake failed" in reason:
        if "certificate verify failed" in reason:
            return _untrusted_certificate(settings)
        return _not_tls(settings)
    return None


def _refused_credentials(settings: KafkaSettings) -> str:
    return (
        f"Kafka at {settings.bootstrap_servers} refused the credentials of [kafka] sasl_username "
        f"{settings.sasl_username!r} with sasl_mechanism {settings.sasl_mechanism}: check "
        "sasl_password or sasl_password_file, and that the user exists for that mechanism"
    )


def _unsupported_mechanism(settings: KafkaSettings, reason: str) -> str:
    offered = reason.rpartition("supported mechanisms:")[2].partition("(")[0].strip()
    return (
        f"Kafka at {settings.bootstrap_servers} does not enable [kafka] sasl_mechanism "
        f"{settings.sasl_mechanism} on this listener (it offers {offered or 'others'})"
    )


def _untrusted_certificate(settings: KafkaSettings) -> str:
    trusted = settings.ssl_ca_file or "any of the system's CA certificates"
    return (
        f"the certificate of Kafka at {settings.bootstrap_servers} is not signed by {trusted}: "
        "set [kafka] ssl_ca_file (FURROW_KAFKA_SSL_CA_FILE) to the CA that signed it"
    )


def _client_certificate_refused(settings: KafkaSettings) -> str:
    # The brokers' TLS alert; librdkafka sends no certificate at all when the one set is not
    # signed by a CA the brokers name, so both cases read the same.
    if settings.ssl_cert_file is None:
        return (
            f"Kafka at {settings.bootstrap_servers} wants a client certificate: set [kafka] "
            "ssl_cert_file and ssl_key_file (FURROW_KAFKA_SSL_CERT_FILE, FURROW_KAFKA_SSL_KEY_FILE)"
        )
    return (
        f"Kafka at {settings.bootstrap_servers} refused the client certificate in [kafka] "
        f"ssl_cert_file {settings.ssl_cert_file}: it must be signed by a CA the brokers trust"
    )


def _not_tls(settings: KafkaSettings) -> str:
    return (
        f"Kafka at {settings.bootstrap_servers} does not speak TLS: check [kafka] "
        f"security_protocol ({settings.security_protocol}) and the listener's port"
    )


def _plaintext_to_tls(settings: KafkaSettings) -> str:
    return (
        f"Kafka at {settings.bootstrap_servers} speaks TLS, and [kafka] security_protocol is "
        f"{settings.security_protocol}: set it (FURROW_KAFKA_SECURITY_PROTOCOL) to SSL or SASL_SSL"
    )


def _uses_tls(settings: KafkaSettings) -> bool:
    return settings.security_protocol.endswith("SSL")


def _addresses(settings: KafkaSettings) -> list[tuple[str, int]]:
    addresses = []
    for server in settings.bootstrap_servers.split(","):
        host, _, port = server.strip().rpartition(":")
        addresses.append((host.strip("[]"), int(port)))
    return addresses


def _path(path: Path | None) -> str | None:
    return None if path is None else str(path)
