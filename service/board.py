"""What the status board shows: rows grouped by party pair, and each channel's timeline as SVG geometry."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from typing import Any

import msgspec

from events import EventLog
from events.log import StoredEvent
from events.parties import party_name
from projections import ChannelState, Measure, Projections
from projections.queries import Reading, upcoming_only, was_known
from projections.state import dormant

WIDTH, HEIGHT = 420, 26
# Characters XML 1.0 forbids (and lone surrogates, which no UTF-8 page can carry): a stored row holding
# one must not break a page or the feed, so views drop them when rendering.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Each status has its own symbol as well as its colour, so that it never rests on colour alone.
SYMBOLS = {"active": "●", "agreed": "◇", "restricted": "◐", "suspended": "▲", "closed": "■", "unknown": "?"}


class Band(msgspec.Struct, kw_only=True):
    status: str
    x: float
    width: float
    label: str


class Tick(msgspec.Struct, kw_only=True):
    x: float
    label: str
    href: str


class Row(msgspec.Struct, kw_only=True):
    state: ChannelState
    symbol: str
    status_summary: str | None
    status_href: str | None
    status_sources: list[dict]
    bands: list[Band]
    ticks: list[Tick]
    start: dt.date | None
    end: dt.date
    dormant: bool = False


class Group(msgspec.Struct, kw_only=True):
    parties: str
    rows: list[Row]
    names: str = ""  # the parties' names, e.g. "United States – China"


def printable(value: Any) -> Any:
    """``value`` (text, or lists and dicts of it) without the characters no page or feed may carry."""
    if isinstance(value, str):
        return _UNPRINTABLE.sub("", value)
    if isinstance(value, list | tuple):
        return type(value)(printable(v) for v in value)
    if isinstance(value, dict):
        return {k: printable(v) for k, v in value.items()}
    return value


def event_href(event_id: str, known_at: str | None) -> str:
    """An event's page, as known at the same moment as the view linking to it."""
    return f"/events/{event_id}" + (f"?known_at={known_at}" if known_at else "")


def _x(day: dt.date, start: dt.date, end: dt.date) -> float:
    span = max((end - start).days, 1)
    return round((min(max(day, start), end) - start).days / span * WIDTH, 2)


def build(
    log: EventLog, projections: Projections, as_of: dt.date | None, known_at: str | None, today: dt.date
) -> list[Group]:
    end = as_of or today
    groups: dict[str, list[Row]] = defaultdict(list)
    # A human board of what was known at known_at: channels recorded later are left out, not listed unknown.
    states = [upcoming_only(s, as_of) for s in projections.all_channels(as_of, known_at) if was_known(s)]
    timelines = {
        s.channel: [i for i in projections.timeline(s.channel, known_at) or [] if i.from_ <= end] for s in states
    }
    # Every event shown reads as amended as known at known_at: the status events and the meetings.
    status_rows = [row for s in states if s.status_event_id and (row := log.get(s.status_event_id))]
    meeting_rows = {s.channel: log.read(channel=s.channel, type="meeting_held") for s in states}
    readings = projections.as_known(status_rows + [r for rows in meeting_rows.values() for r in rows], known_at)
    # One time scale for every row, so that bands line up and channels can be compared.
    start = min((t[0].from_ for t in timelines.values() if t), default=None)
    for state in states:
        status = readings.get(state.status_event_id or "")
        body = status.event if status and not status.retracted else None
        intervals = timelines[state.channel]
        bands, ticks = [], []
        if intervals and start is not None and start < end:
            for interval in intervals:
                stop = min(interval.to or end, end)
                x0, x1 = _x(interval.from_, start, end), _x(stop, start, end)
                label = f"{interval.status} from {interval.from_}" + (f" to {interval.to}" if interval.to else "")
                bands.append(Band(status=interval.status, x=x0, width=max(x1 - x0, 1.0), label=label))
            ticks = _ticks(meeting_rows[state.channel], readings, start, end, known_at)
        groups[" – ".join(state.parties) or "unknown parties"].append(
            Row(
                state=state,
                symbol=SYMBOLS[state.status],
                status_summary=printable(body.summary) if body else None,
                status_href=event_href(state.status_event_id, known_at) if state.status_event_id else None,
                status_sources=[printable(msgspec.to_builtins(s)) for s in body.sources] if body else [],
                bands=bands,
                ticks=ticks,
                start=start,
                end=end,
                dormant=dormant(state, end),
            )
        )
    return [
        Group(parties=p, rows=rows, names=" – ".join(party_name(c) for c in rows[0].state.parties))
        for p, rows in sorted(groups.items())
    ]


def measures(projections: Projections, as_of: dt.date | None, known_at: str | None) -> list[Measure]:
    """The board's measures section: every measure not lifted on the day shown, as known at ``known_at``."""
    return [printable_measure(m) for m in projections.measures(as_of, known_at) if m.status != "lifted"]


def printable_measure(measure: Measure) -> Measure:
    texts = {f: printable(getattr(measure, f)) for f in ("target", "rate", "scope", "instrument", "measure")}
    return msgspec.structs.replace(measure, **texts)


def _ticks(
    meetings: list[StoredEvent], readings: dict[str, Reading], start: dt.date, end: dt.date, known_at: str | None
) -> list[Tick]:
    """Meetings on the timeline at their corrected dates; retracted ones and those after ``end`` left out."""
    shown = [r for m in meetings if (r := readings.get(m.id)) and not r.retracted and r.event.occurred_on <= end]
    shown.sort(key=lambda r: (r.event.occurred_on, r.row.seq))
    return [
        Tick(
            x=_x(r.event.occurred_on, start, end),
            label=printable(f"{r.event.occurred_on}: {r.event.summary}"),
            href=event_href(r.row.id, known_at),
        )
        for r in shown
    ]
