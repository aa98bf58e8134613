"""The log on SQLite: WAL, synchronous=FULL, one group-committing writer.

Nothing outside ``events/`` touches SQL of the ``events`` table; projections
read it through the functions at the bottom of this module.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from pathlib import Path

import msgspec
import structlog
from sqlite_utils import Database

from events import clock, rules
from events.catalog import ChannelEstablished, CommitmentStatus, Event, EventCorrected, EventRetracted, decode, encode
from events.errors import ChainBroken, Conflict, LogError, Refused, Unavailable
from events.log import GENESIS, AppendHook, Head, Receipt, StoredEvent, Verification
from events.schema import migrate
from events.validation import InvalidEvent

log = structlog.get_logger("diplo.log")

COLUMNS = "seq, id, type, channel, version, occurred_on, recorded_at, body, prev_hash, hash, writer"
BUSY_TIMEOUT_MS = 10_000
MAX_GROUP = 512


def connect(path: str | Path, *, synchronous: str = "FULL") -> sqlite3.Connection:
    """A connection with the pragmas every diplo connection uses."""
    conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000)
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA cache_size=-65536")  # 64 MiB: index inserts stay in memory
    return conn


def chain_hash(prev_hash: str, body: bytes) -> str:
    """hash = sha256(prev_hash || body), prev_hash taken as its 32 raw bytes."""
    return hashlib.sha256(bytes.fromhex(prev_hash) + body).hexdigest()


def _row(values: tuple) -> StoredEvent:
    return StoredEvent(
        seq=values[0],
        id=values[1],
        type=values[2],
        channel=values[3],
        version=values[4],
        occurred_on=values[5],
        recorded_at=values[6],
        body=values[7],
        prev_hash=values[8],
        hash=values[9],
        writer=values[10],
    )


class IdempotencyKey(msgspec.Struct, frozen=True):
    """A client's Idempotency-Key and the fingerprint of the request body it was sent with."""

    key: str
    fingerprint: str


class _Request(msgspec.Struct):
    events: Sequence[Event]
    expected_version: int | None
    writer: str | None
    future: Future
    work: Callable[[sqlite3.Connection], object] | None = None
    idempotency: IdempotencyKey | None = None


_RECEIPTS = msgspec.json.Decoder(list[Receipt])
KEY_LIFETIME = dt.timedelta(hours=48)  # promised: at least 24 h


class SQLiteLog:
    """The event log in one SQLite file. Safe to share between threads."""

    def __init__(self, path: str | Path, *, synchronous: str = "FULL", append_timeout: float = 30.0):
        self.path = str(path)
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._synchronous = synchronous
        self.append_timeout = append_timeout
        self._write_conn = connect(self.path, synchronous=synchronous)
        db = Database(self._write_conn)
        migrate(db)
        self._local = threading.local()
        self._hooks: list[AppendHook] = []
        self._listeners: list[Callable[[Sequence[StoredEvent]], None]] = []
        self._listeners_lock = threading.Lock()
        self._queue: queue.SimpleQueue[_Request | None] = queue.SimpleQueue()
        self.writes_refused: ChainBroken | None = None
        self.group_listeners: list[Callable[[int], None]] = []  # told each committed group's size
        # Writer-thread only: what earlier groups learnt (channel versions, establishment dates),
        # true while the head is still the one the writer left (no other process wrote, no rollback).
        self._known = _Known()
        self._writer_lock = threading.Lock()
        self._closing = False
        self._writer = self._start_writer()
        self._purged_at = 0.0

    def _start_writer(self) -> threading.Thread:
        writer = threading.Thread(target=self._write_loop, name="diplo-writer", daemon=True)
        writer.start()
        return writer

    @property
    def writer_alive(self) -> bool:
        return self._writer.is_alive()

    def _ensure_writer(self) -> None:
        """A writer that died (it should not) is started again, so appends never wait forever."""
        if self._writer.is_alive() or self._closing:
            return
        with self._writer_lock:
            if not self._writer.is_alive():
                log.error("writer.restarted")
                self._known = _Known()
                self._forget_hooks()
                self._writer = self._start_writer()

    # -- connections -------------------------------------------------------
    def reader(self) -> sqlite3.Connection:
        """This thread's read connection (WAL readers never block the writer)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path, synchronous=self._synchronous)
            self._local.conn = conn
        return conn

    def add_hook(self, hook: AppendHook) -> None:
        """Run hook(conn, rows) inside each append's transaction. A hook that keeps caches
        gives itself a ``forget()`` method: it is called whenever a transaction rolls back."""
        self._hooks.append(hook)

    def _forget_hooks(self) -> None:
        for hook in self._hooks:
            forget = getattr(hook, "forget", None)
            if forget is not None:
                forget()

    def run_in_writer(self, work: Callable[[sqlite3.Connection], object]) -> object:
        """Run work on the writer connection, serialised with appends (e.g. a projection swap)."""
        future: Future = Future()
        self._ensure_writer()
        self._queue.put(_Request(events=(), expected_version=None, writer=None, future=future, work=work))
        return future.result()

    # -- appending ---------------------------------------------------------
    def append(
        self,
        events: Sequence[Event],
        expected_version: int | None = None,
        writer: str | None = None,
        idempotency: IdempotencyKey | None = None,
    ) -> list[Receipt]:
        future = self._submit(events, expected_version, writer, idempotency)
        try:
            return future.result(timeout=self.append_timeout)
        except TimeoutError:
            raise self._timed_out() from None

    async def append_async(
        self,
        events: Sequence[Event],
        expected_version: int | None = None,
        writer: str | None = None,
        idempotency: IdempotencyKey | None = None,
    ) -> list[Receipt]:
        future = asyncio.wrap_future(self._submit(events, expected_version, writer, idempotency))
        try:
            return await asyncio.wait_for(asyncio.shield(future), self.append_timeout)
        except TimeoutError:
            raise self._timed_out() from None

    def _timed_out(self) -> Unavailable:
        # The request may still commit later: a retry with the same ids or Idempotency-Key is safe.
        return Unavailable(
            f"the log did not confirm the append within {self.append_timeout:g} s; retry with the same ids"
        )

    def _submit(
        self,
        events: Sequence[Event],
        expected_version: int | None,
        writer: str | None,
        idempotency: IdempotencyKey | None = None,
    ) -> Future:
        future: Future = Future()
        if self.writes_refused is not None:
            future.set_exception(self.writes_refused)
        elif not events:
            future.set_exception(InvalidEvent("nothing to append: send at least one event"))
        else:
            self._ensure_writer()
            self._queue.put(
                _Request(
                    events=list(events),
                    expected_version=expected_version,
                    writer=writer,
                    future=future,
                    idempotency=idempotency,
                )
            )
        return future

    def _write_loop(self) -> None:
        conn = self._write_conn
        while True:
            first = self._queue.get()
            if first is None:
                return
            group = [first]
            while len(group) < MAX_GROUP:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._queue.put(None)
                    break
                group.append(nxt)
            try:
                self._commit_group(conn, group)
            except BaseException as error:  # the writer must outlive any one group
                log.exception("writer.group_failed", error=repr(error))
                self._rolled_back(conn)
                failure = Unavailable(f"the append could not be committed: {error!r}")
                for request in group:
                    if not request.future.done():
                        request.future.set_exception(failure)

    def _rolled_back(self, conn: sqlite3.Connection) -> None:
        """After any rollback nothing learnt in the transaction may be used again."""
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        self._known = _Known()
        self._forget_hooks()

    def _commit_group(self, conn: sqlite3.Connection, group: list[_Request]) -> None:
        """One transaction and one fsync for the whole group; each request gets its own answer.

        The fast path checks every request in memory and writes the group's rows with one
        executemany. If writing fails unexpectedly (SQLite, or a hook), the group is redone one
        request at a time under savepoints, so one bad request can never fail its neighbours.
        """
        try:
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as error:
            for request in group:
                request.future.set_exception(Unavailable(f"the database is busy ({error}); retry shortly"))
            return
        try:
            try:
                outcomes, appended, learnt = self._write_group(conn, group)
            except Exception as error:
                log.warning("writer.group_redone_one_by_one", error=repr(error))
                self._rolled_back(conn)
                conn.execute("BEGIN IMMEDIATE")
                outcomes, appended = self._write_one_by_one(conn, group)
                learnt = _Known()
            self._purge_old_keys(conn)
            conn.execute("COMMIT")
            self._known = learnt
        except BaseException as error:
            self._rolled_back(conn)
            failure = (
                error if isinstance(error, LogError) else Unavailable(f"the append could not be committed: {error}")
            )
            for request in group:
                if not request.future.done():
                    request.future.set_exception(failure)
            return
        for told in self.group_listeners:
            _call_isolated(told, len(group))
        for request, result, error in outcomes:
            if error is not None:
                request.future.set_exception(error)
            else:
                request.future.set_result(result)
        if appended:
            for row in appended:
                log.info(
                    "event.appended", seq=row.seq, id=row.id, type=row.type, channel=row.channel, writer=row.writer
                )
            with self._listeners_lock:
                listeners = list(self._listeners)
            for listener in listeners:
                _call_isolated(listener, appended)

    def _write_group(
        self, conn: sqlite3.Connection, group: list[_Request]
    ) -> tuple[list[tuple[_Request, object, BaseException | None]], list[StoredEvent], _Known]:
        """Check each request in memory against the group's view of the log, then write once."""
        head_seq, head_hash, head_time = _head_row(conn)
        known = self._known if head_seq == self._known.at_seq else _Known()
        view = _GroupView(conn, [e for r in group for e in r.events], head_seq, head_hash, head_time, known)
        outcomes: list[tuple[_Request, object, BaseException | None]] = []
        for request in group:
            if request.work is not None:
                outcomes.append((request, None, None))  # run below, after the appends it may depend on
                continue
            try:
                outcomes.append((request, view.place(request), None))
            except (LogError, InvalidEvent) as error:
                outcomes.append((request, None, error))
        _insert(conn, view.rows)
        _insert_keys(conn, view.keys)
        for hook in self._hooks:
            hook(conn, view.rows)
        for i, (request, _, _) in enumerate(outcomes):
            if request.work is not None:
                outcomes[i] = (request, request.work(conn), None)
        return outcomes, view.rows, view.learnt()

    def _write_one_by_one(
        self, conn: sqlite3.Connection, group: list[_Request]
    ) -> tuple[list[tuple[_Request, object, BaseException | None]], list[StoredEvent]]:
        """The slow path: each request under its own savepoint."""
        outcomes: list[tuple[_Request, object, BaseException | None]] = []
        appended: list[StoredEvent] = []
        for request in group:
            conn.execute("SAVEPOINT request")
            try:
                if request.work is not None:
                    result: object = request.work(conn)
                    rows: list[StoredEvent] = []
                else:
                    head_seq, head_hash, head_time = _head_row(conn)
                    view = _GroupView(conn, request.events, head_seq, head_hash, head_time)
                    result, rows = view.place(request), view.rows
                    _insert(conn, rows)
                    _insert_keys(conn, view.keys)
                    for hook in self._hooks:
                        hook(conn, rows)
                conn.execute("RELEASE request")
            except Exception as error:
                conn.execute("ROLLBACK TO request")
                conn.execute("RELEASE request")
                self._forget_hooks()  # a hook may have cached what was just rolled back
                if not isinstance(error, LogError | InvalidEvent):
                    log.exception("writer.request_failed", error=repr(error))
                    error = AppendFailed(f"this request could not be appended: {error!r}")
                outcomes.append((request, None, error))
                continue
            appended.extend(rows)
            outcomes.append((request, result, None))
        return outcomes, appended

    def _purge_old_keys(self, conn: sqlite3.Connection) -> None:
        """Idempotency keys are kept 48 hours; older ones are dropped about once an hour."""
        now = time.monotonic()
        if now - self._purged_at < 3600:
            return
        self._purged_at = now
        cutoff = clock.format_instant(dt.datetime.now(dt.UTC) - KEY_LIFETIME)
        conn.execute("DELETE FROM idempotency_keys WHERE created_at < ?", (cutoff,))

    def subscribe(self, listener: Callable[[Sequence[StoredEvent]], None]) -> Callable[[], None]:
        """Call listener (on the writer thread) with each committed group of new rows.

        A listener that raises is logged and skipped; it never stops the writer."""
        with self._listeners_lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._listeners_lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    # -- reading -----------------------------------------------------------
    def get(self, event_id: str) -> StoredEvent | None:
        return next(iter(_rows_by_ids(self.reader(), [event_id])), None)

    def read(
        self,
        *,
        after: int = 0,
        limit: int | None = None,
        channel: str | None = None,
        type: str | None = None,
        valid_from: str | None = None,
        valid_to: str | None = None,
    ) -> list[StoredEvent]:
        return list(
            read_rows(
                self.reader(),
                after=after,
                limit=limit,
                channel=channel,
                type=type,
                valid_from=valid_from,
                valid_to=valid_to,
            )
        )

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
        seq, digest, _ = _head_row(self.reader())
        return Head(seq, digest)

    def verify(self, tail: int | None = None) -> Verification:
        """Recompute the hash chain (all of it, or the last ``tail`` events)."""
        conn = connect(self.path, synchronous=self._synchronous)
        try:
            return _verify(conn, tail)
        finally:
            conn.close()

    def refuse_writes_if_broken(self, tail: int) -> Verification:
        """Start-up check: verify the chain tail; a broken chain stops all writes."""
        result = self.verify(tail)
        if not result.ok:
            self.writes_refused = ChainBroken(
                f"the hash chain is broken at seq {result.bad_seq} ({result.problem}); writes are refused,"
                " reads continue. Restore from a backup.",
                result.bad_seq or 0,
            )
        return result

    def backup(self, target: str | Path) -> Head:
        """A consistent copy of the whole database, taken online (SQLite's backup API); its head."""
        source = connect(self.path, synchronous=self._synchronous)
        destination = sqlite3.connect(str(target))
        try:
            with destination:
                source.backup(destination)
            destination.execute("PRAGMA journal_mode=WAL")
            seq, digest, _ = _head_row(destination)
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
        self._queue.put(None)
        self._writer.join(timeout=10)
        self._write_conn.close()
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()


class _Known(msgspec.Struct):
    """What the writer learnt of the log up to head seq ``at_seq`` (None: nothing)."""

    at_seq: int | None = None
    versions: dict[str, int] = {}
    established: dict[str, dt.date | None] = {}
    measures: set[str] | None = None  # keys of the measures imposed (None: not read yet)


class _GroupView:
    """The log as one group's requests see it: versions, ids and the head, updated as rows are placed."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        events: Sequence[Event],
        head_seq: int,
        head_hash: str,
        head_time: str,
        known: _Known | None = None,
    ):
        self.conn = conn
        self.head_seq, self.head_hash, self.recorded_at = head_seq, head_hash, head_time
        known = known or _Known()
        channels = {e.channel for e in events}
        self.versions = {c: known.versions[c] for c in channels if c in known.versions}
        self.versions |= _channel_versions(conn, channels - known.versions.keys())
        self.established = dict(known.established)
        self.measures = set(known.measures) if known.measures is not None else None
        self.known = known
        self.placed: dict[str, StoredEvent] = {row.id: row for row in _rows_by_ids(conn, [str(e.id) for e in events])}
        self.rows: list[StoredEvent] = []
        self.keys: list[tuple[str, IdempotencyKey, list[Receipt]]] = []
        self._keys_seen: dict[tuple[str, str], tuple[IdempotencyKey, list[Receipt]]] = {}

    def learnt(self) -> _Known:
        return _Known(
            at_seq=self.head_seq,
            versions={**self.known.versions, **self.versions},
            established=self.established,
            measures=self.measures,
        )

    def place(self, request: _Request) -> list[Receipt]:
        """Place a request's events all-or-nothing; on a refusal the view is left as it was."""
        if request.idempotency is not None:
            earlier = self._earlier_answer(request.writer or "", request.idempotency)
            if earlier is not None:
                return earlier
        events = [self._normalised(event, index) for index, event in enumerate(request.events)]
        channels = {e.channel for e in events}
        if request.expected_version is not None and len(channels) != 1:
            raise InvalidEvent("expected_version applies to one channel; this batch spans several")
        bodies = [encode(e) for e in events]
        pairs = enumerate(zip(events, bodies, strict=True))
        repeats = [self._repeat(str(e.id), body, index) for index, (e, body) in pairs]
        if all(r is not None for r in repeats):
            # Every event is already in the log as sent: a retry after a lost answer, not a conflict.
            return [_receipt(r, created=False) for r in repeats if r is not None]
        if request.expected_version is not None:
            (channel,) = channels
            current = self.versions.get(channel, 0)
            if current != request.expected_version:
                raise Conflict(
                    f"channel {channel} is at version {current}, not the expected {request.expected_version};"
                    " read it again and retry",
                    channel,
                    current,
                )
        versions = {c: self.versions.get(c, 0) for c in channels}
        established = dict(self.established)
        imposed = set(self.measures) if self.measures is not None else None
        head_seq, head_hash, recorded_at = self.head_seq, self.head_hash, self.recorded_at
        new: dict[str, StoredEvent] = {}
        receipts: list[Receipt] = []
        for index, (event, body) in enumerate(zip(events, bodies, strict=True)):
            event_id = str(event.id)
            try:
                earlier = new.get(event_id) or self._repeat(event_id, body, index)
                if earlier is not None:
                    receipts.append(_receipt(earlier, created=earlier.id in new))
                    continue
                version = versions[event.channel]
                self._check_fits(event, version, new, established)
                key = rules.imposed_key(event)
                if key is not None or isinstance(event, rules.MeasureChange):
                    imposed = imposed if imposed is not None else _imposed_keys(self.conn)
                    if isinstance(event, rules.MeasureChange):
                        rules.check_measure_named(event, imposed)
                    if key is not None:
                        imposed.add(key)
            except (LogError, InvalidEvent) as error:
                error.index = index
                raise
            recorded_at = clock.next_instant(recorded_at)  # every event its own instant
            digest = chain_hash(head_hash, body)
            row = StoredEvent(
                seq=head_seq + 1,
                id=event_id,
                type=rules.tag(event),
                channel=event.channel,
                version=version + 1,
                occurred_on=event.occurred_on.isoformat(),
                recorded_at=recorded_at,
                body=body,
                prev_hash=head_hash,
                hash=digest,
                writer=request.writer,
            )
            versions[event.channel] = row.version
            if isinstance(event, ChannelEstablished):
                established[event.channel] = event.occurred_on
            elif isinstance(event, EventCorrected | EventRetracted):
                established.pop(event.channel, None)  # may have moved: read again when next needed
            head_seq, head_hash = row.seq, digest
            new[event_id] = row
            receipts.append(_receipt(row, created=True))
        self.versions.update(versions)
        self.established = established
        self.measures = imposed
        self.head_seq, self.head_hash, self.recorded_at = head_seq, head_hash, recorded_at
        self.placed.update(new)
        self.rows.extend(new.values())
        if request.idempotency is not None:
            self.keys.append((request.writer or "", request.idempotency, receipts))
            self._keys_seen[(request.writer or "", request.idempotency.key)] = (request.idempotency, receipts)
        return receipts

    def _earlier_answer(self, writer: str, key: IdempotencyKey) -> list[Receipt] | None:
        """The receipts first given for this Idempotency-Key, or None if the key is new."""
        seen = self._keys_seen.get((writer, key.key))
        if seen is not None:
            fingerprint, receipts = seen[0].fingerprint, seen[1]
        else:
            row = self.conn.execute(
                "SELECT fingerprint, receipts FROM idempotency_keys WHERE writer = ? AND key = ?", (writer, key.key)
            ).fetchone()
            if row is None:
                return None
            fingerprint, receipts = row[0], _RECEIPTS.decode(row[1])
        if fingerprint != key.fingerprint:
            raise InvalidEvent(
                "Idempotency-Key: this key was already used with a different request body;"
                " send the same body to get the original answer, or use a new key for a new request",
                "Idempotency-Key",
            )
        return [msgspec.structs.replace(r, created=False) for r in receipts]

    def _repeat(self, event_id: str, body: bytes, index: int) -> StoredEvent | None:
        """The stored row if this id is already in the log with these very bytes; a Conflict if with others."""
        earlier = self.placed.get(event_id)
        if earlier is not None and earlier.body != body:
            error = Conflict(f"id {event_id} is already in the log with other content; use a new id")
            error.index = index
            raise error
        return earlier

    def _normalised(self, event: Event, index: int) -> Event:
        """Corrections are stored in canonical form (see rules.normalise_correction)."""
        if not isinstance(event, EventCorrected):
            return event
        target = self._lookup(str(event.target_id), {})
        if target is None or target.type == "event_corrected":
            return event  # refused with its reason by _check_fits
        try:
            return rules.normalise_correction(event, target)
        except InvalidEvent as error:
            error.index = index
            raise

    def _lookup(self, event_id: str, new: dict[str, StoredEvent]) -> StoredEvent | None:
        return new.get(event_id) or self.placed.get(event_id) or next(iter(_rows_by_ids(self.conn, [event_id])), None)

    def _channel_exists(self, channel: str, new: dict[str, StoredEvent]) -> bool:
        if self.versions.get(channel) or any(r.channel == channel for r in new.values()):
            return True
        return bool(_channel_versions(self.conn, {channel}))

    def _established_on(self, channel: str, established: dict[str, dt.date | None]) -> dt.date | None:
        if channel not in established:
            established[channel] = rules.established_on(_channel_founding_rows(self.conn, channel))
        return established[channel]

    def _check_fits(
        self, event: Event, version: int, new: dict[str, StoredEvent], established: dict[str, dt.date | None]
    ) -> None:
        rules.check_order(event, version)
        if isinstance(event, EventCorrected | EventRetracted):
            target = rules.check_target(event, self._lookup(str(event.target_id), new))
            if isinstance(event, EventCorrected):
                rules.normalise_correction(event, target)
                moved_to = event.changes.get("succeeds")
                if moved_to is not None and not self._channel_exists(moved_to, new):
                    raise Refused(f"changes: succeeds names no channel {moved_to} in the log; establish it first")
            # An amendment may move an event, or the establishment, across the other: check the channel whole.
            rows = list(read_rows(self.conn, channel=event.channel))
            rows += [r for r in new.values() if r.channel == event.channel]
            rows.append(_provisional_row(event, version))
            rules.check_after_establishment(rules.effective_dates(rows), event.channel)
        elif not isinstance(event, ChannelEstablished):
            rules.check_dated_after(event, self._established_on(event.channel, established))
        if isinstance(event, CommitmentStatus):
            rules.check_commitment_target(event, self._lookup(str(event.target_id), new))
        if isinstance(event, ChannelEstablished) and event.succeeds is not None:
            rules.check_predecessor(event, self._channel_exists(event.succeeds, new))


class AppendFailed(LogError):
    """An unexpected failure while writing one request; its neighbours were appended."""


def _call_isolated(callback: Callable[..., object], *args: object) -> None:
    """Callbacks after a commit run isolated: one that raises is logged, never fatal to the writer."""
    try:
        callback(*args)
    except Exception as error:
        log.exception("writer.callback_failed", callback=repr(callback), error=repr(error))


def _provisional_row(event: Event, version: int) -> StoredEvent:
    """An amendment as a row, for checking what the channel would look like with it."""
    return StoredEvent(
        seq=2**62,
        id=str(event.id),
        type=rules.tag(event),
        channel=event.channel,
        version=version + 1,
        occurred_on=event.occurred_on.isoformat(),
        recorded_at="",
        body=encode(event),
        prev_hash="",
        hash="",
    )


def _imposed_keys(conn: sqlite3.Connection) -> set[str]:
    """The register keys of every measure imposed in the log (old sanctions included)."""
    marks = ",".join("?" * len(rules.IMPOSING_TYPES))
    query = f"SELECT body FROM events WHERE type IN ({marks})"
    return {key for (body,) in conn.execute(query, rules.IMPOSING_TYPES) if (key := rules.imposed_key(decode(body)))}


def _channel_founding_rows(conn: sqlite3.Connection, channel: str) -> list[StoredEvent]:
    """A channel's first event and its amendments: enough to tell when it was established."""
    return [
        _row(v)
        for v in conn.execute(
            f"SELECT {COLUMNS} FROM events WHERE channel = ? AND (version = 1 OR type IN (?, ?)) ORDER BY seq",
            (channel, *rules.AMENDMENT_TYPES),
        )
    ]


def _insert_keys(conn: sqlite3.Connection, keys: Sequence[tuple[str, IdempotencyKey, list[Receipt]]]) -> None:
    now = clock.now_text()
    conn.executemany(
        "INSERT INTO idempotency_keys (writer, key, fingerprint, receipts, created_at) VALUES (?,?,?,?,?)",
        [(writer, k.key, k.fingerprint, msgspec.json.encode(receipts), now) for writer, k, receipts in keys],
    )


def _insert(conn: sqlite3.Connection, rows: Sequence[StoredEvent]) -> None:
    conn.executemany(
        f"INSERT INTO events ({COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
        [
            (
                r.seq,
                r.id,
                r.type,
                r.channel,
                r.version,
                r.occurred_on,
                r.recorded_at,
                r.body,
                r.prev_hash,
                r.hash,
                r.writer,
            )
            for r in rows
        ],
    )


def _channel_versions(conn: sqlite3.Connection, channels: set[str]) -> dict[str, int]:
    # One query per channel: max() over (channel, version) is a single index seek, whereas
    # GROUP BY over several channels walks every row of each channel and grows with the log.
    found: dict[str, int] = {}
    for channel in channels:
        version = conn.execute("SELECT max(version) FROM events WHERE channel = ?", (channel,)).fetchall()[0][0]
        if version is not None:
            found[channel] = version
    return found


def _receipt(row: StoredEvent, *, created: bool) -> Receipt:
    return Receipt(
        id=row.id, seq=row.seq, version=row.version, recorded_at=row.recorded_at, hash=row.hash, created=created
    )


def _head_row(conn: sqlite3.Connection) -> tuple[int, str, str]:
    row = conn.execute("SELECT seq, hash, recorded_at FROM events ORDER BY seq DESC LIMIT 1").fetchone()
    return (row[0], row[1], row[2]) if row else (0, GENESIS, "")


def _rows_by_ids(conn: sqlite3.Connection, ids: list[str]) -> list[StoredEvent]:
    found: list[StoredEvent] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        found.extend(_row(v) for v in conn.execute(f"SELECT {COLUMNS} FROM events WHERE id IN ({marks})", chunk))
    return found


def read_rows(
    conn: sqlite3.Connection,
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
    where, params = ["seq > ?"], [after]
    for clause, value in (
        ("channel = ?", channel),
        ("type = ?", type),
        ("occurred_on >= ?", valid_from),
        ("occurred_on <= ?", valid_to),
        ("recorded_at <= ?", recorded_by),
    ):
        if value is not None:
            where.append(clause)
            params.append(value)
    order_by = "occurred_on, seq" if order == "valid" else "seq"
    sql = f"SELECT {COLUMNS} FROM events WHERE {' AND '.join(where)} ORDER BY {order_by}"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    for values in conn.execute(sql, params):
        yield _row(values)


def read_channel_types(conn: sqlite3.Connection, channel: str, types: Sequence[str]) -> list[StoredEvent]:
    marks = ",".join("?" * len(types))
    return [
        _row(v)
        for v in conn.execute(
            f"SELECT {COLUMNS} FROM events WHERE channel = ? AND type IN ({marks}) ORDER BY seq", (channel, *types)
        )
    ]


def read_types(conn: sqlite3.Connection, types: Sequence[str]) -> list[StoredEvent]:
    marks = ",".join("?" * len(types))
    return [
        _row(v)
        for v in conn.execute(f"SELECT {COLUMNS} FROM events WHERE type IN ({marks}) ORDER BY seq", tuple(types))
    ]


def stream_by_channel(conn: sqlite3.Connection) -> Iterator[StoredEvent]:
    """The whole log grouped by channel, in valid-time order within each channel."""
    cursor = conn.execute(f"SELECT {COLUMNS} FROM events ORDER BY channel, occurred_on, seq")
    while chunk := cursor.fetchmany(5_000):
        for values in chunk:
            yield _row(values)


def stream_types(conn: sqlite3.Connection, types: Sequence[str]) -> Iterator[StoredEvent]:
    """Every event of these types in valid-time order (occurred_on, seq), streamed."""
    marks = ",".join("?" * len(types))
    cursor = conn.execute(
        f"SELECT {COLUMNS} FROM events WHERE type IN ({marks}) ORDER BY occurred_on, seq", tuple(types)
    )
    while chunk := cursor.fetchmany(5_000):
        for values in chunk:
            yield _row(values)


def last_recorded_at(conn: sqlite3.Connection, channel: str | None = None) -> str | None:
    """When the channel's newest event (or the log's, for None) was recorded; one index seek."""
    if channel is None:
        rows = conn.execute("SELECT recorded_at FROM events ORDER BY seq DESC LIMIT 1").fetchall()
    else:
        rows = conn.execute(
            "SELECT recorded_at FROM events WHERE channel = ? ORDER BY version DESC LIMIT 1", (channel,)
        ).fetchall()
    return rows[0][0] if rows else None


def stream_version(conn: sqlite3.Connection, channel: str, known_at: str | None = None) -> int:
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


def head_seq(conn: sqlite3.Connection) -> int:
    return _head_row(conn)[0]


def _verify(conn: sqlite3.Connection, tail: int | None) -> Verification:
    start_after = 0
    expected_prev = GENESIS
    if tail is not None:
        last = _head_row(conn)[0]
        start_after = max(0, last - tail)
        if start_after:
            row = conn.execute("SELECT hash FROM events WHERE seq = ?", (start_after,)).fetchone()
            expected_prev = row[0] if row else GENESIS
    cursor = conn.execute("SELECT seq, body, prev_hash, hash FROM events WHERE seq > ? ORDER BY seq", (start_after,))
    checked, last_seq, last_hash = 0, start_after, expected_prev
    while chunk := cursor.fetchmany(5_000):
        for seq, body, prev_hash, digest in chunk:
            problem = None
            if seq != last_seq + 1:
                problem = f"seq jumps from {last_seq} to {seq}"
            elif prev_hash != last_hash:
                problem = "prev_hash does not match the previous event's hash"
            elif chain_hash(prev_hash, body) != digest:
                problem = "hash does not match sha256(prev_hash || body): the row was altered"
            if problem:
                return Verification(
                    ok=False, checked=checked, head=Head(last_seq, last_hash), bad_seq=seq, problem=problem
                )
            checked += 1
            last_seq, last_hash = seq, digest
    return Verification(ok=True, checked=checked, head=Head(last_seq, last_hash))
