"""The registers (sanctions, measures, commitments) answer any (as_of, known_at) from their stored items, and
the answer equals the pure fold of the events recorded by ``known_at``, cut at ``as_of`` as the folds cut it."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from typing import Any
from unittest import mock

from conftest import Store
from factory import make
from hypothesis import strategies as st
from test_properties import CHANNELS, START, day, loaded, on_each_backend, random_log, tag

from diplo.events import EventLog
from diplo.events.reads import read_rows
from diplo.projections import queries
from diplo.projections.amendments import AMENDMENT_TYPES, Amendments, effective_in_valid_order
from diplo.projections.commitments import COMMITMENT_TYPES, fold_commitments, matching
from diplo.projections.measures import MEASURE_TYPES, fold_measures, on_day
from diplo.projections.sanctions import SANCTION_TYPES, fold_sanctions, in_force
from diplo.projections.state import ChannelState, fold

TODAY = dt.datetime.now(dt.UTC).date()


@st.composite
def register_log(draw: st.DrawFn) -> tuple[list, list[int]]:
    """A random log (tests/test_properties.py), with corrections that move a sanction to another (target, by),
    change a commitment's status or a channel's parties (the ``against`` of an upcast sanction), inserted
    anywhere after the event they correct."""
    events, batches = draw(random_log())
    extra = draw(st.lists(st.tuples(st.integers(0, 200), st.integers(0, 200), st.integers(0, 3)), max_size=3))
    for pick, place, variant in extra:
        candidates = [
            i
            for i, e in enumerate(events)
            if tag(e) in ("sanction_applied", "sanction_lifted", "commitment_status", "channel_established")
        ]
        if not candidates:
            break
        index = candidates[pick % len(candidates)]
        target = events[index]
        kind = tag(target)
        if kind.startswith("sanction"):
            changes = [{"target": "Nancy Pelosi"}, {"by": "CHN"}, {"target": "Wang Yi", "by": "USA"}, {"by": "USA"}]
        elif kind == "commitment_status":
            changes = [{"status": "breached"}, {"status": "fulfilled"}, {"status": "partly_fulfilled"}, {}]
        else:
            changes = [{"parties": ["USA", "CHN", "RUS"]}, {"parties": ["CHN", "USA"]}, {"parties": ["USA"]}, {}]
        change = changes[variant]
        if not change:
            continue
        when = day(61)
        amendment = make("event_corrected", target.channel, when, target_id=str(target.id), changes=change)
        events.insert(index + 1 + place % (len(events) - index), amendment)
        batches.append(draw(st.integers(1, 5)))
    return events, batches


def known_rows(log: EventLog, types: tuple[str, ...], known_at: str) -> list:
    return [r for r in read_rows(log.reader(), recorded_by=known_at) if r.type in (*types, *AMENDMENT_TYPES)]


def effective(log: EventLog, types: tuple[str, ...], known_at: str) -> list:
    rows = known_rows(log, types, known_at)
    amendments = Amendments.collect(r for r in rows if r.type in AMENDMENT_TYPES)
    return effective_in_valid_order((r for r in rows if r.type in types), amendments)


def pure_parties(log: EventLog, known_at: str) -> Any:
    """A channel's parties as the pure fold of its events recorded by ``known_at`` has them ([] if none)."""

    def parties(channel: str) -> list[str]:
        rows = list(read_rows(log.reader(), channel=channel, recorded_by=known_at))
        amendments = Amendments.collect(r for r in rows if r.type in AMENDMENT_TYPES)
        state = ChannelState(channel=channel)
        for item in effective_in_valid_order(rows, amendments):
            state = fold(state, item.event, item.version)
        return list(state.parties) if state.established_on is not None else []

    return parties


def reference(log: EventLog, as_of: dt.date | None, known_at: str) -> dict[str, Any]:
    """The registers as the pure folds give them: no table read."""
    day_asked = as_of or TODAY
    measures = [e for e in effective(log, MEASURE_TYPES, known_at) if e.event.occurred_on <= day_asked]
    commitments = effective(log, COMMITMENT_TYPES, known_at)
    return {
        "sanctions": in_force(fold_sanctions(effective(log, SANCTION_TYPES, known_at)), as_of),
        "measures": on_day(fold_measures(measures, pure_parties(log, known_at)), day_asked),
        "commitments": fold_commitments(commitments, as_of),
        "by_channel": {c: fold_commitments([e for e in commitments if e.event.channel == c], as_of) for c in CHANNELS},
    }


def _no_fold(*args: object, **kwargs: object) -> Any:
    raise AssertionError("a register question folded the log")


@contextlib.contextmanager
def folds_disabled() -> Iterator[None]:
    """The per-request folds of the registers raise: only the stored items may answer."""
    with (
        mock.patch.object(queries, "fold_sanctions", _no_fold),
        mock.patch.object(queries, "fold_measures", _no_fold),
        mock.patch.object(queries, "fold_commitments", _no_fold),
    ):
        yield


@on_each_backend(register_log(), st.lists(st.tuples(st.integers(0, 200), st.integers(-2, 75)), min_size=1, max_size=6))
def test_registers_at_any_known_at_equal_the_fold_of_what_was_recorded_by_then(
    store: Store, data: tuple[list, list[int]], questions: list[tuple[int, int]]
) -> None:
    with loaded(data, store) as (log, projections):
        rows = log.read()
        for pick, n in [*questions, (len(rows) - 1, -1)]:
            known_at = rows[pick % len(rows)].recorded_at
            as_of = dt.date.fromisoformat(day(n)) if n >= 0 else None
            expected = reference(log, as_of, known_at)
            with folds_disabled():
                sanctions = projections.sanctions_in_force(as_of, known_at)
                measures = projections.measures(as_of, known_at)
                commitments = projections.commitments(None, as_of, known_at)
                by_channel = {c: projections.commitments(c, as_of, known_at) for c in CHANNELS}
                filtered = projections.commitments(None, as_of, known_at, status="open", party="CHN")
                now = projections.measures(as_of) if pick % len(rows) == len(rows) - 1 else measures
            assert sanctions == expected["sanctions"]
            assert measures == expected["measures"] == now
            assert commitments == expected["commitments"]
            assert by_channel == expected["by_channel"]
            assert filtered == matching(expected["commitments"], "open", "CHN")


def test_a_planned_resumption_cut_by_a_later_lift_still_shows_on_a_day_before_the_lift(store: Store) -> None:
    """The item is folded over all valid time, yet a day before the lift reads as the fold up to that day:
    the suspension's planned end and the resumption after it, which the lift later cut away."""
    events = [
        make("channel_established", "alpha", day(0)),
        make("measure_imposed", "alpha", day(1), measure="m", rate="10%"),
        make("measure_suspended", "alpha", day(3), measure="m", until=day(9)),
        make("measure_lifted", "alpha", day(5), measure="m"),
    ]
    with loaded((events, [1] * len(events)), store) as (log, projections):
        known_at = log.read()[-1].recorded_at
        for n in range(0, 12):
            as_of = START + dt.timedelta(days=7 * n)
            with folds_disabled():
                answer = projections.measures(as_of)
            assert answer == reference(log, as_of, known_at)["measures"]
        before_lift = projections.measures(dt.date.fromisoformat(day(4)))[0]
        assert [(p.status, p.to) for p in before_lift.periods][-2:] == [
            ("suspended", dt.date.fromisoformat(day(9))),
            ("in_force", None),
        ]


@on_each_backend(register_log(), st.integers(0, 200), st.integers(-2, 75))
def test_registers_folded_while_the_tables_cannot_answer_equal_the_stored(
    store: Store, data: tuple[list, list[int]], pick: int, n: int
) -> None:
    with loaded(data, store) as (log, projections):
        rows = log.read()
        known_at = rows[pick % len(rows)].recorded_at
        as_of = dt.date.fromisoformat(day(n)) if n >= 0 else None
        questions = (
            lambda: projections.sanctions_in_force(as_of, known_at),
            lambda: projections.measures(as_of, known_at),
            lambda: projections.commitments("alpha", as_of, known_at),
        )
        stored = [ask() for ask in questions]
        projections.fold_reads = True  # as during a rebuild for tables of another layout
        assert [ask() for ask in questions] == stored
