"""Property-based tests over random logs of the whole vocabulary."""

from __future__ import annotations

import contextlib
import datetime as dt
import tempfile
from collections.abc import Iterator
from pathlib import Path

from factory import established, make
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from msgspec.structs import replace

from events import SQLiteLog
from events.sqlite import read_rows, stream_version
from projections import Projections, fold
from projections.amendments import AMENDMENT_TYPES, Amendments, effective_in_valid_order
from projections.sanctions import fold_sanctions, in_force
from projections.state import ChannelState

CHANNELS = ("alpha", "beta")
START = dt.date(2020, 1, 1)
PLAIN_TYPES = (
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
)
SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


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
    }


@st.composite
def random_log(draw: st.DrawFn) -> tuple[list, list[int]]:
    """A list of events in recording order (back-dated arrivals included) and batch sizes."""
    specs = draw(st.lists(plain_event(), min_size=1, max_size=25))
    events = [established(c, day(0)) for c in CHANNELS]
    for s in specs:
        extra = {
            "sanction_applied": {"target": s["target"], "by": s["by"]},
            "sanction_lifted": {"target": s["target"], "by": s["by"]},
            "official_changed": {"role": "minister", "person": s["person"], "change": s["change"]},
            "meeting_scheduled": {"scheduled_for": day(s["scheduled"])},
        }.get(s["type"], {})
        events.append(make(s["type"], s["channel"], day(s["day"]), **extra))
    amendments = draw(
        st.lists(st.tuples(st.integers(2, len(events) - 1), st.booleans(), st.integers(0, 60)), max_size=4)
    )
    for target_index, retract, new_day in amendments:
        target = events[target_index]
        if target.__struct_config__.tag in AMENDMENT_TYPES:
            continue
        when = day(max(new_day, 1))
        if retract:
            amendment = make("event_retracted", target.channel, when, target_id=str(target.id))
        else:
            amendment = make(
                "event_corrected", target.channel, when, target_id=str(target.id), changes={"occurred_on": day(new_day)}
            )
        events.insert(draw(st.integers(target_index + 1, len(events))), amendment)
    batches = draw(st.lists(st.integers(1, 5), min_size=len(events), max_size=len(events)))
    return events, batches


def append_all(log: SQLiteLog, events: list, batches: list[int]) -> None:
    i = 0
    for size in batches:
        if i >= len(events):
            break
        log.append(events[i : i + size])
        i += size


def pure_state(log: SQLiteLog, channel: str, as_of: dt.date | None, known_at: str | None = None) -> ChannelState:
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
    return replace(answer, version=len(rows))


def dump(log: SQLiteLog) -> dict[str, list]:
    conn = log.reader()
    return {
        t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2, 3").fetchall()
        for t in ("channel_history", "channel_heads", "sanction_intervals")
    }


def fresh_log() -> tuple[SQLiteLog, Projections]:
    log = SQLiteLog(Path(tempfile.mkdtemp()) / "p.db", synchronous="OFF")
    return log, Projections(log)


@contextlib.contextmanager
def loaded(data: tuple[list, list[int]]) -> Iterator[tuple[SQLiteLog, Projections]]:
    """A fresh log holding a random log's events, appended in its batches."""
    log, projections = fresh_log()
    try:
        append_all(log, *data)
        yield log, projections
    finally:
        log.close()


@SETTINGS
@given(random_log(), st.lists(st.integers(-2, 75), min_size=1, max_size=8))
def test_stored_answers_equal_the_pure_fold(data: tuple[list, list[int]], days: list[int]) -> None:
    with loaded(data) as (log, projections):
        for n in days:
            as_of = dt.date.fromisoformat(day(n)) if n >= 0 else None
            for channel in CHANNELS:
                assert projections.channel_state(channel, as_of) == pure_state(log, channel, as_of)
            rows = list(read_rows(log.reader()))
            amendments = Amendments.collect(r for r in rows if r.type in AMENDMENT_TYPES)
            sanctions = [r for r in rows if r.type.startswith("sanction")]
            expected = in_force(fold_sanctions(effective_in_valid_order(sanctions, amendments)), as_of)
            assert projections.sanctions_in_force(as_of) == expected


@SETTINGS
@given(random_log())
def test_replay_gives_byte_identical_tables(data: tuple[list, list[int]]) -> None:
    with loaded(data) as (log, projections):
        incremental = dump(log)
        stats = projections.replay()
        assert stats.events == len(log.read())
        assert dump(log) == incremental
        _, drift = projections.check()
        assert all(d.only_live == d.only_rebuilt == 0 for d in drift)


@SETTINGS
@given(st.data())
def test_the_answer_does_not_depend_on_recording_order(data: st.DataObject) -> None:
    # Distinct days per channel, so valid-time order has no ties for seq to break.
    days = data.draw(st.lists(st.integers(1, 60), min_size=1, max_size=15, unique=True))
    specs = [(data.draw(st.sampled_from(PLAIN_TYPES)), n) for n in days]
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
        log, projections = fresh_log()
        try:
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
        finally:
            log.close()
    assert answers[0] == answers[1]


@SETTINGS
@given(random_log(), st.integers(0, 75), st.integers(0, 60))
def test_known_at_before_a_correction_gives_the_uncorrected_answer(
    data: tuple[list, list[int]], as_of_day: int, new_day: int
) -> None:
    with loaded(data) as (log, projections):
        as_of = dt.date.fromisoformat(day(as_of_day))
        target = (
            next(r for r in reversed(log.read()) if r.type not in AMENDMENT_TYPES and r.type != "channel_established")
            if len(log.read()) > 2
            else None
        )
        if target is None:
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
                    changes={"occurred_on": day(new_day)},
                )
            ]
        )
        for channel in CHANNELS:
            assert projections.channel_state(channel, as_of, known_at=known_then) == before[channel]
            assert projections.channel_state(channel, as_of) == pure_state(log, channel, as_of)


@SETTINGS
@given(random_log(), st.integers(0, 75))
def test_known_at_after_the_last_record_uses_the_stored_answer_and_it_equals_the_fold(
    data: tuple[list, list[int]], as_of_day: int
) -> None:
    with loaded(data) as (log, projections):
        as_of = dt.date.fromisoformat(day(as_of_day))
        now = log.read()[-1].recorded_at
        for channel in CHANNELS:
            stored = projections.channel_state(channel, as_of, known_at=now)  # served from the tables
            folded = projections._folded_states(channel, now, as_of)[1]  # the same question, folded
            folded = replace(folded, version=stream_version(log.reader(), channel, now))  # type: ignore[type-var]
            assert stored == folded == pure_state(log, channel, as_of, now)
            assert projections.timeline(channel, known_at=now) == projections.timeline(channel)
