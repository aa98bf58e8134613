"""Query parameters shared by routes, parsed with messages a person can act on."""

from __future__ import annotations

import datetime as dt
import uuid
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


def uuid_text(value: str, name: str) -> str:
    """The canonical form of a UUID path parameter, or a 400 that says ``name`` is not a UUID."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise bad_request(
            f"{name}: {value[:80]!r} is not a UUID (e.g. bbbe35f7-0db9-5691-a2aa-22082386c13d)", name
        ) from None
