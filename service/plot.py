"""Timeline geometry for the pages: one time window, its axis ticks, and each channel's bands and marks.

Positions are percentages of the plot's width, so that one server-rendered SVG stays readable at any
width (text keeps its size; only positions stretch) and every row shares the axis drawn above them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import msgspec

from diplo.projections import Interval
from diplo.projections.marks import Mark, month_index, month_start, period_months
from diplo.projections.queries import Reading

# Each status has its own symbol as well as its colour, so that it never rests on colour alone.
SYMBOLS = {"active": "●", "agreed": "◇", "restricted": "◐", "suspended": "▲", "closed": "■", "unknown": "?"}
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
KIND_WORDS = {"meeting": "meeting", "contact": "contact", "cancellation": "cancelled", "measure": "measure"}
LAST_LABEL_X = 96.0  # percent of the width
PLURALS = {"meeting": "meetings", "contact": "contacts", "cancellation": "cancellations", "measure": "measures"}


class Window(msgspec.Struct, frozen=True):
    """The stretch of valid time a plot shows, both days included."""

    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return max((self.end - self.start).days, 1)

    def x(self, day: dt.date) -> float:
        """The day's place across the plot, in percent (clamped to the window)."""
        clamped = min(max(day, self.start), self.end)
        return round((clamped - self.start).days / self.days * 100, 3)

    def holds(self, day: dt.date | None) -> bool:
        return day is not None and self.start <= day <= self.end


class Tick(msgspec.Struct, kw_only=True):
    x: float
    day: dt.date
    label: str | None  # None: a tick without a label (too dense to name every one)
    major: bool  # a year boundary: labelled even on a narrow screen when ``wide_only`` is false
    wide_only: bool = False  # the label is left out on a narrow screen (CSS hides it)


class Band(msgspec.Struct, kw_only=True):
    status: str
    x: float
    width: float
    label: str
    symbol: str
    show_symbol: bool


class MarkView(msgspec.Struct, kw_only=True):
    kind: str
    x: float
    day: dt.date
    count: int
    label: str
    href: str


def window_for(first: dt.date | None, today: dt.date, start: dt.date | None, end: dt.date | None) -> Window:
    """The window asked for, or from the 1st of January of the first year on record to today."""
    end = end or today
    if start is None:
        start = dt.date((first or end).year, 1, 1)
    if start >= end:
        start = dt.date(end.year, 1, 1) if end.month > 1 or end.day > 1 else dt.date(max(end.year - 1, 1), 1, 1)
    if start >= end:  # 0001-01-01: nothing comes before it, so the window runs a day on
        end = start + dt.timedelta(days=1)
    return Window(start, end)


def zooms(today: dt.date, end: dt.date | None) -> list[tuple[str, dt.date | None]]:
    """Preset windows a reader can pick: everything, or the last 10, 5, 2 and 1 years before ``end``."""
    last = end or today
    return [("all", None)] + [(f"{n} y", years_before(last, n)) for n in (10, 5, 2, 1)]


def years_before(day: dt.date, years: int) -> dt.date:
    year = max(day.year - years, 1)  # the calendar starts in year 1
    try:
        return day.replace(year=year)
    except ValueError:  # 29 February
        return day.replace(year=year, day=28)


def axis(window: Window) -> list[Tick]:
    """Year ticks for a long window, month ticks (labelled with the month, and the year in January) when zoomed."""
    years = window.days / 365.25
    if years > 3:
        every = 1 if years <= 16 else 2 if years <= 32 else 5
        ticks = []
        for year in range(window.start.year + (window.start > dt.date(window.start.year, 1, 1)), window.end.year + 1):
            day = dt.date(year, 1, 1)
            labelled = year % every == 0
            ticks.append(
                Tick(
                    x=window.x(day),
                    day=day,
                    label=str(year) if labelled else None,
                    major=True,
                    wide_only=labelled and year % 5 != 0 and years > 8,
                )
            )
        return _room_for_labels(ticks)
    step = 1 if years <= 1 else 2 if years <= 2 else 3  # every month labelled up to a year, then fewer
    ticks = []
    month = dt.date(window.start.year, window.start.month, 1)
    if month < window.start:
        month = _next_month(month)
    while month <= window.end:
        january = month.month == 1
        labelled = january or (month.month - 1) % step == 0
        ticks.append(
            Tick(
                x=window.x(month),
                day=month,
                label=(str(month.year) if january else MONTHS[month.month - 1]) if labelled else None,
                major=january,
                wide_only=not january and years > 0.6,
            )
        )
        month = _next_month(month)
    return _room_for_labels(ticks)


def _room_for_labels(ticks: list[Tick]) -> list[Tick]:
    """A label starts just right of its tick: none for a tick too close to the right end to hold it."""
    return [msgspec.structs.replace(t, label=None) if t.x > LAST_LABEL_X else t for t in ticks]


def _next_month(day: dt.date) -> dt.date:
    return dt.date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def bands(intervals: Iterable[Interval], window: Window) -> list[Band]:
    """The status intervals that overlap the window, clipped to it."""
    shown = []
    for interval in intervals:
        stop = interval.to or window.end
        if stop < window.start or interval.from_ > window.end:
            continue
        x0, x1 = window.x(interval.from_), window.x(stop)
        label = f"{interval.status} from {interval.from_}" + (f" to {interval.to}" if interval.to else "")
        width = max(x1 - x0, 0.15)
        symbol = SYMBOLS.get(interval.status, "?")
        shown.append(
            Band(status=interval.status, x=x0, width=width, label=label, symbol=symbol, show_symbol=width >= 2)
        )
    return shown


def marks(
    found: list[Mark], readings: dict[str, Reading], window: Window, buckets: int | None, href: dict[str, str]
) -> list[MarkView]:
    """Marks placed at the date of their first event, labelled '<date>: <summary>' (meetings) or
    '<date>: <kind> — <summary>', and for several events in one period, how many and until when."""
    shown = []
    for mark in found:
        reading = readings.get(mark.first_event_id)
        if reading is None:
            continue
        day = reading.event.occurred_on
        if not window.start <= day <= window.end:  # a period's first month may begin before the window
            continue
        word = "" if mark.kind == "meeting" else f"{KIND_WORDS[mark.kind]} — "
        label = f"{day}: {word}{reading.event.summary}"
        if mark.count > 1:
            last = period_end(mark.period_start, window, buckets)
            label += f" (and {mark.count - 1} more {PLURALS[mark.kind] if mark.count > 2 else mark.kind}"
            label += f" to {last})"
        shown.append(
            MarkView(
                kind=mark.kind, x=window.x(day), day=day, count=mark.count, label=label, href=href[mark.first_event_id]
            )
        )
    return shown


def period_end(period_start: dt.date, window: Window, buckets: int | None) -> dt.date:
    """The last day of the period ``Projections.marks`` counted from ``period_start``: whole months."""
    width = period_months(window.start, window.end, buckets)
    following = month_start(month_index(period_start) + width)
    return min(following - dt.timedelta(days=1), window.end)
