"""A channel's state and the pure fold that computes it: (state, event) -> state.

No I/O here. Events are folded in valid-time order, (occurred_on, seq), by
the callers; the fold itself only knows how one event changes a state.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec
from msgspec.structs import replace

from events.catalog import (
    ChannelClosed,
    ChannelEstablished,
    ChannelResumed,
    ChannelSuspended,
    Event,
    MeetingHeld,
    MeetingScheduled,
    OfficialChanged,
    TalksCancelled,
)

Status = Literal["active", "suspended", "closed", "unknown"]


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


def _status(state: ChannelState, event: Event, status: Status, reason: str | None) -> dict[str, object]:
    """The changes of a status-setting event; ``since`` moves only when the status changes."""
    return {
        "status": status,
        "since": state.since if state.status == status else event.occurred_on,
        "reason": reason,
        "confidence": event.confidence,
        "status_event_id": str(event.id),
    }


def fold(state: ChannelState, event: Event, version: int = 0) -> ChannelState:
    """Apply one event of the channel to its state (one new state, built once)."""
    day = event.occurred_on
    changes: dict[str, object] = {"last_event_id": str(event.id), "version": max(state.version, version)}
    match event:
        case ChannelEstablished():
            changes |= _status(state, event, "active", None)
            changes |= {"name": event.name, "parties": list(event.parties), "established_on": day}
        case MeetingHeld():
            if state.status != "active":
                changes |= _status(state, event, "active", None)
            next_meeting = state.next_meeting
            changes |= {
                "last_meeting": day,
                "next_meeting": None if next_meeting and next_meeting <= day else next_meeting,
            }
        case MeetingScheduled():
            changes["next_meeting"] = event.scheduled_for
        case TalksCancelled():
            changes |= {"last_cancelled": day, "next_meeting": None}
        case ChannelSuspended():
            changes |= _status(state, event, "suspended", event.reason)
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
            pass  # sanctions and commitments have registers of their own
    return replace(state, **changes)


def unknown_as_of(latest: ChannelState) -> ChannelState:
    """A known channel with nothing on or before the asked date."""
    return ChannelState(channel=latest.channel, name=latest.name, parties=latest.parties)


STATE_ENCODER = msgspec.json.Encoder()
STATE_DECODER = msgspec.json.Decoder(ChannelState)
