"""The sanctions register: a pure fold over sanction events, as intervals."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import msgspec

from diplo.events.catalog import SanctionApplied, SanctionLifted
from diplo.projections.amendments import Effective

SANCTION_TYPES = ("sanction_applied", "sanction_lifted")


class SanctionInterval(msgspec.Struct, kw_only=True):
    """One stretch of time during which ``by`` sanctioned ``target``."""

    target: str
    by: str
    program: str | None
    since: dt.date
    until: dt.date | None = None
    event_ids: list[str] = []
    first_seq: int = 0


def sanction_key(event: object) -> tuple[str, str]:
    """(target, by): the interval a sanction event opens or closes."""
    if not isinstance(event, SanctionApplied | SanctionLifted):
        raise TypeError(f"a {type(event).__name__} is no sanction event")
    return event.target, event.by


def fold_sanctions(events: Iterable[Effective]) -> list[SanctionInterval]:
    """Intervals from sanction events in valid-time order (a lift on day D ends it on D)."""
    intervals: list[SanctionInterval] = []
    open_: dict[tuple[str, str], SanctionInterval] = {}
    for item in events:
        apply_interval(open_, intervals, item)
    return intervals


def apply_interval(
    open_: dict[tuple[str, str], SanctionInterval], intervals: list[SanctionInterval], item: Effective
) -> None:
    event = item.event
    if isinstance(event, SanctionApplied):
        key = (event.target, event.by)
        current = open_.get(key)
        if current is None:
            current = SanctionInterval(
                target=event.target,
                by=event.by,
                program=event.program,
                since=event.occurred_on,
                event_ids=[item.id],
                first_seq=item.seq,
            )
            open_[key] = current
            intervals.append(current)
        else:
            current.event_ids.append(item.id)
    elif isinstance(event, SanctionLifted):
        current = open_.pop((event.target, event.by), None)
        if current is not None:
            current.until = event.occurred_on
            current.event_ids.append(item.id)


def in_force(intervals: Iterable[SanctionInterval], as_of: dt.date | None) -> list[SanctionInterval]:
    day = as_of or dt.date.max
    found = [i for i in intervals if i.since <= day and (i.until is None or i.until > day)]
    return sorted(found, key=lambda i: (i.since, i.target, i.by))
