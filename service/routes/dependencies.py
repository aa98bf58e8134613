"""What handlers are given by name (litestar dependencies), registered once on the app (service/app.py).

``projections`` and ``event_log`` are the running app's; ``day`` and ``moment`` are the ``as_of`` and ``known_at``
query parameters parsed (a 400 problem for a bad value). A controller whose pages read those parameters otherwise
(the board's forms) registers its own ``day``/``moment`` under the same names.

Every provider is synchronous and cheap (no database work): they run on every request that names them.
"""

from __future__ import annotations

import datetime as dt
from typing import TypeAlias

from litestar.datastructures import State
from litestar.di import NamedDependency, Provide
from litestar.params import SkipValidation

from diplo.events import EventLog
from diplo.projections import Projections
from diplo.service.routes.params import AsOf, KnownAt, as_of_date, known_at_instant

# What handlers annotate: NamedDependency marks a value given by a provider (litestar 3 requires the mark); the
# app's own objects are passed as they are, since validating them costs an isinstance check per request (for the
# EventLog protocol, as long as a small read).
AppProjections: TypeAlias = NamedDependency[SkipValidation[Projections]]
AppEventLog: TypeAlias = NamedDependency[SkipValidation[EventLog]]
Day: TypeAlias = NamedDependency[dt.date | None]
Moment: TypeAlias = NamedDependency[str | None]


def provide_day(as_of: AsOf = None) -> dt.date | None:
    return as_of_date(as_of)


def provide_moment(known_at: KnownAt = None) -> str | None:
    return known_at_instant(known_at)


def dependencies(state: State) -> dict[str, Provide]:
    """The app's dependencies. ``state`` is the app's (``runtime`` is set on it at start-up): the providers of the
    app's own objects read it here instead of asking litestar for it, since a provider without parameters costs no
    validation per request."""

    def provide_projections() -> Projections:
        return state.runtime.projections

    def provide_event_log() -> EventLog:
        return state.runtime.log

    return {
        "projections": Provide(provide_projections, sync_to_thread=False),
        "event_log": Provide(provide_event_log, sync_to_thread=False),
        "day": Provide(provide_day, sync_to_thread=False),
        "moment": Provide(provide_moment, sync_to_thread=False),
    }
