"""Where input enters: strict decoding of events with messages a person can act on.

The strict variants are derived from the catalog, so the vocabulary is
defined once. They refuse unknown fields, accept an RFC 3339 timestamp for
``occurred_on`` (kept as the calendar date where it happened), and refuse
dates more than one day in the future.
"""

from __future__ import annotations

import datetime as dt
import re
import types
from collections.abc import Iterable
from typing import Annotated, Any

import msgspec

from diplo.events.catalog import AnyEvent, Event, Source
from diplo.events.parties import party_problem

MAX_BATCH = 10_000
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([Zz]|[+-]\d{2}:\d{2})")


class InvalidEvent(ValueError):
    """Input that is not a valid event; ``field`` is its path, when known."""

    def __init__(self, message: str, field: str | None = None, index: int | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.index = index


def parse_occurred_on(value: str, today: dt.date | None = None) -> dt.date:
    """A date, or an RFC 3339 timestamp read as the calendar date where it happened."""
    try:
        if len(value) == 10:
            if not _DATE.fullmatch(value):  # fromisoformat would also take ISO week dates (2024-W05-5)
                raise ValueError
            day = dt.date.fromisoformat(value)
        else:
            if not _TIMESTAMP.fullmatch(value):  # fromisoformat would also take basic and week forms
                raise ValueError
            stamp = dt.datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
            if stamp.tzinfo is None:
                raise ValueError
            day = stamp.date()
    except ValueError:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            raise ValueError(f"occurred_on: {value} is not a calendar date") from None
        raise ValueError(f"occurred_on: {value!r} is not a date (YYYY-MM-DD) or an RFC 3339 timestamp") from None
    limit = (today or dt.datetime.now(dt.UTC).date()) + dt.timedelta(days=1)
    if day > limit:
        raise ValueError(
            f"occurred_on: {value} is in the future; record plans as meeting_scheduled with a future scheduled_for"
        )
    return day


class SourceInput(Source, forbid_unknown_fields=True, kw_only=True, frozen=True):
    pass


# Free text may hold line breaks and tabs; every other character below U+0020, the UTF-16
# surrogates and the non-characters U+FFFE/U+FFFF are refused: XML (the feed) and some
# terminals cannot carry them, and one such row must never break a page for everyone.
FREE_TEXT_FIELDS = frozenset({"summary", "reason", "text"})
_FORBIDDEN = re.compile("[\x00-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_FORBIDDEN_IN_FREE_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def forbidden_character(value: object, path: str, free_text: bool = False) -> str | None:
    """A message naming the first string under ``value`` that holds a forbidden character, or None."""
    if isinstance(value, str):
        found = (_FORBIDDEN_IN_FREE_TEXT if free_text else _FORBIDDEN).search(value)
        if found is None:
            return None
        allowed = " (line breaks and tabs are allowed)" if free_text else ""
        return f"{path}: contains the control character U+{ord(found.group()):04X}; remove it{allowed}"
    items: Iterable[tuple[object, object]]
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list | tuple):
        items = ((f"[{i}]", v) for i, v in enumerate(value))
    elif isinstance(value, msgspec.Struct):
        items = ((f, getattr(value, f)) for f in value.__struct_fields__)
    else:
        return None
    for key, item in items:
        child = f"{path}{key}" if str(key).startswith("[") else (f"{path}.{key}" if path else str(key))
        message = forbidden_character(item, child, free_text=str(key) in FREE_TEXT_FIELDS)
        if message:
            return message
    return None


def _may_hold_forbidden(event: object) -> bool:
    """False when no string of the event can hold a forbidden character: its JSON has no escape (every
    control character is escaped) and none of the raw forbidden bytes. The exact walk is for the rest."""
    try:
        encoded = _JSON.encode(event)
    except (UnicodeEncodeError, msgspec.EncodeError):  # a lone surrogate
        return True
    return _MARKERS.search(encoded) is not None


_JSON = msgspec.json.Encoder()
# An escape, DEL, U+FFFE or U+FFFF in UTF-8: one scan of the bytes.
_MARKERS = re.compile(rb"[\\\x7f]|\xef\xbf[\xbe\xbf]")
PARTY_FIELDS = ("parties", "by", "against")


def party_codes_problem(event: Any) -> str | None:
    """A message naming the first field that holds something other than a party code, or None."""
    for name in PARTY_FIELDS:
        value = getattr(event, name, None)
        codes = [(name, value)] if isinstance(value, str) else [(f"{name}[{i}]", v) for i, v in enumerate(value or ())]
        for path, code in codes:
            problem = party_problem(code)
            if problem:
                return f"{path}: {problem}"
    return None


def precision_problem(event: Any) -> str | None:
    """A month or a year is recorded at its first day, so that every answer folds it there."""
    day: dt.date = event.occurred_on
    if event.precision == "month" and day.day != 1:
        return (
            f"occurred_on: with precision month, give the first day of the month"
            f" ({day.replace(day=1).isoformat()}), not {day.isoformat()}"
        )
    if event.precision == "year" and (day.month, day.day) != (1, 1):
        return (
            f"occurred_on: with precision year, give January 1 ({day.replace(month=1, day=1).isoformat()}),"
            f" not {day.isoformat()}"
        )
    return None


def _dates_problem(event: Any) -> str | None:
    """Dates that must come after occurred_on, and fields that must say something."""
    for name in ("until", "expires_on"):
        value = getattr(event, name, None)
        if value is not None and value <= event.occurred_on:
            return f"{name}: {value.isoformat()} must be after occurred_on ({event.occurred_on.isoformat()})"
    if getattr(event, "succeeds", None) == event.channel:
        return "succeeds: a channel cannot succeed itself; name the channel it replaces"
    tag = event.__struct_config__.tag
    if tag == "measure_modified" and all(
        getattr(event, f) is None for f in ("rate", "scope", "instrument", "expires_on")
    ):
        return "rate: a measure_modified names what changed: give at least one of rate, scope, instrument, expires_on"
    return None


def _validate_input(self: Any) -> None:
    raw = self.occurred_on
    if isinstance(raw, str):
        msgspec.structs.force_setattr(self, "occurred_on", parse_occurred_on(raw))
    message = (
        (forbidden_character(self, "") if _may_hold_forbidden(self) else None)
        or party_codes_problem(self)
        or precision_problem(self)
        or _dates_problem(self)
    )
    if message:
        raise ValueError(message)


def _strict(cls: type[Event]) -> type[Event]:
    """The input variant of one event class: same tag, same fields, stricter."""

    def body(ns: dict[str, Any]) -> None:
        ns["__annotations__"] = {
            "sources": Annotated[list[SourceInput], msgspec.Meta(min_length=1, max_length=20)],
            "occurred_on": Annotated[str, msgspec.Meta(max_length=40)],
        }
        ns["__post_init__"] = _validate_input

    options = {
        "forbid_unknown_fields": True,
        "tag": cls.__struct_config__.tag,
        "kw_only": True,
        "frozen": True,
    }
    return types.new_class(cls.__name__ + "Input", (cls,), options, body)


STRICT_TYPES = {cls: _strict(cls) for cls in AnyEvent.__args__}
# The union of the strict variants, built at run time (so Any to the type checker).
_STRICT_UNION: Any = STRICT_TYPES[next(iter(STRICT_TYPES))]
for _cls in list(STRICT_TYPES.values())[1:]:
    _STRICT_UNION = _STRICT_UNION | _cls

_ONE = msgspec.json.Decoder(_STRICT_UNION)
_ONE_OR_MANY = msgspec.json.Decoder(_STRICT_UNION | list[_STRICT_UNION])

_PATTERN_HINTS = {
    "channel": "must be a slug of lowercase letters, digits and hyphens, starting with a letter or digit"
    " (e.g. us-cn-mmca)",
    "url": "must be an http:// or https:// URL without spaces",
}
_PATH = re.compile(r" - at `\$(.*)`$")


def explain(error: msgspec.DecodeError | msgspec.ValidationError) -> InvalidEvent:
    """Turn a msgspec error into a message naming the field and what to fix."""
    text = str(error)
    match = _PATH.search(text)
    path = match.group(1) if match else ""
    message = text[: match.start()] if match else text
    index = None
    index_match = re.match(r"^\[(\d+)\]\.?", path)
    if index_match:
        index = int(index_match.group(1))
        path = path[index_match.end() :]
    path = path.lstrip(".")
    if message.startswith("Invalid RFC3339 encoded date"):
        message = "is not a calendar date in YYYY-MM-DD form"
    if message.startswith("Object missing required field"):
        missing = message.split("`")[1]
        field = f"{path}.{missing}" if path else missing
        return InvalidEvent(f"{field}: required field is missing", field, index)
    if message.startswith("Object contains unknown field"):
        unknown = message.split("`")[1]
        field = f"{path}.{unknown}" if path else unknown
        return InvalidEvent(f"{field}: unknown field; remove it or check its spelling", field, index)
    if "Invalid value" in message and path == "type":
        return InvalidEvent(f"type: {message.split('Invalid value ')[1]} is not an event type", "type", index)
    if message.startswith("Expected `object`, got `array`") and not path:
        return InvalidEvent(f"arrays may not be nested: {message}", None, index)
    own = re.match(r"^([\w.\[\]]+): ", message)  # raised by a __post_init__ with its own field path
    if own:
        return InvalidEvent(message, own.group(1), index)
    if message.startswith("JSON is malformed") or message.startswith("Input data was truncated"):
        return InvalidEvent(f"body is not valid JSON: {message}", None, index)
    leaf = path.rsplit(".", 1)[-1]
    if "regex" in message and leaf in _PATTERN_HINTS:
        return InvalidEvent(f"{path}: {_PATTERN_HINTS[leaf]}", path, index)
    if path:
        return InvalidEvent(f"{path}: {message}", path, index)
    return InvalidEvent(message, None, index)


def decode_event(data: bytes | str) -> Event:
    """Decode one event from input JSON, strictly."""
    try:
        return _ONE.decode(data)
    except (msgspec.ValidationError, msgspec.DecodeError) as error:
        raise explain(error) from None


def decode_events(data: bytes | str) -> tuple[list[Event], bool]:
    """Decode one event or a JSON array of them; returns (events, was_array)."""
    try:
        decoded = _ONE_OR_MANY.decode(data)
    except (msgspec.ValidationError, msgspec.DecodeError) as error:
        raise explain(error) from None
    if isinstance(decoded, list):
        if not decoded:
            raise InvalidEvent("the array is empty; send at least one event")
        if len(decoded) > MAX_BATCH:
            raise InvalidEvent(f"at most {MAX_BATCH} events in one array, got {len(decoded)}")
        return decoded, True
    return [decoded], False


def convert_event(data: dict[str, Any]) -> Event:
    """Validate a mapping (e.g. a corrected event) through the strict decoder."""
    return decode_event(msgspec.json.encode(data))
