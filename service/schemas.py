"""What the HTTP API answers: msgspec Structs, separate from the event classes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from events import StoredEvent
from projections import ChannelState, Interval, Measure, SanctionInterval
from projections.queries import upcoming_only, was_known
from projections.state import dormant


class ReceiptOut(msgspec.Struct, kw_only=True):
    """The log acknowledged the event: it is on disk at this seq."""

    id: str
    seq: int
    version: int
    recorded_at: str
    hash: str
    created: bool


class EventOut(msgspec.Struct, kw_only=True):
    seq: int
    id: str
    type: str
    channel: str
    version: int
    occurred_on: str
    recorded_at: str
    hash: str
    prev_hash: str
    event: dict[str, Any]

    @classmethod
    def of(cls, row: StoredEvent) -> EventOut:
        # The stored canonical bytes go out as they are (msgspec.Raw), never re-encoded.
        return cls(
            seq=row.seq,
            id=row.id,
            type=row.type,
            channel=row.channel,
            version=row.version,
            occurred_on=row.occurred_on,
            recorded_at=row.recorded_at,
            hash=row.hash,
            prev_hash=row.prev_hash,
            event=msgspec.Raw(row.body),  # type: ignore[arg-type]
        )


class EventsPage(msgspec.Struct, kw_only=True):
    events: list[EventOut]
    next: int | None = msgspec.field(default=None)


class ChannelOut(ChannelState, frozen=True, kw_only=True):
    as_of: dt.date | None = None
    known_at: str | None = None
    # False: the channel exists now, but nothing of it had been recorded by known_at (status unknown).
    known: bool = True
    # Derived when answering (never stored): no meeting or contact for much longer than its usual cadence.
    dormant: bool = False

    @classmethod
    def of(cls, state: ChannelState, as_of: dt.date | None, known_at: str | None) -> ChannelOut:
        shown = upcoming_only(state, as_of)
        day = as_of or dt.datetime.now(dt.UTC).date()
        return cls(
            **msgspec.structs.asdict(shown),
            as_of=as_of,
            known_at=known_at,
            known=was_known(state),
            dormant=dormant(state, day),
        )


class ChannelsOut(msgspec.Struct, kw_only=True):
    as_of: dt.date | None
    known_at: str | None
    channels: list[ChannelOut]


class TimelineOut(msgspec.Struct, kw_only=True):
    channel: str
    known_at: str | None
    intervals: list[Interval]


class SanctionsOut(msgspec.Struct, kw_only=True):
    as_of: dt.date | None
    known_at: str | None
    sanctions: list[SanctionInterval]


class MeasuresOut(msgspec.Struct, kw_only=True):
    as_of: dt.date | None
    known_at: str | None
    measures: list[Measure]


class HeadOut(msgspec.Struct, kw_only=True):
    seq: int
    hash: str


class HealthOut(msgspec.Struct, kw_only=True):
    status: str
    events: int
    writable: bool
    detail: str | None = None
