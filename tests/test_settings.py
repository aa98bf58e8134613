"""One configuration: defaults in Settings, the environment over them, flags over both."""

from __future__ import annotations

from pathlib import Path

from diplo.service.settings import Settings


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
