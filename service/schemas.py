"""What the HTTP API answers: msgspec Structs, separate from the event classes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import msgspec

from diplo.events import StoredEvent
from diplo.projections import ChannelState, Interval, Measure, SanctionInterval
from diplo.projections.queries import upcoming_only, was_known
from diplo.projections.state import dormant


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
            event=msgspec.Raw(row.body),  # type: ignore[arg-type]  # the stored canonical bytes, sent as they are
        )


class EventsPage(msgspec.Struct, kw_only=True):
    events: list[EventOut]
    next: int | None = msgspec.field(default=None)


class ChannelOut(msgspec.Struct, frozen=True, kw_only=True):
    """A channel's state as the API answers it: its own Struct, so nothing internal to the fold
    (e.g. the recent gaps behind ``cadence_days``) leaks, and the fold can change without the API."""

    channel: str
    name: str | None
    parties: list[str]
    kind: str | None
    status: str
    since: dt.date | None
    since_precision: str | None
    reason: str | None
    restriction: str | None
    confidence: str | None
    status_event_id: str | None
    established_on: dt.date | None
    last_meeting: dt.date | None
    last_meeting_precision: str | None
    last_contact: dt.date | None
    last_contact_precision: str | None
    next_meeting: dt.date | None
    last_cancelled: dt.date | None
    last_cancelled_by: list[str] | None
    cadence_days: int | None
    officials: dict[str, str]
    predecessor: str | None
    successor: str | None
    last_event_id: str | None
    version: int
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
        public = {name: getattr(shown, name) for name in _SHARED_WITH_STATE}
        return cls(
            **public | {"as_of": as_of, "known_at": known_at, "known": was_known(state), "dormant": dormant(state, day)}
        )


# The answer's fields the state has too, found once rather than per answer.
_SHARED_WITH_STATE = tuple(name for name in ChannelOut.__struct_fields__ if name in ChannelState.__struct_fields__)


class ChannelsOut(msgspec.Struct, kw_only=True):
    as_of: dt.date | None
    known_at: str | None
    channels: list[ChannelOut]


class TimelineOut(msgspec.Struct, kw_only=True):
    channel: str
    known_at: str | None
    intervals: list[Interval]


class SanctionOut(msgspec.Struct, kw_only=True):
    """One stretch of time during which ``by`` sanctioned ``target`` (deprecated: see /measures)."""

    target: str
    by: str
    program: str | None
    since: dt.date
    until: dt.date | None
    event_ids: list[str]

    @classmethod
    def of(cls, interval: SanctionInterval) -> SanctionOut:
        return cls(
            target=interval.target,
            by=interval.by,
            program=interval.program,
            since=interval.since,
            until=interval.until,
            event_ids=interval.event_ids,
        )


class SanctionsOut(msgspec.Struct, kw_only=True):
    as_of: dt.date | None
    known_at: str | None
    sanctions: list[SanctionOut]


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
    # True while the projections are rebuilt for a new version: reads answer from the previous tables.
    stale: bool = False
