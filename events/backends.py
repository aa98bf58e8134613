"""Choosing the log's storage from one setting: a file path or a database URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from diplo.events.log import EventLog

SQLITE_PREFIX = "sqlite:///"
POSTGRES_PREFIXES = ("postgresql://", "postgres://")


def open_log(url: str | Path, **options: Any) -> EventLog:
    """SQLiteLog for a path or ``sqlite:///path`` (``sqlite:////abs/path`` for an absolute one),
    PostgresLog for ``postgresql://...``; ``options`` go to the log's constructor."""
    text = str(url)
    if text.startswith(POSTGRES_PREFIXES):
        from diplo.events.postgres import PostgresLog  # psycopg is loaded only when asked for

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
    from diplo.events.sqlite import SQLiteLog

    return SQLiteLog(text, **options)


def connect_beside(url: str | Path) -> Any:
    """A connection of its own to the log's database, for tables kept beside the log: a sqlite3
    connection, or on PostgreSQL one speaking SQLite's SQL (events/pg_adapter.py). Close it when done."""
    text = str(url)
    if text.startswith(POSTGRES_PREFIXES):
        from diplo.events import pg_adapter, pg_schema

        conn = psycopg_connect(text)
        pg_schema.act_as_app(conn)
        return pg_adapter.Connection(pg_adapter.prepare(conn), pg_adapter.Dialect())
    from diplo.events.sqlite import connect

    return connect(text[len(SQLITE_PREFIX) :] if text.startswith(SQLITE_PREFIX) else text)


def psycopg_connect(dsn: str) -> Any:
    import psycopg

    from diplo.events.errors import Unavailable

    try:
        return psycopg.connect(dsn, autocommit=True, connect_timeout=5, application_name="diplo")
    except (psycopg.OperationalError, psycopg.InterfaceError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise Unavailable(f"the database is unavailable ({reason}); retry shortly") from None
