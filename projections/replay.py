"""Rebuild every projection from the log in one streaming pass, then swap atomically.

The rebuild runs on the log's writer connection (appends wait, readers keep
reading the old tables) and the new tables replace the old ones in the same
transaction, so no reader ever sees a half-built projection.
"""

from __future__ import annotations

import itertools
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from operator import attrgetter

import msgspec

from events.log import StoredEvent
from events.sqlite import head_seq, read_types, stream_by_channel, stream_types
from projections.amendments import AMENDMENT_TYPES, Amendments, Effective
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
    """Fill fresh ``<table><suffix>`` tables from the log in one streaming pass; stats and the sanctions key.

    Memory stays bounded: a channel's events stream through the fold straight into its history rows.
    Only a channel with corrections or retractions is read whole, since a correction may move an event.
    """
    started = time.perf_counter()
    for table in PROJECTION_TABLES:
        conn.execute(f"DROP TABLE IF EXISTS {table}{suffix}")
    create_tables(conn, suffix)
    checkpoint = head_seq(conn)
    amendment_rows = [r for r in read_types(conn, AMENDMENT_TYPES) if r.seq <= checkpoint]
    amendments = Amendments.collect(amendment_rows)
    amended_channels = {r.channel for r in amendment_rows}
    count = 0

    def counted(rows: Iterable[StoredEvent]) -> Iterator[StoredEvent]:
        nonlocal count
        for row in rows:
            if row.seq > checkpoint:
                continue
            count += 1
            if progress is not None and count % 10_000 == 0:
                progress(10_000)
            yield row

    channels = 0
    for channel, group in itertools.groupby(counted(stream_by_channel(conn)), key=attrgetter("channel")):
        items: Iterable[Effective] = (e for e in map(amendments.apply, group) if e is not None)
        if channel in amended_channels:
            items = sorted(items, key=attrgetter("key"))
        write_channel(conn, channel, ChannelState(channel=channel), items, suffix)
        channels += 1
    if progress is not None:
        progress(count % 10_000)
    sanction_rows = (r for r in stream_types(conn, SANCTION_TYPES) if r.seq <= checkpoint)
    sanction_events: Iterable[Effective] = (e for e in map(amendments.apply, sanction_rows) if e is not None)
    if amendments:
        sanction_events = sorted(sanction_events, key=attrgetter("key"))
    last_key = [""]

    def remember(items: Iterable[Effective]) -> Iterator[Effective]:
        for item in items:
            last_key[0] = item.key[0]
            yield item

    write_sanctions(conn, fold_sanctions(remember(sanction_events)), suffix)
    seconds = time.perf_counter() - started
    stats = ReplayStats(
        events=count,
        channels=channels,
        seconds=round(seconds, 4),
        events_per_second=round(count / seconds if seconds else 0.0, 1),
        checkpoint=checkpoint,
    )
    return stats, last_key[0]


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
