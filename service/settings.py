"""The service's settings: defaults defined once here, read once from the environment
(``DIPLO_<FIELD>``), overridden by command-line flags, then passed down as one object."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import msgspec

PREFIX = "DIPLO_"
SERVER_SCHEMES = ("postgresql://", "postgres://")
SQLITE_PREFIX = "sqlite:///"
WORKER_ENV = "DIPLO_SETTINGS"  # the whole object, serialised, for a server's worker processes


class Settings(msgspec.Struct, kw_only=True):
    # A SQLite file (held as a Path; ``sqlite:///path`` is read as the path) or a database server's URL
    # (held as the str, ``postgresql://user@host:5432/dbname``): ``is_server`` tells which. Typed Any
    # for msgspec, which cannot convert to ``str | Path``; __post_init__ checks and normalises it.
    db: Any = Path("data/diplo.db")
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

    def __post_init__(self) -> None:
        self.db = database(self.db)

    @property
    def is_server(self) -> bool:
        """True when ``db`` is a database server's URL (PostgreSQL), False for a SQLite file."""
        return isinstance(self.db, str)

    def for_workers(self) -> dict[str, str]:
        """The environment entry that hands this object to worker processes."""
        return {WORKER_ENV: msgspec.json.encode(self, enc_hook=str).decode()}


def database(value: str | Path) -> str | Path:
    """A server URL as given (a Path would fold its //), anything else as the file's Path."""
    text = str(value)
    if text.startswith(SERVER_SCHEMES):
        return text
    if text.startswith(SQLITE_PREFIX):
        return Path(text[len(SQLITE_PREFIX) :])
    if "://" in text:
        scheme = text.split("://", 1)[0]
        raise ValueError(
            f"database: {scheme}:// is not supported; give a file path, sqlite:///path or postgresql://host/dbname"
        )
    return Path(text)


def describe(db: str | Path) -> str:
    """The database for messages: a file's absolute path, a server URL without its password."""
    if isinstance(db, Path):
        return str(db.resolve())
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(db)
    if parts.password:
        netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return db


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
