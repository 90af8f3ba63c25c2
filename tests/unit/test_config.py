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
