"""The append-only log: the interface every storage must offer, and its records."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

import msgspec

from events.catalog import Event, decode

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


# Called inside the append transaction with the rows just inserted, so that
# projections commit with the events (read-your-writes) or not at all.
AppendHook = Callable[[object, Sequence[StoredEvent]], None]


class EventLog(Protocol):
    """What the rest of diplo may ask of the log; a server database can implement it too."""

    def append(
        self, events: Sequence[Event], expected_version: int | None = None, writer: str | None = None
    ) -> list[Receipt]: ...

    async def append_async(
        self, events: Sequence[Event], expected_version: int | None = None, writer: str | None = None
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
    ) -> list[StoredEvent]: ...

    def iterate(self, after: int = 0) -> Iterator[StoredEvent]: ...

    def head(self) -> Head: ...

    def verify(self, tail: int | None = None) -> Verification: ...

    def subscribe(self, listener: Callable[[Sequence[StoredEvent]], None]) -> Callable[[], None]: ...

    def close(self) -> None: ...
