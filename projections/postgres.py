"""The projections on a database server: the same tables, folds and queries, and a replay that
builds outside the append lock.

The SQL of projections/ is SQLite's; the log's connections translate it (events/pg_adapter.py).
What differs is only when the lock is held. A replay builds fresh tables on a connection of its
own while every server keeps appending; then, under the append lock, it swaps them in and
applies what was appended meanwhile, in one transaction: readers see the old tables or the new
ones, caught up, never a half-built or a lagging projection. ``check`` compares a rebuild with the
live tables inside one repeatable-read snapshot, so concurrent appends cause no false drift.
"""

from __future__ import annotations

from typing import Any

from diplo.events.postgres import PostgresLog
from diplo.events.reads import read_rows
from diplo.projections import replay, tables
from diplo.projections.queries import Projections
from diplo.projections.replay import Drift, Progress, ReplayStats  # by name: the method ``replay`` hides the module

REPLAY_LOCK = 0x6469706C6F02  # "diplo" 02: one replay or check at a time, on any server


class ServerProjections(Projections):
    """Projections over a log with ``session()`` (PostgresLog)."""

    log: PostgresLog

    def _catch_up(self, conn: Any, checkpoint: int) -> None:
        conn.stream = True  # a long catch-up reads the log a page at a time
        try:
            super()._catch_up(conn, checkpoint)
        finally:
            conn.stream = False

    def replay(self, progress: Progress | None = None) -> ReplayStats:
        session = self.log.session()
        try:
            session.execute("SELECT pg_advisory_lock(?)", (REPLAY_LOCK,))  # released when the session ends
            session.execute("BEGIN")
            stats = replay.build(session, "_next", progress)  # type: ignore[arg-type]  # speaks sqlite3
            session.commit()
            stats = self.log.run_in_writer(lambda conn: self._swap(conn, stats))
        finally:
            session.close()
        self.last_replay = stats
        return stats

    def _swap(self, conn: Any, stats: ReplayStats) -> ReplayStats:
        """Under the append lock: the new tables replace the old, then take the rows appended since the build."""
        for table in tables.PROJECTION_TABLES:
            conn.execute(f"DROP TABLE IF EXISTS {table}")
            conn.execute(f"ALTER TABLE {table}_next RENAME TO {table}")
        for table in tables.RETIRED_TABLES:
            conn.execute(f"DROP TABLE IF EXISTS {table}")
        tables.create_indexes(conn)  # named as the live ones, so built once the old tables are gone
        tables.set_meta(conn, stats.checkpoint)
        self.maintainer.forget()
        checkpoint = stats.checkpoint
        while rows := list(read_rows(conn, after=checkpoint, limit=5_000)):
            self.maintainer(conn, rows)
            checkpoint = rows[-1].seq
        return stats

    def check(self, progress: Progress | None = None) -> tuple[ReplayStats, list[Drift]]:
        session = self.log.session()
        try:
            session.execute("SELECT pg_advisory_lock(?)", (REPLAY_LOCK,))
            session.raw.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")  # the log and the tables at one moment
            return replay.check(session, progress)  # type: ignore[arg-type]  # speaks sqlite3
        finally:
            session.rollback()  # the scratch tables go with it
            session.close()
