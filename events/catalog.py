"""The event vocabulary: one frozen msgspec Struct per event type.

Every class carries an explicit string tag, so renaming a class never changes
stored data. Stored types are never retagged or removed; a new field always
gets a default. Unknown fields are tolerated here (reading the stored log) and
refused by the strict input variants in ``events.validation``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

import msgspec

CHANNEL_PATTERN = r"^[a-z0-9][a-z0-9-]*$"

Channel = Annotated[str, msgspec.Meta(pattern=CHANNEL_PATTERN, min_length=1, max_length=80)]
Line = Annotated[str, msgspec.Meta(min_length=1, max_length=2_000)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=10_000)]
Party = Annotated[str, msgspec.Meta(min_length=1, max_length=40)]
Url = Annotated[str, msgspec.Meta(pattern=r"^https?://\S+$", max_length=2_048)]
Confidence = Literal["confirmed", "reported", "unconfirmed"]


class Source(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A public source for an event: at least its URL."""

    url: Url
    title: Name | None = None
    publisher: Name | None = None
    published_on: dt.date | None = None


Sources = Annotated[list[Source], msgspec.Meta(min_length=1, max_length=20)]


class Event(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", omit_defaults=True):
    """Fields every event has. The server adds seq, version, recorded_at and hash."""

    id: uuid.UUID = msgspec.field(default_factory=uuid.uuid4)
    channel: Channel
    occurred_on: dt.date
    summary: Line
    sources: Sources
    confidence: Confidence = "confirmed"
    correlation_id: Annotated[str, msgspec.Meta(max_length=100)] | None = None


class ChannelEstablished(Event, tag="channel_established"):
    """Recorded when a channel between parties is created."""

    name: Name
    parties: Annotated[list[Party], msgspec.Meta(min_length=1, max_length=20)]


class MeetingHeld(Event, tag="meeting_held"):
    """Recorded when a meeting or call of the channel took place."""

    participants: Annotated[list[Name], msgspec.Meta(max_length=50)] | None = None
    location: Name | None = None
    level: Name | None = None
    round: Annotated[int, msgspec.Meta(ge=1, le=100_000)] | None = None


class MeetingScheduled(Event, tag="meeting_scheduled"):
    """Recorded when a future meeting is announced."""

    scheduled_for: dt.date


class TalksCancelled(Event, tag="talks_cancelled"):
    """Recorded when one meeting is called off, put off or refused."""

    reason: Line
    mode: Literal["cancelled", "postponed", "declined"]


class ChannelSuspended(Event, tag="channel_suspended"):
    """Recorded when a party halts the channel indefinitely."""

    by: Party
    reason: Line


class ChannelResumed(Event, tag="channel_resumed"):
    """Recorded when the resumption of a suspended channel is announced."""


class ChannelClosed(Event, tag="channel_closed"):
    """Recorded when a channel is wound up for good."""

    reason: Line


class SanctionApplied(Event, tag="sanction_applied"):
    """Recorded when a party sanctions a person or entity."""

    target: Name
    by: Party
    program: Name | None = None


class SanctionLifted(Event, tag="sanction_lifted"):
    """Recorded when a sanction is lifted."""

    target: Name
    by: Party


class CommitmentMade(Event, tag="commitment_made"):
    """Recorded when a party commits to something through the channel."""

    by: Party
    text: Text


class OfficialChanged(Event, tag="official_changed"):
    """Recorded when a seat of the channel changes hands."""

    role: Name
    person: Name
    change: Literal["appointed", "removed"]


class EventCorrected(Event, tag="event_corrected"):
    """Recorded when fields of an earlier event are found to be wrong."""

    target_id: uuid.UUID
    changes: Annotated[dict[str, Any], msgspec.Meta(min_length=1, max_length=20)]


class EventRetracted(Event, tag="event_retracted"):
    """Recorded when an earlier event should not have been recorded at all."""

    target_id: uuid.UUID
    reason: Line


AnyEvent = (
    ChannelEstablished
    | MeetingHeld
    | MeetingScheduled
    | TalksCancelled
    | ChannelSuspended
    | ChannelResumed
    | ChannelClosed
    | SanctionApplied
    | SanctionLifted
    | CommitmentMade
    | OfficialChanged
    | EventCorrected
    | EventRetracted
)

EVENT_TYPES: dict[str, type[Event]] = {
    cls.__struct_config__.tag: cls  # type: ignore[misc]
    for cls in AnyEvent.__args__  # type: ignore[attr-defined]
}

# Fields a correction may never touch: they are the event's identity.
IDENTITY_FIELDS = frozenset({"id", "type", "channel"})

_ENCODER = msgspec.json.Encoder(order="sorted")
_DECODER = msgspec.json.Decoder(AnyEvent)


def encode(event: Event) -> bytes:
    """The canonical bytes of an event: sorted keys, defaults omitted.

    The same event always gives the same bytes, whichever class (stored or
    strict input variant) holds it, so the hash chain is reproducible.
    """
    return _ENCODER.encode(event)


def decode(body: bytes | str) -> Event:
    """Decode stored canonical bytes (lenient: unknown fields are ignored)."""
    return _DECODER.decode(body)


def to_builtins(event: Event) -> dict[str, Any]:
    return msgspec.to_builtins(event, order="sorted")
