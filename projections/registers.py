"""The registers as items: each folded over all valid time, read on any day by a pure function.

An item is one sanction interval chain (keyed by (target, by)), one measure key's chain (old sanction events
upcast, projections/measures.py), or one commitment (keyed by its commitment_made's id; its
commitment_status events point at it). ``advance`` folds one more event into an item, later in valid time than
every event before it (an item is refolded from its events, as amended, by advancing from nothing). The
stored tables keep an item's bodies with the interval of recording during which each was the truth
(projections/tables.py), so a question at (as_of, known_at) reads the bodies live at the known_at's seq and
evaluates each on the day:

- sanctions: ``in_force`` of the intervals, as before (the sanctions fold never cut at a day);
- measures: ``history_on``, each measure as the fold of its events up to the day gives it (measures.py);
- commitments: the commitment made by the day, with the last status change on or before it, ``overdue``
  relative to the day asked (today if none).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import msgspec

from diplo.events.catalog import CommitmentMade, CommitmentStatus, SanctionApplied, SanctionLifted
from diplo.projections.amendments import Effective
from diplo.projections.commitments import COMMITMENT_TYPES, Commitment
from diplo.projections.measures import (
    MEASURE_TYPES,
    Measure,
    MeasureHistory,
    Parties,
    advance_measures,
    history_on,
    measure_key,
    sanction_measure,
)
from diplo.projections.sanctions import SANCTION_TYPES, SanctionInterval, apply_interval, in_force

SANCTIONS, MEASURES, COMMITMENTS = "sanctions", "measures", "commitments"
REGISTER_TYPES: dict[str, tuple[str, ...]] = {
    SANCTIONS: SANCTION_TYPES,
    MEASURES: MEASURE_TYPES,
    COMMITMENTS: COMMITMENT_TYPES,
}
# The registers an event of a type may change: its own, and the measures for a channel's parties (the
# ``against`` of an upcast sanction).
REGISTERS_OF: dict[str, tuple[str, ...]] = {"channel_established": (MEASURES,)}
for _register, _types in REGISTER_TYPES.items():
    for _type in _types:
        REGISTERS_OF[_type] = (*REGISTERS_OF.get(_type, ()), _register)


class SanctionItem(msgspec.Struct, kw_only=True):
    intervals: list[SanctionInterval] = []
    last: dt.date  # the latest day of its events (those that changed nothing too): the next in order is not before


class MeasureItem(msgspec.Struct, kw_only=True):
    chain: list[MeasureHistory] = []
    last: dt.date


class CommitmentItem(msgspec.Struct, kw_only=True):
    commitment: Commitment | None = None  # None while its commitment_made is retracted
    seq: int = 0  # of the commitment_made: the register lists commitments in valid-time order
    statuses: list[tuple[str, dt.date, str]] = []  # (status, since, event id), in valid-time order
    last: dt.date


Item = SanctionItem | MeasureItem | CommitmentItem
ENCODER = msgspec.msgpack.Encoder()
DECODERS: dict[str, msgspec.msgpack.Decoder] = {
    SANCTIONS: msgspec.msgpack.Decoder(SanctionItem),
    MEASURES: msgspec.msgpack.Decoder(MeasureItem),
    COMMITMENTS: msgspec.msgpack.Decoder(CommitmentItem),
}


def _no_parties(channel: str) -> list[str]:
    return []


def items_of(item: Effective) -> list[tuple[str, str, str]]:
    """(register, item key, channel) of every item an event belongs to ("" for a register not by channel)."""
    event = item.event
    if isinstance(event, SanctionApplied | SanctionLifted):
        key = msgspec.json.encode([event.target, event.by]).decode()
        return [(SANCTIONS, key, ""), (MEASURES, sanction_measure(event.by, event.target), "")]
    if isinstance(event, CommitmentMade):
        return [(COMMITMENTS, item.id, event.channel)]
    if isinstance(event, CommitmentStatus):
        return [(COMMITMENTS, str(event.target_id), event.channel)]
    try:
        return [(MEASURES, measure_key(event, _no_parties), "")]
    except TypeError:
        return []


def advance(register: str, body: Any | None, item: Effective, parties: Parties) -> Item:
    """The item with one more event, on or after the day of every event folded into it (``body`` is changed)."""
    day = item.event.occurred_on
    if register == SANCTIONS:
        sanctions = body if body is not None else SanctionItem(last=day)
        open_ = {}
        if sanctions.intervals and sanctions.intervals[-1].until is None:
            last = sanctions.intervals[-1]
            open_[(last.target, last.by)] = last
        apply_interval(open_, sanctions.intervals, item)
        sanctions.last = max(sanctions.last, day)
        return sanctions
    if register == MEASURES:
        measures = body if body is not None else MeasureItem(last=day)
        advance_measures(measures.chain, item, parties)
        measures.last = max(measures.last, day)
        return measures
    commitment = body if body is not None else CommitmentItem(last=day)
    event = item.event
    if isinstance(event, CommitmentMade):
        commitment.commitment = Commitment.made(event, item.id)
        commitment.seq = item.seq
    elif isinstance(event, CommitmentStatus):
        commitment.statuses.append((event.status, event.occurred_on, item.id))
    commitment.last = max(commitment.last, day)
    return commitment


def fold_items(register: str, events: Iterable[Effective], parties: Parties) -> dict[str, tuple[Item, str]]:
    """Every item of the register from its events in valid-time order: item key -> (body, channel)."""
    items: dict[str, tuple[Item, str]] = {}
    for item in events:
        for found, key, channel in items_of(item):
            if found == register:
                body = items.get(key)
                items[key] = (advance(register, body[0] if body else None, item, parties), channel)
    return items


# -- reading on a day -----------------------------------------------------------------------------------


def sanctions_on(items: Iterable[SanctionItem], as_of: dt.date | None) -> list[SanctionInterval]:
    return in_force((i for item in items for i in item.intervals), as_of)


def measures_on(items: Iterable[MeasureItem], day: dt.date) -> list[Measure]:
    return history_on((item.chain for item in items), day)


def commitments_on(items: Iterable[CommitmentItem], day: dt.date | None) -> list[Commitment]:
    """As ``fold_commitments`` of the events up to ``day`` (None: every day) gives them."""
    today = day or dt.datetime.now(dt.UTC).date()
    found = []
    for item in items:
        commitment = item.commitment
        if commitment is None or (day is not None and commitment.made_on > day):
            continue
        status, since, event_id = "open", None, None
        for change in item.statuses:
            if day is not None and change[1] > day:
                break
            status, since, event_id = change
        overdue = status == "open" and commitment.due_on is not None and commitment.due_on < today
        answer = msgspec.structs.replace(
            commitment, status=status, status_since=since, status_event_id=event_id, overdue=overdue
        )
        found.append((commitment.made_on, item.seq, answer))
    found.sort(key=lambda t: (t[0], t[1]))
    return [c for _, _, c in found]
