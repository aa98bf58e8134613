"""The PostgreSQL server the tests use, and throwaway databases and schemas on it.

The server is DIPLO_TEST_POSTGRES (default: the local PostgreSQL 15, trust auth). Under CI=true
a missing server fails the tests that need it; elsewhere they are skipped with the command that
starts one.
"""

from __future__ import annotations

import os
import secrets
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

SERVER = os.environ.get("DIPLO_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")
START = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"


def admin() -> psycopg.Connection:
    return psycopg.connect(SERVER, autocommit=True, connect_timeout=3)


def require_server() -> str:
    """The server's URL; skip (fail under CI=true) when there is none."""
    try:
        admin().close()
    except psycopg.OperationalError as error:
        reason = " ".join(str(error).split())
        message = f"no PostgreSQL server at {SERVER} ({reason}); start one with: {START}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return SERVER


def create_database(server: str = SERVER) -> str:
    """A fresh database; its postgresql:// URL."""
    name = f"diplo_test_{secrets.token_hex(6)}"
    with admin() as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(urlsplit(server)._replace(path=f"/{name}"))


def drop_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    with admin() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def create_schema(url: str, *, durable: bool = True) -> str:
    """A fresh schema in the database at ``url``; a URL whose connections use it (cheaper than a
    database). ``durable`` False: commits do not wait for the WAL flush (as SQLite's synchronous=OFF)."""
    name = f"s_{secrets.token_hex(6)}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{name}"')
    options = f"-csearch_path%3D{name}" + ("" if durable else "%20-csynchronous_commit%3Doff")
    return urlunsplit(urlsplit(url)._replace(query=f"options={options}"))


def empty_schema(url: str) -> str:
    """The schema of ``url`` as a new log finds it, but for its tables: every row gone (the log's append-only
    triggers set aside for it), scratch tables of a rebuild dropped, migrations and projection version
    kept, so the next log and projections opened on it make nothing and replay nothing. ``url`` again."""
    name = _schema_name(url)
    with psycopg.connect(_without_options(url), autocommit=True) as conn, conn.transaction():
        tables = [row[0] for row in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = %s", (name,))]
        scratch = [t for t in tables if t.endswith(("_next", "_check"))]
        emptied = [t for t in tables if t not in scratch and t not in ("diplo_migrations", "projection_meta")]
        for table in scratch:
            conn.execute(f'DROP TABLE "{name}"."{table}"')
        conn.execute("SET LOCAL session_replication_role = replica")  # triggers do not fire
        qualified = ", ".join(f'"{name}"."{table}"' for table in emptied)
        conn.execute(f"TRUNCATE {qualified} RESTART IDENTITY")
        conn.execute(f'UPDATE "{name}".projection_meta SET checkpoint = 0')
    return url


def _schema_name(url: str) -> str:
    return urlsplit(url).query.split("%3D", 1)[1].split("%20", 1)[0]


def _without_options(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(query=""))


def drop_schema(url: str) -> None:
    with psycopg.connect(_without_options(url), autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{_schema_name(url)}" CASCADE')
