"""Corrections and retractions: how the log's events read once amended.

Both are events themselves; they count only for a ``known_at`` at or after
their own ``recorded_at`` (callers pass only the amendments known then).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import msgspec

from diplo.events.catalog import Event, EventCorrected, EventRetracted, decode, to_builtins
from diplo.events.log import StoredEvent

AMENDMENT_TYPES = ("event_corrected", "event_retracted")


class Effective(msgspec.Struct, frozen=True):
    """An event as it reads now, with its place in the log."""

    event: Event
    seq: int
    version: int
    id: str

    @property
    def key(self) -> tuple[str, int]:
        return (self.event.occurred_on.isoformat(), self.seq)


class Amendments(msgspec.Struct):
    retracted: set[str]
    changes: dict[str, dict]

    @classmethod
    def collect(cls, rows: Iterable[StoredEvent]) -> Amendments:
        amendments = sorted(rows, key=lambda r: r.seq)
        retracted: set[str] = set()
        for row in amendments:
            event = row.event()
            if isinstance(event, EventRetracted):
                retracted.add(str(event.target_id))
        changes: dict[str, dict] = {}
        for row in amendments:
            event = row.event()
            if isinstance(event, EventCorrected) and row.id not in retracted:
                changes.setdefault(str(event.target_id), {}).update(event.changes)
        return cls(retracted=retracted, changes=changes)

    def __bool__(self) -> bool:
        return bool(self.retracted or self.changes)

    def apply(self, row: StoredEvent) -> Effective | None:
        """The row as amended, or None if it is retracted or is itself an amendment."""
        if row.type in AMENDMENT_TYPES or row.id in self.retracted:
            return None
        event = row.event()
        change = self.changes.get(row.id)
        if change:
            event = decode(msgspec.json.encode(to_builtins(event) | change))
        return Effective(event=event, seq=row.seq, version=row.version, id=row.id)


def effective_in_valid_order(rows: Iterable[StoredEvent], amendments: Amendments) -> list[Effective]:
    """The rows as amended, in valid-time order (occurred_on, seq)."""
    applied = [e for e in (amendments.apply(r) for r in rows) if e is not None]
    applied.sort(key=lambda e: e.key)
    return applied


def target_of(row: StoredEvent) -> str:
    """The id of the event an amendment (a correction or a retraction) points at."""
    event = row.event()
    if not isinstance(event, EventCorrected | EventRetracted):
        raise TypeError(f"a {row.type} amends nothing")
    return str(event.target_id)


def known_by(rows: Sequence[StoredEvent], known_at: str | None) -> list[StoredEvent]:
    if known_at is None:
        return list(rows)
    return [r for r in rows if r.recorded_at <= known_at]
