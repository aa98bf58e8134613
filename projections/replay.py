"""Rebuild every projection from the log in one streaming pass, then swap atomically.

The rebuild runs on the log's writer connection (appends wait, readers keep
reading the old tables) and the new tables replace the old ones in the same
transaction, so no reader ever sees a half-built projection.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable

import msgspec

from events.sqlite import head_seq, read_types, stream_by_channel
from projections.amendments import AMENDMENT_TYPES, Amendments, effective_in_valid_order
from projections.sanctions import SANCTION_TYPES, fold_sanctions
from projections.state import ChannelState
from projections.tables import PROJECTION_TABLES, create_tables, set_meta, write_channel, write_sanctions

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


def build(conn: sqlite3.Connection, suffix: str, progress: Progress | None = None) -> tuple[ReplayStats, str]:
    """Fill fresh ``<table><suffix>`` tables from the log; returns stats and the sanctions key."""
    started = time.perf_counter()
    for table in PROJECTION_TABLES:
        conn.execute(f"DROP TABLE IF EXISTS {table}{suffix}")
    create_tables(conn, suffix)
    checkpoint = head_seq(conn)
    amendments = Amendments.collect(read_types(conn, AMENDMENT_TYPES))
    count = channels = 0
    channel: str | None = None
    rows: list = []

    def flush() -> None:
        nonlocal channels
        if channel is not None:
            write_channel(
                conn, channel, ChannelState(channel=channel), effective_in_valid_order(rows, amendments), suffix
            )
            channels += 1

    for row in stream_by_channel(conn):
        if row.seq > checkpoint:
            continue
        if row.channel != channel:
            flush()
            channel, rows = row.channel, []
        rows.append(row)
        count += 1
        if progress is not None and count % 10_000 == 0:
            progress(10_000)
    flush()
    if progress is not None:
        progress(count % 10_000)
    sanction_events = effective_in_valid_order(
        [r for r in read_types(conn, SANCTION_TYPES) if r.seq <= checkpoint], amendments
    )
    write_sanctions(conn, fold_sanctions(sanction_events), suffix)
    seconds = time.perf_counter() - started
    stats = ReplayStats(
        events=count,
        channels=channels,
        seconds=round(seconds, 4),
        events_per_second=round(count / seconds if seconds else 0.0, 1),
        checkpoint=checkpoint,
    )
    return stats, sanction_events[-1].key[0] if sanction_events else ""


def rebuild_and_swap(conn: sqlite3.Connection, progress: Progress | None = None) -> ReplayStats:
    """Rebuild into ``*_next`` tables and swap them in (the caller holds the transaction)."""
    stats, sanctions_key = build(conn, "_next", progress)
    for table in PROJECTION_TABLES:
        conn.execute(f"DROP TABLE IF EXISTS {table}")
        conn.execute(f"ALTER TABLE {table}_next RENAME TO {table}")
    set_meta(conn, stats.checkpoint, sanctions_key)
    return stats


def check(conn: sqlite3.Connection, progress: Progress | None = None) -> tuple[ReplayStats, list[Drift]]:
    """Rebuild into scratch tables and report rows that differ from the live ones."""
    stats, _ = build(conn, "_check", progress)
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
