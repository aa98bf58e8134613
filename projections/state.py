"""A channel's state and the pure fold that computes it: (state, event) -> state.

No I/O here. Events are folded in valid-time order, (occurred_on, seq), by
the callers; the fold itself only knows how one event changes a state. An
event known only to the month or year is folded at its first day (that is its
``occurred_on``), and the state flags it (``since_precision``, ...).
"""

from __future__ import annotations

import datetime as dt
import statistics
from typing import Literal

import msgspec
from msgspec.structs import replace

from events.catalog import (
    ChannelAgreed,
    ChannelClosed,
    ChannelEstablished,
    ChannelRestricted,
    ChannelResumed,
    ChannelSuspended,
    ContactMade,
    Event,
    MeetingHeld,
    MeetingScheduled,
    OfficialChanged,
    TalksCancelled,
    party_list,
)

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
    previous = max((d for d in (state.last_meeting, state.last_contact) if d is not None), default=None)
    if previous is None or day <= previous:
        return {}
    gaps = [*state.recent_gaps, (day - previous).days][-CADENCE_GAPS:]
    # median_low: a whole number of days, and for an even count the shorter of the two middle gaps.
    return {"recent_gaps": gaps, "cadence_days": statistics.median_low(gaps) if len(gaps) >= 2 else None}


def fold(state: ChannelState, event: Event, version: int = 0) -> ChannelState:
    """Apply one event of the channel to its state (one new state, built once)."""
    day = event.occurred_on
    changes: dict[str, object] = {"last_event_id": str(event.id), "version": max(state.version, version)}
    match event:
        case ChannelEstablished():
            changes |= _status(state, event, event.status, None)
            changes |= {
                "name": event.name,
                "parties": list(event.parties),
                "established_on": day,
                "kind": event.kind,
                "predecessor": event.succeeds,
            }
        case ChannelAgreed():
            changes |= _status(state, event, "agreed", None)
        case MeetingHeld():
            if state.status not in ("active", "restricted"):  # a restricted channel's ministers may still meet
                changes |= _status(state, event, "active", None)
            next_meeting = state.next_meeting
            changes |= _touched(state, day)
            changes |= {
                "last_meeting": day,
                "last_meeting_precision": _flag(event),
                "next_meeting": None if next_meeting and next_meeting <= day else next_meeting,
            }
        case ContactMade():  # never a status change
            changes |= _touched(state, day)
            changes |= {"last_contact": day, "last_contact_precision": _flag(event)}
        case MeetingScheduled():
            changes["next_meeting"] = event.scheduled_for
        case TalksCancelled():
            changes |= {"last_cancelled": day, "last_cancelled_by": party_list(event.by) or None, "next_meeting": None}
        case ChannelSuspended():
            changes |= _status(state, event, "suspended", event.reason)
        case ChannelRestricted():
            changes |= _status(state, event, "restricted", event.reason)
            changes["restriction"] = event.level
        case ChannelResumed():
            changes |= _status(state, event, "active", None)
        case ChannelClosed():
            changes |= _status(state, event, "closed", event.reason)
        case OfficialChanged():
            officials = dict(state.officials)
            if event.change == "appointed":
                officials[event.role] = event.person
            elif officials.get(event.role) == event.person:
                del officials[event.role]
            changes["officials"] = officials
        case _:
            pass  # measures, sanctions and commitments have registers of their own
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
