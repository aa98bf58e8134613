"""The measures register: a pure fold over measure events into intervals, each with its periods (rate history).

Old ``sanction_applied``/``sanction_lifted`` events are upcast when read: a sanction is a
``measure_imposed`` of kind ``sanction`` keyed ``sanction-<by>-<target>``, its lift a ``measure_lifted``.
The log keeps them as they were recorded.
"""

from __future__ import annotations

import datetime as dt
import functools
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
sanction_measure = functools.lru_cache(maxsize=4096)(sanction_measure_key)  # a pure function of (by, target)


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
            measure=sanction_measure(event.by, event.target),
            kind="sanction",
            by=event.by,
            against=[p for p in parties(event.channel) if p != event.by],
            target=event.target,
            instrument=event.program,
        )
    if isinstance(event, SanctionLifted):
        return MeasureLifted(
            **common,
            measure=sanction_measure(event.by, event.target),
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


# -- a measure folded over all valid time, readable on any day -------------------------------------------


class PeriodHistory(msgspec.Struct, kw_only=True):
    """A period as the event that created it left it, the day of that event, the day of the event that cut it
    away (if one did) and every later change of its end: (day of the event, new ``to``)."""

    period: MeasurePeriod
    added: dt.date
    removed: dt.date | None = None
    ends: list[tuple[dt.date, dt.date | None]] = []

    def live_on(self, day: dt.date | None) -> bool:
        if day is None:
            return self.removed is None
        return self.added <= day and (self.removed is None or self.removed > day)

    def to_on(self, day: dt.date | None) -> dt.date | None:
        to = self.period.to
        for when, end in self.ends:
            if day is not None and when > day:
                break
            to = end
        return to


class MeasureHistory(msgspec.Struct, kw_only=True):
    """One measure of a key's chain, folded over every event of the key, with the day of each change.

    ``as_folded(history, day)`` gives the measure exactly as ``fold_measures`` of the events up to ``day`` does:
    the fold only ever appends periods and event ids, cuts periods away, sets the end of the last kept period
    and the lift, each at the day of the event doing it, so the state after the events up to a day is the
    changes made on or before it. (Folding over all time and cutting the result would not do: a lift cuts away
    a suspension's planned resumption, which a day before the lift still shows.)"""

    measure: Measure  # the fields set when imposed; periods, event_ids and lifted_on are kept below
    events: list[tuple[dt.date, str]] = []
    lifted_on: dt.date | None = None
    periods: list[PeriodHistory] = []


def as_folded(history: MeasureHistory, day: dt.date | None) -> tuple[Measure, list[PeriodHistory]]:
    """The measure as the fold of its events up to ``day`` (None: all) gives it, and its periods' histories."""
    live = [p for p in history.periods if p.live_on(day)]
    lifted = history.lifted_on if history.lifted_on is not None and (day is None or history.lifted_on <= day) else None
    measure = msgspec.structs.replace(
        history.measure,
        periods=[msgspec.structs.replace(p.period, to=p.to_on(day)) for p in live],
        event_ids=[i for when, i in history.events if day is None or when <= day],
        lifted_on=lifted,
    )
    return measure, live


def advance_measures(chain: list[MeasureHistory], item: Effective, parties: Parties) -> None:
    """One event of the key's chain, later in valid time than every one before it: ``apply_measure`` on the
    open measure, its changes recorded with the event's day."""
    day = item.event.occurred_on
    history = chain[-1] if chain and chain[-1].lifted_on is None else None
    open_: dict[str, Measure] = {}
    before: list[MeasurePeriod] = []
    live: list[PeriodHistory] = []
    if history is not None:
        current, live = as_folded(history, None)
        open_[current.measure] = current
        before = list(current.periods)
    created: list[Measure] = []
    apply_measure(open_, created, item, parties)
    for measure in created:
        chain.append(
            MeasureHistory(
                measure=msgspec.structs.replace(measure, periods=[], event_ids=[]),
                events=[(day, i) for i in measure.event_ids],
                periods=[PeriodHistory(period=msgspec.structs.replace(p), added=day) for p in measure.periods],
            )
        )
    if history is None or created:
        return
    after = current.periods
    kept = min(len(before), len(after))  # the periods kept are a prefix; only the last of them may end anew
    while kept and after[kept - 1] is not before[kept - 1]:
        kept -= 1
    for period in live[kept:]:
        period.removed = day
    if kept and after[kept - 1].to != live[kept - 1].to_on(None):
        live[kept - 1].ends.append((day, after[kept - 1].to))
    history.periods.extend(PeriodHistory(period=msgspec.structs.replace(p), added=day) for p in after[kept:])
    history.events.extend((day, i) for i in current.event_ids[len(history.events) :])
    if current.lifted_on is not None:
        history.lifted_on = current.lifted_on


def history_on(chains: Iterable[list[MeasureHistory]], day: dt.date) -> list[Measure]:
    """``on_day`` of the measures the fold of the events up to ``day`` gives, from their histories."""
    return on_day((as_folded(h, day)[0] for chain in chains for h in chain if h.measure.imposed_on <= day), day)
