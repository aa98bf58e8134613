"""Property-based tests over random logs of the whole vocabulary."""

from __future__ import annotations

import contextlib
import datetime as dt
import inspect
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from conftest import Store
from factory import established, make
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from msgspec.structs import replace

from diplo.events import EventLog
from diplo.events.backends import open_log
from diplo.events.reads import read_rows, stream_version
from diplo.projections import Projections, fold
from diplo.projections.amendments import AMENDMENT_TYPES, Amendments, effective_in_valid_order
from diplo.projections.measures import Measure
from diplo.projections.sanctions import fold_sanctions, in_force
from diplo.projections.state import ChannelState
from diplo.projections.tables import PROJECTION_TABLES
from diplo.service.runtime import open_projections

CHANNELS = ("alpha", "beta")
START = dt.date(2020, 1, 1)
# Types that need nothing else in the log (any order of them appends).
ORDER_FREE_TYPES = (
    "meeting_held",
    "meeting_scheduled",
    "talks_cancelled",
    "channel_suspended",
    "channel_resumed",
    "channel_closed",
    "sanction_applied",
    "sanction_lifted",
    "commitment_made",
    "official_changed",
    "channel_agreed",
    "contact_made",
    "channel_restricted",
    "measure_imposed",
)
# Types that name an earlier event: a commitment, or an imposed measure.
PLAIN_TYPES = (*ORDER_FREE_TYPES, "commitment_status", "measure_modified", "measure_suspended", "measure_lifted")
MEASURES = ("us-tariff-fentanyl-chn", "sanction-usa-li-shangfu")
# Examples per property and backend. A PostgreSQL example costs a fresh schema and its migrations
# (~0.15 s) and a round trip per append, six times a SQLite one: the folds are the same code on both,
# so PostgreSQL checks fewer in the everyday run; `pytest -m soak` runs SOAK_EXAMPLES on each.
EXAMPLES = {"sqlite": 40, "postgres": 12}
SOAK_EXAMPLES = 200
PROPERTIES: list[Any] = []


def on_each_backend(*strategies: st.SearchStrategy) -> Callable[[Callable[..., None]], Callable[[Store], None]]:
    """A property over the store's backend: ``body(store, *drawn)``, run by hypothesis with the
    backend's number of examples (``test.run(store, examples)`` for another number)."""

    def decorate(body: Callable[..., None]) -> Callable[[Store], None]:
        drawn = list(inspect.signature(body).parameters.values())[1:]

        def run(store: Store, examples: int) -> None:
            def example(*args: Any) -> None:
                body(store, *args)

            example.__signature__ = inspect.Signature(drawn)  # type: ignore[attr-defined]
            example.__name__ = example.__qualname__ = body.__name__
            how = settings(max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])
            how(given(*strategies)(example))()

        def test(store: Store) -> None:
            run(store, EXAMPLES[store.kind])

        test.__name__ = test.__qualname__ = body.__name__
        test.__doc__ = body.__doc__
        test.run = run  # type: ignore[attr-defined]
        PROPERTIES.append(test)
        return test

    return decorate


def day(n: int) -> str:
    return (START + dt.timedelta(days=7 * n)).isoformat()


@st.composite
def plain_event(draw: st.DrawFn, unique_days: bool = False) -> dict:
    return {
        "type": draw(st.sampled_from(PLAIN_TYPES)),
        "channel": draw(st.sampled_from(CHANNELS)),
        "day": draw(st.integers(0, 60)),
        "target": draw(st.sampled_from(["Li Shangfu", "Nancy Pelosi"])),
        "by": draw(st.sampled_from(["USA", "CHN"])),
        "person": draw(st.sampled_from(["Wei Fenghe", "Li Shangfu"])),
        "change": draw(st.sampled_from(["appointed", "removed"])),
        "scheduled": draw(st.integers(0, 70)),
        "month": draw(st.booleans()) and draw(st.booleans()),  # a quarter of events known only to the month
        "measure": draw(st.sampled_from(MEASURES)),
        "rate": draw(st.sampled_from(["10%", "20%", "34%"])),
        "until": draw(st.none() | st.integers(1, 20)),
        "pick": draw(st.integers(0, 100)),
    }


def first_of_month(day_text: str) -> str:
    return day_text[:8] + "01"


@st.composite
def random_log(draw: st.DrawFn) -> tuple[list, list[int]]:
    """A list of events in recording order (back-dated arrivals included) and batch sizes."""
    specs = draw(st.lists(plain_event(), min_size=1, max_size=25))
    succeeds = {"succeeds": "alpha"} if draw(st.booleans()) else {}
    events = [established("alpha", day(0)), established("beta", day(0), **succeeds)]
    imposed: set[str] = set()
    for s in specs:
        type_, when = s["type"], day(s["day"])
        commitments = [e for e in events if e.channel == s["channel"] and tag(e) == "commitment_made"]
        if type_ == "commitment_status" and not commitments:
            type_ = "commitment_made"
        if type_.startswith("measure_") and type_ != "measure_imposed" and s["measure"] not in imposed:
            type_ = "measure_imposed"
        target = s["target"] if type_.startswith("sanction") else "Li Shangfu"
        extra = {
            "sanction_applied": {"target": s["target"], "by": s["by"]},
            "sanction_lifted": {"target": s["target"], "by": s["by"]},
            "official_changed": {"role": "minister", "person": s["person"], "change": s["change"]},
            "meeting_scheduled": {"scheduled_for": day(s["scheduled"])},
            "talks_cancelled": {"by": s["by"]},
            "channel_agreed": {"by": ["USA", "CHN"]},
            "commitment_status": {
                "target_id": str(commitments[s["pick"] % len(commitments)].id) if commitments else None,
                "status": "breached" if s["change"] == "removed" else "fulfilled",
            },
            "measure_imposed": {"measure": s["measure"], "rate": s["rate"], "by": s["by"], "target": target},
            "measure_modified": {"measure": s["measure"], "rate": s["rate"]},
            "measure_suspended": {
                "measure": s["measure"],
                "until": day(s["day"] + s["until"]) if s["until"] else None,
            },
            "measure_lifted": {"measure": s["measure"]},
        }.get(type_, {})
        if type_ == "measure_imposed":
            imposed.add(s["measure"])
        if s["month"] and type_ != "measure_suspended":  # an until must stay after the first of the month
            extra["precision"] = "month"
            when = first_of_month(when)
        events.append(make(type_, s["channel"], when, **extra))
    amendments = draw(
        st.lists(st.tuples(st.integers(2, len(events) - 1), st.booleans(), st.integers(0, 60)), max_size=4)
    )
    for target_index, retract, new_day in amendments:
        target = events[target_index]
        if target.__struct_config__.tag in AMENDMENT_TYPES:
            continue
        when = day(max(new_day, 1))
        moved = moved_to(target, new_day)
        if retract:
            amendment = make("event_retracted", target.channel, when, target_id=str(target.id))
        elif moved is None:
            continue
        else:
            amendment = make(
                "event_corrected", target.channel, when, target_id=str(target.id), changes={"occurred_on": moved}
            )
        events.insert(draw(st.integers(target_index + 1, len(events))), amendment)
    batches = draw(st.lists(st.integers(1, 5), min_size=len(events), max_size=len(events)))
    return events, batches


def moved_to(event: Any, new_day: int) -> str | None:
    """The date a correction may move the event to (the first of the month for a month), or None if none."""
    moved = day(new_day) if event.precision == "day" else first_of_month(day(new_day))
    until = getattr(event, "until", None)
    return None if until is not None and until <= dt.date.fromisoformat(moved) else moved


def tag(event: object) -> str:
    return event.__struct_config__.tag  # type: ignore[attr-defined]


def append_all(log: EventLog, events: list, batches: list[int]) -> None:
    i = 0
    for size in batches:
        if i >= len(events):
            break
        log.append(events[i : i + size])
        i += size


def pure_state(log: EventLog, channel: str, as_of: dt.date | None, known_at: str | None = None) -> ChannelState:
    """The reference: fold the channel's amended events in valid-time order, no tables."""
    rows = list(read_rows(log.reader(), channel=channel, recorded_by=known_at))
    amendments = Amendments.collect(r for r in rows if r.type in AMENDMENT_TYPES)
    state = ChannelState(channel=channel)
    answer = ChannelState(channel=channel, name=channel.upper(), parties=["USA", "CHN"])
    for item in effective_in_valid_order(rows, amendments):
        state = fold(state, item.event, item.version)
        if as_of is None or item.event.occurred_on <= as_of:
            answer = state
    # One version: the stream's, every event recorded (amendments too), whatever the as_of.
    return replace(answer, version=len(rows), successor=pure_successor(log, channel, as_of, known_at))


def pure_successor(log: EventLog, channel: str, as_of: dt.date | None, known_at: str | None) -> str | None:
    """The reference for the lineage: the other channel whose own folded state names this one."""
    for other in CHANNELS:
        rows = list(read_rows(log.reader(), channel=other, recorded_by=known_at))
        amendments = Amendments.collect(r for r in rows if r.type in AMENDMENT_TYPES)
        state = ChannelState(channel=other)
        for item in effective_in_valid_order(rows, amendments):
            if as_of is None or item.event.occurred_on <= as_of:
                state = fold(state, item.event, item.version)
        if other != channel and state.predecessor == channel:
            return other
    return None


def check_periods(measure: Measure) -> None:
    """A measure's periods follow each other without gap or overlap, and none outlives its lift."""
    for before, after in zip(measure.periods, measure.periods[1:], strict=False):
        assert before.to == after.from_ and before.from_ < after.from_
    if measure.periods:
        assert measure.periods[0].from_ == measure.imposed_on
    if measure.lifted_on is not None and measure.periods:
        assert measure.periods[-1].to == measure.lifted_on


def dump(log: EventLog) -> dict[str, list]:
    conn = log.reader()
    return {
        t: sorted((tuple(r) for r in conn.execute(f"SELECT * FROM {t}").fetchall()), key=repr)
        for t in PROJECTION_TABLES
    }


@contextlib.contextmanager
def fresh_log(store: Store) -> Iterator[tuple[EventLog, Projections]]:
    """A fresh, empty log on the store's backend (a SQLite file, or a PostgreSQL schema emptied for
    reuse) and its projections; closed, and its schema handed back, afterwards."""
    db = store.new(durable=False)
    log = open_log(db, synchronous="OFF") if store.kind == "sqlite" else open_log(db)
    try:
        yield log, open_projections(log)
    finally:
        log.close()
        store.recycle(db)


@contextlib.contextmanager
def loaded(data: tuple[list, list[int]], store: Store) -> Iterator[tuple[EventLog, Projections]]:
    """A fresh log holding a random log's events, appended in its batches."""
    with fresh_log(store) as (log, projections):
        append_all(log, *data)
        yield log, projections


@on_each_backend(random_log(), st.lists(st.integers(-2, 75), min_size=1, max_size=8))
def test_stored_answers_equal_the_pure_fold(store: Store, data: tuple[list, list[int]], days: list[int]) -> None:
    with loaded(data, store) as (log, projections):
        for n in days:
            as_of = dt.date.fromisoformat(day(n)) if n >= 0 else None
            for channel in CHANNELS:
                assert projections.channel_state(channel, as_of) == pure_state(log, channel, as_of)
            rows = list(read_rows(log.reader()))
            amendments = Amendments.collect(r for r in rows if r.type in AMENDMENT_TYPES)
            sanctions = [r for r in rows if r.type.startswith("sanction")]
            expected = in_force(fold_sanctions(effective_in_valid_order(sanctions, amendments)), as_of)
            assert projections.sanctions_in_force(as_of) == expected
            register = projections.measures(as_of)
            assert register == projections.measures(as_of, known_at=rows[-1].recorded_at)
            for measure in register:
                check_periods(measure)


@on_each_backend(random_log())
def test_replay_gives_byte_identical_tables(store: Store, data: tuple[list, list[int]]) -> None:
    with loaded(data, store) as (log, projections):
        incremental = dump(log)
        answers = [projections.all_channels(), projections.measures(), projections.commitments()]
        stats = projections.replay()
        assert stats.events == len(log.read())
        assert dump(log) == incremental
        assert [projections.all_channels(), projections.measures(), projections.commitments()] == answers
        _, drift = projections.check()
        assert all(d.only_live == d.only_rebuilt == 0 for d in drift)


@on_each_backend(st.data())
def test_the_answer_does_not_depend_on_recording_order(store: Store, data: st.DataObject) -> None:
    # Distinct days per channel, so valid-time order has no ties for seq to break.
    days = data.draw(st.lists(st.integers(1, 60), min_size=1, max_size=15, unique=True))
    specs = [(data.draw(st.sampled_from(ORDER_FREE_TYPES)), n) for n in days]
    plain = [
        make(t, "alpha", day(n), **({"scheduled_for": day(n + 3)} if t == "meeting_scheduled" else {}))
        for t, n in specs
    ]
    retract = data.draw(st.sets(st.integers(0, len(plain) - 1), max_size=2))
    retractions = [make("event_retracted", "alpha", day(61), target_id=str(plain[i].id)) for i in sorted(retract)]
    order = data.draw(st.permutations(range(len(plain))))
    establishment = established("alpha", day(0))
    answers = []
    for sequence in (plain, [plain[i] for i in order]):
        with fresh_log(store) as (log, projections):
            log.append([establishment])
            for event in sequence:
                log.append([event])
            if retractions:
                log.append(retractions)
            answers.append(
                [
                    replace(projections.channel_state("alpha", dt.date.fromisoformat(day(n))), version=0)  # type: ignore[arg-type]
                    for n in range(0, 62, 3)
                ]
            )
    assert answers[0] == answers[1]


@on_each_backend(random_log(), st.integers(0, 75), st.integers(0, 60))
def test_known_at_before_a_correction_gives_the_uncorrected_answer(
    store: Store, data: tuple[list, list[int]], as_of_day: int, new_day: int
) -> None:
    with loaded(data, store) as (log, projections):
        as_of = dt.date.fromisoformat(day(as_of_day))
        target = (
            next(r for r in reversed(log.read()) if r.type not in AMENDMENT_TYPES and r.type != "channel_established")
            if len(log.read()) > 2
            else None
        )
        if target is None:
            return
        moved = moved_to(target.event(), new_day)
        if moved is None:
            return
        before = {c: projections.channel_state(c, as_of) for c in CHANNELS}
        known_then = log.read()[-1].recorded_at
        log.append(
            [
                make(
                    "event_corrected",
                    target.channel,
                    day(61),
                    target_id=target.id,
                    changes={"occurred_on": moved},
                )
            ]
        )
        for channel in CHANNELS:
            assert projections.channel_state(channel, as_of, known_at=known_then) == before[channel]
            assert projections.channel_state(channel, as_of) == pure_state(log, channel, as_of)


@on_each_backend(random_log(), st.integers(0, 75))
def test_known_at_after_the_last_record_uses_the_stored_answer_and_it_equals_the_fold(
    store: Store, data: tuple[list, list[int]], as_of_day: int
) -> None:
    with loaded(data, store) as (log, projections):
        as_of = dt.date.fromisoformat(day(as_of_day))
        now = log.read()[-1].recorded_at
        for channel in CHANNELS:
            stored = projections.channel_state(channel, as_of, known_at=now)  # served from the tables
            folded = projections._folded_states(channel, now, as_of)[1]  # the same question, folded
            folded = replace(  # type: ignore[type-var]
                folded,
                version=stream_version(log.reader(), channel, now),
                successor=pure_successor(log, channel, as_of, now),  # the lineage is read across channels
            )
            assert stored == folded == pure_state(log, channel, as_of, now)
            assert projections.timeline(channel, known_at=now) == projections.timeline(channel)


def folded_timeline(log: EventLog, channel: str, known_at: str) -> list:
    """The reference for the timeline: the intervals of the fold of the events recorded by ``known_at``."""
    from diplo.projections.timeline import intervals

    rows = list(read_rows(log.reader(), channel=channel, recorded_by=known_at))
    amendments = Amendments.collect(r for r in rows if r.type in AMENDMENT_TYPES)
    state, states = ChannelState(channel=channel), []
    for item in effective_in_valid_order(rows, amendments):
        state = fold(state, item.event, item.version)
        states.append(state)
    return intervals(states)


def _no_fold(*args: object) -> Any:
    raise AssertionError("a stored answer folded the log")


@on_each_backend(random_log(), st.lists(st.tuples(st.integers(0, 200), st.integers(-2, 75)), min_size=1, max_size=6))
def test_stored_answers_at_any_known_at_equal_the_fold_of_what_was_recorded_by_then(
    store: Store, data: tuple[list, list[int]], questions: list[tuple[int, int]]
) -> None:
    with loaded(data, store) as (log, projections):
        rows = log.read()
        reference = projections._folded_marks
        # The stored path answers: no fold of the log, whatever the known_at.
        projections._folded_states = projections._folded_marks = _no_fold  # type: ignore[method-assign]
        for pick, n in questions:
            known_at = rows[pick % len(rows)].recorded_at  # the log as it stood after some event
            as_of = dt.date.fromisoformat(day(n)) if n >= 0 else None
            for channel in CHANNELS:
                folded = pure_state(log, channel, as_of, known_at)
                if not any(r.channel == channel and r.recorded_at <= known_at for r in rows):
                    assert projections.channel_state(channel, as_of, known_at).name is None  # type: ignore[union-attr]
                    continue
                assert projections.channel_state(channel, as_of, known_at) == folded
                assert projections.timeline(channel, known_at) == folded_timeline(log, channel, known_at)
                assert projections.marks(channel, known_at) == reference(channel, known_at, None, None, None)
                assert projections.marks(channel, known_at, START, None, 3) == reference(
                    channel, known_at, START, None, 3
                )
                for month in projections.bands(channel, known_at, START):
                    last_day = (month.period_start + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
                    assert month.status == pure_state(log, channel, last_day, known_at).status
            known = [c for c in CHANNELS if any(r.channel == c and r.recorded_at <= known_at for r in rows)]
            listed = {s.channel: s for s in projections.all_channels(as_of, known_at)}
            assert set(listed) == set(CHANNELS)
            for channel in known:
                assert replace(listed[channel], successor=None) == replace(
                    pure_state(log, channel, as_of, known_at), successor=None
                )


@pytest.mark.soak
@pytest.mark.parametrize("prop", PROPERTIES, ids=lambda prop: prop.__name__)
def test_every_property_soak(store: Store, prop: Any) -> None:
    prop.run(store, SOAK_EXAMPLES)
