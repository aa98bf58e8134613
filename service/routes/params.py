"""Query parameters shared by routes, parsed with messages a person can act on."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from litestar.params import Parameter

from diplo.events import clock
from diplo.service.problems import bad_request

AsOf = Annotated[
    str | None,
    Parameter(description="The world on this day (YYYY-MM-DD, the whole day counts).", examples=[], max_length=40),
]
KnownAt = Annotated[
    str | None,
    Parameter(
        description="As the log stood at this moment (RFC 3339 timestamp, or a date meaning the end of that day, UTC).",
        max_length=60,
    ),
]


def as_of_date(value: str | None, name: str = "as_of") -> dt.date | None:
    """A YYYY-MM-DD query parameter; ``name`` is the parameter the message names."""
    if value is None:
        return None
    try:
        return clock.parse_as_of(value, name)
    except ValueError as error:
        raise bad_request(str(error), name) from None


def known_at_instant(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return clock.parse_known_at(value)
    except ValueError as error:
        raise bad_request(str(error), "known_at") from None
