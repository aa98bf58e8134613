"""What happened: the event vocabulary and the append-only log."""

from events.catalog import (
    AnyEvent,
    ChannelClosed,
    ChannelEstablished,
    ChannelResumed,
    ChannelSuspended,
    CommitmentMade,
    Event,
    EventCorrected,
    EventRetracted,
    MeetingHeld,
    MeetingScheduled,
    OfficialChanged,
    SanctionApplied,
    SanctionLifted,
    Source,
    TalksCancelled,
)
from events.errors import ChainBroken, Conflict, LogError, Refused, SchemaTooNew, Unavailable
from events.log import EventLog, Head, Receipt, StoredEvent, Verification
from events.sqlite import SQLiteLog
from events.validation import InvalidEvent, decode_event, decode_events

__all__ = [
    "AnyEvent",
    "ChainBroken",
    "ChannelClosed",
    "ChannelEstablished",
    "ChannelResumed",
    "ChannelSuspended",
    "CommitmentMade",
    "Conflict",
    "Event",
    "EventCorrected",
    "EventLog",
    "EventRetracted",
    "Head",
    "InvalidEvent",
    "LogError",
    "MeetingHeld",
    "MeetingScheduled",
    "OfficialChanged",
    "Receipt",
    "Refused",
    "SQLiteLog",
    "SanctionApplied",
    "SanctionLifted",
    "SchemaTooNew",
    "Source",
    "StoredEvent",
    "TalksCancelled",
    "Unavailable",
    "Verification",
    "decode_event",
    "decode_events",
]
