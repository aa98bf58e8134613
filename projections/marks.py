"""Timeline marks: a channel's meetings, contacts, cancellations and measure events, counted per period.

A board draws what its pixels can show: one mark per (period, kind), never one element per event.
Periods are calendar months, or runs of whole months when the caller asks for at most ``buckets`` of them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any, NamedTuple

import msgspec

from diplo.projections.measures import MEASURE_TYPES

# The events a timeline marks, by kind; old sanction events count as measures, as the register upcasts them.
MARK_KINDS = {
    "meeting_held": "meeting",
    "contact_made": "contact",
    "talks_cancelled": "cancellation",
    **{t: "measure" for t in MEASURE_TYPES},
}
KINDS = ("meeting", "contact", "cancellation", "measure")


class Mark(msgspec.Struct, frozen=True):
    """``count`` events of ``kind`` in the period starting ``period_start``; the first of them (valid-time order).

    A Struct, not a NamedTuple: a tuple's ``count`` method would shadow the field."""

    period_start: dt.date
    kind: str
    count: int
    first_event_id: str


class Band(NamedTuple):
    """The channel's ``status`` at the end of the period starting ``period_start``; ``changed`` within it."""

    period_start: dt.date
    status: str
    changed: bool


def month_index(day: dt.date) -> int:
    return day.year * 12 + day.month - 1


def month_start(index: int) -> dt.date:
    return dt.date(index // 12, index % 12 + 1, 1)


def period_months(start: dt.date, end: dt.date, buckets: int | None) -> int:
    """How many months one period spans: 1, or enough that [start, end] fits in ``buckets`` periods."""
    if not buckets:
        return 1
    months = month_index(end) - month_index(start) + 1
    return max(1, -(-months // buckets))


def regroup(
    monthly: Iterable[tuple[int, str, int, tuple[Any, ...], str]],
    start: dt.date | None,
    end: dt.date | None,
    buckets: int | None,
) -> list[Mark]:
    """Monthly counts ``(month, kind, count, first key, first event id)`` into marks of whole-month periods.

    ``start``/``end`` bound by month (a period holds whole months); the first key orders events in a period.
    """
    rows = [
        r
        for r in monthly
        if (start is None or r[0] >= month_index(start)) and (end is None or r[0] <= month_index(end))
    ]
    if not rows:
        return []
    first = month_index(start) if start is not None else min(r[0] for r in rows)
    last = month_index(end) if end is not None else max(r[0] for r in rows)
    width = period_months(month_start(first), month_start(last), buckets)
    merged: dict[tuple[int, str], list] = {}
    for month, kind, count, key, event_id in rows:
        period = first + (month - first) // width * width
        found = merged.get((period, kind))
        if found is None:
            merged[(period, kind)] = [count, key, event_id]
        else:
            found[0] += count
            if key < found[1]:
                found[1], found[2] = key, event_id
    return [
        Mark(month_start(period), kind, count, event_id)
        for (period, kind), (count, _, event_id) in sorted(
            merged.items(), key=lambda i: (i[0][0], KINDS.index(i[0][1]))
        )
    ]
