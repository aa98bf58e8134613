"""The backend contract (tests/contract.py) on PostgreSQL, and what only a server database has:
several processes appending to one log, LISTEN/NOTIFY, reconnecting after the server went away.

Each test gets a throwaway database (the ``database`` fixture of conftest.py, on the server of
tests/pgserver.py). Under CI=true a missing server fails the run; elsewhere these tests are
skipped with the command that starts one.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Iterator
from typing import Any

import pgserver
import psycopg
import pytest
from contract import LogContract
from factory import established, make

from diplo.events import Unavailable
from diplo.events.backends import open_log
from diplo.events.postgres import PostgresLog

pytestmark = pytest.mark.postgres


def _admin() -> psycopg.Connection:
    return pgserver.admin()


class PostgresBackend:
    def __init__(self, dsn: str):
        self.dsn = dsn

    def open(self, **options: Any) -> PostgresLog:
        return PostgresLog(self.dsn, **options)

    def execute(self, sql: str, params: tuple = ()) -> None:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            conn.execute(sql.replace("?", "%s"), params)

    def fresh(self) -> PostgresLog:
        return PostgresLog(pgserver.create_schema(self.dsn))  # dropped with the test's database

    def tamper(self, seq: int, body: bytes) -> None:
        self.execute("ALTER TABLE events DISABLE TRIGGER events_no_update")
        self.execute("UPDATE events SET body = ? WHERE seq = ?", (body, seq))
        self.execute("ALTER TABLE events ENABLE TRIGGER events_no_update")


@pytest.fixture(scope="module")
def contract_database(postgres_server: str) -> Iterator[str]:
    """One database for the contract's tests, each in a fresh schema of it: a database costs 0.2 s to make
    here, a schema 0.01 s. Dropped, whatever its tests left open, when the module is done."""
    url = pgserver.create_database(postgres_server)
    yield url
    pgserver.drop_database(url)


class TestPostgresLog(LogContract):
    @pytest.fixture
    def backend(self, contract_database: str) -> PostgresBackend:
        return PostgresBackend(pgserver.create_schema(contract_database))


def test_open_log_picks_postgres_for_a_postgresql_url(database: str) -> None:
    log = open_log(database)
    try:
        assert isinstance(log, PostgresLog)
        assert log.append([established()])[0].seq == 1
    finally:
        log.close()


# -- several processes, one log -----------------------------------------------------------------


def _append_from_process(dsn: str, name: str, channels: list[str], ready: Any, go: Any, out: Any) -> None:
    """One process: its own PostgresLog, four threads appending, receipts sent back."""
    log = PostgresLog(dsn)
    receipts: list[tuple[int, str]] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        for i in range(50):
            got = log.append([make("meeting_held", channels[(n + i) % len(channels)])], writer=name)
            with lock:
                receipts.extend((r.seq, r.id) for r in got)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    ready.set()
    go.wait(30)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    log.close()
    out.put((name, receipts))


def test_two_processes_append_to_one_log_in_one_total_order(database: str) -> None:
    channels = [f"channel-{i}" for i in range(3)]
    setup = PostgresLog(database)
    setup.append([established(c) for c in channels])
    setup.close()
    spawn = multiprocessing.get_context("spawn")
    out, go = spawn.Queue(), spawn.Event()
    readies = [spawn.Event() for _ in range(2)]
    processes = [
        spawn.Process(target=_append_from_process, args=(database, f"p{n}", channels, readies[n], go, out))
        for n in range(2)
    ]
    for process in processes:
        process.start()
    assert all(ready.wait(60) for ready in readies)
    go.set()
    answers = dict(out.get(timeout=120) for _ in processes)
    for process in processes:
        process.join(10)
        assert process.exitcode == 0
    log = PostgresLog(database)
    try:
        rows = log.read()
        acknowledged = answers["p0"] + answers["p1"]
        assert len(acknowledged) == 400
        assert [r.seq for r in rows] == list(range(1, 404))  # gap-free: nothing lost, nothing doubled
        assert {(r.seq, r.id) for r in rows} >= set(acknowledged)
        for channel in channels:
            versions = [r.version for r in rows if r.channel == channel]
            assert versions == list(range(1, len(versions) + 1))
        stamps = [r.recorded_at for r in rows]
        assert stamps == sorted(set(stamps))  # transaction time follows the one order
        writers = [r.writer for r in rows[3:]]
        assert sum(a != b for a, b in zip(writers, writers[1:], strict=False)) > 2  # the two really interleaved
        assert log.verify().ok
    finally:
        log.close()


def test_listen_delivers_what_every_process_appends_in_seq_order(database: str) -> None:
    here, there = PostgresLog(database), PostgresLog(database)
    try:
        got: list[int] = []
        lock = threading.Lock()

        def listener(rows: Any) -> None:
            with lock:
                got.extend(r.seq for r in rows)

        here.subscribe(listener)
        here.listen()
        started = time.monotonic()
        there.append([established()])
        here.append([make("meeting_held")])
        there.append([make("meeting_held"), make("meeting_held")])
        while len(got) < 4 and time.monotonic() - started < 5:
            time.sleep(0.01)
        assert got == [1, 2, 3, 4]  # each row once, in the log's order, whichever process wrote it
        assert time.monotonic() - started < 1.0
    finally:
        here.close()
        there.close()


# -- the server going away ------------------------------------------------------------------------


def _cut_connections(dsn: str, *, allow: bool) -> None:
    """What a server restart does to clients: every connection to the database is ended;
    with ``allow`` False no new one is accepted until this is called again with True."""
    name = psycopg.conninfo.conninfo_to_dict(dsn)["dbname"]
    with _admin() as admin:
        admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS {str(allow).lower()}')
        if not allow:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )


def test_the_log_reconnects_by_itself_after_its_connections_are_cut(database: str) -> None:
    log = PostgresLog(database)
    try:
        log.append([established()])
        assert log.head().seq == 1
        _cut_connections(database, allow=False)
        _cut_connections(database, allow=True)
        assert log.append([make("meeting_held")])[0].seq == 2  # no error: the dead connections were replaced
        assert log.head().seq == 2 and log.verify().ok
    finally:
        log.close()


def test_during_an_outage_requests_get_unavailable_and_then_the_log_recovers(database: str) -> None:
    log, other = PostgresLog(database, connect_timeout=2), PostgresLog(database)
    got: list[int] = []
    log.subscribe(lambda rows: got.extend(r.seq for r in rows))
    log.listen()
    try:
        log.append([established()])
        _cut_connections(database, allow=False)
        started = time.monotonic()
        with pytest.raises(Unavailable, match="unavailable.*retry shortly"):
            log.append([make("meeting_held")])
        with pytest.raises(Unavailable):
            log.head()
        assert time.monotonic() - started < 5  # an answer, not a hang
        assert log.writer_alive
        _cut_connections(database, allow=True)
        assert log.append([make("meeting_held")])[0].seq == 2
        other.append([make("meeting_held")])  # another server's append reaches this one's subscribers
        deadline = time.monotonic() + 5
        while got[-1:] != [3] and time.monotonic() < deadline:
            time.sleep(0.02)
        assert got == [1, 2, 3]
        assert log.verify().ok and log.verify().checked == 3
    finally:
        log.close()
        other.close()
