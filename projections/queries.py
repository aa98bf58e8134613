"""The questions users ask, answered from the stored projections, which keep both clocks: any
(as_of, known_at) is a seek for the known_at's seq and a few index seeks from there."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from concurrent.futures import Future
from typing import Any

import msgspec
import structlog
from msgspec.structs import replace

from diplo.events.catalog import Event, type_of
from diplo.events.log import EventLog, StoredEvent
from diplo.events.reads import head_seq, read_channel_types, read_rows, read_types, stream_version
from diplo.projections import replay as rebuilding  # by another name: the method ``replay`` hides the module
from diplo.projections import tables
from diplo.projections.amendments import AMENDMENT_TYPES, Amendments, effective_in_valid_order, known_by, target_of
from diplo.projections.commitments import COMMITMENT_TYPES, Commitment, fold_commitments, matching
from diplo.projections.marks import MARK_KINDS, Band, Mark, month_index, month_start, period_months, regroup
from diplo.projections.measures import MEASURE_TYPES, Measure, fold_measures, on_day
from diplo.projections.registers import (
    COMMITMENTS,
    MEASURES,
    SANCTIONS,
    commitments_on,
    measures_on,
    sanctions_on,
)
from diplo.projections.replay import Drift, Progress, ReplayStats
from diplo.projections.sanctions import SANCTION_TYPES, SanctionInterval, fold_sanctions, in_force
from diplo.projections.state import ChannelState, fold, unknown_as_of, unpack_state
from diplo.projections.timeline import Interval, intervals


class Reading(msgspec.Struct, frozen=True, kw_only=True):
    """One stored event as a view shows it at a ``known_at``: corrected, or marked retracted."""

    row: StoredEvent
    event: Event  # as corrected; the original if retracted or never corrected
    retracted: bool = False
    corrected_at: str | None = None  # when the newest correction applied was recorded


logger = structlog.get_logger()
REBUILD_ATTEMPTS = 360  # each waits up to the busy timeout (10 s) for another process's rebuild


class Projections:
    """Stored projections over one log: kept current on append, rebuilt on demand.

    Every channel question, for any (as_of, known_at), is a few index seeks into the stored tables, which
    keep transaction time. While a rebuild for a new projection version runs in the background, reads answer
    from the previous tables (``stale``), or by folding the one channel asked about when their layout differs.
    """

    def __init__(self, log: EventLog, rebuild_in_background: bool = False):
        self.log = log
        self.last_replay: ReplayStats | None = None
        self.maintainer = tables.Maintainer()
        self.stale = False  # a rebuild for a new projection version is under way
        self.fold_reads = False  # ... and the old tables cannot answer: fold per request meanwhile
        self.rebuilt: Future | None = None
        self.rebuild_attempts = 0
        log.run_in_writer(lambda conn: tables.create_tables(conn))
        current = log.run_in_writer(tables.meta)
        log.add_hook(self.maintainer)
        if current is not None and current[0] == tables.PROJECTION_VERSION and current[3] == tables.LAYOUT:
            log.run_in_writer(lambda conn: self._catch_up(conn, current[1]))
        elif rebuild_in_background and log.head().seq > 0:  # the caller starts it: start_rebuild()
            self.stale, self.fold_reads = True, current is None or current[3] != tables.LAYOUT
        else:
            self.last_replay = log.run_in_writer(self._rebuild)

    def start_rebuild(self) -> None:
        """Queue the rebuild a new projection version needs (once); reads answer meanwhile, appends wait."""
        if self.stale and self.rebuilt is None:
            logger.warning("projections.rebuilding", reason="projection version changed", fold_reads=self.fold_reads)
            self.rebuilt = self.log.submit_in_writer(self._rebuild)
            self.rebuilt.add_done_callback(self._rebuild_done)

    def _rebuild(self, conn: Any) -> ReplayStats | None:
        current = tables.meta(conn)
        if current is not None and current[0] == tables.PROJECTION_VERSION and current[3] == tables.LAYOUT:
            self._catch_up(conn, current[1])  # another process rebuilt them meanwhile
            return None
        if current is None and head_seq(conn) == 0 and tables.layout_of(conn) == tables.LAYOUT:
            return rebuilding.start_empty(conn)  # a new database: its tables were just made, empty
        stats = rebuilding.rebuild_and_swap(conn)
        self.maintainer.forget()
        return stats

    def _rebuild_done(self, done: Future) -> None:
        if done.exception() is None:
            self.last_replay = done.result() or self.last_replay
            self.stale = self.fold_reads = False
            logger.info("projections.rebuilt", stats=self.last_replay)
        elif self.rebuild_attempts < REBUILD_ATTEMPTS:  # e.g. busy: another process rebuilds them meanwhile
            self.rebuild_attempts += 1
            logger.warning("projections.rebuild_retried", error=repr(done.exception()), attempt=self.rebuild_attempts)
            self.rebuilt = self.log.submit_in_writer(self._rebuild)
            self.rebuilt.add_done_callback(self._rebuild_done)
        else:
            logger.error("projections.rebuild_failed", error=repr(done.exception()))

    def _catch_up(self, conn: Any, checkpoint: int) -> None:
        """Start-up: apply what the log holds beyond the projections' checkpoint (another process appended)."""
        self.maintainer.forget()
        while rows := list(read_rows(conn, after=checkpoint, limit=5_000)):
            self.maintainer(conn, rows)
            checkpoint = rows[-1].seq

    # -- rebuilding ----------------------------------------------------------
    def replay(self, progress: Progress | None = None) -> ReplayStats:
        stats = self.log.run_in_writer(lambda conn: rebuilding.rebuild_and_swap(conn, progress))
        self.maintainer.forget()  # the tables were replaced under it
        self.log.checkpoint()  # the rebuild rewrote every projection row; later appends should not pay for it
        self.last_replay = stats
        return stats

    def check(self, progress: Progress | None = None) -> tuple[ReplayStats, list[Drift]]:
        return self.log.run_in_writer(lambda conn: rebuilding.check(conn, progress))

    # -- channels --------------------------------------------------------------
    def channel_names(self) -> list[str]:
        if self.fold_reads:
            return sorted(r.channel for r in read_types(self.log.reader(), ["channel_established"]))
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
        found, version = self._state(channel, as_of, known_at)
        if found is None and known_at is not None and self._exists(channel):
            return nothing_known(channel)
        if found is None:
            return None
        return replace(found, version=version, successor=self._successor(channel, as_of, known_at))

    def _successor(self, channel: str, as_of: dt.date | None, known_at: str | None) -> str | None:
        """The channel whose state (on ``as_of``, as known at ``known_at``) names this one as its predecessor.

        Candidates are the channels an establishment or a correction ever named as succeeding this one (a seek
        into ``lineage``); each is then asked its own state."""
        conn = self.log.reader()
        if self.fold_reads:
            needle = msgspec.json.encode({"succeeds": channel})[1:-1]  # "succeeds":"<channel>", as stored
            found = conn.execute(
                "SELECT channel FROM events WHERE (type = 'channel_established' AND instr(body, ?) > 0)"
                " OR (type = 'event_corrected' AND instr(body, '\"succeeds\"') > 0)",
                (needle,),
            )
        else:
            found = conn.execute("SELECT channel FROM lineage WHERE predecessor = ?", (channel,))
        candidates = {r[0] for r in found}
        for candidate in sorted(candidates - {channel}):
            state = self._state(candidate, as_of, known_at)[0]
            if state is not None and state.predecessor == channel:
                return candidate
        return None

    def _state(self, channel: str, as_of: dt.date | None, known_at: str | None) -> tuple[ChannelState | None, int]:
        """The state (its version left at 0) and the stream's version, as known at ``known_at``: a seek for the
        head as known then, and one into the history if ``as_of`` is before the head's day."""
        conn = self.log.reader()
        if self.fold_reads:
            return self._folded_states(channel, known_at, as_of)[1], stream_version(conn, channel, known_at)
        at = tables.seq_at(conn, known_at)
        head = tables.head_state(conn, channel, at)
        version = tables.version_at(conn, head)
        if head is None:
            return None, version
        if as_of is not None and as_of.isoformat() < head[0]:  # a seek to the day; the head only if need be
            found = tables.state_on(conn, channel, as_of.isoformat(), at)
            state = unpack_state(found) if found else None
            if state is not None and state.established_on is not None:
                return state, version
        latest = unpack_state(head[1])
        if latest.established_on is None:  # nothing of it known then but what was retracted
            return None, version
        if as_of is None or as_of.isoformat() >= head[0]:
            return latest, version
        return unknown_as_of(latest), version

    def _exists(self, channel: str) -> bool:
        """The channel exists now (its establishment is in the log, whenever recorded)."""
        if self.fold_reads:
            return channel in self.channel_names()
        query = "SELECT 1 FROM channel_heads WHERE channel = ?"
        return self.log.reader().execute(query, (channel,)).fetchone() is not None

    def all_channels(self, as_of: dt.date | None = None, known_at: str | None = None) -> list[ChannelState]:
        """Every channel that exists now, each as ``channel_state`` answers it (so never-recorded ones
        at ``known_at`` appear as ``nothing_known``, as channels not yet begun on ``as_of`` appear unknown)."""
        names = set(self.channel_names())
        if known_at is not None:  # and any known then, should its establishment be retracted since
            established = read_types(self.log.reader(), ["channel_established"])
            names |= {r.channel for r in established if r.recorded_at <= known_at}
        answers = {name: self._state(name, as_of, known_at) for name in sorted(names)}
        found = {
            name: (state if state is not None else nothing_known(name), version)
            for name, (state, version) in answers.items()
            if state is not None or (known_at is not None and self._exists(name))
        }
        successors = {s.predecessor: s.channel for s, _ in found.values() if s.predecessor}
        return [replace(s, version=version, successor=successors.get(s.channel)) for s, version in found.values()]

    def timeline(self, channel: str, known_at: str | None = None) -> list[Interval] | None:
        """Status intervals; empty for a channel recorded after ``known_at``, None if no such channel.

        The status changes as known then, read from a partial index: work in proportion to the answer."""
        conn = self.log.reader()
        if self.fold_reads:
            states, latest = self._folded_states(channel, known_at, None)
            return intervals(states) if latest is not None else ([] if self._exists(channel) else None)
        found = _established_head(conn, channel, known_at)
        if found is None:
            return [] if known_at is not None and self._exists(channel) else None
        at, head_day, _ = found
        return intervals(unpack_state(s) for s in tables.status_changes(conn, channel, at, head_day.isoformat()))

    def marks(
        self,
        channel: str,
        known_at: str | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
        buckets: int | None = None,
    ) -> list[Mark]:
        """The channel's meetings, contacts, cancellations and measure events as known at ``known_at`` (as amended
        then), counted per period: calendar months, or runs of whole months so that [start, end] fits in
        ``buckets`` periods. Each mark: (period_start, kind, count, first_event_id), by period then kind.

        From the month counters the history rows carry: one seek per month, whatever the length of the log."""
        if buckets is not None and buckets < 1:
            raise ValueError("buckets must be at least 1")
        conn = self.log.reader()
        if self.fold_reads:
            return self._folded_marks(channel, known_at, start, end, buckets)
        found = _established_head(conn, channel, known_at)
        if found is None:
            return []
        at, head_day, established_on = found
        first = start or established_on
        last = end or head_day
        counted = (  # no row after the head's day: the seeks stop there
            (month, kind, count, (month,), event_id)
            for month, _, text in tables.month_ends(conn, channel, at, first, min(last, head_day))
            for kind, (count, event_id) in tables.MARKS_DECODER.decode(text).items()
        )
        return regroup(counted, start, end, buckets)

    def bands(
        self,
        channel: str,
        known_at: str | None = None,
        start: dt.date | None = None,
        end: dt.date | None = None,
        buckets: int | None = None,
    ) -> list[Band]:
        """The channel's status per period (calendar months, or runs of whole months as for ``marks``), as known
        at ``known_at``: the status at the period's end and whether it changed within it. A board draws status
        bands from these, a bounded number whatever the history; ``timeline`` has every change."""
        conn = self.log.reader()
        if self.fold_reads:
            return self._folded_bands(channel, known_at, start, end, buckets)
        found = _established_head(conn, channel, known_at)
        if found is None:
            return []
        at, head_day, established_on = found
        first = start or established_on
        last = end or head_day
        if first > last:
            return []
        before = tables.state_on(conn, channel, (first - dt.timedelta(days=1)).isoformat(), at)
        status: str = unpack_state(before).status if before else "unknown"
        newest = min(last, head_day)  # no row after the head's day: the seeks stop there
        ends = {month: status for month, status, _ in tables.month_ends(conn, channel, at, first, newest)}
        low, high = month_index(first), month_index(last)
        width = period_months(first, last, buckets)
        result: list[Band] = []
        for period in range(low, high + 1, width):
            opening = status
            for month in range(period, min(period + width, high + 1)):
                status = ends.get(month, status)
            result.append(Band(month_start(period), status, status != opening))
        return result

    def _folded_bands(
        self, channel: str, known_at: str | None, start: dt.date | None, end: dt.date | None, buckets: int | None
    ) -> list[Band]:
        """``bands`` by folding the channel's events recorded by ``known_at`` (while the tables cannot answer)."""
        rows = list(read_rows(self.log.reader(), channel=channel, recorded_by=known_at))
        amendments = Amendments.collect(r for r in rows if r.type in AMENDMENT_TYPES)
        effective = effective_in_valid_order(rows, amendments)
        state, dated = ChannelState(channel=channel), []
        for item in effective:
            state = fold(state, item.event, item.version)
            dated.append((item.event.occurred_on, state.status if state.established_on else "unknown"))
        if state.established_on is None:
            return []
        first, last = start or state.established_on, end or dated[-1][0]
        if first > last:
            return []

        def status_on(day: dt.date) -> str:
            return next((status for when, status in reversed(dated) if when <= day), "unknown")

        width, result = period_months(first, last, buckets), []
        opening = status_on(first - dt.timedelta(days=1))
        for period in range(month_index(first), month_index(last) + 1, width):
            close = min(month_start(period + width), month_start(month_index(last) + 1)) - dt.timedelta(days=1)
            status = status_on(close)
            result.append(Band(month_start(period), status, status != opening))
            opening = status
        return result

    def _folded_marks(
        self, channel: str, known_at: str | None, start: dt.date | None, end: dt.date | None, buckets: int | None
    ) -> list[Mark]:
        """The reference for ``marks``: fold the channel's events recorded by ``known_at``."""
        rows = list(read_rows(self.log.reader(), channel=channel, recorded_by=known_at))
        amendments = Amendments.collect(r for r in rows if r.type in AMENDMENT_TYPES)
        monthly: dict[tuple[int, str], list] = {}
        for item in effective_in_valid_order((r for r in rows if r.type in MARK_KINDS), amendments):
            kind = MARK_KINDS[type_of(item.event)]
            found = monthly.setdefault((month_index(item.event.occurred_on), kind), [0, item.key, item.id])
            found[0] += 1
        return regroup(((m, k, c, key, i) for (m, k), (c, key, i) in monthly.items()), start, end, buckets)

    def _folded_states(
        self, channel: str, known_at: str | None, as_of: dt.date | None
    ) -> tuple[list[ChannelState], ChannelState | None]:
        """Fold the channel's events recorded by known_at; (every state, state as of)."""
        rows = [r for r in read_rows(self.log.reader(), channel=channel, recorded_by=known_at)]
        amendments = Amendments.collect(r for r in rows if r.type in AMENDMENT_TYPES)
        effective = effective_in_valid_order(rows, amendments)
        if not any(type_of(e.event) == "channel_established" for e in effective):
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
                target = target_of(amendment)
                corrected_at[target] = max(corrected_at.get(target, ""), amendment.recorded_at)
        return {r.id: reading for r in rows if (reading := _read(r, amendments, corrected_at.get(r.id)))}

    # -- registers -------------------------------------------------------------
    # Each register is stored as items folded over all valid time, in versions with their interval of recording
    # (projections/registers.py, tables.py): a question is one seek for the known_at's seq, the items live
    # then, each read on the day. The folds below answer only while a rebuild of another layout runs.

    def _items(self, register: str, known_at: str | None, channel: str | None = None) -> list[Any]:
        conn = self.log.reader()
        return tables.register_at(conn, register, tables.seq_at(conn, known_at), channel)

    def sanctions_in_force(self, as_of: dt.date | None = None, known_at: str | None = None) -> list[SanctionInterval]:
        if self.fold_reads:
            return self._folded_sanctions(as_of, known_at)
        return sanctions_on(self._items(SANCTIONS, known_at), as_of)

    def commitments(
        self,
        channel: str | None = None,
        as_of: dt.date | None = None,
        known_at: str | None = None,
        status: str | None = None,
        party: str | None = None,
    ) -> list[Commitment]:
        """Commitments made by ``as_of``, each with its status on that day, as known at ``known_at``."""
        if self.fold_reads:
            return matching(self._folded_commitments(channel, as_of, known_at), status, party)
        return matching(commitments_on(self._items(COMMITMENTS, known_at, channel), as_of), status, party)

    def measures(
        self,
        as_of: dt.date | None = None,
        known_at: str | None = None,
        kind: str | None = None,
        party: str | None = None,
        status: str | None = None,
    ) -> list[Measure]:
        """The measures register on ``as_of`` (today if none), as known at ``known_at`` (old sanction events
        upcast, against the channel's parties as known then); ``party`` matches ``by`` or ``against``."""
        day = as_of or dt.datetime.now(dt.UTC).date()
        if self.fold_reads:
            found = self._folded_measures(day, known_at)
        else:
            found = measures_on(self._items(MEASURES, known_at), day)
        return [m for m in found if _matches(m, kind, party, status)]

    def _folded_sanctions(self, as_of: dt.date | None, known_at: str | None) -> list[SanctionInterval]:
        """The reference for ``sanctions_in_force``: fold the sanction events recorded by ``known_at``."""
        rows = known_by(read_types(self.log.reader(), (*SANCTION_TYPES, *AMENDMENT_TYPES)), known_at)
        amendments = Amendments.collect(r for r in rows if r.type in AMENDMENT_TYPES)
        return in_force(fold_sanctions(effective_in_valid_order(rows, amendments)), as_of)

    def _folded_commitments(self, channel: str | None, as_of: dt.date | None, known_at: str | None) -> list[Commitment]:
        """The reference for ``commitments``: fold the commitment events recorded by ``known_at``."""
        conn = self.log.reader()
        rows: Sequence[StoredEvent] = known_by(read_types(conn, (*COMMITMENT_TYPES, *AMENDMENT_TYPES)), known_at)
        if channel is not None:
            rows = [r for r in rows if r.channel == channel]
        amendments = Amendments.collect(r for r in rows if r.type in AMENDMENT_TYPES)
        return fold_commitments(effective_in_valid_order(rows, amendments), as_of)

    def _folded_measures(self, day: dt.date, known_at: str | None) -> list[Measure]:
        """The reference for ``measures``: fold the measure events recorded by ``known_at``, up to ``day``."""
        rows = known_by(read_types(self.log.reader(), (*MEASURE_TYPES, *AMENDMENT_TYPES)), known_at)
        amendments = Amendments.collect(r for r in rows if r.type in AMENDMENT_TYPES)
        effective = [e for e in effective_in_valid_order(rows, amendments) if e.event.occurred_on <= day]
        parties: dict[str, list[str]] = {}

        def parties_of(channel: str) -> list[str]:
            if channel not in parties:
                state = self._state(channel, None, known_at)[0]
                parties[channel] = list(state.parties) if state is not None else []
            return parties[channel]

        return on_day(fold_measures(effective, parties_of), day)


def _matches(measure: Measure, kind: str | None, party: str | None, status: str | None) -> bool:
    return (
        (kind is None or measure.kind == kind)
        and (party is None or party in measure.by or party in measure.against)
        and (status is None or measure.status == status)
    )


def nothing_known(channel: str) -> ChannelState:
    """A channel that exists now, asked about at a ``known_at`` before its establishment was recorded."""
    return ChannelState(channel=channel)


def _established_head(conn: Any, channel: str, known_at: str | None) -> tuple[int | None, dt.date, dt.date] | None:
    """(``known_at``'s log position, the head's day, the establishment day) of a channel established as known
    then; else None."""
    at = tables.seq_at(conn, known_at)
    head = tables.head_state(conn, channel, at)
    established_on = unpack_state(head[1]).established_on if head is not None else None
    if head is None or established_on is None:
        return None
    return at, dt.date.fromisoformat(head[0]), established_on


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
