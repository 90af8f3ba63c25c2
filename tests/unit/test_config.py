from pathlib import Path

import pytest

from iglu_registry.config import RegistryConfig
from libs.config import ConfigError, load_config
from services.collector.config import CollectorConfig
from services.sinks.config import SinkConfig, sink_defaults


def test_defaults_alone_make_a_local_stack() -> None:
    config = load_config(CollectorConfig, "collector", environ={})
    assert (config.host, config.port) == ("127.0.0.1", 8000)
    assert config.kafka.bootstrap_servers == "127.0.0.1:9092"
    assert config.topics.raw == "raw"


@pytest.mark.parametrize(
    ("toml", "environ", "expected_port", "expected_servers"),
    [
        ("", {}, 8000, "127.0.0.1:9092"),
        ("[collector]\nport = 9000\n", {}, 9000, "127.0.0.1:9092"),
        ("[kafka]\nbootstrap_servers = 'k:1'\n", {}, 8000, "k:1"),
        ("[collector]\nport = 9000\n", {"FURROW_COLLECTOR_PORT": "9100"}, 9100, "127.0.0.1:9092"),
        ("", {"FURROW_KAFKA_BOOTSTRAP_SERVERS": "a:1,b:2"}, 8000, "a:1,b:2"),
        (
            "[kafka]\nbootstrap_servers = 'k:1'\n",
            {"FURROW_KAFKA_BOOTSTRAP_SERVERS": "env:1"},
            8000,
            "env:1",
        ),
    ],
)
def test_file_then_environment(
    tmp_path: Path,
    toml: str,
    environ: dict[str, str],
    expected_port: int,
    expected_servers: str,
) -> None:
    path = tmp_path / "furrow.toml"
    path.write_text(toml)
    config = load_config(CollectorConfig, "collector", path=path, environ=environ)
    assert config.port == expected_port
    assert config.kafka.bootstrap_servers == expected_servers


def test_config_file_named_by_environment(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere.toml"
    path.write_text("[registry]\nport = 18081\n")
    config = load_config(RegistryConfig, "registry", environ={"FURROW_CONFIG": str(path)})
    assert config.port == 18081


def test_super_key_from_environment() -> None:
    environ = {"FURROW_REGISTRY_SUPER_KEY": "5b0e0a1e-0000-4000-8000-000000000000"}
    assert load_config(RegistryConfig, "registry", environ=environ).super_key == (
        "5b0e0a1e-0000-4000-8000-000000000000"
    )


def test_per_instance_defaults_yield_to_file_and_environment(tmp_path: Path) -> None:
    path = tmp_path / "furrow.toml"
    path.write_text("[sink_bad]\nindex = 'failures'\n")
    environ = {"FURROW_SINK_BAD_HEALTH_PORT": "19103"}
    config = load_config(
        SinkConfig, "sink_bad", path=path, environ=environ, defaults=sink_defaults("bad")
    )
    assert (config.index, config.group_id, config.health_port) == (
        "failures",
        "furrow-sink-bad",
        19103,
    )


@pytest.mark.parametrize(
    ("toml", "environ", "message"),
    [
        ("[collector]\nprot = 1\n", {}, "prot"),
        ("[collector]\nport = 'eighty'\n", {}, "port"),
        ("", {"FURROW_COLLECTOR_PORT": "eighty"}, "port"),
        ("[kafka]\nbootstrap = 'x'\n", {}, "bootstrap"),
        ("collector = 3\n", {}, "must be a table"),
        ("[collector\n", {}, "not valid TOML"),
    ],
)
def test_mistakes_are_named(
    tmp_path: Path, toml: str, environ: dict[str, str], message: str
) -> None:
    path = tmp_path / "furrow.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError, match=message):
        load_config(CollectorConfig, "collector", path=path, environ=environ)


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(CollectorConfig, "collector", path=tmp_path / "nope.toml", environ={})


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"FURROW_KAFKA_SECURITY_PROTOCOL": "SASL_TLS"},
            "[kafka] security_protocol (FURROW_KAFKA_SECURITY_PROTOCOL): Input should be",
        ),
        (
            {
                "FURROW_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
                "FURROW_KAFKA_SASL_MECHANISM": "GSSAPI",
                "FURROW_KAFKA_SASL_USERNAME": "u",
                "FURROW_KAFKA_SASL_PASSWORD": "p",
            },
            "[kafka] sasl_mechanism (FURROW_KAFKA_SASL_MECHANISM): Input should be",
        ),
        ({"FURROW_KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, "needs sasl_username"),
        (
            {"FURROW_KAFKA_SECURITY_PROTOCOL": "SASL_SSL", "FURROW_KAFKA_SASL_USERNAME": "u"},
            "set one of sasl_password and sasl_password_file",
        ),
        (
            {"FURROW_KAFKA_SASL_USERNAME": "u", "FURROW_KAFKA_SASL_PASSWORD": "p"},
            "sasl_username is set, but security_protocol is not SASL_",
        ),
        ({"FURROW_KAFKA_SSL_CA_FILE": "/ca.pem"}, "ssl_ca_file is set, but security_protocol"),
        (
            {"FURROW_KAFKA_SECURITY_PROTOCOL": "SSL", "FURROW_KAFKA_SSL_CA_FILE": "/nope/ca.pem"},
            "ssl_ca_file /nope/ca.pem cannot be read: No such file or directory",
        ),
        (
            {"FURROW_KAFKA_SECURITY_PROTOCOL": "SSL", "FURROW_KAFKA_SSL_CERT_FILE": "/etc/hosts"},
            "ssl_cert_file and ssl_key_file go together",
        ),
        (
            {
                "FURROW_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
                "FURROW_KAFKA_SASL_USERNAME": "u",
                "FURROW_KAFKA_SASL_PASSWORD_FILE": "/run/secrets/none",
            },
            "sasl_password_file /run/secrets/none cannot be read: No such file or directory",
        ),
        (
            {
                "FURROW_KAFKA_SECURITY_PROTOCOL": "SSL",
                "FURROW_KAFKA_SSL_KEY_PASSWORD_FILE": "/run/secrets/none",
            },
            "ssl_key_password_file /run/secrets/none cannot be read",
        ),
        (
            {"FURROW_ELASTICSEARCH_URL": "es:9200"},
            "url 'es:9200' must start with http:// or https://",
        ),
        (
            {"FURROW_ELASTICSEARCH_PASSWORD": "p"},
            "[elasticsearch]: password needs username",
        ),
        (
            {"FURROW_ELASTICSEARCH_USERNAME": "u", "FURROW_ELASTICSEARCH_API_KEY": "k"},
            "set api_key or username, not both",
        ),
        (
            {"FURROW_ELASTICSEARCH_USERNAME": "u"},
            "set one of password and password_file",
        ),
        (
            {"FURROW_ELASTICSEARCH_API_KEY_FILE": "/run/secrets/none"},
            "api_key_file /run/secrets/none cannot be read",
        ),
        (
            {"FURROW_ELASTICSEARCH_CA_FILE": "/nope/ca.pem"},
            "ca_file /nope/ca.pem cannot be read",
        ),
        (
            {"FURROW_ELASTICSEARCH_CLOUD_ID": "c:x", "FURROW_ELASTICSEARCH_URL": "http://e:1"},
            "set url or cloud_id, not both",
        ),
    ],
)
def test_malformed_security_settings_are_named(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(SinkConfig, "sink_good", environ=environ, defaults=sink_defaults("good"))
    assert message in str(raised.value)


def test_an_empty_secret_file_is_named(tmp_path: Path) -> None:
    empty = tmp_path / "password"
    empty.write_text("\n")
    environ = {
        "FURROW_ELASTICSEARCH_USERNAME": "u",
        "FURROW_ELASTICSEARCH_PASSWORD_FILE": str(empty),
    }
    with pytest.raises(ConfigError, match=r"password_file .* is empty"):
        load_config(SinkConfig, "sink_good", environ=environ, defaults=sink_defaults("good"))


def test_secrets_are_never_shown() -> None:
    secret = "hunter2-very-secret"
    environ = {
        "FURROW_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "FURROW_KAFKA_SASL_USERNAME": "u",
        "FURROW_KAFKA_SASL_PASSWORD": secret,
        "FURROW_ELASTICSEARCH_API_KEY": secret,
    }
    config = load_config(SinkConfig, "sink_good", environ=environ, defaults=sink_defaults("good"))
    assert secret not in repr(config) and secret not in str(config.model_dump())
    assert config.kafka.sasl_password_value() == secret
    # A config that fails for another reason does not quote the secret in its error either.
    with pytest.raises(ConfigError) as raised:
        load_config(
            SinkConfig,
            "sink_good",
            environ={**environ, "FURROW_KAFKA_SASL_MECHANISM": "MD5"},
            defaults=sink_defaults("good"),
        )
    assert secret not in str(raised.value)
    assert raised.value.__cause__ is None and raised.value.__suppress_context__
