"""What a channel's own page shows: its large timeline, its state on the day, every event with its sources and
corrections, its officials, the measures and commitments between its parties, its lineage and cadence."""

from __future__ import annotations

import datetime as dt

import msgspec

from diplo.events.catalog import EventCorrected, EventRetracted
from diplo.events.log import EventLog
from diplo.events.parties import party_name
from diplo.projections import ChannelState, Commitment, Measure, Projections
from diplo.projections.amendments import AMENDMENT_TYPES
from diplo.projections.queries import upcoming_only, was_known
from diplo.projections.state import dormant
from diplo.service import plot
from diplo.service.board import (
    SYMBOLS,
    Cause,
    SourceLink,
    cause,
    channel_href,
    event_href,
    printable,
    printable_measure,
    readings_of,
    source_links,
    timeline_marks,
)
from diplo.service.plot import Band, MarkView, Tick, Window

CHANNEL_BUCKETS = 500  # marks on the channel's own, wider timeline


class Amendment(msgspec.Struct, kw_only=True):
    id: str
    type: str
    recorded_at: str
    summary: str
    href: str


class EventLine(msgspec.Struct, kw_only=True):
    id: str
    type: str
    day: dt.date
    precision: str
    summary: str
    confidence: str
    sources: list[SourceLink]
    href: str
    recorded_at: str
    retracted: bool = False
    corrected_at: str | None = None
    amendments: list[Amendment] = []


class ChannelPage(msgspec.Struct, kw_only=True):
    state: ChannelState
    known: bool
    symbol: str
    dormant: bool
    day: dt.date
    cause: Cause | None
    window: Window
    ticks: list[Tick]
    bands: list[Band]
    marks: list[MarkView]
    events: list[EventLine]
    later: int  # events after the day asked about, not listed
    officials: list[tuple[str, str]]
    measures: list[Measure]
    commitments: list[Commitment]
    party_names: list[str]
    days_since_meeting: int | None
    days_since_contact: int | None
    predecessor_href: str | None = None
    successor_href: str | None = None


def build(
    log: EventLog,
    projections: Projections,
    channel: str,
    as_of: dt.date | None,
    known_at: str | None,
    today: dt.date,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> ChannelPage | None:
    """The channel's page on ``as_of`` (today if none) as known at ``known_at``; None if no such channel."""
    found = projections.channel_state(channel, as_of, known_at)
    if found is None:
        return None
    state = upcoming_only(found, as_of)
    day = as_of or today
    intervals = projections.timeline(channel, known_at) or []
    window = plot.window_for(intervals[0].from_ if intervals else None, today, start, end)
    events, later = _events(log, projections, channel, known_at, as_of)
    ids = [state.status_event_id] if state.status_event_id else []
    status = readings_of(log, projections, ids, known_at).get(state.status_event_id or "")
    return ChannelPage(
        state=printable_state(state),
        known=was_known(state),
        symbol=SYMBOLS[state.status],
        dormant=dormant(state, day),
        day=day,
        cause=cause(status, known_at),
        window=window,
        ticks=plot.axis(window),
        bands=plot.bands(intervals, window),
        marks=timeline_marks(log, projections, channel, window, known_at, CHANNEL_BUCKETS),
        events=events,
        later=later,
        officials=sorted(state.officials.items()),
        measures=_measures(projections, state.parties, as_of, known_at),
        commitments=_commitments(projections, channel, state.parties, as_of, known_at),
        party_names=[party_name(p) for p in state.parties],
        days_since_meeting=(day - state.last_meeting).days if state.last_meeting else None,
        days_since_contact=(day - state.last_contact).days if state.last_contact else None,
        predecessor_href=channel_href(state.predecessor, as_of, known_at) if state.predecessor else None,
        successor_href=channel_href(state.successor, as_of, known_at) if state.successor else None,
    )


def printable_state(state: ChannelState) -> ChannelState:
    texts = {f: printable(getattr(state, f)) for f in ("name", "reason", "restriction")}
    return msgspec.structs.replace(state, officials=printable(dict(state.officials)), **texts)


def _events(
    log: EventLog, projections: Projections, channel: str, known_at: str | None, as_of: dt.date | None
) -> tuple[list[EventLine], int]:
    """Every event of the channel recorded by ``known_at`` in valid-time order, as amended then, each with the
    corrections and retractions of it; and how many fall after ``as_of``."""
    readings = projections.as_known(log.read(channel=channel), known_at)
    amendments: dict[str, list[Amendment]] = {}
    for reading in sorted(readings.values(), key=lambda r: r.row.seq):
        event = reading.event
        if isinstance(event, EventCorrected | EventRetracted) and not reading.retracted:
            target = str(event.target_id)
            amendments.setdefault(target, []).append(
                Amendment(
                    id=reading.row.id,
                    type=reading.row.type,
                    recorded_at=reading.row.recorded_at,
                    summary=printable(reading.event.summary),
                    href=event_href(reading.row.id, known_at),
                )
            )
    lines = [
        EventLine(
            id=r.row.id,
            type=r.row.type,
            day=r.event.occurred_on,
            precision=r.event.precision,
            summary=printable(r.event.summary),
            confidence=r.event.confidence,
            sources=source_links(r.event.sources),
            href=event_href(r.row.id, known_at),
            recorded_at=r.row.recorded_at,
            retracted=r.retracted,
            corrected_at=r.corrected_at,
            amendments=amendments.get(r.row.id, []),
        )
        for r in sorted(readings.values(), key=lambda r: (r.event.occurred_on, r.row.seq))
        if r.row.type not in AMENDMENT_TYPES
    ]
    if as_of is None:
        return lines, 0
    shown = [e for e in lines if e.day <= as_of]
    return shown, len(lines) - len(shown)


def between(parties: list[str], by: list[str], against: list[str]) -> bool:
    """A measure concerns a channel's parties when one of them imposed it on another (any, for one party)."""
    mine = set(parties)
    if len(mine) < 2:
        return bool(mine & {*by, *against})
    return bool(mine & set(by)) and bool(mine & set(against))


def _measures(
    projections: Projections, parties: list[str], as_of: dt.date | None, known_at: str | None
) -> list[Measure]:
    return [printable_measure(m) for m in projections.measures(as_of, known_at) if between(parties, m.by, m.against)]


def _commitments(
    projections: Projections, channel: str, parties: list[str], as_of: dt.date | None, known_at: str | None
) -> list[Commitment]:
    """Commitments made through this channel or any other channel between the same parties."""
    same: dict[str, bool] = {channel: True}
    chosen = []
    for commitment in projections.commitments(None, as_of, known_at):
        if commitment.channel not in same:
            other = projections.channel_state(commitment.channel, None, known_at)
            same[commitment.channel] = other is not None and bool(parties) and set(other.parties) == set(parties)
        if same[commitment.channel]:
            chosen.append(msgspec.structs.replace(commitment, text=printable(commitment.text)))
    return sorted(chosen, key=lambda c: (c.made_on, c.event_id))
