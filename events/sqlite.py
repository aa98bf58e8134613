"""The log on SQLite: WAL, synchronous=FULL, one group-committing writer.

The writer, the placement of requests and the SQL of the ``events`` table are shared
with the PostgreSQL log (events/writer.py, events/placement.py, events/store.py); this
module holds what is SQLite's own: connections, the transaction, backup, and the
functions at the bottom through which projections read the table.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import structlog
from sqlite_utils import Database

from diplo.events import clock, store
from diplo.events.errors import LogError, Unavailable
from diplo.events.log import Head, IdempotencyKey, StoredEvent, Verification
from diplo.events.placement import KEY_LIFETIME, Known, Request
from diplo.events.schema import migrate
from diplo.events.store import COLUMNS, Sql, chain_hash
from diplo.events.writer import MAX_GROUP, GroupCommitLog, T

__all__ = ["COLUMNS", "MAX_GROUP", "IdempotencyKey", "SQLiteLog", "chain_hash", "connect"]

logger = structlog.get_logger("diplo.log")

BUSY_TIMEOUT_MS = 10_000


def connect(path: str | Path, *, synchronous: str = "FULL") -> sqlite3.Connection:
    """A connection with the pragmas every diplo connection uses."""
    conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA cache_size=-65536")  # 64 MiB: index inserts stay in memory
    return conn


def _row(values: tuple) -> StoredEvent:
    return store.row(values)


class SQLiteLog(GroupCommitLog):
    """The event log in one SQLite file. Safe to share between threads."""

    def __init__(self, path: str | Path, *, synchronous: str = "FULL", append_timeout: float = 30.0):
        self.path = str(path)
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._synchronous = synchronous
        self._write_conn = connect(self.path, synchronous=synchronous)
        self._write_db = Sql(self._write_conn)
        migrate(Database(self._write_conn))
        self._local = threading.local()
        self._purged_at = 0.0
        super().__init__(append_timeout)

    # -- connections -------------------------------------------------------
    def reader(self) -> sqlite3.Connection:
        """This thread's read connection (WAL readers never block the writer)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path, synchronous=self._synchronous)
            self._local.conn = conn
        return conn

    # -- appending ---------------------------------------------------------
    def _rolled_back(self) -> None:
        if self._write_conn.in_transaction:
            self._write_conn.execute("ROLLBACK")
        self._forget()

    def _commit_group(self, group: list[Request]) -> None:
        """One transaction and one fsync for the whole group; each request gets its own answer.

        The fast path checks every request in memory and writes the group's rows with one
        executemany. If writing fails unexpectedly (SQLite, or a hook), the group is redone one
        request at a time under savepoints, so one bad request can never fail its neighbours.
        """
        conn, db = self._write_conn, self._write_db
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            self._fail(group, Unavailable(f"the database is busy ({error}); retry shortly"))
            return
        try:
            try:
                outcomes, appended, learnt = self._write_group(db, group)
            except Exception as error:
                logger.warning("writer.group_redone_one_by_one", error=repr(error))
                self._rolled_back()
                conn.execute("BEGIN IMMEDIATE")
                outcomes, appended = self._write_one_by_one(db, group)
                learnt = Known()
            self._purge_old_keys(db)
            conn.execute("COMMIT")
            self._known = learnt
        except BaseException as error:
            self._rolled_back()
            failure = (
                error if isinstance(error, LogError) else Unavailable(f"the append could not be committed: {error}")
            )
            self._fail(group, failure)
            return
        self._answer(group, outcomes, appended)

    def _purge_old_keys(self, db: Sql) -> None:
        """Idempotency keys are kept 48 hours; older ones are dropped about once an hour."""
        now = time.monotonic()
        if now - self._purged_at < 3600:
            return
        self._purged_at = now
        store.purge_keys(db, clock.format_instant(dt.datetime.now(dt.UTC) - KEY_LIFETIME))

    # -- reading -----------------------------------------------------------
    def _read(self, work: Callable[[Sql], T]) -> T:
        return work(Sql(self.reader()))

    def iterate(self, after: int = 0) -> Iterator[StoredEvent]:
        """Every event after seq, in seq order, streamed (a fresh connection of its own)."""
        conn = connect(self.path, synchronous=self._synchronous)
        try:
            cursor = conn.execute(f"SELECT {COLUMNS} FROM events WHERE seq > ? ORDER BY seq", (after,))
            while chunk := cursor.fetchmany(2_000):
                for values in chunk:
                    yield _row(values)
        finally:
            conn.close()

    def head(self) -> Head:
        seq, digest, _ = store.head_row(Sql(self.reader()))
        return Head(seq, digest)

    def verify(self, tail: int | None = None) -> Verification:
        """Recompute the hash chain (all of it, or the last ``tail`` events)."""
        conn = connect(self.path, synchronous=self._synchronous)
        try:
            return store.verify(Sql(conn), tail)
        finally:
            conn.close()

    def backup(self, target: str | Path) -> Head:
        """A consistent copy of the whole database, taken online (SQLite's backup API); its head."""
        source = connect(self.path, synchronous=self._synchronous)
        destination = sqlite3.connect(str(target))
        try:
            with destination:
                source.backup(destination)
            destination.execute("PRAGMA journal_mode=WAL")
            seq, digest, _ = store.head_row(Sql(destination))
            return Head(seq, digest)
        finally:
            destination.close()
            source.close()

    def checkpoint(self) -> None:
        """Fold the WAL back into the database file (after a bulk write such as a replay)."""
        conn = connect(self.path, synchronous=self._synchronous)
        try:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            conn.close()

    def close(self) -> None:
        self._stop_writer()
        self._write_conn.close()
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
