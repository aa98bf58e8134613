"""The two clocks as text that sorts correctly in SQLite.

Every instant (``recorded_at``, ``known_at``) is written by one helper in one
fixed-width UTC form, ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` with a four-digit year,
because string comparison in SQL depends on it: an unpadded year 999 would
sort after every year 2024.
"""

from __future__ import annotations

import datetime as dt
import re

_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"  # for parsing our own output only; strftime %Y does not pad years < 1000
DATE_TEXT = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)  # ASCII: \d would take other scripts' digits
RFC3339_TEXT = re.compile(r"(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", re.ASCII)
_RANGE = "0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999Z"


def format_instant(moment: dt.datetime) -> str:
    """The canonical text of an instant; ``moment`` must be aware and representable in UTC."""
    m = moment.astimezone(dt.UTC)
    return f"{m.year:04d}-{m.month:02d}-{m.day:02d}T{m.hour:02d}:{m.minute:02d}:{m.second:02d}.{m.microsecond:06d}Z"


def now_text() -> str:
    return format_instant(dt.datetime.now(dt.UTC))


def parse_as_of(value: str, name: str = "as_of") -> dt.date:
    """``as_of``: a calendar date in exactly YYYY-MM-DD form (the whole day counts).

    ``date.fromisoformat`` also takes 20240101 and 2024-W01-1; the regex keeps to the documented form.
    """
    try:
        if not DATE_TEXT.fullmatch(value):
            raise ValueError
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name}: {value!r} is not a calendar date in YYYY-MM-DD form, e.g. 2024-01-31") from None


def parse_known_at(value: str) -> str:
    """``known_at``: an RFC 3339 timestamp, or a YYYY-MM-DD date meaning the end of that day (UTC)."""
    try:
        if DATE_TEXT.fullmatch(value):
            day = dt.date.fromisoformat(value)
            return f"{day.isoformat()}T23:59:59.999999Z"
        match = RFC3339_TEXT.fullmatch(value)
        if not match:
            raise ValueError
        date_text, time_text, fraction, zone = match.groups()
        zone = "+00:00" if zone in "Zz" else zone
        stamp = dt.datetime.fromisoformat(f"{date_text}T{time_text}{(fraction or '')[:7]}{zone}")
    except ValueError:
        raise ValueError(
            f"known_at: {value!r} is not an RFC 3339 timestamp (e.g. 2024-01-01T12:00:00Z) or a YYYY-MM-DD date"
        ) from None
    try:
        return format_instant(stamp)
    except OverflowError:
        raise ValueError(
            f"known_at: {value!r} is before year 1 or after year 9999 once converted to UTC;"
            f" give a moment from {_RANGE}"
        ) from None


def next_instant(after: str) -> str:
    """Now, or one microsecond after ``after`` if the clock has not moved past it.

    Each commit gets its own recorded_at, so ``known_at`` can tell any two apart.
    """
    now = now_text()
    if now > after:
        return now
    moment = dt.datetime.strptime(after, _FORMAT).replace(tzinfo=dt.UTC) + dt.timedelta(microseconds=1)
    return format_instant(moment)
