"""The append-only log: the boundary every storage offers, and its records.

SQLite (events/sqlite.py) and PostgreSQL (events/postgres.py) implement ``EventLog``;
tests/contract.py holds both to the same behaviour.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from typing import Any, Protocol, TypeVar, runtime_checkable

import msgspec

from diplo.events.catalog import Event, decode
from diplo.events.errors import ChainBroken

GENESIS = "0" * 64


class StoredEvent(msgspec.Struct, frozen=True, kw_only=True):
    """One row of the log: the event's canonical bytes and what the server added."""

    seq: int
    id: str
    type: str
    channel: str
    version: int
    occurred_on: str
    recorded_at: str
    body: bytes
    prev_hash: str
    hash: str
    writer: str | None = None

    def event(self) -> Event:
        return decode(self.body)


class Receipt(msgspec.Struct, frozen=True, kw_only=True):
    """What an append acknowledges: the event is on disk at this place in the log."""

    id: str
    seq: int
    version: int
    recorded_at: str
    hash: str
    created: bool = True


class Head(msgspec.Struct, frozen=True):
    seq: int
    hash: str


class Verification(msgspec.Struct, frozen=True, kw_only=True):
    ok: bool
    checked: int
    head: Head
    bad_seq: int | None = None
    problem: str | None = None


class IdempotencyKey(msgspec.Struct, frozen=True):
    """A client's Idempotency-Key and the fingerprint of the request body it was sent with."""

    key: str
    fingerprint: str


# Called inside the append transaction with the backend's connection and the rows just
# inserted, so that projections commit with the events (read-your-writes) or not at all.
# A hook that keeps caches gives itself a ``forget()`` method, called after any rollback.
AppendHook = Callable[[Any, Sequence[StoredEvent]], None]
Listener = Callable[[Sequence[StoredEvent]], None]
T = TypeVar("T")


@runtime_checkable
class EventLog(Protocol):
    """What the rest of diplo may ask of the log, whatever database holds it.

    Appends are all-or-nothing per call, idempotent by event id and by Idempotency-Key,
    checked against ``expected_version`` and the append rules (events/rules.py), and
    hash-chained in one total order. Reads see every acknowledged append.
    """

    # Set when the chain does not verify: appends fail with it, reads go on.
    writes_refused: ChainBroken | None
    # Told the size of each committed group (a metric).
    group_listeners: list[Callable[[int], None]]

    def append(
        self,
        events: Sequence[Event],
        expected_version: int | None = None,
        writer: str | None = None,
        idempotency: IdempotencyKey | None = None,
        timeout: float | None = -1.0,  # -1: the log's append timeout; None: as long as it takes (a bulk load)
    ) -> list[Receipt]: ...

    async def append_async(
        self,
        events: Sequence[Event],
        expected_version: int | None = None,
        writer: str | None = None,
        idempotency: IdempotencyKey | None = None,
    ) -> list[Receipt]: ...

    def get(self, event_id: str) -> StoredEvent | None: ...

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
    ) -> list[StoredEvent]: ...

    def iterate(self, after: int = 0) -> Iterator[StoredEvent]: ...

    def head(self) -> Head: ...

    def verify(self, tail: int | None = None) -> Verification: ...

    def refuse_writes_if_broken(self, tail: int) -> Verification: ...

    def subscribe(self, listener: Listener) -> Callable[[], None]: ...

    def add_hook(self, hook: AppendHook) -> None: ...

    def load_rows(self, rows: Sequence[StoredEvent]) -> Head:
        """Copy another log's rows verbatim, each checked to continue this log's chain (a migration)."""
        ...

    def reader(self) -> Any:
        """A sqlite3-like connection for the projections' reads, speaking SQLite's SQL on every backend."""
        ...

    def checkpoint(self) -> None:
        """Storage upkeep after a bulk write (SQLite folds its WAL back; a no-op elsewhere)."""
        ...

    def run_in_writer(self, work: Callable[[Any], T]) -> T:
        """Run work(connection) on the writer, in its transaction, after the appends queued before it."""
        ...

    def submit_in_writer(self, work: Callable[[Any], T]) -> Future[T]:
        """Queue work(connection) for the writer without waiting for it (a rebuild at start-up)."""
        ...

    @property
    def writer_alive(self) -> bool: ...

    def close(self) -> None: ...
