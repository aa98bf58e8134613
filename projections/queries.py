"""The questions users ask, answered from the stored projections or, for
``known_at``, by folding the events recorded by then (bounded by one channel)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import NamedTuple

import msgspec
import structlog
from msgspec.structs import replace

from events.catalog import Event
from events.log import StoredEvent
from events.sqlite import SQLiteLog, last_recorded_at, read_channel_types, read_rows, read_types, stream_version
from projections import replay, tables
from projections.amendments import AMENDMENT_TYPES, Amendments, effective_in_valid_order, known_by
from projections.commitments import COMMITMENT_TYPES, Commitment, fold_commitments, matching
from projections.measures import MEASURE_TYPES, Measure, fold_measures, on_day
from projections.sanctions import SANCTION_TYPES, SanctionInterval, fold_sanctions, in_force
from projections.state import STATE_DECODER, ChannelState, fold, unknown_as_of
from projections.timeline import Interval, intervals

# The events a timeline marks, by kind; old sanction events count as measures, as the register upcasts them.
MARK_KINDS = {
    "meeting_held": "meeting",
    "contact_made": "contact",
    "talks_cancelled": "cancellation",
    **{t: "measure" for t in MEASURE_TYPES},
}


class Mark(NamedTuple):
    """Events of one kind in one period of a channel's timeline: how many, and the first (valid-time order)."""

    period_start: dt.date
    kind: str
    count: int
    first_event_id: str


class Reading(msgspec.Struct, frozen=True, kw_only=True):
    """One stored event as a view shows it at a ``known_at``: corrected, or marked retracted."""

    row: StoredEvent
    event: Event  # as corrected; the original if retracted or never corrected
    retracted: bool = False
    corrected_at: str | None = None  # when the newest correction applied was recorded


logger = structlog.get_logger()


class Projections:
    """Stored projections over one log: kept current on append, rebuilt on demand."""

    def __init__(self, log: SQLiteLog):
        self.log = log
        self.last_replay: replay.ReplayStats | None = None
        self.maintainer = tables.Maintainer()
        log.run_in_writer(tables.create_tables)
        log.add_hook(self.maintainer)
        log.run_in_writer(self._bring_up_to_date)

    def _bring_up_to_date(self, conn) -> None:  # type: ignore[no-untyped-def]
        """Start-up: rebuild if the projection's code changed; catch up if it lags the log."""
        current = tables.meta(conn)
        if current is None or current[0] != tables.PROJECTION_VERSION:
            self.last_replay = replay.rebuild_and_swap(conn)
            self.maintainer.forget()
            return
        checkpoint = current[1]
        while rows := list(read_rows(conn, after=checkpoint, limit=5_000)):
            self.maintainer(conn, rows)
            checkpoint = rows[-1].seq

    # -- rebuilding ----------------------------------------------------------
    def replay(self, progress: replay.Progress | None = None) -> replay.ReplayStats:
        stats = self.log.run_in_writer(lambda conn: replay.rebuild_and_swap(conn, progress))
        self.maintainer.forget()  # the tables were replaced under it
        self.log.checkpoint()  # the rebuild rewrote every projection row; later appends should not pay for it
        self.last_replay = stats  # type: ignore[assignment]
        return stats  # type: ignore[return-value]

    def check(self, progress: replay.Progress | None = None) -> tuple[replay.ReplayStats, list[replay.Drift]]:
        return self.log.run_in_writer(lambda conn: replay.check(conn, progress))  # type: ignore[return-value]

    # -- channels --------------------------------------------------------------
    def channel_names(self) -> list[str]:
        return [r[0] for r in self.log.reader().execute("SELECT channel FROM channel_heads ORDER BY channel")]

    def channel_state(
        self, channel: str, as_of: dt.date | None = None, known_at: str | None = None
    ) -> ChannelState | None:
        """The channel's state on day ``as_of`` as the log stood at ``known_at``; None if no such channel.

        A channel that exists now but whose establishment was recorded after ``known_at`` answers
        ``nothing_known(channel)``, as a channel asked about before it began answers status unknown.
        Its ``version`` is the stream's: every event of the channel recorded by ``known_at``,
        corrections and retractions included, the number ``expected_version`` is checked against.
        """
        found = self._state(channel, as_of, known_at)
        if found is None and known_at is not None and self._exists(channel):
            return nothing_known(channel)
        if found is None:
            return None
        return replace(
            found,
            version=stream_version(self.log.reader(), channel, known_at),
            successor=self._successor(channel, as_of, known_at),
        )

    def _successor(self, channel: str, as_of: dt.date | None, known_at: str | None) -> str | None:
        """The channel whose state (on ``as_of``, as known at ``known_at``) names this one as its predecessor.

        Candidates are the channels whose establishment, or a correction of it, mentions ``succeeds`` this
        channel (a byte search of the canonical bodies, no fold); each is then asked its own state."""
        conn = self.log.reader()
        needle = msgspec.json.encode({"succeeds": channel})[1:-1]  # "succeeds":"<channel>", as stored
        candidates = {
            r[0]
            for r in conn.execute(
                "SELECT channel FROM events WHERE (type = 'channel_established' AND instr(body, ?) > 0)"
                " OR (type = 'event_corrected' AND instr(body, '\"succeeds\"') > 0)",
                (needle,),
            )
        }
        for candidate in sorted(candidates - {channel}):
            state = self._state(candidate, as_of, known_at)
            if state is not None and state.predecessor == channel:
                return candidate
        return None

    def _state(self, channel: str, as_of: dt.date | None, known_at: str | None) -> ChannelState | None:
        if not self._current_at(known_at, channel):
            return self._folded_states(channel, known_at, as_of)[1]  # type: ignore[arg-type]
        conn = self.log.reader()
        head = conn.execute("SELECT state FROM channel_heads WHERE channel = ?", (channel,)).fetchone()
        if head is None:
            return None
        latest = STATE_DECODER.decode(head[0])
        if as_of is None:
            return latest
        row = conn.execute(
            "SELECT state FROM channel_history WHERE channel = ? AND occurred_on <= ?"
            " ORDER BY occurred_on DESC, seq DESC LIMIT 1",
            (channel, as_of.isoformat()),
        ).fetchone()
        state = STATE_DECODER.decode(row[0]) if row else None
        return state if state is not None and state.established_on is not None else unknown_as_of(latest)

    def _exists(self, channel: str) -> bool:
        """The channel exists now (its establishment is in the log, whenever recorded)."""
        query = "SELECT 1 FROM channel_heads WHERE channel = ?"
        return self.log.reader().execute(query, (channel,)).fetchone() is not None

    def all_channels(self, as_of: dt.date | None = None, known_at: str | None = None) -> list[ChannelState]:
        """Every channel that exists now, each as ``channel_state`` answers it (so never-recorded ones
        at ``known_at`` appear as ``nothing_known``, as channels not yet begun on ``as_of`` appear unknown)."""
        names = set(self.channel_names())
        if known_at is not None:  # and any known then, should its establishment be retracted since
            established = read_types(self.log.reader(), ["channel_established"])
            names |= {r.channel for r in established if r.recorded_at <= known_at}
        states = [self._state(name, as_of, known_at) for name in sorted(names)]
        found = {
            name: state if state is not None else nothing_known(name)
            for name, state in zip(sorted(names), states, strict=True)
            if state is not None or (known_at is not None and self._exists(name))
        }
        successors = {s.predecessor: s.channel for s in found.values() if s.predecessor}
        conn = self.log.reader()
        return [
            replace(s, version=stream_version(conn, s.channel, known_at), successor=successors.get(s.channel))
            for s in found.values()
        ]

    def timeline(self, channel: str, known_at: str | None = None) -> list[Interval] | None:
        """Status intervals; empty for a channel recorded after ``known_at``, None if no such channel."""
        if not self._current_at(known_at, channel):
            states, latest = self._folded_states(channel, known_at, None)  # type: ignore[arg-type]
            if latest is None:
                return [] if self._exists(channel) else None
            return intervals(states)
        rows = (
            self.log.reader()
            .execute("SELECT state FROM channel_history WHERE channel = ? ORDER BY occurred_on, seq", (channel,))
            .fetchall()
        )
        if not rows:
            return None
        return intervals(STATE_DECODER.decode(r[0]) for r in rows)

    def _current_at(self, known_at: str | None, channel: str | None) -> bool:
        """True when the stored (current-knowledge) tables already answer for ``known_at``: nothing
        of the channel (or of the log, for None) was recorded after it. Saves a fold in the usual case."""
        if known_at is None:
            return True
        newest = last_recorded_at(self.log.reader(), channel)
        return newest is not None and newest <= known_at

    def _folded_states(
        self, channel: str, known_at: str, as_of: dt.date | None
    ) -> tuple[list[ChannelState], ChannelState | None]:
        """Fold the channel's events recorded by known_at; (every state, state as of)."""
        rows = [r for r in read_rows(self.log.reader(), channel=channel, recorded_by=known_at)]
        amendments = Amendments.collect(r for r in rows if r.type in AMENDMENT_TYPES)
        effective = effective_in_valid_order(rows, amendments)
        if not any(e.event.__struct_config__.tag == "channel_established" for e in effective):
            return [], None
        state = ChannelState(channel=channel)
        states: list[ChannelState] = []
        answer: ChannelState | None = None
        for item in effective:
            state = fold(state, item.event, item.version)
            states.append(state)
            if as_of is None or item.event.occurred_on <= as_of:
                answer = state
        if answer is None or answer.established_on is None:  # nothing yet, or only events before it began
            answer = unknown_as_of(state)
        return states, answer

    def marks(
        self,
        channel: str,
        known_at: str | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
        buckets: int | None = None,
    ) -> list[Mark]:
        """The channel's meetings, contacts, cancellations and measures on [start, end], as amended as known at
        ``known_at`` (retracted ones left out), counted per kind in periods: each day for ``buckets=None``,
        else ``buckets`` equal periods of [start, end] (of the marked days when not given). Sorted by period, kind.

        A simple fold of the channel's rows; the same answer may come from a faster store."""
        if buckets is not None and buckets < 1:
            raise ValueError("buckets must be at least 1")
        rows = read_channel_types(self.log.reader(), channel, tuple(MARK_KINDS))
        found = sorted(
            (r.event.occurred_on, r.row.seq, MARK_KINDS[r.row.type], r.row.id)
            for r in self.as_known(rows, known_at).values()
            if not r.retracted
            and (start is None or r.event.occurred_on >= start)
            and (end is None or r.event.occurred_on <= end)
        )
        if not found or (start is not None and end is not None and end < start):
            return []
        low = start or found[0][0]
        span = ((end or found[-1][0]) - low).days + 1
        counted: dict[tuple[dt.date, str], list] = {}
        for day, _, kind, event_id in found:
            period = day
            if buckets is not None:  # period i holds the offsets o with i <= o * buckets / span < i + 1
                index = (day - low).days * buckets // span
                period = low + dt.timedelta(days=-(-index * span // buckets))
            entry = counted.setdefault((period, kind), [0, event_id])
            entry[0] += 1
        return [Mark(period, kind, n, first) for (period, kind), (n, first) in sorted(counted.items())]

    # -- events as views show them ----------------------------------------------
    def as_known(self, rows: Sequence[StoredEvent], known_at: str | None = None) -> dict[str, Reading]:
        """These rows as known at ``known_at`` (None: now), by id: those recorded after it left out, the others
        read with the corrections and retractions recorded by then. Every view of an event goes through here."""
        rows = known_by(rows, known_at)
        if not rows:
            return {}
        conn = self.log.reader()
        channels = {r.channel for r in rows}
        if len(channels) == 1:
            found = read_channel_types(conn, next(iter(channels)), AMENDMENT_TYPES)
        else:
            found = [r for r in read_types(conn, AMENDMENT_TYPES) if r.channel in channels]
        amendment_rows = known_by(found, known_at)
        amendments = Amendments.collect(amendment_rows)
        corrected_at: dict[str, str] = {}
        for amendment in amendment_rows:
            if amendment.type == "event_corrected" and amendment.id not in amendments.retracted:
                target = str(amendment.event().target_id)  # type: ignore[attr-defined]
                corrected_at[target] = max(corrected_at.get(target, ""), amendment.recorded_at)
        return {r.id: reading for r in rows if (reading := _read(r, amendments, corrected_at.get(r.id)))}

    # -- registers -------------------------------------------------------------
    def sanctions_in_force(self, as_of: dt.date | None = None, known_at: str | None = None) -> list[SanctionInterval]:
        conn = self.log.reader()
        if self._current_at(known_at, None):
            return in_force(tables.read_sanction_intervals(conn), as_of)
        rows = known_by(read_types(conn, (*SANCTION_TYPES, *AMENDMENT_TYPES)), known_at)
        amendments = Amendments.collect(r for r in rows if r.type in AMENDMENT_TYPES)
        return in_force(fold_sanctions(effective_in_valid_order(rows, amendments)), as_of)

    def commitments(
        self,
        channel: str | None = None,
        as_of: dt.date | None = None,
        known_at: str | None = None,
        status: str | None = None,
        party: str | None = None,
    ) -> list[Commitment]:
        """Commitments made by ``as_of``, each with its status on that day, as known at ``known_at``."""
        conn = self.log.reader()
        rows: Sequence[StoredEvent] = known_by(read_types(conn, (*COMMITMENT_TYPES, *AMENDMENT_TYPES)), known_at)
        if channel is not None:
            rows = [r for r in rows if r.channel == channel]
        amendments = Amendments.collect(r for r in rows if r.type in AMENDMENT_TYPES)
        return matching(fold_commitments(effective_in_valid_order(rows, amendments), as_of), status, party)

    def measures(
        self,
        as_of: dt.date | None = None,
        known_at: str | None = None,
        kind: str | None = None,
        party: str | None = None,
        status: str | None = None,
    ) -> list[Measure]:
        """The measures register on ``as_of`` (today if none), as known at ``known_at``: one query of the measure
        events by type, folded (old sanction events upcast); ``party`` matches ``by`` or ``against``."""
        conn = self.log.reader()
        rows = known_by(read_types(conn, (*MEASURE_TYPES, *AMENDMENT_TYPES)), known_at)
        amendments = Amendments.collect(r for r in rows if r.type in AMENDMENT_TYPES)
        day = as_of or dt.datetime.now(dt.UTC).date()
        effective = [e for e in effective_in_valid_order(rows, amendments) if e.event.occurred_on <= day]
        parties: dict[str, list[str]] = {}

        def parties_of(channel: str) -> list[str]:
            if channel not in parties:
                state = self._state(channel, None, known_at)
                parties[channel] = list(state.parties) if state is not None else []
            return parties[channel]

        return [
            m
            for m in on_day(fold_measures(effective, parties_of), day)
            if (kind is None or m.kind == kind)
            and (party is None or party in m.by or party in m.against)
            and (status is None or m.status == status)
        ]


def nothing_known(channel: str) -> ChannelState:
    """A channel that exists now, asked about at a ``known_at`` before its establishment was recorded."""
    return ChannelState(channel=channel)


def was_known(state: ChannelState) -> bool:
    """False only for ``nothing_known`` states: an established channel always has a name."""
    return state.name is not None


def upcoming_only(state: ChannelState, as_of: dt.date | None) -> ChannelState:
    """The state without a ``next_meeting`` already past on the day asked about (today if none).

    The fold (and ``channel_state``, which equals it) keeps the date; the answers people read (the HTTP
    answers, the board, the CLI) drop it, since "past" depends on the day asked.
    """
    day = as_of or dt.datetime.now(dt.UTC).date()
    if state.next_meeting is not None and state.next_meeting < day:
        return msgspec.structs.replace(state, next_meeting=None)
    return state


def _read(row: StoredEvent, amendments: Amendments, corrected_at: str | None) -> Reading | None:
    """One row as amended; a row or a correction that no longer decodes is logged, never raised to a page."""
    try:
        original = row.event()
    except msgspec.MsgspecError as error:
        logger.warning("view.undecodable_event", id=row.id, seq=row.seq, error=str(error))
        return None
    if row.id in amendments.retracted:
        return Reading(row=row, event=original, retracted=True)
    if corrected_at is None or row.type in AMENDMENT_TYPES:
        return Reading(row=row, event=original)
    try:
        effective = amendments.apply(row)
    except msgspec.MsgspecError as error:
        logger.warning("view.bad_correction", id=row.id, error=str(error))
        return Reading(row=row, event=original)
    return Reading(row=row, event=effective.event if effective else original, corrected_at=corrected_at)
