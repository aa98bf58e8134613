"""A channel's state and the pure fold that computes it: (state, event) -> state.

No I/O here. Events are folded in valid-time order, (occurred_on, seq), by
the callers; the fold itself only knows how one event changes a state. An
event known only to the month or year is folded at its first day (that is its
``occurred_on``), and the state flags it (``since_precision``, ...).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Literal, Union

import msgspec
from msgspec.structs import replace

from diplo.events.catalog import EVENT_TYPES, Event, party_list, type_of

EVENT_TAGS = tuple(EVENT_TYPES)

Status = Literal["active", "agreed", "restricted", "suspended", "closed", "unknown"]
# The cadence is the median gap between the channel's last meetings and contacts (at most 20 of them).
CADENCE_GAPS = 19
# A channel is dormant after max(2 x cadence, 180) days without a meeting or contact; 365 without a cadence.
DORMANT_FLOOR_DAYS, DORMANT_NO_CADENCE_DAYS = 180, 365


class ChannelState(msgspec.Struct, frozen=True, kw_only=True):
    """What is true of one channel, as of a date, as known at a moment."""

    channel: str
    name: str | None = None
    parties: list[str] = []
    status: Status = "unknown"
    since: dt.date | None = None
    last_meeting: dt.date | None = None
    next_meeting: dt.date | None = None
    last_cancelled: dt.date | None = None
    confidence: str | None = None
    reason: str | None = None
    status_event_id: str | None = None
    last_event_id: str | None = None
    version: int = 0
    established_on: dt.date | None = None
    officials: dict[str, str] = {}
    # Vocabulary v2 (all default to "not known", so a v1 log folds to the same values as before).
    kind: str | None = None
    predecessor: str | None = None  # the channel this one succeeds (its channel_established's ``succeeds``)
    successor: str | None = None  # the channel that names this one in ``succeeds``; set when answering
    restriction: str | None = None  # the level, while ``restricted``
    last_contact: dt.date | None = None
    last_cancelled_by: list[str] | None = None
    since_precision: str | None = None  # "month" or "year" when ``since`` is known only to that
    last_meeting_precision: str | None = None
    last_contact_precision: str | None = None
    cadence_days: int | None = None  # median gap between its recent meetings and contacts; null with fewer than 3
    recent_gaps: list[int] = []  # days between its last (at most 20) meetings and contacts, oldest first


def _flag(event: Event) -> str | None:
    return None if event.precision == "day" else event.precision


def _status(state: ChannelState, event: Event, status: Status, reason: str | None) -> dict[str, object]:
    """The changes of a status-setting event; ``since`` moves only when the status changes."""
    same = state.status == status
    return {
        "status": status,
        "since": state.since if same else event.occurred_on,
        "since_precision": state.since_precision if same else _flag(event),
        "reason": reason,
        "restriction": None,
        "confidence": event.confidence,
        "status_event_id": str(event.id),
    }


def _touched(state: ChannelState, day: dt.date) -> dict[str, object]:
    """A meeting or contact on ``day``: the gap since the previous one feeds the cadence."""
    previous = state.last_meeting
    if state.last_contact is not None and (previous is None or state.last_contact > previous):
        previous = state.last_contact
    if previous is None or day <= previous:
        return {}
    gaps = [*state.recent_gaps, (day - previous).days][-CADENCE_GAPS:]
    # The lower median: a whole number of days, and for an even count the shorter of the two middle gaps.
    return {"recent_gaps": gaps, "cadence_days": sorted(gaps)[(len(gaps) - 1) // 2] if len(gaps) >= 2 else None}


# One function per event type that changes a channel's state: (state, event) -> the fields it changes.
# Events are matched by their tag, so that the lean records the replay decodes fold the same way.
def _established(state: ChannelState, event: Any) -> dict[str, object]:
    return _status(state, event, event.status, None) | {
        "name": event.name,
        "parties": list(event.parties),
        "established_on": event.occurred_on,
        "kind": event.kind,
        "predecessor": event.succeeds,
    }


def _meeting(state: ChannelState, event: Any) -> dict[str, object]:
    day = event.occurred_on
    changes = {} if state.status in ("active", "restricted") else _status(state, event, "active", None)
    next_meeting = state.next_meeting  # a restricted channel's ministers may still meet
    changes |= _touched(state, day)
    changes |= {
        "last_meeting": day,
        "last_meeting_precision": _flag(event),
        "next_meeting": None if next_meeting and next_meeting <= day else next_meeting,
    }
    return changes


def _contact(state: ChannelState, event: Any) -> dict[str, object]:  # never a status change
    return _touched(state, event.occurred_on) | {
        "last_contact": event.occurred_on,
        "last_contact_precision": _flag(event),
    }


def _official(state: ChannelState, event: Any) -> dict[str, object]:
    officials = dict(state.officials)
    if event.change == "appointed":
        officials[event.role] = event.person
    elif officials.get(event.role) == event.person:
        del officials[event.role]
    return {"officials": officials}


FOLDS: dict[str, Callable[[ChannelState, Any], dict[str, object]]] = {
    "channel_established": _established,
    "channel_agreed": lambda state, event: _status(state, event, "agreed", None),
    "meeting_held": _meeting,
    "contact_made": _contact,
    "meeting_scheduled": lambda state, event: {"next_meeting": event.scheduled_for},
    "talks_cancelled": lambda state, event: {
        "last_cancelled": event.occurred_on,
        "last_cancelled_by": party_list(event.by) or None,
        "next_meeting": None,
    },
    "channel_suspended": lambda state, event: _status(state, event, "suspended", event.reason),
    "channel_restricted": lambda state, event: (
        _status(state, event, "restricted", event.reason) | {"restriction": event.level}
    ),
    "channel_resumed": lambda state, event: _status(state, event, "active", None),
    "channel_closed": lambda state, event: _status(state, event, "closed", event.reason),
    "official_changed": _official,
}  # measures, sanctions and commitments have registers of their own


def fold(state: ChannelState, event: Event, version: int = 0) -> ChannelState:
    """Apply one event of the channel to its state (one new state, built once)."""
    changes: dict[str, object] = {"last_event_id": str(event.id), "version": max(state.version, version)}
    handler = FOLDS.get(type_of(event))
    if handler is not None:
        changes |= handler(state, event)
    return replace(state, **changes)


def dormant(state: ChannelState, day: dt.date) -> bool:
    """Derived when answering, never stored: an active or restricted channel with no meeting or contact
    (nor a change to that status) for more than max(2 x cadence, 180) days before ``day``, 365 without a cadence."""
    if state.status not in ("active", "restricted"):
        return False
    latest = max((d for d in (state.last_meeting, state.last_contact, state.since) if d is not None), default=None)
    if latest is None:
        return False
    limit = DORMANT_NO_CADENCE_DAYS if state.cadence_days is None else max(2 * state.cadence_days, DORMANT_FLOOR_DAYS)
    return (day - latest).days > limit


def unknown_as_of(latest: ChannelState) -> ChannelState:
    """A known channel with nothing on or before the asked date."""
    return ChannelState(channel=latest.channel, name=latest.name, parties=latest.parties)


STATE_ENCODER = msgspec.json.Encoder()
STATE_DECODER = msgspec.json.Decoder(ChannelState)


# -- lean records: what the fold and the marks read of each stored event, decoded without the rest -----------
# Stored events were validated when appended; the replay and the append hook decode only these fields
# (ids as text, no sources), which is several times cheaper than the full event. The fold treats them alike.


class _Lean(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    id: str
    occurred_on: dt.date
    confidence: str = "confirmed"
    precision: str = "day"


class _LeanEstablished(_Lean, frozen=True, tag="channel_established"):
    name: str
    parties: list[str]
    status: Literal["active", "agreed"] = "active"
    succeeds: str | None = None
    kind: str | None = None


class _LeanScheduled(_Lean, frozen=True, tag="meeting_scheduled"):
    scheduled_for: dt.date


class _LeanCancelled(_Lean, frozen=True, tag="talks_cancelled"):
    by: str | list[str] | None = None


class _LeanWithReason(_Lean, frozen=True, tag="channel_suspended"):
    reason: str


class _LeanClosed(_Lean, frozen=True, tag="channel_closed"):
    reason: str


class _LeanRestricted(_Lean, frozen=True, tag="channel_restricted"):
    reason: str
    level: str


class _LeanOfficial(_Lean, frozen=True, tag="official_changed"):
    role: str
    person: str
    change: str


_FIELD_LESS = [
    msgspec.defstruct(f"_Lean_{tag}", [], bases=(_Lean,), tag=tag, frozen=True, kw_only=True)
    for tag in sorted(
        set(EVENT_TAGS)
        - {
            "channel_established",
            "meeting_scheduled",
            "talks_cancelled",
            "channel_suspended",
            "channel_closed",
            "channel_restricted",
            "official_changed",
        }
    )
]
LEAN_DECODER = msgspec.json.Decoder(
    Union[  # noqa: UP007 - a union built from a list
        tuple(
            [
                _LeanEstablished,
                _LeanScheduled,
                _LeanCancelled,
                _LeanWithReason,
                _LeanClosed,
                _LeanRestricted,
                _LeanOfficial,
                *_FIELD_LESS,
            ]
        )
    ]
)


# -- the stored form of a state: a MessagePack array in field order (a third of the JSON's size) -------------
_FIELDS = msgspec.structs.fields(ChannelState)
_NAMES = tuple(f.name for f in _FIELDS)
_PACK = msgspec.msgpack.Encoder()
_UNPACK = msgspec.msgpack.Decoder(tuple[tuple(f.type for f in _FIELDS)])  # type: ignore[misc]  # built at import


def pack_state(state: ChannelState) -> bytes:
    return _PACK.encode(msgspec.structs.astuple(state))


def unpack_state(data: bytes) -> ChannelState:
    return ChannelState(**dict(zip(_NAMES, _UNPACK.decode(data), strict=True)))
