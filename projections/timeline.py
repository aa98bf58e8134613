"""Status intervals of a channel: where the status changed, merged when equal."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import msgspec

from diplo.projections.state import ChannelState


class Interval(msgspec.Struct, kw_only=True):
    status: str
    from_: dt.date = msgspec.field(name="from")
    to: dt.date | None
    event_id: str | None


def intervals(states: Iterable[ChannelState]) -> list[Interval]:
    """From a channel's successive states (valid-time order) to its status intervals.

    ``to`` is the day the next status began (exclusive), null for the open one.
    A status held for no day (set and replaced on the same day) leaves no interval: the day's
    status is the last one set on it, as ``as_of`` answers.
    """
    result: list[Interval] = []
    for state in states:
        if state.since is None:
            continue
        if result and result[-1].status != state.status and result[-1].from_ == state.since:
            result.pop()  # the previous status lasted no day
        if result and result[-1].status == state.status:
            result[-1].to = None
            continue
        if result:
            result[-1].to = state.since
        result.append(Interval(status=state.status, from_=state.since, to=None, event_id=state.status_event_id))
    return result
