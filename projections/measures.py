"""The measures register: a pure fold over measure events into intervals, each with its periods (rate history).

Old ``sanction_applied``/``sanction_lifted`` events are upcast when read: a sanction is a
``measure_imposed`` of kind ``sanction`` keyed ``sanction-<by>-<target>``, its lift a ``measure_lifted``.
The log keeps them as they were recorded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from typing import Literal

import msgspec

from diplo.events.catalog import (
    Event,
    MeasureImposed,
    MeasureLifted,
    MeasureModified,
    MeasureSuspended,
    SanctionApplied,
    SanctionLifted,
    party_list,
    sanction_measure_key,
    type_of,
)
from diplo.projections.amendments import Effective

MEASURE_TYPES = (
    "measure_imposed",
    "measure_modified",
    "measure_suspended",
    "measure_lifted",
    "sanction_applied",
    "sanction_lifted",
)
MeasureStatus = Literal["in_force", "suspended", "lifted", "expired"]
Parties = Callable[[str], list[str]]  # a channel's parties, for the ``against`` of an upcast sanction


class Terms(msgspec.Struct, frozen=True, kw_only=True):
    rate: str | None = None
    scope: str | None = None
    instrument: str | None = None
    expires_on: dt.date | None = None


class MeasurePeriod(msgspec.Struct, kw_only=True):
    """A stretch of time with one status and one set of terms; ``to`` is exclusive, null for the open one."""

    status: Literal["in_force", "suspended"]
    from_: dt.date = msgspec.field(name="from")
    to: dt.date | None = None
    rate: str | None = None
    scope: str | None = None
    instrument: str | None = None
    expires_on: dt.date | None = None
    event_id: str

    @property
    def terms(self) -> Terms:
        return Terms(rate=self.rate, scope=self.scope, instrument=self.instrument, expires_on=self.expires_on)


class Measure(msgspec.Struct, kw_only=True):
    """One measure from its imposition to its lift (a measure lifted and imposed again is a new one)."""

    measure: str
    kind: str
    by: list[str]
    against: list[str]
    target: str
    channel: str
    imposed_on: dt.date
    lifted_on: dt.date | None = None
    status: MeasureStatus = "in_force"  # on the day asked about
    rate: str | None = None  # the terms on the day asked about
    scope: str | None = None
    instrument: str | None = None
    expires_on: dt.date | None = None
    periods: list[MeasurePeriod] = []
    event_ids: list[str] = []
    upcast_from: str | None = None  # "sanction_applied" for a sanction recorded with vocabulary v1


def measure_key(event: Event, parties: Parties) -> str:
    """The measure a measure event (or an old sanction event, upcast) is about."""
    measured = upcast(event, parties)
    if not isinstance(measured, MeasureImposed | MeasureModified | MeasureSuspended | MeasureLifted):
        raise TypeError(f"a {type_of(event)} is about no measure")
    return measured.measure


def upcast(event: Event, parties: Parties) -> Event:
    """An old sanction event read as the measure event it means; any other event as it is."""
    # The fields every event has carry over as they are.
    common = {name: getattr(event, name) for name in Event.__struct_fields__}
    if isinstance(event, SanctionApplied):
        return MeasureImposed(
            **common,
            measure=sanction_measure_key(event.by, event.target),
            kind="sanction",
            by=event.by,
            against=[p for p in parties(event.channel) if p != event.by],
            target=event.target,
            instrument=event.program,
        )
    if isinstance(event, SanctionLifted):
        return MeasureLifted(
            **common,
            measure=sanction_measure_key(event.by, event.target),
        )
    return event


def _cut(measure: Measure, day: dt.date) -> tuple[Terms, list[MeasurePeriod]]:
    """End the measure's periods at ``day``; the terms in effect that day, and the periods planned after it
    (the resumption a suspension with ``until`` planned), which the caller drops or carries on."""
    current = [p for p in measure.periods if p.from_ <= day]
    planned = [p for p in measure.periods if p.from_ > day]
    terms = current[-1].terms if current else Terms()
    measure.periods = [p for p in current if p.from_ < day]
    if measure.periods and (measure.periods[-1].to is None or measure.periods[-1].to > day):
        measure.periods[-1].to = day
    return terms, planned


def _period(status: Literal["in_force", "suspended"], day: dt.date, terms: Terms, event_id: str) -> MeasurePeriod:
    return MeasurePeriod(status=status, from_=day, event_id=event_id, **msgspec.structs.asdict(terms))


def _status_on(measure: Measure, day: dt.date) -> tuple[str, Terms]:
    current = [p for p in measure.periods if p.from_ <= day]
    terms = current[-1].terms if current else Terms()
    status: str = current[-1].status if current else "in_force"
    if status == "in_force" and terms.expires_on is not None and day >= terms.expires_on:
        status = "expired"
    return status, terms


def apply_measure(open_: dict[str, Measure], measures: list[Measure], item: Effective, parties: Parties) -> None:
    """One event (in valid-time order) onto the open measures; one that names no open measure is ignored."""
    event = upcast(item.event, parties)
    day = event.occurred_on
    if isinstance(event, MeasureImposed):
        terms = Terms(rate=event.rate, scope=event.scope, instrument=event.instrument, expires_on=event.expires_on)
        current = open_.get(event.measure)
        if current is None:
            current = Measure(
                measure=event.measure,
                kind=event.kind,
                by=party_list(event.by),
                against=party_list(event.against),
                target=event.target,
                channel=event.channel,
                imposed_on=day,
                upcast_from=type_of(item.event) if item.event is not event else None,
            )
            open_[event.measure] = current
            measures.append(current)
        elif _status_on(current, day) == ("in_force", terms):
            current.event_ids.append(item.id)  # the same measure reported again
            return
        else:
            _cut(current, day)  # imposed again: in force from now on, whatever was planned
        current.periods.append(_period("in_force", day, terms, item.id))
        current.event_ids.append(item.id)
        return
    if not isinstance(event, MeasureModified | MeasureSuspended | MeasureLifted):
        return
    current = open_.get(event.measure)
    if current is None:
        return
    current.event_ids.append(item.id)
    status_then = _status_on(current, day)[0]
    terms, planned = _cut(current, day)
    if isinstance(event, MeasureLifted):
        current.lifted_on = day
        del open_[event.measure]
    elif isinstance(event, MeasureModified):
        changed = {f: getattr(event, f) for f in ("rate", "scope", "instrument", "expires_on") if getattr(event, f)}
        status: Literal["in_force", "suspended"] = "suspended" if status_then == "suspended" else "in_force"
        current.periods.append(_period(status, day, msgspec.structs.replace(terms, **changed), item.id))
        for later in planned:  # a suspension still ends when it was to end, on the new terms
            current.periods[-1].to = later.from_
            current.periods.append(
                _period(later.status, later.from_, msgspec.structs.replace(later.terms, **changed), later.event_id)
            )
    else:
        suspension = _period("suspended", day, terms, item.id)
        suspension.to = event.until
        current.periods.append(suspension)
        if event.until is not None:  # in force again, on the same terms, when the suspension ends
            current.periods.append(_period("in_force", event.until, terms, item.id))


def fold_measures(events: Iterable[Effective], parties: Parties) -> list[Measure]:
    """Every measure from the events of the register in valid-time order."""
    measures: list[Measure] = []
    open_: dict[str, Measure] = {}
    for item in events:
        apply_measure(open_, measures, item, parties)
    return measures


def on_day(measures: Iterable[Measure], day: dt.date) -> list[Measure]:
    """The measures imposed by ``day`` (from events up to it), each with its status and terms on that day."""
    result = []
    for measure in measures:
        if measure.imposed_on > day:
            continue
        status, terms = _status_on(measure, day)
        if measure.lifted_on is not None and measure.lifted_on <= day:
            status = "lifted"
        result.append(msgspec.structs.replace(measure, status=status, **msgspec.structs.asdict(terms)))
    return sorted(result, key=lambda m: (m.imposed_on, m.measure))
