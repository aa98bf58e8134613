"""The log on PostgreSQL (psycopg 3): the same behaviour as SQLiteLog, for several processes.

Each process has one writer thread that group-commits (events/writer.py) and places
requests with the same rules (events/placement.py). Across processes, every commit group
takes one transaction-level advisory lock before it reads the head, so the hash chain has
one total order whichever server appends; read committed then sees every earlier group.
After each commit a NOTIFY on ``diplo_events`` carries the new head seq: ``listen()`` turns
it into subscriber calls, so appends on any server reach subscribers on every server.

When the server goes away, requests get Unavailable (503, retry); the writer, the readers
and the listener reconnect by themselves once it is back.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import suppress
from functools import partial
from typing import TypeVar

import psycopg
import structlog
from psycopg import conninfo
from psycopg.pq import TransactionStatus

from diplo.events import clock, pg_adapter, pg_schema, store
from diplo.events.errors import LogError, Unavailable
from diplo.events.log import Head, StoredEvent, Verification
from diplo.events.placement import KEY_LIFETIME, Known, Request
from diplo.events.store import Sql
from diplo.events.writer import GroupCommitLog

logger = structlog.get_logger("diplo.log")

APPEND_LOCK = 0x6469706C6F01  # "diplo" 01: held by the one commit group appending anywhere
NOTIFY_CHANNEL = "diplo_events"
# The connection is gone (server restart, network): nothing a retry on it could fix.
LOST: tuple[type[Exception], ...] = (psycopg.OperationalError, psycopg.InterfaceError)
RECONNECT: tuple[type[Exception], ...] = (Unavailable, *LOST)  # the listener reconnects after these
T = TypeVar("T")


def _where(dsn: str) -> str:
    """The server and database of a DSN, for messages (never its password)."""
    try:
        parts = conninfo.conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        return "the configured PostgreSQL server"
    return f"PostgreSQL at {parts.get('host', 'localhost')}:{parts.get('port', 5432)}/{parts.get('dbname', '')}"


class PostgresLog(GroupCommitLog):
    """The event log in one PostgreSQL database. Safe to share between threads and processes."""

    def __init__(self, dsn: str, *, append_timeout: float = 30.0, connect_timeout: float = 5.0):
        self.dsn = dsn
        self.where = _where(dsn)
        self._connect_timeout = connect_timeout
        self._act_as_app = False  # the migrations run as the user connecting
        with self._connect() as conn:
            pg_schema.migrate(conn)
        self._act_as_app = True
        self._write_conn: psycopg.Connection | None = None
        self._idle: list[psycopg.Connection] = []  # read connections, reused LIFO
        self._idle_lock = threading.Lock()
        self._purged_at = 0.0
        self._listening: _Listen | None = None
        self.dialect = pg_adapter.Dialect()  # SQLite's SQL (the projections') translated
        self._reader = pg_adapter.PooledReader(self._read_raw, self.dialect)
        super().__init__(append_timeout)

    # -- connections -------------------------------------------------------
    def _connect(self) -> psycopg.Connection:
        try:
            timeout = max(1, round(self._connect_timeout))
            conn = psycopg.connect(self.dsn, autocommit=True, connect_timeout=timeout, application_name="diplo")
            if self._act_as_app:
                pg_schema.act_as_app(conn)
        except LOST as error:
            raise self._unavailable(error) from None
        return pg_adapter.prepare(conn)

    def _unavailable(self, error: BaseException) -> Unavailable:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return Unavailable(f"{self.where} is unavailable ({reason}); retry shortly")

    def _read(self, work: Callable[[Sql], T]) -> T:
        """Run a read on a pooled connection. A connection that died while idle (the server
        restarted) is dropped with all its idle siblings and the read tried once more afresh."""
        for attempt in (1, 2):
            with self._idle_lock:
                conn = self._idle.pop() if self._idle else None
            fresh = conn is None
            conn = conn or self._connect()
            try:
                result = work(Sql(conn, "%s"))
            except LOST as error:
                with suppress(Exception):
                    conn.close()
                self._drop_idle()
                if fresh or attempt == 2:
                    raise self._unavailable(error) from None
                continue
            except BaseException:
                conn.close()
                raise
            with self._idle_lock:
                if len(self._idle) < 8 and not self._closing:
                    self._idle.append(conn)
                    conn = None
            if conn is not None:
                conn.close()
            return result
        raise AssertionError("unreachable")

    def _read_raw(self, work: Callable[[psycopg.Connection], T]) -> T:
        return self._read(lambda db: work(db.conn))

    def reader(self) -> pg_adapter.PooledReader:
        """A connection speaking SQLite's SQL, for the projections' reads (each statement on a pooled
        connection, autocommit, as SQLite's readers are)."""
        return self._reader

    def session(self, *, stream: bool = True) -> pg_adapter.Connection:
        """A connection of its own speaking SQLite's SQL (a replay builds on one, outside the append
        lock); ``stream``: SELECTs inside a transaction are read a page at a time. Close it when done."""
        return pg_adapter.Connection(self._connect(), self.dialect, stream=stream)

    def checkpoint(self) -> None:
        """Nothing to fold back: PostgreSQL has no WAL file of the database's own to trim."""

    def _drop_idle(self) -> None:
        with self._idle_lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            with suppress(Exception):
                conn.close()

    def _writer_db(self) -> Sql:
        """The writer's connection; hooks and ``run_in_writer`` work receive it speaking SQLite's SQL."""
        conn = self._write_conn
        if conn is None or conn.closed:
            conn = self._write_conn = self._connect()
        return Sql(pg_adapter.Connection(conn, self.dialect))

    def _drop_writer_connection(self) -> None:
        conn, self._write_conn = self._write_conn, None
        if conn is not None:
            with suppress(Exception):
                conn.close()
        self._forget()

    # -- appending ---------------------------------------------------------
    def _begin(self) -> Sql:
        """BEGIN and the append lock; a writer connection that died while idle is replaced once."""
        for attempt in (1, 2):
            db = self._writer_db()
            try:
                db.execute("BEGIN")
                db.execute("SELECT pg_advisory_xact_lock(?)", (APPEND_LOCK,))
                return db
            except LOST as error:
                self._drop_writer_connection()
                if attempt == 2:
                    raise self._unavailable(error) from None
        raise AssertionError("unreachable")

    def _rolled_back(self) -> None:
        conn = self._write_conn
        if conn is not None and not conn.closed and conn.info.transaction_status != TransactionStatus.IDLE:
            try:
                conn.execute("ROLLBACK")
            except LOST:
                self._drop_writer_connection()
        self._forget()

    def _commit_group(self, group: list[Request]) -> None:
        """One transaction for the group, under the append lock; each request gets its own answer.

        As on SQLite: the fast path places every request in memory and inserts once; an
        unexpected failure redoes the group request by request under savepoints. A lost
        connection fails the group with Unavailable: the caller retries with the same ids.
        """
        try:
            db = self._begin()
        except Unavailable as error:
            self._fail(group, error)
            return
        try:
            try:
                outcomes, appended, learnt = self._write_group(db, group)
            except LOST:
                raise
            except Exception as error:
                logger.warning("writer.group_redone_one_by_one", error=repr(error))
                self._rolled_back()
                db = self._begin()
                outcomes, appended = self._write_one_by_one(db, group, lost=LOST)
                learnt = Known()
            self._purge_old_keys(db)
            if appended:
                db.execute("SELECT pg_notify(?, ?)", (NOTIFY_CHANNEL, str(appended[-1].seq)))
            db.execute("COMMIT")
            self._known = learnt
        except LOST as error:
            logger.warning("writer.connection_lost", error=repr(error))
            self._drop_writer_connection()
            self._fail(group, self._unavailable(error))
            return
        except BaseException as error:
            self._rolled_back()
            failure = (
                error if isinstance(error, LogError) else Unavailable(f"the append could not be committed: {error}")
            )
            self._fail(group, failure)
            return
        self._answer(group, outcomes, appended)

    def _loaded(self, db: Sql, rows: Sequence[StoredEvent]) -> None:
        if rows:
            db.execute("SELECT pg_notify(?, ?)", (NOTIFY_CHANNEL, str(rows[-1].seq)))

    def _purge_old_keys(self, db: Sql) -> None:
        """Idempotency keys are kept 48 hours; older ones are dropped about once an hour."""
        now = time.monotonic()
        if now - self._purged_at < 3600:
            return
        self._purged_at = now
        store.purge_keys(db, clock.format_instant(dt.datetime.now(dt.UTC) - KEY_LIFETIME))

    # -- subscribers -------------------------------------------------------
    def _publish(self, rows: Sequence[StoredEvent]) -> None:
        if self._listening is None:  # else the listener delivers every process's rows, in seq order
            super()._publish(rows)

    def listen(self) -> _Listen:
        """Deliver to subscribers what any process appends, in seq order, from a listener thread.

        From then on subscribers are called by that thread (not the writer) with the rows after
        each notified seq, read from the database; returns once it is listening."""
        if self._listening is None:
            self._listening = _Listen(self)
            self._listening.start()
            self._listening.ready.wait(self._connect_timeout + 5)
        return self._listening

    def iterate(self, after: int = 0) -> Iterator[StoredEvent]:
        """Every event after seq, in seq order, a page at a time."""
        while page := self._read(partial(_first_page, after=after)):
            yield from page
            after = page[-1].seq

    def head(self) -> Head:
        seq, digest, _ = self._read(store.head_row)
        return Head(seq, digest)

    def verify(self, tail: int | None = None) -> Verification:
        """Recompute the hash chain (all of it, or the last ``tail`` events)."""
        return self._read(lambda db: store.verify(db, tail))

    def close(self) -> None:
        if self._listening is not None:
            self._listening.stop()
        self._stop_writer()
        self._drop_writer_connection()
        self._drop_idle()


def _first_page(db: Sql, after: int) -> list[StoredEvent]:
    return next(store.pages(db, after, 2_000), [])


class _Listen(threading.Thread):
    """LISTEN diplo_events; on each notification, read the rows after the last delivered seq."""

    def __init__(self, owner: PostgresLog):
        super().__init__(name="diplo-listen", daemon=True)
        self.owner = owner
        self.delivered: int | None = None
        self.ready = threading.Event()
        self._stopped = threading.Event()

    def stop(self) -> None:
        self._stopped.set()
        self.join(timeout=5)

    def run(self) -> None:
        pause = 0.1
        while not self._stopped.is_set():
            try:
                with self.owner._connect() as conn:
                    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    db = Sql(conn, "%s")
                    if self.delivered is None:  # after LISTEN: nothing committed later is missed
                        self.delivered = store.head_row(db)[0]
                    self.ready.set()
                    self._catch_up(db)  # what was committed while reconnecting
                    pause = 0.1
                    while not self._stopped.is_set():
                        notes = list(conn.notifies(timeout=0.5, stop_after=1))
                        if notes:
                            self._catch_up(db)
            except RECONNECT as error:
                logger.warning("listen.reconnecting", error=repr(error))
            except Exception as error:  # never let subscribers go quiet for good
                logger.exception("listen.failed", error=repr(error))
            self._stopped.wait(pause)
            pause = min(pause * 2, 2.0)

    def _catch_up(self, db: Sql) -> None:
        for page in store.pages(db, self.delivered or 0):
            GroupCommitLog._publish(self.owner, page)
            self.delivered = page[-1].seq
