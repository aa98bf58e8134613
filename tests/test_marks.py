"""Timeline marks: what the board draws for a channel's history, counted per period, as known at any moment."""

from __future__ import annotations

import datetime as dt

from factory import established, make

from diplo.events import SQLiteLog
from diplo.projections import Projections
from diplo.projections.marks import Mark

D = dt.date.fromisoformat


def test_marks_count_each_kind_per_month_with_the_first_event(log: SQLiteLog, projections: Projections) -> None:
    first = make("meeting_held", occurred_on="2024-01-20")
    earlier = make("meeting_held", occurred_on="2024-01-05")  # recorded later, earlier in the month
    contact = make("contact_made", occurred_on="2024-03-02")
    cancelled = make("talks_cancelled", occurred_on="2024-03-09")
    tariff = make("measure_imposed", occurred_on="2024-03-10")
    log.append([established(occurred_on="2023-12-01"), first, contact, cancelled, tariff])
    log.append([earlier, make("channel_suspended", occurred_on="2024-04-01")])  # a status change is no mark
    assert projections.marks("us-cn-mmca") == [
        Mark(D("2024-01-01"), "meeting", 2, str(earlier.id)),
        Mark(D("2024-03-01"), "contact", 1, str(contact.id)),
        Mark(D("2024-03-01"), "cancellation", 1, str(cancelled.id)),
        Mark(D("2024-03-01"), "measure", 1, str(tariff.id)),
    ]
    # Three months per period when six months must fit in two periods; start and end bound by month.
    assert projections.marks("us-cn-mmca", start=D("2024-01-15"), end=D("2024-06-30"), buckets=2) == [
        Mark(D("2024-01-01"), "meeting", 2, str(earlier.id)),
        Mark(D("2024-01-01"), "contact", 1, str(contact.id)),
        Mark(D("2024-01-01"), "cancellation", 1, str(cancelled.id)),
        Mark(D("2024-01-01"), "measure", 1, str(tariff.id)),
    ]
    assert projections.marks("us-cn-mmca", start=D("2024-02-01"), end=D("2024-02-29")) == []


def test_marks_read_events_as_amended_at_known_at(log: SQLiteLog, projections: Projections) -> None:
    meeting = make("meeting_held", occurred_on="2024-01-20")
    other = make("meeting_held", occurred_on="2024-02-20")
    log.append([established(occurred_on="2023-12-01"), meeting, other])
    before = log.get(str(other.id)).recorded_at  # type: ignore[union-attr]
    log.append(
        [
            make(
                "event_corrected",
                occurred_on="2024-05-01",
                target_id=str(meeting.id),
                changes={"occurred_on": "2024-02-02"},
            )
        ]
    )
    log.append([make("event_retracted", occurred_on="2024-05-01", target_id=str(other.id))])
    assert projections.marks("us-cn-mmca") == [Mark(D("2024-02-01"), "meeting", 1, str(meeting.id))]
    assert projections.marks("us-cn-mmca", known_at=before) == [
        Mark(D("2024-01-01"), "meeting", 1, str(meeting.id)),
        Mark(D("2024-02-01"), "meeting", 1, str(other.id)),
    ]
    assert projections.marks("us-cn-mmca", known_at="2000-01-01T00:00:00.000000Z") == []


def test_bands_give_the_status_at_each_period_end(log: SQLiteLog, projections: Projections) -> None:
    from diplo.projections.marks import Band

    suspension = make("channel_suspended", occurred_on="2024-02-10")
    log.append([established(occurred_on="2024-01-05"), suspension])
    before = log.get(str(suspension.id)).recorded_at  # type: ignore[union-attr]
    log.append([make("channel_resumed", occurred_on="2024-04-20")])
    assert projections.bands("us-cn-mmca", end=D("2024-05-31")) == [
        Band(D("2024-01-01"), "active", True),
        Band(D("2024-02-01"), "suspended", True),
        Band(D("2024-03-01"), "suspended", False),
        Band(D("2024-04-01"), "active", True),
        Band(D("2024-05-01"), "active", False),
    ]
    # Two months per period; as known before the resumption was recorded, suspended to the end.
    assert projections.bands("us-cn-mmca", before, start=D("2024-01-01"), end=D("2024-06-30"), buckets=3) == [
        Band(D("2024-01-01"), "suspended", True),
        Band(D("2024-03-01"), "suspended", False),
        Band(D("2024-05-01"), "suspended", False),
    ]


def test_bands_and_marks_folded_while_the_tables_cannot_answer_equal_the_stored(
    log: SQLiteLog, projections: Projections
) -> None:
    log.append([established(occurred_on="2024-01-05"), make("channel_suspended", occurred_on="2024-02-10")])
    log.append([make("meeting_held", occurred_on="2024-04-20"), make("contact_made", occurred_on="2024-01-09")])
    stored = [projections.bands("us-cn-mmca"), projections.bands("us-cn-mmca", None, D("2023-11-01"), None, 2)]
    marks = projections.marks("us-cn-mmca")
    projections.fold_reads = True  # as during a rebuild for tables of another layout
    assert [projections.bands("us-cn-mmca"), projections.bands("us-cn-mmca", None, D("2023-11-01"), None, 2)] == stored
    assert projections.marks("us-cn-mmca") == marks
