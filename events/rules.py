"""The append rules: pure functions over an event, the channel's version and lookups.

The writer calls them with what it knows of the log; nothing here touches a database,
so every rule is unit-tested on plain values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Any

import msgspec

from diplo.events.catalog import (
    IDENTITY_FIELDS,
    ChannelEstablished,
    CommitmentStatus,
    Event,
    EventCorrected,
    EventRetracted,
    MeasureImposed,
    MeasureLifted,
    MeasureModified,
    MeasureSuspended,
    SanctionApplied,
    sanction_measure_key,
    to_builtins,
    type_of,
)
from diplo.events.errors import Conflict, Refused
from diplo.events.log import StoredEvent
from diplo.events.validation import InvalidEvent, convert_event

AMENDMENT_TYPES = ("event_corrected", "event_retracted")
# Events that open a key in the measures register (an old sanction_applied is read as a measure_imposed).
IMPOSING_TYPES = ("measure_imposed", "sanction_applied")
MeasureChange = MeasureModified | MeasureSuspended | MeasureLifted
# Fields that name another event or a register key: checked when appended, so a correction may not move them.
REFERENCE_FIELDS = {
    "commitment_status": frozenset({"target_id"}),
    "measure_imposed": frozenset({"measure"}),
    "measure_modified": frozenset({"measure"}),
    "measure_suspended": frozenset({"measure"}),
    "measure_lifted": frozenset({"measure"}),
}
Lookup = Callable[[str], StoredEvent | None]


def tag(event: Event) -> str:
    return type_of(event)


def check_order(event: Event, version: int, kind: str | None = None) -> None:
    """A channel starts with its channel_established event, and has only one (``kind``: the event's tag)."""
    establishes = (kind or tag(event)) == "channel_established"
    if version == 0 and not establishes:
        raise Refused(f"channel {event.channel} is not established; append its channel_established event first")
    if version > 0 and establishes:
        raise Conflict(f"channel {event.channel} is already established", event.channel, version)


def check_target(event: EventCorrected | EventRetracted, target: StoredEvent | None) -> StoredEvent:
    """The event an amendment names exists, is on its channel, and may be amended."""
    verb = "correct" if isinstance(event, EventCorrected) else "retract"
    target_id = str(event.target_id)
    if target is None:
        raise Refused(f"target_id: no event {target_id} in the log to {verb}")
    if target.channel != event.channel:
        raise Refused(f"target_id: event {target_id} is on channel {target.channel}, not {event.channel}")
    if isinstance(event, EventRetracted) and target.type == "channel_established":
        raise Refused("target_id: a channel_established event cannot be retracted; close the channel instead")
    if target.type == "event_retracted" or (isinstance(event, EventCorrected) and target.type == "event_corrected"):
        raise Refused(f"target_id: a {target.type} event cannot be {verb}ed")
    return target


def normalise_correction(event: EventCorrected, target: StoredEvent) -> EventCorrected:
    """The correction with its changes validated and written exactly as the event's own fields would be.

    The corrected event goes through the same strict decoder as any new event; each changed
    field is then taken back from it in canonical form (a timestamp becomes its date), so what
    is stored always decodes, and a re-post of the same correction gives the same bytes.
    """
    touched = (IDENTITY_FIELDS | REFERENCE_FIELDS.get(target.type, frozenset())) & set(event.changes)
    if touched:
        raise InvalidEvent(
            f"changes: {', '.join(sorted(touched))} cannot be corrected; retract the event instead", "changes"
        )
    merged = to_builtins(target.event()) | event.changes
    try:
        corrected = convert_event(merged)
    except InvalidEvent as error:
        raise InvalidEvent(f"changes: the corrected event would be invalid: {error.message}", "changes") from None
    # Read each field off the Struct, not its builtins: those omit a value equal to the default
    # (confidence "confirmed"), which would store the change as null.
    changes = {key: msgspec.to_builtins(getattr(corrected, key)) for key in event.changes}
    if changes == event.changes:
        return event
    return msgspec.structs.replace(event, changes=changes)


def effective_dates(rows: Iterable[StoredEvent]) -> dict[str, tuple[str, dt.date]]:
    """The folded events of one channel as amended: id -> (type, occurred_on as corrected).

    Amendments apply in log order; a retracted correction no longer applies; amendments
    themselves are not folded, so they are left out.
    """
    ordered = sorted(rows, key=lambda r: r.seq)
    retractions = (r.event() for r in ordered if r.type == "event_retracted")
    retracted = {str(e.target_id) for e in retractions if isinstance(e, EventRetracted)}
    dates = {r.id: (r.type, dt.date.fromisoformat(r.occurred_on)) for r in ordered if r.type not in AMENDMENT_TYPES}
    for row in ordered:
        if row.type != "event_corrected" or row.id in retracted:
            continue
        event: Any = row.event()
        target = str(event.target_id)
        if target in dates and "occurred_on" in event.changes:
            dates[target] = (dates[target][0], dt.date.fromisoformat(event.changes["occurred_on"]))
    return {i: v for i, v in dates.items() if i not in retracted}


def check_after_establishment(dates: dict[str, tuple[str, dt.date]], channel: str) -> None:
    """Nothing of a channel is dated before the day it was established."""
    established = [day for kind, day in dates.values() if kind == "channel_established"]
    if not established:
        return
    (start,) = established
    early = [day for kind, day in dates.values() if kind != "channel_established" and day < start]
    if early:
        raise Refused(
            f"occurred_on: channel {channel} was established on {start.isoformat()}; this would date an event"
            f" on {min(early).isoformat()}, before it. Correct the channel_established date first, or fix this date"
        )


def check_dated_after(event: Event, established_on: dt.date | None) -> None:
    """A plain event may not be dated before its channel's establishment (the fold would not see it)."""
    if established_on is not None and event.occurred_on < established_on:
        raise Refused(
            f"occurred_on: {event.occurred_on.isoformat()} is before channel {event.channel} was established"
            f" on {established_on.isoformat()}; correct the channel_established date first, or fix this date"
        )


def established_on(rows: Iterable[StoredEvent]) -> dt.date | None:
    """The establishment date of a channel from its rows (its first event and the amendments)."""
    for kind, day in effective_dates(rows).values():
        if kind == "channel_established":
            return day
    return None


def check_commitment_target(event: CommitmentStatus, target: StoredEvent | None) -> None:
    """A commitment_status names a commitment_made of its own channel."""
    target_id = str(event.target_id)
    if target is None:
        raise Refused(f"target_id: no event {target_id} in the log; name the commitment_made this status is about")
    if target.type != "commitment_made":
        raise Refused(f"target_id: event {target_id} is a {target.type}, not a commitment_made")
    if target.channel != event.channel:
        raise Refused(
            f"target_id: commitment {target_id} is on channel {target.channel}, not {event.channel};"
            f" record its status on {target.channel}"
        )


def imposed_key(event: Event) -> str | None:
    """The register key an event imposes, if it imposes one."""
    if isinstance(event, MeasureImposed):
        return event.measure
    if isinstance(event, SanctionApplied):
        return sanction_measure_key(event.by, event.target)
    return None


def check_measure_named(event: MeasureModified | MeasureSuspended | MeasureLifted, imposed: set[str]) -> None:
    """A measure is modified, suspended or lifted only once the log holds its imposition."""
    if event.measure not in imposed:
        raise Refused(
            f"measure: no measure {event.measure!r} was imposed in the log; record its measure_imposed first"
            " (an old sanction is keyed sanction-<by>-<target>, e.g. sanction-usa-li-shangfu)"
        )


def check_predecessor(event: ChannelEstablished, exists: bool) -> None:
    """A channel succeeds one that is in the log."""
    if event.succeeds is not None and not exists:
        raise Refused(f"succeeds: no channel {event.succeeds} in the log; establish it first, or check the slug")
