"""One configuration: defaults in Settings, the environment over them, flags over both."""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest

from diplo.service.settings import Settings, database, describe


def test_the_environment_overrides_the_defaults_and_flags_override_the_environment() -> None:
    env = {
        "DIPLO_DB": "/tmp/x.db",
        "DIPLO_PORT": "9001",
        "DIPLO_SEED": "0",
        "DIPLO_CORS_ORIGINS": "https://a,https://b",
    }
    settings = Settings.from_env(env)
    assert (settings.db, settings.port, settings.seed) == (Path("/tmp/x.db"), 9001, False)
    assert settings.cors_origins == ["https://a", "https://b"]
    assert settings.host == Settings().host  # untouched: the one default
    assert Settings.from_env(env, port=7000, host=None).port == 7000  # a flag given wins; one not given does not


def test_a_worker_process_gets_the_servers_object_whole() -> None:
    settings = Settings.from_env({"DIPLO_DB": "/tmp/y.db", "DIPLO_ADMIN_TOKEN": "t" * 20}, port=8123)
    assert Settings.from_env(settings.for_workers()) == settings


def test_a_database_is_a_file_a_sqlite_url_or_a_postgresql_url_and_nothing_else() -> None:
    assert database("sqlite:////var/lib/diplo.db") == Path("/var/lib/diplo.db")
    assert database("data/x.db") == Path("data/x.db")
    for url in ("postgresql://diplo@db/diplo", "postgres://diplo@db/diplo"):
        assert database(url) == url  # as given: a Path would fold its //
        assert Settings(db=url).is_server
    assert not Settings(db="sqlite:///x.db").is_server
    with pytest.raises(ValueError, match=r"mysql:// is not supported; give a file path, sqlite:///path or postgresql"):
        database("mysql://host/db")


def test_messages_name_a_file_by_its_absolute_path_and_never_show_a_password(tmp_path: Path) -> None:
    assert describe(Path("relative.db")) == str(Path("relative.db").resolve())
    assert (
        describe("postgresql://diplo:s3cret@db.internal:5433/diplo") == "postgresql://diplo:***@db.internal:5433/diplo"
    )
    assert describe("postgresql://diplo:s3cret@db.internal/diplo") == "postgresql://diplo:***@db.internal/diplo"
    assert describe("postgresql://diplo@db.internal/diplo") == "postgresql://diplo@db.internal/diplo"


def test_flags_in_the_environment_read_as_people_write_them() -> None:
    for off in ("0", "", "false", "no"):
        assert Settings.from_env({"DIPLO_SEED": off}).seed is False
    assert Settings.from_env({"DIPLO_READ_TOKEN_REQUIRED": "1"}).read_token_required is True
    assert Settings.from_env({"DIPLO_ADMIN_TOKEN": "", "DIPLO_LOG_FORMAT": ""}).admin_token is None
    assert Settings.from_env({"DIPLO_MAX_BODY_BYTES": "2048"}).max_body_bytes == 2048
    with pytest.raises(msgspec.ValidationError):
        Settings.from_env({"DIPLO_PORT": "eighty"})
