"""Choosing the log's storage from one setting: a file path or a database URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from events.log import EventLog

SQLITE_PREFIX = "sqlite:///"
POSTGRES_PREFIXES = ("postgresql://", "postgres://")


def open_log(url: str | Path, **options: Any) -> EventLog:
    """SQLiteLog for a path or ``sqlite:///path`` (``sqlite:////abs/path`` for an absolute one),
    PostgresLog for ``postgresql://...``; ``options`` go to the log's constructor."""
    text = str(url)
    if text.startswith(POSTGRES_PREFIXES):
        from events.postgres import PostgresLog  # psycopg is loaded only when asked for

        return PostgresLog(text, **options)
    if text.startswith(SQLITE_PREFIX):
        text = text[len(SQLITE_PREFIX) :]
    elif "://" in text:
        scheme = text.split("://", 1)[0]
        raise ValueError(
            f"database: {scheme}:// is not supported; give a file path, sqlite:///path or postgresql://host/dbname"
        )
    if not text:
        raise ValueError("database: the sqlite:/// URL names no file; e.g. sqlite:///data/diplo.db")
    from events.sqlite import SQLiteLog

    return SQLiteLog(text, **options)
