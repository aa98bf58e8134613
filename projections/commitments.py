"""The commitments register: commitments made through channels and whether they were kept, folded purely."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import msgspec

from diplo.events.catalog import CommitmentMade, CommitmentStatus, party_list
from diplo.projections.amendments import Effective

COMMITMENT_TYPES = ("commitment_made", "commitment_status")


class Commitment(msgspec.Struct, kw_only=True):
    channel: str
    by: str | list[str]
    text: str
    made_on: dt.date
    confidence: str
    event_id: str
    due_on: dt.date | None = None
    conditions: str | None = None
    # Its status on the day asked about, from the latest commitment_status on or before it.
    status: str = "open"
    status_since: dt.date | None = None
    status_event_id: str | None = None
    overdue: bool = False  # still open after its due_on

    @classmethod
    def made(cls, event: CommitmentMade, event_id: str) -> Commitment:
        """The commitment as made, open."""
        return cls(
            channel=event.channel,
            by=event.by,
            text=event.text,
            made_on=event.occurred_on,
            confidence=event.confidence,
            event_id=event_id,
            due_on=event.due_on,
            conditions=event.conditions,
        )


def fold_commitments(events: Iterable[Effective], day: dt.date | None) -> list[Commitment]:
    """Commitments made on or before ``day`` (None: any day), with their status then; events in valid-time order."""
    found: dict[str, Commitment] = {}
    statuses: dict[str, tuple[str, dt.date, str]] = {}
    for item in events:
        event = item.event
        if day is not None and event.occurred_on > day:
            break
        if isinstance(event, CommitmentMade):
            found[item.id] = Commitment.made(event, item.id)
        elif isinstance(event, CommitmentStatus):
            statuses[str(event.target_id)] = (event.status, event.occurred_on, item.id)
    today = day or dt.datetime.now(dt.UTC).date()
    for event_id, commitment in found.items():
        if event_id in statuses:
            commitment.status, commitment.status_since, commitment.status_event_id = statuses[event_id]
        commitment.overdue = commitment.status == "open" and commitment.due_on is not None and commitment.due_on < today
    return list(found.values())


def matching(commitments: Iterable[Commitment], status: str | None, party: str | None) -> list[Commitment]:
    return [
        c
        for c in commitments
        if (status is None or c.status == status) and (party is None or party in party_list(c.by))
    ]
