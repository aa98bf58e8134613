"""What changed: between two days of valid time (as known at one moment), or what was learned between two
moments of transaction time. Computed from the projections' public answers (timelines, registers, events as
known) and nothing else, so that it agrees with every other view."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import msgspec

from diplo.events.catalog import CommitmentMade, CommitmentStatus, EventCorrected, EventRetracted, party_list
from diplo.projections import Interval, Projections
from diplo.projections.amendments import AMENDMENT_TYPES
from diplo.projections.queries import Reading

MEASURE_ACTIONS = {
    "measure_imposed": "imposed",
    "sanction_applied": "imposed",
    "measure_modified": "modified",
    "measure_suspended": "suspended",
    "measure_lifted": "lifted",
    "sanction_lifted": "lifted",
}


class Period(msgspec.Struct, frozen=True, kw_only=True):
    """Either valid days ``start``..``end`` (both included) as known at ``known_at`` (None: now), or, when
    ``known_from`` is set, what was recorded after ``known_from`` and by ``known_to`` (None: now)."""

    start: dt.date | None = None
    end: dt.date | None = None
    known_at: str | None = None
    known_from: str | None = None
    known_to: str | None = None

    @property
    def learned(self) -> bool:
        return self.known_from is not None

    @property
    def moment(self) -> str | None:
        """What the answer is as known at: the end of the learning window, or ``known_at``."""
        return self.known_to if self.learned else self.known_at

    def selects(self, reading: Reading) -> bool:
        if self.known_from is not None:  # what was learned: recorded after known_from, by known_to
            recorded = reading.row.recorded_at
            return recorded > self.known_from and (self.known_to is None or recorded <= self.known_to)
        return _within(reading.event.occurred_on, self)


class EventRef(msgspec.Struct, kw_only=True):
    id: str
    type: str
    channel: str
    occurred_on: dt.date
    recorded_at: str
    summary: str
    confidence: str


class StatusChange(msgspec.Struct, kw_only=True):
    channel: str
    name: str | None
    on: dt.date
    from_status: str | None  # null when the channel began then
    to_status: str
    event: EventRef | None


class MeetingHeld(msgspec.Struct, kw_only=True):
    channel: str
    name: str | None
    on: dt.date
    event: EventRef


class MeasureChange(msgspec.Struct, kw_only=True):
    measure: str
    kind: str
    action: str  # imposed, modified, suspended, lifted
    on: dt.date
    by: list[str]
    against: list[str]
    target: str
    channel: str
    event: EventRef


class CommitmentChange(msgspec.Struct, kw_only=True):
    channel: str
    action: str  # made, or the status found: fulfilled, partly_fulfilled, breached, withdrawn, open
    on: dt.date
    by: list[str]
    text: str
    commitment_id: str
    event: EventRef


class Correction(msgspec.Struct, kw_only=True):
    channel: str
    action: str  # corrected, retracted
    target_id: str
    target_summary: str | None
    event: EventRef


class Changes(msgspec.Struct, kw_only=True):
    from_: dt.date | None = msgspec.field(default=None, name="from")
    to: dt.date | None = None
    known_at: str | None = None
    known_from: str | None = None
    known_to: str | None = None
    status_changes: list[StatusChange] = []
    meetings: list[MeetingHeld] = []
    measures: list[MeasureChange] = []
    commitments: list[CommitmentChange] = []
    corrections: list[Correction] = []  # only when asking what was learned


def ref(reading: Reading) -> EventRef:
    event = reading.event
    return EventRef(
        id=reading.row.id,
        type=reading.row.type,
        channel=reading.row.channel,
        occurred_on=event.occurred_on,
        recorded_at=reading.row.recorded_at,
        summary=event.summary,
        confidence=event.confidence,
    )


def changes(projections: Projections, period: Period) -> Changes:
    moment = period.moment
    names = {s.channel: s.name for s in projections.all_channels(None, moment)}
    return Changes(
        from_=period.start,
        to=period.end,
        known_at=period.known_at,
        known_from=period.known_from,
        known_to=period.known_to,
        status_changes=status_changes(projections, period, names),
        meetings=[
            MeetingHeld(channel=r.row.channel, name=names.get(r.row.channel), on=r.event.occurred_on, event=ref(r))
            for r in _selected(projections, period, ["meeting_held"])
        ],
        measures=measure_changes(projections, period),
        commitments=commitment_changes(projections, period),
        corrections=corrections(projections, period) if period.learned else [],
    )


def _readings(projections: Projections, types: Iterable[str], moment: str | None) -> list[Reading]:
    """Every event of these types as known at ``moment``, retracted ones left out, in valid-time order."""
    rows = [row for kind in types for row in projections.log.read(type=kind)]
    found = [r for r in projections.as_known(rows, moment).values() if not r.retracted]
    return sorted(found, key=lambda r: (r.event.occurred_on, r.row.seq))


def _selected(projections: Projections, period: Period, types: Iterable[str]) -> list[Reading]:
    return [r for r in _readings(projections, types, period.moment) if period.selects(r)]


def _by_id(projections: Projections, ids: Iterable[str], moment: str | None) -> dict[str, Reading]:
    rows = [row for event_id in dict.fromkeys(ids) if (row := projections.log.get(event_id))]
    return projections.as_known(rows, moment)


def status_changes(projections: Projections, period: Period, names: dict[str, str | None]) -> list[StatusChange]:
    """Valid time: the status intervals that begin in the period. Learned: the intervals known at the end of the
    window that were not known at its start (a late suspension, a resumption first reported)."""
    found: list[tuple[str, str | None, Interval]] = []
    for channel in names:
        intervals = projections.timeline(channel, period.moment) or []
        known_before = set()
        if period.learned:
            earlier = projections.timeline(channel, period.known_from) or []
            known_before = {(i.status, i.from_, i.event_id) for i in earlier}
        for index, interval in enumerate(intervals):
            if period.learned:
                if (interval.status, interval.from_, interval.event_id) in known_before:
                    continue
            elif not _within(interval.from_, period):
                continue
            found.append((channel, intervals[index - 1].status if index else None, interval))
    readings = _by_id(projections, (i.event_id for _, _, i in found if i.event_id), period.moment)
    changes = [
        StatusChange(
            channel=channel,
            name=names.get(channel),
            on=interval.from_,
            from_status=previous,
            to_status=interval.status,
            event=ref(readings[interval.event_id]) if interval.event_id in readings else None,
        )
        for channel, previous, interval in found
    ]
    return sorted(changes, key=lambda c: (c.on, c.channel))


def _within(day: dt.date, period: Period) -> bool:
    return (period.start is None or day >= period.start) and (period.end is None or day <= period.end)


def measure_changes(projections: Projections, period: Period) -> list[MeasureChange]:
    """Every event of a measure in the register (old sanctions included) that falls in the period."""
    register = projections.measures(period.end if not period.learned else None, period.moment)
    readings = _by_id(projections, (e for m in register for e in m.event_ids), period.moment)
    found = []
    for measure in register:
        for event_id in dict.fromkeys(measure.event_ids):
            reading = readings.get(event_id)
            if reading is None or reading.retracted or not period.selects(reading):
                continue
            found.append(
                MeasureChange(
                    measure=measure.measure,
                    kind=measure.kind,
                    action=MEASURE_ACTIONS.get(reading.row.type, reading.row.type),
                    on=reading.event.occurred_on,
                    by=measure.by,
                    against=measure.against,
                    target=measure.target,
                    channel=measure.channel,
                    event=ref(reading),
                )
            )
    return sorted(found, key=lambda c: (c.on, c.event.recorded_at))


def commitment_changes(projections: Projections, period: Period) -> list[CommitmentChange]:
    """Commitments made in the period, and statuses found in it (kept, partly kept, broken, withdrawn)."""
    readings = _readings(projections, ["commitment_made", "commitment_status"], period.moment)
    made = {r.row.id: r.event for r in readings if isinstance(r.event, CommitmentMade)}
    found = []
    for reading in readings:
        event = reading.event
        if not period.selects(reading) or not isinstance(event, CommitmentMade | CommitmentStatus):
            continue
        commitment_id = reading.row.id if isinstance(event, CommitmentMade) else str(event.target_id)
        commitment = made.get(commitment_id)
        if commitment is None:
            continue  # a status of a commitment retracted (or not known) by then
        found.append(
            CommitmentChange(
                channel=reading.row.channel,
                action="made" if isinstance(event, CommitmentMade) else event.status,
                on=event.occurred_on,
                by=party_list(commitment.by),
                text=commitment.text,
                commitment_id=commitment_id,
                event=ref(reading),
            )
        )
    return found


def _target(reading: Reading) -> str:
    """The id a correction or retraction is about ('' for any other event: never a stored id)."""
    event = reading.event
    return str(event.target_id) if isinstance(event, EventCorrected | EventRetracted) else ""


def corrections(projections: Projections, period: Period) -> list[Correction]:
    """Corrections and retractions recorded in the learning window (those retracted since left out)."""
    found = _selected(projections, period, AMENDMENT_TYPES)
    targets = _by_id(projections, (_target(r) for r in found), period.moment)
    result = []
    for reading in found:
        target_id = _target(reading)
        target = targets.get(target_id)
        result.append(
            Correction(
                channel=reading.row.channel,
                action="corrected" if reading.row.type == "event_corrected" else "retracted",
                target_id=target_id,
                target_summary=target.event.summary if target else None,
                event=ref(reading),
            )
        )
    return sorted(result, key=lambda c: c.event.recorded_at)
