"""The service's settings: defaults defined once here, read once from the environment
(``DIPLO_<FIELD>``), overridden by command-line flags, then passed down as one object."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

PREFIX = "DIPLO_"
WORKER_ENV = "DIPLO_SETTINGS"  # the whole object, serialised, for a server's worker processes


class Settings(msgspec.Struct, kw_only=True):
    db: Path = Path("data/diplo.db")
    host: str = "127.0.0.1"
    port: int = 8000
    admin_token: str | None = None
    seed: bool = True
    log_format: str | None = None  # json | console; default: console on a terminal
    read_token_required: bool = False
    cors_origins: list[str] = []
    max_body_bytes: int = 1_048_576
    verify_tail: int = 1_000

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """``DIPLO_DB``, ``DIPLO_PORT``, ... over the defaults; overrides (flags given) over both.

        A worker process started by the server takes the server's object whole (``DIPLO_SETTINGS``).
        """
        env = os.environ if environ is None else environ
        if WORKER_ENV in env:
            base: dict[str, Any] = msgspec.json.decode(env[WORKER_ENV])
        else:
            base = {
                name: _parse(name, env[PREFIX + name.upper()])
                for name in cls.__struct_fields__
                if PREFIX + name.upper() in env
            }
        base |= {name: value for name, value in overrides.items() if value is not None}
        return msgspec.convert(base, cls, strict=False, dec_hook=_to_path)

    def for_workers(self) -> dict[str, str]:
        """The environment entry that hands this object to worker processes."""
        return {WORKER_ENV: msgspec.json.encode(self, enc_hook=str).decode()}


def _to_path(kind: type, value: Any) -> Any:
    if kind is Path:
        return Path(value)
    raise NotImplementedError(kind)


def _parse(name: str, raw: str) -> Any:
    if name == "cors_origins":
        return [origin for origin in raw.split(",") if origin]
    if name in ("seed", "read_token_required"):
        return raw not in ("0", "", "false", "no")
    if name in ("admin_token", "log_format"):
        return raw or None
    return raw
