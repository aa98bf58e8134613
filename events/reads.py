"""Reading the log's rows: the questions the projections ask of ``events``, on any backend.

Plain SQL over a DB-API connection: a sqlite3 connection, or one of events/pg_adapter.py that runs
the same text on PostgreSQL. The projections read the log only through here.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from diplo.events import store
from diplo.events.log import StoredEvent
from diplo.events.store import COLUMNS, Sql

Connection = Any  # sqlite3.Connection, or pg_adapter.Connection: both speak sqlite3's interface


def read_rows(
    conn: Connection,
    *,
    after: int = 0,
    limit: int | None = None,
    channel: str | None = None,
    type: str | None = None,
    valid_from: str | None = None,
    valid_to: str | None = None,
    recorded_by: str | None = None,
    order: str = "seq",
) -> Iterator[StoredEvent]:
    """Rows matching the filters; ``order`` is 'seq' or 'valid' ((occurred_on, seq))."""
    sql, params = store.select(
        after=after,
        limit=limit,
        channel=channel,
        type=type,
        valid_from=valid_from,
        valid_to=valid_to,
        recorded_by=recorded_by,
        order=order,
    )
    for values in conn.execute(sql, params):
        yield store.row(values)


def read_channel_types(conn: Connection, channel: str, types: Sequence[str]) -> list[StoredEvent]:
    marks = ",".join("?" * len(types))
    return [
        store.row(v)
        for v in conn.execute(
            f"SELECT {COLUMNS} FROM events WHERE channel = ? AND type IN ({marks}) ORDER BY seq", (channel, *types)
        )
    ]


def read_types(conn: Connection, types: Sequence[str]) -> list[StoredEvent]:
    marks = ",".join("?" * len(types))
    return [
        store.row(v)
        for v in conn.execute(f"SELECT {COLUMNS} FROM events WHERE type IN ({marks}) ORDER BY seq", tuple(types))
    ]


def stream_version(conn: Connection, channel: str, known_at: str | None = None) -> int:
    """The channel stream's version: how many of its events were recorded (by ``known_at``)."""
    if known_at is None:
        row = conn.execute("SELECT max(version) FROM events WHERE channel = ?", (channel,)).fetchone()
    else:
        # Versions grow with recorded_at within a channel: walk down from the newest.
        row = conn.execute(
            "SELECT version FROM events WHERE channel = ? AND recorded_at <= ? ORDER BY version DESC LIMIT 1",
            (channel, known_at),
        ).fetchone()
    return row[0] or 0 if row else 0


def head_seq(conn: Connection) -> int:
    return store.head_row(Sql(conn))[0]
