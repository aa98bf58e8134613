"""The event vocabulary: one frozen msgspec Struct per event type.

Every class carries an explicit string tag, so renaming a class never changes
stored data. Stored types are never retagged or removed; a new field always
gets a default. Unknown fields are tolerated here (reading the stored log) and
refused by the strict input variants in ``events.validation``.
"""

from __future__ import annotations

import datetime as dt
import re
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
# One party code, or several (a statement or a measure by more than one party).
Parties = Party | Annotated[list[Party], msgspec.Meta(min_length=1, max_length=20)]
# How exactly occurred_on is known: a month or year is recorded at its first day.
Precision = Literal["day", "month", "year"]
MeasureKey = Annotated[str, msgspec.Meta(pattern=CHANNEL_PATTERN, min_length=1, max_length=120)]
Rate = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
ChannelKind = Literal[
    "military",
    "diplomatic",
    "economic",
    "law-enforcement",
    "climate-science",
    "consular",
    "arms-control",
    "technology",
    "leaders",
    "other",
]
MeasureKind = Literal[
    "sanction", "tariff", "export_control", "entity_listing", "visa_restriction", "countermeasure", "other"
]
CommitmentStatusValue = Literal["open", "fulfilled", "partly_fulfilled", "breached", "withdrawn"]


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
    precision: Precision = "day"


class ChannelEstablished(Event, tag="channel_established", frozen=True):
    """Recorded when a channel between parties is created (``agreed``: agreed on, not yet met)."""

    name: Name
    parties: Annotated[list[Party], msgspec.Meta(min_length=1, max_length=20)]
    status: Literal["active", "agreed"] = "active"
    succeeds: Channel | None = None
    kind: ChannelKind | None = None


class ChannelAgreed(Event, tag="channel_agreed", frozen=True):
    """Recorded when the parties agree to establish or resume the channel; its first meeting makes it active."""

    by: Parties | None = None


class MeetingHeld(Event, tag="meeting_held", frozen=True):
    """Recorded when a meeting or call of the channel took place."""

    participants: Annotated[list[Name], msgspec.Meta(max_length=50)] | None = None
    location: Name | None = None
    level: Name | None = None
    round: Annotated[int, msgspec.Meta(ge=1, le=100_000)] | None = None
    forum: Name | None = None


class ContactMade(Event, tag="contact_made", frozen=True):
    """Recorded for a contact outside the channel's formal rounds (a call, a sideline talk, a handshake).

    It never changes the channel's status: a handshake does not resume a suspended channel."""

    mode: Literal["call", "sideline", "handshake", "letter", "informal", "other"]
    participants: Annotated[list[Name], msgspec.Meta(max_length=50)] | None = None
    location: Name | None = None
    forum: Name | None = None


class MeetingScheduled(Event, tag="meeting_scheduled", frozen=True):
    """Recorded when a future meeting is announced."""

    scheduled_for: dt.date


class TalksCancelled(Event, tag="talks_cancelled", frozen=True):
    """Recorded when one meeting is called off, put off or refused."""

    reason: Line
    mode: Literal["cancelled", "postponed", "declined"]
    by: Parties | None = None


class ChannelSuspended(Event, tag="channel_suspended", frozen=True):
    """Recorded when a party halts the channel indefinitely."""

    by: Parties
    reason: Line


class ChannelRestricted(Event, tag="channel_restricted", frozen=True):
    """Recorded for a partial freeze or downgrade: calls refused, a lower level of representation."""

    by: Parties
    reason: Line
    level: Name


class ChannelResumed(Event, tag="channel_resumed", frozen=True):
    """Recorded when the resumption of a suspended channel is announced."""


class ChannelClosed(Event, tag="channel_closed", frozen=True):
    """Recorded when a channel is wound up for good."""

    reason: Line


class SanctionApplied(Event, tag="sanction_applied", frozen=True):
    """Recorded when a party sanctions a person or entity."""

    target: Name
    by: Party
    program: Name | None = None


class SanctionLifted(Event, tag="sanction_lifted", frozen=True):
    """Recorded when a sanction is lifted."""

    target: Name
    by: Party


class CommitmentMade(Event, tag="commitment_made", frozen=True):
    """Recorded when a party commits to something through the channel."""

    by: Parties
    text: Text
    due_on: dt.date | None = None
    conditions: Text | None = None


class CommitmentStatus(Event, tag="commitment_status", frozen=True):
    """Recorded when a commitment is found kept, partly kept, broken or withdrawn (from this date)."""

    target_id: uuid.UUID
    status: CommitmentStatusValue


class MeasureImposed(Event, tag="measure_imposed", frozen=True):
    """Recorded when a party imposes a measure (sanction, tariff, export control, ...) on another."""

    measure: MeasureKey
    kind: MeasureKind
    by: Parties
    against: Parties
    target: Name
    rate: Rate | None = None
    scope: Line | None = None
    instrument: Name | None = None
    expires_on: dt.date | None = None


class MeasureModified(Event, tag="measure_modified", frozen=True):
    """Recorded when a measure's terms change (a new rate, scope, instrument or expiry) from this date."""

    measure: MeasureKey
    rate: Rate | None = None
    scope: Line | None = None
    instrument: Name | None = None
    expires_on: dt.date | None = None


class MeasureSuspended(Event, tag="measure_suspended", frozen=True):
    """Recorded when a measure stops applying from this date, until ``until`` if given."""

    measure: MeasureKey
    until: dt.date | None = None


class MeasureLifted(Event, tag="measure_lifted", frozen=True):
    """Recorded when a measure ends."""

    measure: MeasureKey


class OfficialChanged(Event, tag="official_changed", frozen=True):
    """Recorded when a seat of the channel changes hands."""

    role: Name
    person: Name
    change: Literal["appointed", "removed"]


class EventCorrected(Event, tag="event_corrected", frozen=True):
    """Recorded when fields of an earlier event are found to be wrong."""

    target_id: uuid.UUID
    changes: Annotated[dict[str, Any], msgspec.Meta(min_length=1, max_length=20)]


class EventRetracted(Event, tag="event_retracted", frozen=True):
    """Recorded when an earlier event should not have been recorded at all."""

    target_id: uuid.UUID
    reason: Line


AnyEvent = (
    ChannelEstablished
    | ChannelAgreed
    | MeetingHeld
    | ContactMade
    | MeetingScheduled
    | TalksCancelled
    | ChannelSuspended
    | ChannelRestricted
    | ChannelResumed
    | ChannelClosed
    | SanctionApplied
    | SanctionLifted
    | CommitmentMade
    | CommitmentStatus
    | MeasureImposed
    | MeasureModified
    | MeasureSuspended
    | MeasureLifted
    | OfficialChanged
    | EventCorrected
    | EventRetracted
)

EVENT_TYPES: dict[str, type[Event]] = {cls.__struct_config__.tag: cls for cls in AnyEvent.__args__}

# Fields a correction may never touch: they are the event's identity.
IDENTITY_FIELDS = frozenset({"id", "type", "channel"})

_ENCODER = msgspec.json.Encoder(order="sorted")
_DECODER = msgspec.json.Decoder(AnyEvent)


def type_of(event: msgspec.Struct) -> str:
    """The event's ``type``: its tag in the catalog."""
    return str(event.__struct_config__.tag)


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


def slug(text: str) -> str:
    """Lower-case letters and digits joined by single hyphens ("Li Shangfu" -> "li-shangfu")."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "x"


def sanction_measure_key(by: str, target: str) -> str:
    """The measures-register key an old sanction_applied/sanction_lifted is read under."""
    return f"sanction-{slug(by)}-{slug(target)}"[:120].rstrip("-")


def party_list(value: str | list[str] | None) -> list[str]:
    """A ``by`` or ``against`` field as a list: one code, several, or none."""
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)
