"""Rebuild every projection from the log in one streaming pass, then swap atomically.

The rebuild runs on the log's writer connection (appends wait, readers keep
reading the old tables) and the new tables replace the old ones in the same
transaction, so no reader ever sees a half-built projection.

It feeds the log, in seq order, through the same maintainer the appends use: each channel's
events are applied in recording order, so the rows a back-dated event or an amendment closed
are reproduced with the same recording intervals, byte for byte.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

import msgspec

from diplo.events.reads import head_seq
from diplo.events.sqlite import connect
from diplo.projections.tables import (
    CHUNK,
    PROJECTION_TABLES,
    RETIRED_TABLES,
    Background,
    Maintainer,
    create_indexes,
    create_tables,
    set_meta,
)

Progress = Callable[[int], None]


class ReplayStats(msgspec.Struct, kw_only=True):
    events: int
    channels: int
    seconds: float
    events_per_second: float
    checkpoint: int


class Drift(msgspec.Struct, kw_only=True):
    table: str
    only_live: int
    only_rebuilt: int


def build(conn: sqlite3.Connection, suffix: str, progress: Progress | None = None) -> ReplayStats:
    """Fill fresh ``<table><suffix>`` tables from the log in one streaming pass."""
    started = time.perf_counter()
    for table in PROJECTION_TABLES:
        conn.execute(f"DROP TABLE IF EXISTS {table}{suffix}")
    create_tables(conn, suffix, indexes=False)
    checkpoint = head_seq(conn)
    # The log is read on a connection of its own (the events are committed; the rebuild writes only
    # projection tables), so that the writer connection is free for the background inserts meanwhile.
    reader = own_reader(conn)
    background = Background(conn) if reader is not None else None
    maintainer = Maintainer(suffix, background)
    source = reader if reader is not None else conn
    after, count = 0, 0
    # Only the columns the maintainer reads: the hashes and instants are not folded.
    sql = "SELECT seq, id, type, channel, version, occurred_on, body FROM events WHERE seq > ? AND seq <= ?"
    sql += " ORDER BY seq LIMIT ?"
    try:
        while chunk := source.execute(sql, (after, checkpoint, CHUNK)).fetchall():
            maintainer.replay_chunk(conn, chunk)
            after = chunk[-1][0]
            count += len(chunk)
            if progress is not None:
                progress(len(chunk))
    finally:
        if background is not None:
            background.close()
        if reader is not None:
            reader.close()
    maintainer.write_heads(conn, list(maintainer.heads))
    seconds = time.perf_counter() - started
    stats = ReplayStats(
        events=count,
        channels=sum(1 for head, _ in maintainer.heads.values() if head is not None),
        seconds=round(seconds, 4),
        events_per_second=round(count / seconds if seconds else 0.0, 1),
        checkpoint=checkpoint,
    )
    return stats


def own_reader(conn: sqlite3.Connection) -> sqlite3.Connection | None:
    """On SQLite, a second connection to the same file: the log is read there while a background thread
    inserts on ``conn``. None elsewhere (a server's connection reads its own chunks in turn)."""
    if not isinstance(conn, sqlite3.Connection):
        return None
    return connect(conn.execute("PRAGMA database_list").fetchone()[2])


def rebuild_and_swap(conn: sqlite3.Connection, progress: Progress | None = None) -> ReplayStats:
    """Rebuild into ``*_next`` tables and swap them in (the caller holds the transaction)."""
    stats = build(conn, "_next", progress)
    for table in PROJECTION_TABLES:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
        conn.execute(f"ALTER TABLE {table}_next RENAME TO {table}")
    for table in RETIRED_TABLES:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
    create_indexes(conn)
    set_meta(conn, stats.checkpoint)
    return stats


def start_empty(conn: sqlite3.Connection) -> ReplayStats:
    """A log with no events has nothing to replay: the live tables and indexes ``create_tables`` made are
    the rebuilt ones. Half the statements of a rebuild and swap, which counts on a database server."""
    for table in RETIRED_TABLES:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
    set_meta(conn, 0)
    return ReplayStats(events=0, channels=0, seconds=0.0, events_per_second=0.0, checkpoint=0)


def check(conn: sqlite3.Connection, progress: Progress | None = None) -> tuple[ReplayStats, list[Drift]]:
    """Rebuild into scratch tables and report rows that differ from the live ones."""
    stats = build(conn, "_check", progress)
    drift = []
    for table in PROJECTION_TABLES:
        only_live = conn.execute(
            f"SELECT count(*) FROM (SELECT * FROM {table} EXCEPT SELECT * FROM {table}_check)"
        ).fetchone()[0]
        only_new = conn.execute(
            f"SELECT count(*) FROM (SELECT * FROM {table}_check EXCEPT SELECT * FROM {table})"
        ).fetchone()[0]
        drift.append(Drift(table=table, only_live=only_live, only_rebuilt=only_new))
        conn.execute(f"DROP TABLE {table}_check")
    return stats, drift
