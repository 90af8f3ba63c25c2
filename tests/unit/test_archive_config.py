from pathlib import Path

import pytest

from libs.config import ConfigError, load_config, section_given
from services.archive.config import ArchiveConfig


def archive_config(**environ: str) -> ArchiveConfig:
    return load_config(
        ArchiveConfig,
        "archive",
        environ={f"FURROW_ARCHIVE_{k.upper()}": v for k, v in environ.items()},
    )


def test_the_topics_and_a_bucket_come_from_the_environment() -> None:
    config = archive_config(
        kinds="good, logs",
        bucket="events",
        prefix="furrow",
        access_key_id="id",
        secret_access_key="s3cr3t-value",
    )
    assert config.kinds == ["good", "logs"]
    assert (config.bucket, config.prefix) == ("events", "furrow/")
    assert config.secret_access_key_value() == "s3cr3t-value"
    assert "s3cr3t-value" not in repr(config)


@pytest.mark.parametrize(
    ("environ", "problem"),
    [
        ({"kinds": "good"}, "set one of directory and bucket"),
        ({"kinds": "good", "directory": "/a", "bucket": "b"}, "set one of directory and bucket"),
        ({"directory": "/a"}, "kinds is empty"),
        ({"kinds": "good,raw", "directory": "/a"}, "kinds"),
        ({"kinds": "good", "directory": "/a", "endpoint_url": "http://s3"}, "bucket is not"),
        ({"kinds": "good", "bucket": "b", "directory_retention_days": "3"}, "directory is not"),
        ({"kinds": "good", "bucket": "b", "access_key_id": "id"}, "go together"),
        ({"kinds": "good", "bucket": "b", "secret_access_key": "s3cr3t-value"}, "go together"),
        ({"kinds": "good", "bucket": "b", "prefix": "/abs"}, "must not start with /"),
        ({"kinds": "good", "directory": "/a", "compress_level": "0"}, "compress_level"),
    ],
)
def test_settings_that_cannot_work_are_refused_by_name(
    environ: dict[str, str], problem: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        archive_config(**environ)
    assert problem in str(raised.value)
    assert "s3cr3t-value" not in str(raised.value)


@pytest.mark.parametrize(
    ("config", "environ", "given"),
    [
        ("", {}, False),
        ("[archive]\n", {}, True),
        ("[archived]\n", {"FURROW_ARCHIVED_X": "1"}, False),
        ("", {"FURROW_ARCHIVE_KINDS": "good"}, True),
    ],
)
def test_a_section_is_given_by_its_table_or_a_variable(
    tmp_path: Path, config: str, environ: dict[str, str], given: bool
) -> None:
    path = tmp_path / "furrow.toml"
    path.write_text(config)
    assert section_given("archive", path=path, environ=environ) is given
