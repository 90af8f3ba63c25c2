"""One `[kafka]` section, the same meaning to aiokafka and to librdkafka."""

from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import KafkaError as LibrdkafkaError

from libs.config import KafkaSettings
from libs.kafka_security import aiokafka_options, librdkafka_options, librdkafka_setup_problem

CA = Path(__file__)  # any readable file will do: read only when a client connects


def settings(**values: Any) -> KafkaSettings:
    return KafkaSettings(bootstrap_servers="k:9093", **values)


SASL_SSL = {
    "security_protocol": "SASL_SSL",
    "sasl_mechanism": "SCRAM-SHA-512",
    "sasl_username": "furrow",
    "sasl_password": "s3cret",
}


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, {"bootstrap.servers": "k:9093", "security.protocol": "PLAINTEXT"}),
        (
            {"security_protocol": "SSL", "ssl_ca_file": CA},
            {
                "bootstrap.servers": "k:9093",
                "security.protocol": "SSL",
                "ssl.ca.location": str(CA),
                "ssl.endpoint.identification.algorithm": "https",
            },
        ),
        (
            {"security_protocol": "ssl"},
            {
                "bootstrap.servers": "k:9093",
                "security.protocol": "SSL",
                "ssl.ca.location": "probe",
                "ssl.endpoint.identification.algorithm": "https",
            },
        ),
        (
            {**SASL_SSL, "ssl_cert_file": CA, "ssl_key_file": CA, "ssl_key_password": "k"},
            {
                "bootstrap.servers": "k:9093",
                "security.protocol": "SASL_SSL",
                "ssl.ca.location": "probe",
                "ssl.endpoint.identification.algorithm": "https",
                "ssl.certificate.location": str(CA),
                "ssl.key.location": str(CA),
                "ssl.key.password": "k",
                "sasl.mechanism": "SCRAM-SHA-512",
                "sasl.username": "furrow",
                "sasl.password": "s3cret",
            },
        ),
        (
            {"security_protocol": "SASL_PLAINTEXT", "sasl_username": "u", "sasl_password": "p"},
            {
                "bootstrap.servers": "k:9093",
                "security.protocol": "SASL_PLAINTEXT",
                "sasl.mechanism": "PLAIN",
                "sasl.username": "u",
                "sasl.password": "p",
            },
        ),
    ],
)
def test_librdkafka_options(values: dict[str, Any], expected: dict[str, str]) -> None:
    assert librdkafka_options(settings(**values)) == expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({}, {"bootstrap_servers": "k:9093", "security_protocol": "PLAINTEXT"}),
        (
            {"security_protocol": "SASL_PLAINTEXT", "sasl_username": "u", "sasl_password": "p"},
            {
                "bootstrap_servers": "k:9093",
                "security_protocol": "SASL_PLAINTEXT",
                "sasl_mechanism": "PLAIN",
                "sasl_plain_username": "u",
                "sasl_plain_password": "p",
            },
        ),
    ],
)
def test_aiokafka_options(values: dict[str, Any], expected: dict[str, Any]) -> None:
    assert aiokafka_options(settings(**values)) == expected


def test_aiokafka_gets_a_verifying_tls_context() -> None:
    options = aiokafka_options(settings(**SASL_SSL))
    context = options.pop("ssl_context")
    assert context.check_hostname
    assert options == {
        "bootstrap_servers": "k:9093",
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "furrow",
        "sasl_plain_password": "s3cret",
    }


def test_a_rotated_password_file_is_read_by_the_next_client(tmp_path: Path) -> None:
    password_file = tmp_path / "password"
    password_file.write_text("first\n")
    rotating = settings(
        security_protocol="SASL_SSL", sasl_username="u", sasl_password_file=password_file
    )
    assert librdkafka_options(rotating)["sasl.password"] == "first"
    password_file.write_text("second\n")
    assert aiokafka_options(rotating)["sasl_plain_password"] == "second"


@pytest.mark.parametrize(
    ("code", "reason", "named"),
    [
        (
            LibrdkafkaError._AUTHENTICATION,
            "SASL authentication error: Authentication failed during authentication due to "
            "invalid credentials with SASL mechanism SCRAM-SHA-512",
            "refused the credentials of [kafka] sasl_username 'furrow'",
        ),
        (
            LibrdkafkaError._AUTHENTICATION,
            "SASL SCRAM-SHA-512 mechanism handshake failed: Broker: Unsupported SASL mechanism: "
            "broker's supported mechanisms: PLAIN (after 1ms in state AUTH_HANDSHAKE)",
            "does not enable [kafka] sasl_mechanism SCRAM-SHA-512 on this listener (it offers "
            "PLAIN)",
        ),
        (
            LibrdkafkaError._SSL,
            "SSL handshake failed: error:0A000086:SSL routines::certificate verify failed",
            "set [kafka] ssl_ca_file",
        ),
        (
            LibrdkafkaError._TRANSPORT,
            "SSL handshake failed: Disconnected: SSL connection closed by peer: connecting to a "
            "PLAINTEXT broker listener?",
            "does not speak TLS: check [kafka] security_protocol (SASL_SSL)",
        ),
        (
            LibrdkafkaError._TRANSPORT,
            "ssl://k:9093/bootstrap: Receive failed: error:0A000412:SSL routines::ssl/tls alert "
            "bad certificate: SSL alert number 42 (after 0ms in state APIVERSION_QUERY)",
            "wants a client certificate: set [kafka] ssl_cert_file and ssl_key_file",
        ),
        (LibrdkafkaError._TRANSPORT, "Connect to ipv4#127.0.0.1:9093 failed", None),
        (LibrdkafkaError._ALL_BROKERS_DOWN, "1/1 brokers are down", None),
    ],
)
def test_librdkafka_errors_name_the_setting(code: int, reason: str, named: str | None) -> None:
    problem = librdkafka_setup_problem(settings(**SASL_SSL), LibrdkafkaError(code, reason))
    if named is None:
        assert problem is None
    else:
        assert problem is not None and named in problem
        assert "s3cret" not in problem


def test_a_client_certificate_the_brokers_refuse_is_named(tmp_path: Path) -> None:
    cert, key = tmp_path / "client.pem", tmp_path / "client.key"
    for path in (cert, key):
        path.write_text("-----BEGIN-----\n")
    with_certificate = settings(security_protocol="SSL", ssl_cert_file=cert, ssl_key_file=key)
    alert = "Receive failed: error:0A000412:SSL routines::ssl/tls alert bad certificate"
    problem = librdkafka_setup_problem(
        with_certificate, LibrdkafkaError(LibrdkafkaError._TRANSPORT, alert)
    )
    assert problem == (
        f"Kafka at k:9093 refused the client certificate in [kafka] ssl_cert_file {cert}: it "
        "must be signed by a CA the brokers trust"
    )
