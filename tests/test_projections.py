"""Channel state with two clocks: valid time (as_of) and transaction time (known_at)."""

from __future__ import annotations

import datetime as dt

from factory import established, make

from diplo.events import SQLiteLog
from diplo.projections import Projections

D = dt.date.fromisoformat


def test_worked_example_a_late_back_dated_suspension(log: SQLiteLog, projections: Projections) -> None:
    # The MMCA channel exists since 1998.
    log.append([established("us-cn-mmca", "1998-01-19")])
    # First we learn that it resumed on 2023-11-15 (Woodside)...
    log.append([make("channel_resumed", "us-cn-mmca", "2023-11-15")])
    # ...and only afterwards record that it had been suspended on 2022-08-05.
    log.append([make("channel_suspended", "us-cn-mmca", "2022-08-05")])

    # Today it is active: the late arrival must not overwrite the later resumption.
    assert projections.channel_state("us-cn-mmca").status == "active"
    # On 2023-01-01 it was suspended, since the day of the suspension.
    on_new_year = projections.channel_state("us-cn-mmca", as_of=D("2023-01-01"))
    assert (on_new_year.status, on_new_year.since) == ("suspended", D("2022-08-05"))
    # The day before the suspension it was active, as it had been since its establishment.
    day_before = projections.channel_state("us-cn-mmca", as_of=D("2022-08-04"))
    assert (day_before.status, day_before.since) == ("active", D("1998-01-19"))
    # Before its establishment the channel is known but its status is unknown.
    assert projections.channel_state("us-cn-mmca", as_of=D("1990-01-01")).status == "unknown"
    # The timeline shows the three intervals.
    timeline = projections.timeline("us-cn-mmca")
    assert [(i.status, i.from_, i.to) for i in timeline] == [
        ("active", D("1998-01-19"), D("2022-08-05")),
        ("suspended", D("2022-08-05"), D("2023-11-15")),
        ("active", D("2023-11-15"), None),
    ]


def test_resumption_then_first_meeting(log: SQLiteLog, projections: Projections) -> None:
    log.append([established(), make("meeting_held", occurred_on="2021-12-14")])
    log.append([make("channel_suspended", occurred_on="2022-08-05"), make("channel_resumed", occurred_on="2023-11-15")])
    after_resumption = projections.channel_state("us-cn-mmca", as_of=D("2024-01-01"))
    # Active since the announced resumption, the last meeting still the old one.
    assert (after_resumption.status, after_resumption.since) == ("active", D("2023-11-15"))
    assert after_resumption.last_meeting == D("2021-12-14")
    log.append([make("meeting_held", occurred_on="2024-04-03")])
    state = projections.channel_state("us-cn-mmca", as_of=D("2024-05-01"))
    assert (state.since, state.last_meeting) == (D("2023-11-15"), D("2024-04-03"))


def test_meetings_scheduled_cancelled_and_held(log: SQLiteLog, projections: Projections) -> None:
    log.append([established(), make("meeting_scheduled", occurred_on="2024-01-02", scheduled_for="2024-03-01")])
    assert projections.channel_state("us-cn-mmca").next_meeting == D("2024-03-01")
    log.append([make("talks_cancelled", occurred_on="2024-02-01", mode="postponed")])
    state = projections.channel_state("us-cn-mmca")
    assert (state.next_meeting, state.last_cancelled, state.status) == (None, D("2024-02-01"), "active")
    log.append([make("meeting_scheduled", occurred_on="2024-02-10", scheduled_for="2024-04-01")])
    log.append([make("meeting_held", occurred_on="2024-04-01")])
    state = projections.channel_state("us-cn-mmca")
    assert (state.next_meeting, state.last_meeting) == (None, D("2024-04-01"))


def test_a_correction_counts_only_from_when_it_was_recorded(log: SQLiteLog, projections: Projections) -> None:
    log.append([established()])
    wrong = log.append([make("channel_suspended", occurred_on="2022-08-15")])
    before = log.head()
    known_then = log.get(wrong[0].id).recorded_at  # type: ignore[union-attr]
    log.append(
        [
            make(
                "event_corrected",
                occurred_on="2022-09-01",
                target_id=wrong[0].id,
                changes={"occurred_on": "2022-08-05"},
            )
        ]
    )
    assert log.head().seq == before.seq + 1
    assert projections.channel_state("us-cn-mmca", as_of=D("2022-08-10")).status == "suspended"
    as_known_then = projections.channel_state("us-cn-mmca", as_of=D("2022-08-10"), known_at=known_then)
    assert as_known_then.status == "active"


def test_a_retraction_removes_its_target(log: SQLiteLog, projections: Projections) -> None:
    log.append([established()])
    wrong = log.append([make("channel_closed", occurred_on="2023-01-01")])
    assert projections.channel_state("us-cn-mmca").status == "closed"
    log.append([make("event_retracted", occurred_on="2023-02-01", target_id=wrong[0].id)])
    assert projections.channel_state("us-cn-mmca").status == "active"
    assert [i.status for i in projections.timeline("us-cn-mmca")] == ["active"]


def test_sanctions_in_force_and_lifted(log: SQLiteLog, projections: Projections) -> None:
    log.append([established("us-cn-defense")])
    log.append([make("sanction_applied", "us-cn-defense", "2018-09-20", program="CAATSA 231")])
    log.append([make("sanction_applied", "us-cn-defense", "2022-08-05", target="Nancy Pelosi", by="CHN")])
    assert {s.target for s in projections.sanctions_in_force()} == {"Li Shangfu", "Nancy Pelosi"}
    assert {s.target for s in projections.sanctions_in_force(D("2020-01-01"))} == {"Li Shangfu"}
    log.append([make("sanction_lifted", "us-cn-defense", "2024-01-01")])
    assert {s.target for s in projections.sanctions_in_force()} == {"Nancy Pelosi"}
    assert projections.sanctions_in_force(D("2023-12-31"))[0].program == "CAATSA 231"
    # A back-dated lift recomputes the register.
    log.append([make("sanction_lifted", "us-cn-defense", "2022-09-01", target="Nancy Pelosi", by="CHN")])
    assert projections.sanctions_in_force() == []


def test_officials_and_commitments(log: SQLiteLog, projections: Projections) -> None:
    log.append([established("us-cn-defense")])
    log.append(
        [make("official_changed", "us-cn-defense", "2023-03-12", role="PRC defense minister", person="Li Shangfu")]
    )
    log.append(
        [
            make(
                "official_changed",
                "us-cn-defense",
                "2023-10-24",
                role="PRC defense minister",
                person="Li Shangfu",
                change="removed",
            )
        ]
    )
    assert projections.channel_state("us-cn-defense", D("2023-06-01")).officials == {
        "PRC defense minister": "Li Shangfu"
    }
    assert projections.channel_state("us-cn-defense").officials == {}
    log.append([make("commitment_made", "us-cn-defense", "2023-11-15", by="CHN")])
    assert len(projections.commitments("us-cn-defense")) == 1
    assert projections.commitments("us-cn-defense", as_of=D("2023-11-14")) == []


def test_projections_catch_up_and_rebuild_on_start(db_path) -> None:  # type: ignore[no-untyped-def]
    from diplo.projections import tables

    first = SQLiteLog(db_path)
    first.append([established(), make("channel_suspended", occurred_on="2022-08-05")])  # no projections attached
    first.close()
    second = SQLiteLog(db_path)
    try:
        assert Projections(second).channel_state("us-cn-mmca").status == "suspended"  # caught up
        second.run_in_writer(lambda conn: conn.execute("UPDATE projection_meta SET version = 0"))
        reopened = Projections(second)
        assert reopened.last_replay is not None and reopened.last_replay.events == 2  # rebuilt
        assert tables.meta(second.reader())[0] == tables.PROJECTION_VERSION  # type: ignore[index]
    finally:
        second.close()


def test_a_status_held_for_no_day_leaves_no_interval(log: SQLiteLog, projections: Projections) -> None:
    """Suspended and resumed on the same day: the channel was active every day, and the timeline says so."""
    log.append([established(), make("channel_suspended", occurred_on="2022-08-05")])
    log.append([make("channel_resumed", occurred_on="2022-08-05")])
    assert projections.channel_state("us-cn-mmca", as_of=D("2022-08-05")).status == "active"  # type: ignore[union-attr]
    timeline = projections.timeline("us-cn-mmca")
    assert [(i.status, i.from_, i.to) for i in timeline] == [("active", D("1998-01-19"), None)]
    assert all(i.to is None or i.from_ < i.to for i in timeline)
