"""What the status board shows: rows grouped by party pair, and each channel's timeline as SVG geometry."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import msgspec

from events import SQLiteLog
from projections import ChannelState, Projections

WIDTH, HEIGHT = 420, 26
SYMBOLS = {"active": "●", "suspended": "▲", "closed": "■", "unknown": "?"}


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
    status_sources: list[dict]
    bands: list[Band]
    ticks: list[Tick]
    start: dt.date | None
    end: dt.date


class Group(msgspec.Struct, kw_only=True):
    parties: str
    rows: list[Row]


def _x(day: dt.date, start: dt.date, end: dt.date) -> float:
    span = max((end - start).days, 1)
    return round((min(max(day, start), end) - start).days / span * WIDTH, 2)


def build(
    log: SQLiteLog, projections: Projections, as_of: dt.date | None, known_at: str | None, today: dt.date
) -> list[Group]:
    end = as_of or today
    groups: dict[str, list[Row]] = defaultdict(list)
    states = projections.all_channels(as_of, known_at)
    timelines = {
        s.channel: [i for i in projections.timeline(s.channel, known_at) or [] if i.from_ <= end] for s in states
    }
    # One time scale for every row, so that bands line up and channels can be compared.
    start = min((t[0].from_ for t in timelines.values() if t), default=None)
    for state in states:
        status_event = log.get(state.status_event_id) if state.status_event_id else None
        body = status_event.event() if status_event else None
        intervals = timelines[state.channel]
        bands, ticks = [], []
        if intervals and start is not None and start < end:
            for interval in intervals:
                stop = min(interval.to or end, end)
                x0, x1 = _x(interval.from_, start, end), _x(stop, start, end)
                label = f"{interval.status} from {interval.from_}" + (f" to {interval.to}" if interval.to else "")
                bands.append(Band(status=interval.status, x=x0, width=max(x1 - x0, 1.0), label=label))
            for meeting in log.read(channel=state.channel, type="meeting_held", valid_to=end.isoformat()):
                if known_at is not None and meeting.recorded_at > known_at:
                    continue
                summary = meeting.event().summary
                day = dt.date.fromisoformat(meeting.occurred_on)
                ticks.append(
                    Tick(x=_x(day, start, end), label=f"{meeting.occurred_on}: {summary}", href=f"/events/{meeting.id}")
                )
        groups[" – ".join(state.parties) or "unknown parties"].append(
            Row(
                state=state,
                symbol=SYMBOLS[state.status],
                status_summary=body.summary if body else None,
                status_sources=[msgspec.to_builtins(s) for s in body.sources] if body else [],
                bands=bands,
                ticks=ticks,
                start=start,
                end=end,
            )
        )
    return [Group(parties=p, rows=rows) for p, rows in sorted(groups.items())]
