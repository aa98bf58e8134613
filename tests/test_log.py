"""The append-only log: atomicity, idempotency, concurrency, immutability, the hash chain."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from factory import established, make

from events import Conflict, InvalidEvent, Refused, SQLiteLog
from events.catalog import encode
from service.loading import export, load_file


def test_append_returns_receipts_in_order(log: SQLiteLog) -> None:
    receipts = log.append([established(), make("meeting_held", occurred_on="2021-12-14")])
    assert [r.seq for r in receipts] == [1, 2]
    assert [r.version for r in receipts] == [1, 2]
    assert all(r.created for r in receipts)
    assert log.head().hash == receipts[-1].hash


def test_a_bad_event_in_a_batch_appends_nothing(log: SQLiteLog) -> None:
    log.append([established()])
    head = log.head()
    batch = [make("meeting_held"), make("meeting_held"), make("meeting_held", channel="never-established")]
    with pytest.raises(Refused, match="never-established is not established") as caught:
        log.append(batch)
    assert caught.value.index == 2
    assert log.head() == head
    assert len(log.read()) == 1


def test_reposting_the_same_event_returns_the_original_receipt(log: SQLiteLog) -> None:
    first = log.append([established()])
    again = log.append([established(id=first[0].id)])
    assert again[0].seq == first[0].seq and again[0].hash == first[0].hash
    assert again[0].created is False
    assert log.head().seq == 1


def test_same_id_other_content_is_a_conflict(log: SQLiteLog) -> None:
    first = log.append([established()])
    with pytest.raises(Conflict, match="already in the log with other content"):
        log.append([established(id=first[0].id, summary="something else")])
    assert log.head().seq == 1


def test_stale_expected_version_is_a_conflict_carrying_the_current_version(log: SQLiteLog) -> None:
    log.append([established(), make("meeting_held")])
    with pytest.raises(Conflict) as caught:
        log.append([make("meeting_held")], expected_version=1)
    assert caught.value.current_version == 2
    assert log.append([make("meeting_held")], expected_version=2)[0].version == 3


def test_first_event_of_a_channel_must_establish_it(log: SQLiteLog) -> None:
    with pytest.raises(Refused, match="append its channel_established event first"):
        log.append([make("meeting_held")])
    log.append([established()])
    with pytest.raises(Conflict, match="already established"):
        log.append([established()])


def test_corrections_must_name_an_event_of_the_same_channel(log: SQLiteLog) -> None:
    mmca = log.append([established(), make("meeting_held")])
    other = log.append([established("us-cn-dpct")])
    with pytest.raises(Refused, match="no event"):
        log.append([make("event_retracted", target_id="00000000-0000-4000-8000-000000000000")])
    with pytest.raises(Refused, match="is on channel us-cn-dpct"):
        log.append([make("event_retracted", target_id=other[0].id)])
    with pytest.raises(Refused, match="cannot be retracted"):
        log.append([make("event_retracted", target_id=mmca[0].id)])
    with pytest.raises(InvalidEvent, match="channel cannot be corrected"):
        log.append([make("event_corrected", target_id=mmca[1].id, changes={"channel": "x"})])
    with pytest.raises(InvalidEvent, match="occurred_on: 2023-02-30 is not a calendar date"):
        log.append([make("event_corrected", target_id=mmca[1].id, changes={"occurred_on": "2023-02-30"})])
    fixed = log.append([make("event_corrected", target_id=mmca[1].id, changes={"occurred_on": "2021-12-14"})])
    assert fixed[0].version == 3


def test_the_database_itself_refuses_update_and_delete(log: SQLiteLog, db_path: Path) -> None:
    log.append([established()])
    conn = sqlite3.connect(db_path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE events SET channel = 'x'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM events")
    conn.close()
    assert log.read()[0].channel == "us-cn-mmca"


def test_verify_names_a_row_altered_behind_the_triggers_back(log: SQLiteLog, db_path: Path) -> None:
    log.append([established(), make("meeting_held"), make("meeting_held"), make("meeting_held")])
    assert log.verify().ok
    conn = sqlite3.connect(db_path)
    conn.execute("DROP TRIGGER events_no_update")
    body = conn.execute("SELECT body FROM events WHERE seq = 3").fetchone()[0]
    conn.execute("UPDATE events SET body = ? WHERE seq = 3", (body.replace(b"meeting_held on", b"meeting_held in"),))
    conn.commit()
    conn.close()
    result = log.verify()
    assert not result.ok
    assert result.bad_seq == 3
    assert "altered" in (result.problem or "")
    assert log.verify(tail=1).ok  # only seq 4 checked, against seq 3's stored hash


def test_export_then_load_into_a_new_file_reproduces_every_hash(log: SQLiteLog, tmp_path: Path) -> None:
    log.append([established(), make("meeting_held", occurred_on="2021-12-14", round=3)])
    log.append([make("channel_suspended", occurred_on="2022-08-05"), established("us-cn-dpct")])
    dump = tmp_path / "log.jsonl"
    with dump.open("wb") as handle:
        assert export(log, handle) == 4
    copy = SQLiteLog(tmp_path / "copy.db")
    try:
        result = load_file(copy, dump)
        assert result.appended == 4
        assert [r.hash for r in copy.read()] == [r.hash for r in log.read()]
        assert copy.head() == log.head()
    finally:
        copy.close()


def test_eight_threads_appending_at_once_lose_nothing(log: SQLiteLog) -> None:
    channels = [f"channel-{i}" for i in range(4)]
    log.append([established(c) for c in channels])
    per_thread = 60
    receipts: list = []
    errors: list = []
    lock = threading.Lock()

    def work(n: int) -> None:
        try:
            for i in range(per_thread):
                got = log.append([make("meeting_held", channels[(n + i) % 4], summary=f"t{n} #{i}")])
                with lock:
                    receipts.extend(got)
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    group_sizes: list[int] = []
    log.group_listeners.append(group_sizes.append)
    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    rows = log.read()
    assert len(receipts) == 8 * per_thread
    assert [r.seq for r in rows] == list(range(1, 8 * per_thread + 5))
    assert {r.id for r in rows} >= {r.id for r in receipts}
    for channel in channels:
        versions = [r.version for r in rows if r.channel == channel]
        assert versions == list(range(1, len(versions) + 1))
    assert log.verify().ok
    assert max(group_sizes) > 1  # concurrent callers shared commits


def test_one_bad_request_in_a_group_does_not_fail_its_neighbours(log: SQLiteLog) -> None:
    log.append([established()])
    results: dict[int, object] = {}

    def post(n: int) -> None:
        event = make("meeting_held") if n != 5 else make("meeting_held", channel="nowhere")
        try:
            results[n] = log.append([event])
        except Refused as error:
            results[n] = error

    threads = [threading.Thread(target=post, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert isinstance(results[5], Refused)
    assert sum(isinstance(r, list) for r in results.values()) == 11
    assert log.head().seq == 12


async def _append_many(log: SQLiteLog, count: int) -> list:
    import asyncio

    return await asyncio.gather(*(log.append_async([make("meeting_held", summary=f"#{i}")]) for i in range(count)))


def test_asyncio_tasks_are_group_committed(log: SQLiteLog) -> None:
    import asyncio

    log.append([established()])
    results = asyncio.run(_append_many(log, 50))
    assert sorted(r[0].seq for r in results) == list(range(2, 52))
    assert log.verify().ok


def test_reads_by_id_range_channel_type_and_valid_time(log: SQLiteLog) -> None:
    log.append([established(), established("us-cn-dpct")])
    held = log.append(
        [make("meeting_held", occurred_on="2021-12-14"), make("meeting_held", "us-cn-dpct", "2024-01-08")]
    )
    assert log.get(held[0].id).occurred_on == "2021-12-14"  # type: ignore[union-attr]
    assert log.get("00000000-0000-4000-8000-000000000000") is None
    assert [r.seq for r in log.read(after=1, limit=2)] == [2, 3]
    assert [r.seq for r in log.read(channel="us-cn-dpct")] == [2, 4]
    assert [r.seq for r in log.read(type="meeting_held", valid_from="2022-01-01")] == [4]
    assert [r.seq for r in log.read(valid_to="2021-12-31")] == [1, 2, 3]
    assert [r.seq for r in log.iterate(after=2)] == [3, 4]


def test_canonical_bytes_do_not_depend_on_input_key_order(log: SQLiteLog) -> None:
    from events import decode_event

    a = decode_event(
        b'{"type":"channel_resumed","channel":"x","occurred_on":"2023-11-15","summary":"s",'
        b'"sources":[{"url":"https://a.org"}],"id":"6f1c6a39-5f0e-4a8e-9d7c-3f3b1f0a0a01"}'
    )
    b = decode_event(
        b'{"id":"6f1c6a39-5f0e-4a8e-9d7c-3f3b1f0a0a01","sources":[{"url":"https://a.org"}],'
        b'"summary":"s","occurred_on":"2023-11-15T08:00:00+08:00","channel":"x","type":"channel_resumed"}'
    )
    assert encode(a) == encode(b)
