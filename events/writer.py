"""The group-committing writer every backend shares: one thread, one transaction per group.

Callers queue requests; the writer thread takes what is queued (up to ``MAX_GROUP``),
places each request against the group's view of the log (events/placement.py) and
commits them together. A backend supplies the transaction around it: ``_commit_group``.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any, TypeVar

import structlog

from diplo.events import store
from diplo.events.catalog import Event, decode
from diplo.events.errors import ChainBroken, LogError, Refused, Unavailable
from diplo.events.log import AppendHook, Head, IdempotencyKey, Listener, Receipt, StoredEvent, Verification
from diplo.events.placement import AppendFailed, GroupView, Known, Request, call_isolated
from diplo.events.reads import read_rows
from diplo.events.rules import tag
from diplo.events.store import Sql
from diplo.events.validation import InvalidEvent

logger = structlog.get_logger("diplo.log")

MAX_GROUP = 512
T = TypeVar("T")
Outcome = tuple[Request, object, BaseException | None]


class GroupCommitLog:
    """Queueing, the writer thread and the answers; subclasses open and commit transactions."""

    def __init__(self, append_timeout: float):
        self.append_timeout = append_timeout
        self._hooks: list[AppendHook] = []
        self._listeners: list[Listener] = []
        self._listeners_lock = threading.Lock()
        self._queue: queue.SimpleQueue[Request | None] = queue.SimpleQueue()
        self.writes_refused: ChainBroken | None = None
        self.group_listeners: list[Callable[[int], None]] = []  # told each committed group's size
        # Writer-thread only: what earlier groups learnt (channel versions, establishment dates),
        # true while the head is still the one the writer left (no other process wrote, no rollback).
        self._known = Known()
        self._writer_lock = threading.Lock()
        self._closing = False
        self._writer = self._start_writer()

    # -- the backend's part ------------------------------------------------
    def _commit_group(self, group: list[Request]) -> None:
        raise NotImplementedError

    def verify(self, tail: int | None = None) -> Verification:
        raise NotImplementedError

    def _read(self, work: Callable[[Sql], T]) -> T:
        """Run ``work`` on one of the backend's read connections."""
        raise NotImplementedError

    # -- reading -----------------------------------------------------------
    def get(self, event_id: str) -> StoredEvent | None:
        return self._read(lambda db: next(iter(store.rows_by_ids(db, [event_id])), None))

    def read(
        self,
        *,
        after: int = 0,
        limit: int | None = None,
        channel: str | None = None,
        type: str | None = None,
        valid_from: str | None = None,
        valid_to: str | None = None,
        recorded_by: str | None = None,
    ) -> list[StoredEvent]:
        return self._read(
            lambda db: list(
                read_rows(
                    db,
                    after=after,
                    limit=limit,
                    channel=channel,
                    type=type,
                    valid_from=valid_from,
                    valid_to=valid_to,
                    recorded_by=recorded_by,
                )
            )
        )

    # -- the writer thread -------------------------------------------------
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
                logger.error("writer.restarted")
                self._forget()
                self._writer = self._start_writer()

    def _stop_writer(self) -> None:
        self._closing = True
        self._queue.put(None)
        self._writer.join(timeout=10)

    def _write_loop(self) -> None:
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
                self._commit_group(group)
            except BaseException as error:  # the writer must outlive any one group
                logger.exception("writer.group_failed", error=repr(error))
                self._rolled_back()
                self._fail(group, Unavailable(f"the append could not be committed: {error!r}"))

    @staticmethod
    def _fail(group: list[Request], failure: BaseException) -> None:
        for request in group:
            if not request.future.done():
                request.future.set_exception(failure)

    def _rolled_back(self) -> None:
        """Called after a group failed; a backend also ends its open transaction here."""
        self._forget()

    def _forget(self) -> None:
        """After any rollback nothing learnt in the transaction may be used again."""
        self._known = Known()
        self._forget_hooks()

    def _forget_hooks(self) -> None:
        for hook in self._hooks:
            forget = getattr(hook, "forget", None)
            if forget is not None:
                forget()

    # -- inside the transaction ----------------------------------------------
    def _write_group(self, db: Sql, group: list[Request]) -> tuple[list[Outcome], list[StoredEvent], Known]:
        """Check each request in memory against the group's view of the log, then write once."""
        head_seq, head_hash, head_time = store.head_row(db)
        known = self._known if head_seq == self._known.at_seq else Known()
        view = GroupView(db, [e for r in group for e in r.events], head_seq, head_hash, head_time, known)
        outcomes: list[Outcome] = []
        for request in group:
            if request.work is not None:
                outcomes.append((request, None, None))  # run below, after the appends it may depend on
                continue
            try:
                outcomes.append((request, view.place(request), None))
            except (LogError, InvalidEvent) as error:
                outcomes.append((request, None, error))
        store.insert(db, view.rows)
        store.insert_keys(db, view.keys)
        for hook in self._hooks:
            hook(db.conn, view.rows)
        for i, (request, _, _) in enumerate(outcomes):
            if request.work is not None:
                outcomes[i] = (request, request.work(db.conn), None)
        return outcomes, view.rows, view.learnt()

    def _write_one_by_one(
        self, db: Sql, group: list[Request], lost: type[BaseException] | tuple[type[BaseException], ...] = ()
    ) -> tuple[list[Outcome], list[StoredEvent]]:
        """The slow path: each request under its own savepoint. ``lost`` (the connection
        is gone) is raised on: no savepoint can help then."""
        outcomes: list[Outcome] = []
        appended: list[StoredEvent] = []
        for request in group:
            db.execute("SAVEPOINT request")
            try:
                if request.work is not None:
                    result: object = request.work(db.conn)
                    rows: list[StoredEvent] = []
                else:
                    head_seq, head_hash, head_time = store.head_row(db)
                    view = GroupView(db, request.events, head_seq, head_hash, head_time)
                    result, rows = view.place(request), view.rows
                    store.insert(db, rows)
                    store.insert_keys(db, view.keys)
                    for hook in self._hooks:
                        hook(db.conn, rows)
                db.execute("RELEASE request")
            except lost:
                raise
            except Exception as error:
                db.execute("ROLLBACK TO request")
                db.execute("RELEASE request")
                self._forget_hooks()  # a hook may have cached what was just rolled back
                if not isinstance(error, LogError | InvalidEvent):
                    logger.exception("writer.request_failed", error=repr(error))
                    error = AppendFailed(f"this request could not be appended: {error!r}")
                outcomes.append((request, None, error))
                continue
            appended.extend(rows)
            outcomes.append((request, result, None))
        return outcomes, appended

    # -- after the commit ----------------------------------------------------
    def _answer(self, group: list[Request], outcomes: list[Outcome], appended: list[StoredEvent]) -> None:
        """Tell the metric, the callers and the subscribers, in that order."""
        for told in self.group_listeners:
            call_isolated(told, len(group))
        for request, result, error in outcomes:
            if error is not None:
                request.future.set_exception(error)
            else:
                request.future.set_result(result)
        if appended:
            info = logger.info  # looked up once: the lazy proxy's attribute lookup is not free per row
            for row in appended:
                info("event.appended", seq=row.seq, id=row.id, type=row.type, channel=row.channel, writer=row.writer)
            self._publish(appended)

    def _publish(self, rows: Sequence[StoredEvent]) -> None:
        with self._listeners_lock:
            listeners = list(self._listeners)
        for listener in listeners:
            call_isolated(listener, rows)

    # -- the boundary ----------------------------------------------------------
    def add_hook(self, hook: AppendHook) -> None:
        """Run hook(connection, rows) inside each append's transaction. A hook that keeps caches
        gives itself a ``forget()`` method: it is called whenever a transaction rolls back."""
        self._hooks.append(hook)

    def run_in_writer(self, work: Callable[[Any], T]) -> T:
        """Run work on the writer connection, serialised with appends (e.g. a projection swap)."""
        return self.submit_in_writer(work).result()

    def submit_in_writer(self, work: Callable[[Any], T]) -> Future[T]:
        """Queue work for the writer connection without waiting for it (e.g. a rebuild at start-up)."""
        future: Future[T] = Future()
        self._ensure_writer()
        self._queue.put(Request(events=(), expected_version=None, writer=None, future=future, work=work))
        return future

    def load_rows(self, rows: Sequence[StoredEvent]) -> Head:
        """Copy another log's rows verbatim (a migration), in one transaction: seq, recorded_at, writer
        and hash kept. Each row must continue this log exactly (the next seq, the head's hash as
        prev_hash, sha256(prev_hash || body) as hash, its channel's next version, columns that match
        its body), else Refused and nothing is loaded. Hooks run, so projections follow."""
        rows = list(rows)
        if self.writes_refused is not None:
            raise self.writes_refused

        def work(conn: Any) -> Head:
            db = Sql(conn)
            seq, digest, _ = store.head_row(db)
            versions = store.channel_versions(db, {r.channel for r in rows})
            for row in rows:
                problem = _misfit(row, seq, digest, versions.get(row.channel, 0))
                if problem:
                    raise Refused(f"seq {row.seq} does not continue this log: {problem}")
                seq, digest, versions[row.channel] = row.seq, row.hash, row.version
            store.insert(db, rows)
            for hook in self._hooks:
                hook(conn, rows)
            self._loaded(db, rows)
            return Head(seq, digest)

        head = self.run_in_writer(work)
        self._publish(rows)
        return head

    def _loaded(self, db: Sql, rows: Sequence[StoredEvent]) -> None:
        """Called in load_rows' transaction after the insert (a backend may tell other processes)."""

    def append(
        self,
        events: Sequence[Event],
        expected_version: int | None = None,
        writer: str | None = None,
        idempotency: IdempotencyKey | None = None,
        timeout: float | None = -1.0,
    ) -> list[Receipt]:
        """Append and wait for the commit: ``append_timeout`` by default; None waits as long as it takes
        (a bulk load of a million events in one transaction)."""
        future = self._submit(events, expected_version, writer, idempotency)
        try:
            return future.result(timeout=self.append_timeout if timeout == -1.0 else timeout)
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
                Request(
                    events=list(events),
                    expected_version=expected_version,
                    writer=writer,
                    future=future,
                    idempotency=idempotency,
                )
            )
        return future

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call listener with each committed group of new rows (on the writer thread).

        A listener that raises is logged and skipped; it never stops the writer."""
        with self._listeners_lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._listeners_lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

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


def _misfit(row: StoredEvent, seq: int, digest: str, version: int) -> str | None:
    """Why ``row`` cannot follow head (seq, digest) with its channel at ``version``; None if it can."""
    if row.seq != seq + 1:
        return f"the log's head is seq {seq}"
    if row.prev_hash != digest:
        return "its prev_hash is not the hash of the log's head"
    if store.chain_hash(row.prev_hash, row.body) != row.hash:
        return "its hash is not sha256(prev_hash || body)"
    if row.version != version + 1:
        return f"channel {row.channel} is at version {version}"
    try:
        event = decode(row.body)
    except Exception as error:  # a body that does not decode was never appended by diplo
        return f"its body does not decode ({error})"
    if (str(event.id), tag(event), event.channel, event.occurred_on.isoformat()) != (
        row.id,
        row.type,
        row.channel,
        row.occurred_on,
    ):
        return "its columns do not match its body"
    return None
