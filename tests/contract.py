"""The backend contract: what every EventLog must do, whatever database holds it.

A backend's test module subclasses ``LogContract`` and provides a ``backend`` fixture: a
``Backend`` on a fresh, empty database of its own (as eventsourcing's recorder test cases
ask for ``create_recorder``). Every test here then runs against that backend.
"""

from __future__ import annotations

import asyncio
import inspect
import threading
from collections.abc import Iterator
from typing import Any, Protocol

import msgspec
import pytest
from factory import established, make

from diplo.events import Conflict, InvalidEvent, Refused, Unavailable
from diplo.events.catalog import encode
from diplo.events.errors import ChainBroken
from diplo.events.log import EventLog, IdempotencyKey, StoredEvent

BOUNDARY = [
    name
    for name, member in vars(EventLog).items()
    if callable(member) and not name.startswith("_") and name not in vars(Protocol)
]


class Backend(Protocol):
    """One test's database, as the contract needs to reach it."""

    def open(self, **options: Any) -> EventLog:
        """A new log on this test's database (every call: the same database)."""
        ...

    def execute(self, sql: str, params: tuple = ()) -> None:
        """Run SQL (``?`` marks) on a connection of its own, outside any log, and commit."""
        ...

    def tamper(self, seq: int, body: bytes) -> None:
        """Change a row's body behind the triggers' back, as an attacker with the file would."""
        ...

    def fresh(self) -> EventLog:
        """A log on another fresh, empty database of this kind (a copy's target)."""
        ...


def hold_writer(log: EventLog) -> threading.Event:
    """Keep the writer busy until the returned event is set, so that what is queued meanwhile
    is committed as one group."""
    release, started = threading.Event(), threading.Event()

    def work(_conn: object) -> None:
        started.set()
        release.wait(10)

    threading.Thread(target=log.run_in_writer, args=(work,), daemon=True).start()
    assert started.wait(5)
    return release


def run_threads(target: Any, args: list[tuple]) -> None:
    threads = [threading.Thread(target=target, args=a) for a in args]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)


def _fresh_copy_target(backend: Backend) -> EventLog:
    """A second, empty log of the backend's kind, beside the test's database."""
    maker = getattr(backend, "fresh", None)
    assert maker is not None, "the backend gives a fresh database for copies (Backend.fresh)"
    return maker()


class LogContract:
    """Subclass in a backend's test module and provide the ``backend`` fixture."""

    @pytest.fixture
    def log(self, backend: Backend) -> Iterator[EventLog]:
        opened = backend.open()
        yield opened
        opened.close()

    # -- the boundary ------------------------------------------------------------------------
    def test_the_log_offers_the_whole_boundary(self, log: EventLog) -> None:
        assert isinstance(log, EventLog)
        assert log.writer_alive and log.writes_refused is None
        for name in BOUNDARY:  # the same parameters, so a caller written against EventLog works unchanged
            wanted = list(inspect.signature(getattr(EventLog, name)).parameters)
            assert list(inspect.signature(getattr(type(log), name)).parameters) == wanted, name

    # -- appends: receipts, atomic batches ------------------------------------------------------
    def test_append_returns_receipts_in_order(self, log: EventLog) -> None:
        receipts = log.append([established(), make("meeting_held", occurred_on="2021-12-14")])
        assert [r.seq for r in receipts] == [1, 2]
        assert [r.version for r in receipts] == [1, 2]
        assert all(r.created for r in receipts)
        assert log.head().hash == receipts[-1].hash

    def test_a_bad_event_in_a_batch_appends_nothing(self, log: EventLog) -> None:
        log.append([established()])
        head = log.head()
        batch = [make("meeting_held"), make("meeting_held"), make("meeting_held", channel="never-established")]
        with pytest.raises(Refused, match="never-established is not established") as caught:
            log.append(batch)
        assert caught.value.index == 2
        assert log.head() == head
        assert len(log.read()) == 1

    def test_a_reopened_log_continues_the_chain(self, backend: Backend) -> None:
        first = backend.open()
        first.append([established()])
        first.close()
        again = backend.open()
        try:
            assert again.append([make("meeting_held")])[0].seq == 2
            assert again.verify().ok and again.verify().checked == 2
        finally:
            again.close()

    # -- idempotency ---------------------------------------------------------------------------
    def test_reposting_the_same_event_returns_the_original_receipt(self, log: EventLog) -> None:
        first = log.append([established()])
        again = log.append([established(id=first[0].id)])
        assert again[0].seq == first[0].seq and again[0].hash == first[0].hash
        assert again[0].created is False
        assert log.head().seq == 1

    def test_same_id_other_content_is_a_conflict(self, log: EventLog) -> None:
        first = log.append([established()])
        with pytest.raises(Conflict, match="already in the log with other content"):
            log.append([established(id=first[0].id, summary="something else")])
        assert log.head().seq == 1

    def test_idempotency_key_answers_the_original_receipts(self, backend: Backend) -> None:
        key = IdempotencyKey("k-1", "fingerprint-of-body-1")
        log = backend.open()
        created = log.append([established(), make("meeting_held")], writer="w", idempotency=key)
        # The same request again, its ids generated anew by the server: the original answer, nothing appended.
        again = log.append([established(), make("meeting_held")], writer="w", idempotency=key)
        assert [r.id for r in again] == [r.id for r in created]
        assert [r.seq for r in again] == [1, 2] and not any(r.created for r in again)
        with pytest.raises(InvalidEvent, match="already used with a different request body") as caught:
            log.append([established("other")], writer="w", idempotency=IdempotencyKey("k-1", "another-body"))
        assert caught.value.field == "Idempotency-Key"
        assert log.head().seq == 2
        log.close()
        reopened = backend.open()  # kept in the database, not in memory
        try:
            later = reopened.append([established()], writer="w", idempotency=key)
            assert [r.id for r in later] == [r.id for r in created]
            other_writer = reopened.append([established("elsewhere")], writer="v", idempotency=key)
            assert other_writer[0].created  # a key belongs to its writer
        finally:
            reopened.close()

    def test_one_idempotency_key_twice_in_one_group_appends_once(self, log: EventLog) -> None:
        key = IdempotencyKey("k-2", "fingerprint")
        release = hold_writer(log)
        answers: list[list] = []
        threads = [
            threading.Thread(target=lambda: answers.append(log.append([established()], idempotency=key)))
            for _ in range(2)
        ]
        for thread in threads:
            thread.start()
        release.set()
        for thread in threads:
            thread.join(10)
        assert sorted(r[0].created for r in answers) == [False, True]
        assert answers[0][0].id == answers[1][0].id and log.head().seq == 1

    # -- expected_version ------------------------------------------------------------------------
    def test_stale_expected_version_is_a_conflict_carrying_the_current_version(self, log: EventLog) -> None:
        log.append([established(), make("meeting_held")])
        with pytest.raises(Conflict) as caught:
            log.append([make("meeting_held")], expected_version=1)
        assert caught.value.current_version == 2
        assert log.append([make("meeting_held")], expected_version=2)[0].version == 3

    def test_a_retry_with_the_same_expected_version_returns_the_original_receipt(self, log: EventLog) -> None:
        log.append([established()])
        meeting = make("meeting_held")
        first = log.append([meeting], expected_version=1)
        retry = log.append([meeting], expected_version=1)  # the answer was lost; the channel is at 2 now
        assert (retry[0].seq, retry[0].created) == (first[0].seq, False)
        assert log.head().seq == 2

    def test_expected_version_applies_to_one_channel(self, log: EventLog) -> None:
        log.append([established(), established("b")])
        with pytest.raises(InvalidEvent, match="one channel"):
            log.append([make("meeting_held"), make("meeting_held", "b")], expected_version=1)

    # -- the append rules ------------------------------------------------------------------------
    def test_first_event_of_a_channel_must_establish_it(self, log: EventLog) -> None:
        with pytest.raises(Refused, match="append its channel_established event first"):
            log.append([make("meeting_held")])
        log.append([established()])
        with pytest.raises(Conflict, match="already established"):
            log.append([established()])

    def test_corrections_must_name_an_event_of_the_same_channel(self, log: EventLog) -> None:
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

    def test_an_event_dated_before_its_channel_was_established_is_refused(self, log: EventLog) -> None:
        log.append([established(occurred_on="2024-01-05")])
        with pytest.raises(Refused, match="before channel us-cn-mmca was established on 2024-01-05"):
            log.append([make("meeting_held", occurred_on="2024-01-04")])
        with pytest.raises(Refused, match="established on 2024-01-05"):  # in the same batch as the founding too
            log.append([established("b", occurred_on="2024-01-05"), make("meeting_held", "b", "2024-01-04")])
        assert log.head().seq == 1
        assert log.append([make("meeting_held", occurred_on="2024-01-05")])[0].seq == 2

    def test_corrections_may_not_move_events_across_the_establishment(self, log: EventLog) -> None:
        founding = established(occurred_on="2024-01-05")
        meeting = make("meeting_held", occurred_on="2024-02-01")
        log.append([founding, meeting])
        with pytest.raises(Refused, match="established on 2024-01-05"):
            log.append([make("event_corrected", target_id=str(meeting.id), changes={"occurred_on": "2023-12-01"})])
        with pytest.raises(Refused, match="established on 2024-03-01"):
            log.append([make("event_corrected", target_id=str(founding.id), changes={"occurred_on": "2024-03-01"})])
        earlier = make("event_corrected", target_id=str(founding.id), changes={"occurred_on": "2023-01-01"})
        log.append([earlier])
        log.append([make("meeting_held", occurred_on="2023-06-01")])  # fine once the channel began earlier
        with pytest.raises(Refused, match="established on 2024-01-05"):  # undoing it would strand that meeting
            log.append([make("event_retracted", target_id=str(earlier.id))])

    # -- the two clocks ----------------------------------------------------------------------------
    def test_vocabulary_v2_rules_hold_after_a_reopen(self, backend: Backend) -> None:
        """A measure is changed only once imposed (old sanctions count), a commitment_status names a commitment
        of its channel, a channel succeeds one in the log; a reopened log reads what was imposed from the table."""
        log = backend.open()
        pledge = make("commitment_made", occurred_on="2023-11-15")
        log.append([established(), pledge, make("sanction_applied", occurred_on="2018-09-20")])
        log.append([make("measure_imposed", occurred_on="2025-02-04")])
        log.close()
        log = backend.open()
        try:
            with pytest.raises(Refused, match="no measure 'us-tariff-typo'"):
                log.append([make("measure_lifted", occurred_on="2025-03-01", measure="us-tariff-typo")])
            log.append([make("measure_modified", occurred_on="2025-03-04")])
            log.append([make("measure_lifted", occurred_on="2025-03-05", measure="sanction-usa-li-shangfu")])
            meeting = make("meeting_held", occurred_on="2024-01-01")
            log.append([meeting])
            with pytest.raises(Refused, match="not a commitment_made"):
                log.append([make("commitment_status", occurred_on="2024-02-01", target_id=str(meeting.id))])
            log.append([make("commitment_status", occurred_on="2024-02-01", target_id=str(pledge.id))])
            with pytest.raises(Refused, match="no channel us-cn-x"):
                log.append([established("us-cn-y", succeeds="us-cn-x")])
            log.append([established("us-cn-y", succeeds="us-cn-mmca")])
        finally:
            log.close()

    def test_recorded_at_strictly_increases_per_event(self, log: EventLog) -> None:
        receipts = log.append([established(), *(make("meeting_held", occurred_on="2024-01-01") for _ in range(50))])
        receipts += log.append([make("meeting_held")])
        stamps = [r.recorded_at for r in receipts]
        assert stamps == sorted(set(stamps)) and len(stamps) == 52
        assert [r.recorded_at for r in log.read()] == stamps

    # -- the database itself ---------------------------------------------------------------------
    def test_the_database_itself_refuses_update_and_delete(self, backend: Backend, log: EventLog) -> None:
        log.append([established()])
        with pytest.raises(Exception, match="append-only"):
            backend.execute("UPDATE events SET channel = 'x'")
        with pytest.raises(Exception, match="append-only"):
            backend.execute("DELETE FROM events")
        assert log.read()[0].channel == "us-cn-mmca"

    def test_verify_names_a_row_altered_behind_the_triggers_back(self, backend: Backend, log: EventLog) -> None:
        log.append([established(), make("meeting_held"), make("meeting_held"), make("meeting_held")])
        assert log.verify().ok
        body = log.read(after=2, limit=1)[0].body
        backend.tamper(3, body.replace(b"meeting_held on", b"meeting_held in"))
        result = log.verify()
        assert not result.ok
        assert result.bad_seq == 3
        assert "altered" in (result.problem or "")
        assert result.head.seq == 2
        assert log.verify(tail=1).ok  # only seq 4 checked, against seq 3's stored hash

    def test_a_broken_chain_refuses_writes_and_keeps_reads(self, backend: Backend, log: EventLog) -> None:
        log.append([established(), make("meeting_held")])
        backend.tamper(2, log.read()[1].body.replace(b"meeting_held on", b"meeting_held in"))
        check = log.refuse_writes_if_broken(tail=10)
        assert not check.ok and check.bad_seq == 2
        with pytest.raises(ChainBroken, match="broken at seq 2"):
            log.append([make("meeting_held")])
        assert len(log.read()) == 2

    # -- concurrency and group commit -------------------------------------------------------------
    def test_eight_threads_appending_at_once_lose_nothing(self, log: EventLog) -> None:
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
        run_threads(work, [(n,) for n in range(8)])
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

    def test_one_bad_request_in_a_group_does_not_fail_its_neighbours(self, log: EventLog) -> None:
        log.append([established()])
        results: dict[int, object] = {}

        def post(n: int) -> None:
            event = make("meeting_held") if n != 5 else make("meeting_held", channel="nowhere")
            try:
                results[n] = log.append([event])
            except Refused as error:
                results[n] = error

        release = hold_writer(log)
        threads = [threading.Thread(target=post, args=(n,)) for n in range(12)]
        for thread in threads:
            thread.start()
        release.set()
        for thread in threads:
            thread.join(10)
        assert isinstance(results[5], Refused)
        assert sum(isinstance(r, list) for r in results.values()) == 11
        assert log.head().seq == 12

    def test_asyncio_tasks_are_group_committed(self, log: EventLog) -> None:
        async def append_many(count: int) -> list:
            return await asyncio.gather(
                *(log.append_async([make("meeting_held", summary=f"#{i}")]) for i in range(count))
            )

        log.append([established()])
        results = asyncio.run(append_many(50))
        assert sorted(r[0].seq for r in results) == list(range(2, 52))
        assert log.verify().ok

    def test_an_append_that_waits_too_long_answers_unavailable(self, backend: Backend) -> None:
        log = backend.open(append_timeout=0.2)
        try:
            release = hold_writer(log)
            with pytest.raises(Unavailable, match="did not confirm the append"):
                log.append([established()])
            release.set()
        finally:
            log.close()

    # -- hooks, work in the writer, subscribers --------------------------------------------------
    def test_hooks_run_inside_the_append_transaction(self, log: EventLog) -> None:
        log.run_in_writer(lambda conn: conn.execute("CREATE TABLE hook_seen (seq INTEGER NOT NULL)"))
        seen: list[int] = []

        def hook(conn: Any, rows: list[StoredEvent]) -> None:
            for row in rows:  # the rows are visible on the hook's connection, before the commit
                (count,) = conn.execute(f"SELECT count(*) FROM events WHERE seq = {row.seq}").fetchone()
                seen.append(count)
                conn.execute(f"INSERT INTO hook_seen (seq) VALUES ({row.seq})")

        log.add_hook(hook)
        log.append([established(), make("meeting_held")])
        assert seen == [1, 1]
        count = log.run_in_writer(lambda conn: conn.execute("SELECT count(*) FROM hook_seen").fetchone()[0])
        assert count == 2

    def test_a_hook_that_raises_fails_only_its_request(self, log: EventLog) -> None:
        log.append([established(), *(established(f"c{i}") for i in range(10))])
        log.run_in_writer(lambda conn: conn.execute("CREATE TABLE hook_seen (seq INTEGER NOT NULL)"))

        def fussy_hook(conn: Any, rows: list[StoredEvent]) -> None:
            for row in rows:
                conn.execute(f"INSERT INTO hook_seen (seq) VALUES ({row.seq})")
            if any(r.occurred_on == "2024-06-06" for r in rows):
                raise RuntimeError("this row cannot be written")

        log.add_hook(fussy_hook)
        release = hold_writer(log)
        results: dict[str, object] = {}

        def send(name: str, event: Any) -> None:
            try:
                results[name] = log.append([event])
            except Exception as error:
                results[name] = error

        items = [(f"c{i}", make("meeting_held", f"c{i}", "2024-05-01")) for i in range(10)]
        items.append(("bad", make("meeting_held", occurred_on="2024-06-06")))
        threads = [threading.Thread(target=send, args=item) for item in items]
        for thread in threads:
            thread.start()
        release.set()
        for thread in threads:
            thread.join(10)
        assert isinstance(results.pop("bad"), Exception)
        assert all(isinstance(r, list) for r in results.values()), results
        rows = log.read()
        assert len(rows) == 21 and all(r.occurred_on != "2024-06-06" for r in rows)
        hooked = log.run_in_writer(lambda conn: [s for (s,) in conn.execute("SELECT seq FROM hook_seen ORDER BY seq")])
        assert hooked == [r.seq for r in rows[11:]]  # the failed request's hook writes were rolled back with it
        assert log.verify().ok

    def test_subscribers_get_each_commit_in_seq_order(self, log: EventLog) -> None:
        got: list[int] = []
        done = threading.Event()

        def listener(rows: Any) -> None:
            got.extend(r.seq for r in rows)
            if got and got[-1] == 3:
                done.set()

        unsubscribe = log.subscribe(listener)
        log.append([established()])
        log.append([make("meeting_held"), make("meeting_held")])
        assert done.wait(5)
        assert got == [1, 2, 3]
        unsubscribe()
        log.append([make("meeting_held")])
        assert log.head().seq == 4 and got == [1, 2, 3]

    def test_a_listener_that_raises_does_not_stop_the_writer(self, log: EventLog) -> None:
        def broken(_rows: object) -> None:
            raise RuntimeError("listener bug")

        log.subscribe(broken)
        log.group_listeners.append(lambda _size: 1 / 0)
        log.append([established()])
        receipts = log.append([make("meeting_held")])
        assert receipts[0].seq == 2
        assert log.writer_alive

    # -- reading ---------------------------------------------------------------------------------
    def test_reads_by_id_range_channel_type_and_valid_time(self, log: EventLog) -> None:
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
        assert [r.seq for r in log.read(recorded_by=held[0].recorded_at)] == [1, 2, 3]
        assert [r.seq for r in log.iterate(after=2)] == [3, 4]
        stored = log.get(held[1].id)
        assert stored is not None and stored.body == encode(stored.event())

    # -- copying a log (diplo migrate) -----------------------------------------------------------
    def test_load_rows_copies_rows_verbatim_and_refuses_one_that_does_not_continue_the_chain(
        self, log: EventLog, backend: Backend
    ) -> None:
        source = backend.open()  # the same database: read its rows, then copy them into a log of their own
        source.append([established(), make("meeting_held")], writer="newsroom")
        rows = source.read()
        source.close()
        copy = _fresh_copy_target(backend)
        try:
            seen: list[int] = []
            copy.add_hook(lambda _conn, loaded: seen.extend(r.seq for r in loaded))  # projections follow
            head = copy.load_rows(rows[:1])
            assert (head.seq, head.hash) == (1, rows[0].hash)
            altered = msgspec.structs.replace(rows[1], body=rows[1].body.replace(b"meeting", b"Meeting"))
            for bad, why in ((rows[1:2] * 2, "the log's head is seq 2"), ([altered], "sha256")):
                with pytest.raises(Refused, match=why):
                    copy.load_rows(bad)
            copy.load_rows(rows[1:])
            assert copy.read() == rows and seen == [1, 2]  # seq, recorded_at, writer and hash as they were
            assert copy.verify().ok
            with pytest.raises(Refused, match="head is seq 2"):
                copy.load_rows(rows[:1])  # what is there already is refused, never doubled
        finally:
            copy.close()
