"""The two clocks as text that sorts correctly in SQLite.

``recorded_at`` is always written by one helper in one fixed-width UTC form,
because string comparison in SQL depends on it.
"""

from __future__ import annotations

import datetime as dt

_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def format_instant(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime(_FORMAT)


def now_text() -> str:
    return format_instant(dt.datetime.now(dt.UTC))


def parse_as_of(value: str) -> dt.date:
    """``as_of``: a calendar date (the whole day counts)."""
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"as_of: {value!r} is not a calendar date in YYYY-MM-DD form") from None


def parse_known_at(value: str) -> str:
    """``known_at``: an RFC 3339 timestamp, or a date meaning the end of that day (UTC)."""
    try:
        if len(value) == 10:
            day = dt.date.fromisoformat(value)
            return f"{day.isoformat()}T23:59:59.999999Z"
        stamp = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"known_at: {value!r} is not an RFC 3339 timestamp (e.g. 2024-01-01T12:00:00Z) or a date"
        ) from None
    if stamp.tzinfo is None:
        raise ValueError(f"known_at: {value!r} needs a time zone, e.g. a trailing Z for UTC")
    return format_instant(stamp)


def next_instant(after: str) -> str:
    """Now, or one microsecond after ``after`` if the clock has not moved past it.

    Each commit gets its own recorded_at, so ``known_at`` can tell any two apart.
    """
    now = now_text()
    if now > after:
        return now
    moment = dt.datetime.strptime(after, _FORMAT).replace(tzinfo=dt.UTC) + dt.timedelta(microseconds=1)
    return format_instant(moment)
