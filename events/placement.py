"""Placing a group's requests in the log: the part of the writer every backend shares.

The writer of each backend opens its transaction, then asks a ``GroupView`` to place each
request against the log as the group sees it (versions, ids, the head, Idempotency-Keys),
applying events/rules.py; the rows it returns are inserted with events/store.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from typing import Any

import msgspec
import structlog

from diplo.events import clock, rules, store
from diplo.events.catalog import (
    ChannelEstablished,
    CommitmentStatus,
    Event,
    EventCorrected,
    EventRetracted,
    decode,
    encode,
)
from diplo.events.errors import Conflict, LogError, Refused
from diplo.events.log import IdempotencyKey, Receipt, StoredEvent
from diplo.events.store import Sql
from diplo.events.validation import InvalidEvent

logger = structlog.get_logger("diplo.log")

_RECEIPTS = msgspec.json.Decoder(list[Receipt])
KEY_LIFETIME = dt.timedelta(hours=48)  # promised: at least 24 h


class Request(msgspec.Struct):
    """One caller's append (or, with ``work``, a task run on the writer's connection)."""

    events: Sequence[Event]
    expected_version: int | None
    writer: str | None
    future: Future
    work: Callable[[Any], object] | None = None
    idempotency: IdempotencyKey | None = None


class Known(msgspec.Struct):
    """What the writer learnt of the log up to head seq ``at_seq`` (None: nothing)."""

    at_seq: int | None = None
    versions: dict[str, int] = {}
    established: dict[str, dt.date | None] = {}
    measures: set[str] | None = None  # keys of the measures imposed (None: not read yet)


class GroupView:
    """The log as one group's requests see it: versions, ids and the head, updated as rows are placed."""

    def __init__(
        self,
        db: Sql,
        events: Sequence[Event],
        head_seq: int,
        head_hash: str,
        head_time: str,
        known: Known | None = None,
    ):
        self.db = db
        self.head_seq, self.head_hash, self.recorded_at = head_seq, head_hash, head_time
        known = known or Known()
        channels = {e.channel for e in events}
        self.versions = {c: known.versions[c] for c in channels if c in known.versions}
        self.versions |= store.channel_versions(db, channels - known.versions.keys())
        self.established = dict(known.established)
        self.measures = set(known.measures) if known.measures is not None else None
        self.known = known
        # Each event's id as text, formatted once for the group (keyed by the event object, alive as long as the group).
        self._id_texts = {id(e): str(e.id) for e in events}
        self.placed: dict[str, StoredEvent] = {
            row.id: row for row in store.rows_by_ids(db, list(self._id_texts.values()))
        }
        self.rows: list[StoredEvent] = []
        self.keys: list[tuple[str, IdempotencyKey, list[Receipt]]] = []
        self._keys_seen: dict[tuple[str, str], tuple[IdempotencyKey, list[Receipt]]] = {}

    def learnt(self) -> Known:
        return Known(
            at_seq=self.head_seq,
            versions={**self.known.versions, **self.versions},
            established=self.established,
            measures=self.measures,
        )

    def place(self, request: Request) -> list[Receipt]:
        """Place a request's events all-or-nothing; on a refusal the view is left as it was."""
        if request.idempotency is not None:
            earlier = self._earlier_answer(request.writer or "", request.idempotency)
            if earlier is not None:
                return earlier
        events = [self._normalised(event, index) for index, event in enumerate(request.events)]
        channels = {e.channel for e in events}
        if request.expected_version is not None and len(channels) != 1:
            raise InvalidEvent("expected_version applies to one channel; this batch spans several")
        texts = self._id_texts
        ids = [texts.get(id(e)) or str(e.id) for e in events]  # a UUID's str is not cheap: formatted once
        bodies = [encode(e) for e in events]
        placed = self.placed
        if placed:
            repeats = [self._repeat(ids[index], body, index) for index, body in enumerate(bodies)]
            if all(r is not None for r in repeats):
                # Every event is already in the log as sent: a retry after a lost answer, not a conflict.
                return [receipt(r, created=False) for r in repeats if r is not None]
        if request.expected_version is not None:
            (channel,) = channels
            current = self.versions.get(channel, 0)
            if current != request.expected_version:
                raise Conflict(
                    f"channel {channel} is at version {current}, not the expected {request.expected_version};"
                    " read it again and retry",
                    channel,
                    current,
                )
        versions = {c: self.versions.get(c, 0) for c in channels}
        established = dict(self.established)
        imposed = set(self.measures) if self.measures is not None else None
        head_seq, head_hash, recorded_at = self.head_seq, self.head_hash, self.recorded_at
        head_raw = bytes.fromhex(head_hash)
        new: dict[str, StoredEvent] = {}
        receipts: list[Receipt] = []
        instants = Instants()
        writer = request.writer
        for index, event in enumerate(events):
            event_id, body = ids[index], bodies[index]
            try:
                stored = new.get(event_id) or (self._repeat(event_id, body, index) if placed else None)
                if stored is not None:
                    receipts.append(receipt(stored, created=stored.id in new))
                    continue
                channel = event.channel
                version = versions[channel]
                kind = rules.tag(event)
                self._check_fits(event, kind, version, new, established)
                key = rules.imposed_key(event)
                if key is not None or isinstance(event, rules.MeasureChange):
                    imposed = imposed if imposed is not None else self._imposed_keys()
                    if isinstance(event, rules.MeasureChange):
                        rules.check_measure_named(event, imposed)
                    if key is not None:
                        imposed.add(key)
            except (LogError, InvalidEvent) as error:
                error.index = index
                raise
            recorded_at = instants.next(recorded_at)  # every event its own instant
            head_raw, digest = store.chain_step(head_raw, body)
            head_seq += 1
            row = StoredEvent(
                seq=head_seq,
                id=event_id,
                type=kind,
                channel=channel,
                version=version + 1,
                occurred_on=event.occurred_on.isoformat(),
                recorded_at=recorded_at,
                body=body,
                prev_hash=head_hash,
                hash=digest,
                writer=writer,
            )
            versions[channel] = version + 1
            if kind == "channel_established":
                established[channel] = event.occurred_on
            elif kind in rules.AMENDMENT_TYPES:
                established.pop(channel, None)  # may have moved: read again when next needed
            head_hash = digest
            new[event_id] = row
            receipts.append(
                Receipt(id=event_id, seq=head_seq, version=version + 1, recorded_at=recorded_at, hash=digest)
            )
        self.versions.update(versions)
        self.established = established
        self.measures = imposed
        self.head_seq, self.head_hash, self.recorded_at = head_seq, head_hash, recorded_at
        self.placed.update(new)
        self.rows.extend(new.values())
        if request.idempotency is not None:
            self.keys.append((request.writer or "", request.idempotency, receipts))
            self._keys_seen[(request.writer or "", request.idempotency.key)] = (request.idempotency, receipts)
        return receipts

    def _earlier_answer(self, writer: str, key: IdempotencyKey) -> list[Receipt] | None:
        """The receipts first given for this Idempotency-Key, or None if the key is new."""
        seen = self._keys_seen.get((writer, key.key))
        if seen is not None:
            fingerprint, receipts = seen[0].fingerprint, seen[1]
        else:
            stored = store.key_answer(self.db, writer, key.key)
            if stored is None:
                return None
            fingerprint, receipts = stored[0], _RECEIPTS.decode(stored[1])
        if fingerprint != key.fingerprint:
            raise InvalidEvent(
                "Idempotency-Key: this key was already used with a different request body;"
                " send the same body to get the original answer, or use a new key for a new request",
                "Idempotency-Key",
            )
        return [msgspec.structs.replace(r, created=False) for r in receipts]

    def _repeat(self, event_id: str, body: bytes, index: int) -> StoredEvent | None:
        """The stored row if this id is already in the log with these very bytes; a Conflict if with others."""
        earlier = self.placed.get(event_id)
        if earlier is not None and earlier.body != body:
            error = Conflict(f"id {event_id} is already in the log with other content; use a new id")
            error.index = index
            raise error
        return earlier

    def _normalised(self, event: Event, index: int) -> Event:
        """Corrections are stored in canonical form (see rules.normalise_correction)."""
        if not isinstance(event, EventCorrected):
            return event
        target = self._lookup(str(event.target_id), {})
        if target is None or target.type == "event_corrected":
            return event  # refused with its reason by _check_fits
        try:
            return rules.normalise_correction(event, target)
        except InvalidEvent:
            return event  # refused by _check_fits, in batch order, so the first bad event is the one named

    def _lookup(self, event_id: str, new: dict[str, StoredEvent]) -> StoredEvent | None:
        found = new.get(event_id) or self.placed.get(event_id)
        return found or next(iter(store.rows_by_ids(self.db, [event_id])), None)

    def _imposed_keys(self) -> set[str]:
        """The register keys of every measure imposed in the log (old sanctions included)."""
        events = (decode(body) for body in store.bodies_of_types(self.db, rules.IMPOSING_TYPES))
        return {key for event in events if (key := rules.imposed_key(event))}

    def _channel_exists(self, channel: str, new: dict[str, StoredEvent]) -> bool:
        if self.versions.get(channel) or any(r.channel == channel for r in new.values()):
            return True
        return bool(store.channel_versions(self.db, {channel}))

    def _established_on(self, channel: str, established: dict[str, dt.date | None]) -> dt.date | None:
        if channel not in established:
            established[channel] = rules.established_on(
                store.channel_founding_rows(self.db, channel, rules.AMENDMENT_TYPES)
            )
        return established[channel]

    def _check_fits(
        self,
        event: Event,
        kind: str,
        version: int,
        new: dict[str, StoredEvent],
        established: dict[str, dt.date | None],
    ) -> None:
        rules.check_order(event, version, kind)
        if kind in rules.AMENDMENT_TYPES and isinstance(event, EventCorrected | EventRetracted):
            target = rules.check_target(event, self._lookup(str(event.target_id), new))
            if isinstance(event, EventCorrected):
                rules.normalise_correction(event, target)
                moved_to = event.changes.get("succeeds")
                if moved_to is not None and not self._channel_exists(moved_to, new):
                    raise Refused(f"changes: succeeds names no channel {moved_to} in the log; establish it first")
            # An amendment may move an event, or the establishment, across the other: check the channel whole.
            rows = [store.row(v) for v in self.db.execute(*store.select(channel=event.channel))]
            rows += [r for r in new.values() if r.channel == event.channel]
            rows.append(provisional_row(event, version))
            rules.check_after_establishment(rules.effective_dates(rows), event.channel)
        elif kind != "channel_established":
            rules.check_dated_after(event, self._established_on(event.channel, established))
        if isinstance(event, CommitmentStatus):
            rules.check_commitment_target(event, self._lookup(str(event.target_id), new))
        elif isinstance(event, ChannelEstablished) and event.succeeds is not None:
            rules.check_predecessor(event, self._channel_exists(event.succeeds, new))


class Instants:
    """``clock.next_instant`` for the events of one request, reading the clock once: a batch's events get
    consecutive microseconds from then (the seconds' text kept, the microseconds counted on)."""

    def __init__(self) -> None:
        self.last: str | None = None
        self.second = ""  # the last instant's text up to its seconds: YYYY-MM-DDTHH:MM:SS
        self.micro = 0

    def next(self, after: str) -> str:
        if self.last is not None and self.last == after and self.micro < 999_999:
            self.micro += 1
            text = f"{self.second}.{self.micro:06d}Z"
        else:
            if self.last is not None and self.last == after:  # the next second
                moment = dt.datetime.fromisoformat(after[:-1] + "+00:00") + dt.timedelta(microseconds=1)
                text = clock.format_instant(moment)
            else:
                text = clock.next_instant(after)
            self.second, self.micro = text[:19], int(text[20:26])
        self.last = text
        return text


class AppendFailed(LogError):
    """An unexpected failure while writing one request; its neighbours were appended."""


def call_isolated(callback: Callable[..., object], *args: object) -> None:
    """Callbacks after a commit run isolated: one that raises is logged, never fatal to the writer."""
    try:
        callback(*args)
    except Exception as error:
        logger.exception("writer.callback_failed", callback=repr(callback), error=repr(error))


def provisional_row(event: Event, version: int) -> StoredEvent:
    """An amendment as a row, for checking what the channel would look like with it."""
    return StoredEvent(
        seq=2**62,
        id=str(event.id),
        type=rules.tag(event),
        channel=event.channel,
        version=version + 1,
        occurred_on=event.occurred_on.isoformat(),
        recorded_at="",
        body=encode(event),
        prev_hash="",
        hash="",
    )


def receipt(row: StoredEvent, *, created: bool) -> Receipt:
    return Receipt(
        id=row.id, seq=row.seq, version=row.version, recorded_at=row.recorded_at, hash=row.hash, created=created
    )
