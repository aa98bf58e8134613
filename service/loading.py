"""Loading and exporting JSON Lines of events (one event per line)."""

from __future__ import annotations

import gc
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TypeVar

import msgspec

from diplo.events import Event, EventLog, InvalidEvent, LogError, decode_event
from diplo.events.catalog import encode

T = TypeVar("T")


PROGRESS_EVERY = 1_000


@contextmanager
def paused_gc() -> Iterator[None]:
    """The cyclic garbage collector paused for a bulk load, and restored after.

    A load holds every parsed event (and then every row) until its one transaction ends, so each
    full collection would walk them all again: a third of the time of a large file. What a load
    allocates is freed by reference counting; any cycles wait for the collector's next run.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class LoadError(ValueError):
    """A file that cannot be loaded; nothing of it was appended."""


class LoadResult(msgspec.Struct, kw_only=True):
    file: str
    events: int
    appended: int
    already_present: int


def decode_checked(decode: Callable[[bytes], T], data: bytes, what: str = "body") -> T:
    """``decode`` with the two failures the decoder does not explain turned into InvalidEvent.

    The decoder raises UnicodeDecodeError inside strings and RecursionError on deep nesting;
    both are bad input, not server errors.
    """
    try:
        data.decode("utf-8")  # strict: refuses overlong forms and surrogates, which the decoder lets through
    except UnicodeDecodeError as error:
        raise InvalidEvent(
            f"{what} is not valid UTF-8: byte {error.start} (0x{data[error.start]:02x}) {error.reason};"
            " send JSON encoded as UTF-8"
        ) from None
    try:
        return decode(data)
    except RecursionError:
        raise InvalidEvent(
            f"{what} nests JSON too deeply; an event is an object whose fields nest only a few levels"
        ) from None


# Ids derived from content live in their own namespace, so they never collide with client UUIDs by design.
CONTENT_NAMESPACE = uuid.UUID("6f1c3b52-8d1e-4c47-9a55-2f0e1c9d7a10")


class _IdOnly(msgspec.Struct):
    id: object = None


def with_content_id(event: Event, line: bytes) -> Event:
    """An event from a line without an ``id`` gets one derived from its canonical content,
    so loading the same file again appends nothing (the ids match the first load's)."""
    # A line that spells no "id" key (and has no escape that could spell one) has none: no second decode.
    if (b'"id"' in line or b"\\" in line) and msgspec.json.decode(line, type=_IdOnly).id is not None:
        return event
    content = encode(msgspec.structs.replace(event, id=uuid.UUID(int=0)))
    return msgspec.structs.replace(event, id=uuid.uuid5(CONTENT_NAMESPACE, content.decode()))


def parse_lines(path: Path, progress: Callable[[int], None] | None = None) -> tuple[list[Event], list[int]]:
    """Decode every non-blank line; the first bad one stops the file with its line number."""
    events: list[Event] = []
    line_numbers: list[int] = []
    number = told = (
        0  # lines read, and told to ``progress`` so far: it is told every PROGRESS_EVERY lines, not each one
    )
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            if progress is not None and number - told >= PROGRESS_EVERY:
                progress(number - told)
                told = number
            if not line.strip():
                continue
            if line.lstrip().startswith(b"["):
                raise LoadError(f"{path}:{number}: one JSON object per line (JSON Lines); this line is an array")
            try:
                events.append(with_content_id(decode_checked(decode_event, line, "line"), line))
            except InvalidEvent as error:
                raise LoadError(f"{path}:{number}: {error.message}") from None
            line_numbers.append(number)
        if progress is not None and number > told:
            progress(number - told)
    return events, line_numbers


def load_file(
    log: EventLog,
    path: Path,
    writer: str | None = None,
    progress: Callable[[int], None] | None = None,
    appending: Callable[[int], Callable[[], None]] | None = None,
) -> LoadResult:
    """Append one file atomically: all its events, or none. ``progress`` is told of each line parsed;
    ``appending(count)`` when the one transaction starts, and what it returns when it ends."""
    events, line_numbers = parse_lines(path, progress)
    if not events:
        return LoadResult(file=str(path), events=0, appended=0, already_present=0)
    done = appending(len(events)) if appending is not None else None
    try:  # one transaction for the whole file, however long it takes
        receipts = log.append(events, writer=writer, timeout=None)
    except (LogError, InvalidEvent) as error:
        where = f":{line_numbers[error.index]}" if error.index is not None else ""
        raise LoadError(f"{path}{where}: {error.message}") from None
    finally:
        if done is not None:
            done()
    appended = sum(r.created for r in receipts)
    return LoadResult(file=str(path), events=len(events), appended=appended, already_present=len(events) - appended)


def export(log: EventLog, out: IO[bytes]) -> int:
    """Write the whole log, in seq order, as lines ``load`` accepts back."""
    count = 0
    for row in log.iterate():
        out.write(row.body + b"\n")
        count += 1
    return count


def seed_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.jsonl"))


def load_files(log: EventLog, paths: Iterable[Path], writer: str | None = None) -> list[LoadResult]:
    return [load_file(log, p, writer) for p in paths]
