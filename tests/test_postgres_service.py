"""The service on PostgreSQL: SQLite's SQL translated (events/pg_adapter.py), a replay that does not
stop appends, several servers on one database (read-your-writes, SSE fan-out across them), faults
with real processes (kill -9 of one server, a restart of PostgreSQL), and ``diplo migrate``.

The restart of PostgreSQL stops the server every test shares: that one test is marked
``pg_restart`` (exclude it with ``-m 'not pg_restart'``).
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pgserver
import psycopg
import pytest
from click.testing import CliRunner
from factory import established, event_dict, make
from live import ADMIN, LiveServer

from diplo.events.backends import open_log
from diplo.events.postgres import PostgresLog
from diplo.projections.postgres import ServerProjections
from diplo.service.cli import cli
from diplo.service.runtime import open_projections

pytestmark = pytest.mark.postgres


# -- the dialect: the same statements give the same answers on both ---------------------------------

STATEMENTS: list[tuple[str, tuple]] = [
    ("CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER NOT NULL, b BLOB, r REAL) STRICT", ()),
    ("CREATE TABLE w (a TEXT NOT NULL, s INTEGER NOT NULL, PRIMARY KEY (a, s)) STRICT, WITHOUT ROWID", ()),
    ("INSERT INTO t (k, n, b, r) VALUES (?, ?, ?, ?)", ("b", 2, b'{"succeeds":"x"}', 0.5)),
    ("INSERT OR REPLACE INTO t (k, n, b, r) VALUES (?, ?, ?, ?)", ("a", 1, b"{}", None)),
    ("INSERT OR REPLACE INTO t (k, n, b, r) VALUES (?, ?, ?, ?)", ("a", 5, b"[]", 1.5)),
    ("INSERT OR IGNORE INTO t (k, n, b, r) VALUES (?, ?, ?, ?)", ("a", 9, b"", 9.0)),
    ("INSERT INTO w (a, s) VALUES ('x', 1), ('x', 2), ('Y', 3), ('y', 4)", ()),
    ("SELECT k, n, b, r FROM t ORDER BY k", ()),
    ("SELECT a FROM w ORDER BY a", ()),  # byte order: 'Y' before 'x' before 'y', whatever the locale
    ("SELECT k FROM t WHERE instr(b, ?) > 0", (b'"succeeds":"x"',)),
    ("SELECT k FROM t WHERE instr(b, '\"succeeds\"') > 0", ()),
    ("SELECT count(*) FROM (SELECT a FROM w EXCEPT SELECT a FROM w WHERE s > 2)", ()),
    ("SELECT max(n, 3), min(n, 3), ifnull(r, -1) FROM t ORDER BY k", ()),
    ("SELECT group_concat(a, '|') FROM (SELECT a FROM w ORDER BY s)", ()),
    ("SELECT k FROM t WHERE r IS ? ORDER BY k", (None,)),
    ("SELECT k FROM t WHERE r IS NOT ? ORDER BY k", (None,)),
    ("SELECT s FROM w ORDER BY s LIMIT -1 OFFSET 2", ()),
    ("SELECT '50%' || k FROM t WHERE n > ? ORDER BY k", (0,)),
    ("SELECT sum(n), max(n) FROM t", ()),
    ("SELECT julianday('2024-04-03') - julianday(?), julianday('2024-04-03T12:00:00')", ("2024-03-30",)),
    ("SELECT n FROM t WHERE k = ?", ("nothing",)),
    ("UPDATE t SET n = n + 1 WHERE k = ?", ("a",)),
    ("PRAGMA cache_size=-1000", ()),
    ("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?", ("w",)),
]


def _answers(conn: Any) -> list[object]:
    answers: list[object] = []
    for sql, params in STATEMENTS:
        cursor = conn.execute(sql, params)
        rows = [tuple(bytes(v) if isinstance(v, bytes | memoryview) else v for v in row) for row in cursor.fetchall()]
        answers.append((rows, cursor.rowcount if sql.startswith(("UPDATE", "INSERT")) else None))
    return answers


def test_the_adapter_answers_sqlites_sql_as_sqlite_does(database: str) -> None:
    lite = sqlite3.connect(":memory:", isolation_level=None)
    log = PostgresLog(database)
    try:
        assert _answers(log.reader()) == _answers(lite)
        with pytest.raises(sqlite3.IntegrityError):  # code written for sqlite3 catches PostgreSQL's too
            log.reader().execute("INSERT INTO t (k, n) VALUES (?, ?)", ("a", 1))
        cursor = log.reader().execute("SELECT s FROM w ORDER BY s")
        assert (cursor.fetchone(), cursor.fetchmany(2), list(cursor)) == ((1,), [(2,), (3,)], [(4,)])
    finally:
        log.close()


def test_a_session_streams_a_scan_and_still_drops_its_table(database: str) -> None:
    log = PostgresLog(database)
    session = log.session()
    try:
        session.executescript(
            "CREATE TABLE big (n INTEGER PRIMARY KEY); INSERT INTO big SELECT generate_series(1, 5000)"
        )
        session.execute("BEGIN")
        cursor = session.execute("SELECT n FROM big ORDER BY n")
        assert isinstance(cursor._cursor, psycopg.ServerCursor)  # a page at a time, not 5,000 rows at once
        assert len(cursor.fetchmany(100)) == 100
        session.execute("DROP TABLE big")  # the open cursor is closed first, as SQLite would allow
        session.commit()
    finally:
        session.close()
        log.close()


# -- the role servers connect as ---------------------------------------------------------------------


def test_a_member_of_diplo_app_serves_and_replays_but_may_not_update_the_log(database: str) -> None:
    owner = open_log(database)  # the migrations, as the database's owner, create diplo_app and its grants
    owner.append([established("us-cn-mmca", "2020-01-01")])
    owner.close()
    login = f"diplo_test_{uuid.uuid4().hex[:8]}"
    with pgserver.admin() as admin:
        admin.execute(f"CREATE ROLE {login} LOGIN IN ROLE diplo_app")
    as_member = database.replace("postgres@", f"{login}@", 1)
    try:
        log = open_log(as_member)
        try:
            projections = open_projections(log)
            log.append([make("meeting_held", "us-cn-mmca", "2021-01-01")])
            assert projections.replay().events == 2  # it owns (as diplo_app) the tables it swaps
            state = projections.channel_state("us-cn-mmca")
            assert state is not None and str(state.last_meeting) == "2021-01-01"
            assert log.verify().ok
        finally:
            log.close()
        with psycopg.connect(as_member, autocommit=True) as conn:
            for statement in ("UPDATE events SET writer = 'x'", "DELETE FROM events", "TRUNCATE events"):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):  # refused before any trigger runs
                    conn.execute(statement)
    finally:
        with pgserver.admin() as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (login,))
            admin.execute(f"DROP ROLE IF EXISTS {login}")


# -- replay on a server: appends go on while the tables are rebuilt -----------------------------------


def test_a_replay_builds_outside_the_append_lock_and_takes_what_was_appended_meanwhile(database: str) -> None:
    log = open_log(database)
    projections = open_projections(log)
    other = open_log(database)  # another server on the same database
    try:
        assert isinstance(projections, ServerProjections)
        log.append([established("us-cn-mmca", "2020-01-01"), make("meeting_held", "us-cn-mmca", "2020-02-01")])
        building, release = threading.Event(), threading.Event()
        appended_during: list[float] = []

        def progress(_n: int) -> None:  # called by the build, between the channels and the sanctions
            building.set()
            release.wait(10)

        replaying = threading.Thread(target=lambda: appended_during.append(projections.replay(progress).events))
        replaying.start()
        assert building.wait(10)
        started = time.monotonic()
        suspended = other.append([make("channel_suspended", "us-cn-mmca", "2020-03-01", by="CHN", reason="x")])
        waited = time.monotonic() - started
        release.set()
        replaying.join(30)
        assert waited < 2, f"an append waited {waited:.1f} s for the replay"
        assert appended_during == [2]  # the build saw the log as it stood when it began
        state = projections.channel_state("us-cn-mmca")
        assert state is not None and (state.status, state.version) == ("suspended", 3)  # caught up at the swap
        assert state.last_event_id == suspended[0].id
        _, drift = projections.check()
        assert all(d.only_live == d.only_rebuilt == 0 for d in drift)
    finally:
        other.close()
        log.close()


def test_projections_of_two_servers_follow_each_others_appends(database: str) -> None:
    """Each server's projections cache channel heads; an append by the other must never be overwritten."""
    first, second = open_log(database), open_log(database)
    try:
        first_views, second_views = open_projections(first), open_projections(second)
        first.append([established("us-cn-mmca", "2020-01-01")])
        first.append([make("meeting_held", "us-cn-mmca", "2020-02-01")])  # first caches the channel's head
        second.append([make("channel_suspended", "us-cn-mmca", "2020-03-01", by="CHN", reason="x")])
        first.append([make("meeting_scheduled", "us-cn-mmca", "2020-04-01", scheduled_for="2020-05-01")])
        for views in (first_views, second_views):
            state = views.channel_state("us-cn-mmca")
            assert state is not None
            assert (state.status, state.last_meeting, state.version) == ("suspended", state.last_meeting, 4)
            assert str(state.next_meeting) == "2020-05-01"
        _, drift = first_views.check()
        assert all(d.only_live == d.only_rebuilt == 0 for d in drift)
    finally:
        first.close()
        second.close()


# -- several diplo serve processes on one database ---------------------------------------------------


@pytest.fixture
def two_servers(database: str, tmp_path: Path) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two servers started at the same moment on a new database, as a deployment of two replicas is."""
    servers = [LiveServer(database, folder=tmp_path) for _ in range(2)]
    try:
        for server in servers:
            server.launch()
        for server in servers:
            server.wait_until_healthy()
        yield servers[0], servers[1]
    finally:
        for server in servers:
            server.stop()


def _read_stream(url: str, out: list[tuple[int, float]], ready: threading.Event, want: int) -> None:
    with httpx.stream("GET", url + "/events/stream", timeout=30) as response:
        ready.set()
        for line in response.iter_lines():
            if line.startswith("id:"):
                out.append((int(line[3:].strip()), time.monotonic()))
                if len(out) >= want:
                    return


def test_two_servers_accept_writes_read_each_others_and_fan_out_the_stream(
    two_servers: tuple[LiveServer, LiveServer],
) -> None:
    a, b = two_servers
    got: dict[str, list[tuple[int, float]]] = {"a": [], "b": []}
    readies = {name: threading.Event() for name in got}
    readers = [
        threading.Thread(target=_read_stream, args=(server.url, got[name], readies[name], 3), daemon=True)
        for name, server in (("a", a), ("b", b))
    ]
    for reader in readers:
        reader.start()
    assert all(ready.wait(10) for ready in readies.values())
    time.sleep(0.3)  # the streams are subscribed
    with a.client(ADMIN) as to_a, b.client(ADMIN) as to_b:
        sent = time.monotonic()
        first = to_a.post("/events", json=event_dict("channel_established", "us-cn-mmca", "2020-01-01"))
        assert first.status_code == 201, first.text
        assert to_b.get("/channels/us-cn-mmca").json()["status"] == "active"  # its own write, from the other server
        second = to_b.post("/events", json=event_dict("channel_suspended", "us-cn-mmca", "2022-08-05"))
        assert second.status_code == 201, second.text
        assert to_a.get("/channels/us-cn-mmca").json()["status"] == "suspended"
        assert to_a.get(f"/events/{second.json()['id']}").status_code == 200
        version = {"expected_version": second.json()["version"]}
        third = to_a.post("/events", json=event_dict("channel_resumed", "us-cn-mmca", "2023-11-15"), params=version)
        stale = to_b.post("/events", json=event_dict("meeting_held", "us-cn-mmca", "2024-04-03"), params=version)
        assert (third.status_code, stale.status_code) == (201, 409)  # one version order across servers
    for reader in readers:
        reader.join(10)
    for name in got:
        assert [seq for seq, _ in got[name]] == [1, 2, 3], name  # every server streams every append, in order
        assert max(at for _, at in got[name]) - sent < 3
    # Each append reached the other server's subscribers within a second of being acknowledged.
    assert got["b"][0][1] - sent < 1.0 and got["a"][1][1] - sent < 2.0


class Load:
    """Clients appending to a set of servers: each event has its own id and is retried (same id) on
    another server until acknowledged. Records what was acknowledged and every status seen."""

    def __init__(self, servers: list[LiveServer], channel: str):
        self.servers = servers
        self.channel = channel
        self.acknowledged: dict[str, tuple[int, str]] = {}
        self.sent: set[str] = set()
        self.statuses: list[int] = []
        self.retry_after: list[str] = []
        self.stop = threading.Event()
        self._lock = threading.Lock()

    def run(self, worker: int) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            body = {**event_dict("meeting_held", self.channel, "2024-04-03"), "id": str(uuid.uuid4())}
            with self._lock:
                self.sent.add(body["id"])
            self._until_acknowledged(body, worker + n)

    def _until_acknowledged(self, body: dict, turn: int) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            server = self.servers[turn % len(self.servers)]
            turn += 1
            try:
                answer = httpx.post(server.url + "/events", json=body, headers={"Authorization": f"Bearer {ADMIN}"},
                                    timeout=10)  # fmt: skip
            except httpx.HTTPError:
                time.sleep(0.05)
                continue
            with self._lock:
                self.statuses.append(answer.status_code)
                if answer.status_code == 503:
                    self.retry_after.append(answer.headers.get("retry-after", ""))
            if answer.status_code in (200, 201):
                receipt = answer.json()
                with self._lock:
                    self.acknowledged[body["id"]] = (receipt["seq"], receipt["hash"])
                return
            if self.stop.is_set() and answer.status_code != 503:
                return
            time.sleep(0.05)

    def wait_for(self, acknowledged: int, timeout: float = 30) -> None:
        """Until that many appends were acknowledged (the load goes on meanwhile)."""
        deadline = time.monotonic() + timeout
        while len(self.acknowledged) < acknowledged:
            assert time.monotonic() < deadline, f"{len(self.acknowledged)} acknowledged in {timeout} s"
            time.sleep(0.02)

    def start(self, workers: int = 4) -> list[threading.Thread]:
        threads = [threading.Thread(target=self.run, args=(w,), daemon=True) for w in range(workers)]
        for thread in threads:
            thread.start()
        return threads


def _check_nothing_lost(database: str, load: Load) -> None:
    log = PostgresLog(database)
    try:
        rows = {r.id: r for r in log.read()}
        for event_id, (seq, digest) in load.acknowledged.items():
            assert event_id in rows, f"acknowledged {event_id} is not in the log"
            assert (rows[event_id].seq, rows[event_id].hash) == (seq, digest)
        appended = {r.id for r in rows.values() if r.type == "meeting_held"}
        assert appended <= load.sent  # nothing that no client sent
        assert log.verify().ok
    finally:
        log.close()


def _establish(server: LiveServer, channel: str) -> None:
    with server.client(ADMIN) as client:
        assert client.post("/events", json=event_dict("channel_established", channel, "2020-01-01")).status_code == 201


@pytest.mark.slow
def test_kill_9_of_one_server_under_load_loses_nothing_acknowledged(
    two_servers: tuple[LiveServer, LiveServer], database: str
) -> None:
    a, b = two_servers
    _establish(a, "us-cn-mmca")
    load = Load([a, b], "us-cn-mmca")
    threads = load.start()
    load.wait_for(50)  # both servers busy
    before = len(load.acknowledged)
    a.stop(kill=True)  # SIGKILL mid-load: clients of a retry on b
    load.wait_for(before + 50)
    load.stop.set()
    for thread in threads:
        thread.join(70)
    assert before > 0 and len(load.acknowledged) > before  # b kept acknowledging after a died
    assert 500 not in load.statuses
    with b.client() as client:
        assert client.get("/health").json()["status"] == "ok"
    _check_nothing_lost(database, load)


@pytest.mark.pg_restart
def test_a_restart_of_postgresql_mid_load_answers_503_and_the_servers_recover_by_themselves(
    two_servers: tuple[LiveServer, LiveServer], database: str
) -> None:
    a, b = two_servers
    _establish(a, "us-cn-mmca")
    load = Load([a, b], "us-cn-mmca")
    threads = load.start()
    time.sleep(1.0)
    cluster = subprocess.run(["ls", "/etc/postgresql"], capture_output=True, text=True, check=True).stdout.split()[0]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", cluster, "main", "restart", "-m", "fast"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    deadline = time.monotonic() + 30
    recovered = False
    while time.monotonic() < deadline and not recovered:  # the servers were not restarted: they reconnect
        with contextlib.suppress(httpx.HTTPError):
            recovered = all(httpx.get(s.url + "/health", timeout=2).status_code == 200 for s in (a, b))
        time.sleep(0.2)
    assert recovered, "the servers did not recover by themselves within 30 s of the restart"
    acknowledged_before = len(load.acknowledged)
    time.sleep(1.0)
    load.stop.set()
    for thread in threads:
        thread.join(70)
    assert len(load.acknowledged) > acknowledged_before  # appends work again
    assert 500 not in load.statuses
    assert 503 in load.statuses and set(load.retry_after) <= {"1"} and load.retry_after
    _check_nothing_lost(database, load)


# -- diplo migrate ----------------------------------------------------------------------------------


def _cli(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def test_migrate_sqlite_to_postgresql_and_back_keeps_every_row_and_hash(tmp_path: Path, database: str) -> None:
    source, back = tmp_path / "source.db", tmp_path / "back.db"
    log = open_log(source)
    open_projections(log)
    log.append([established("us-cn-mmca", "2020-01-01"), established("us-cn-mil-to-mil", "2019-01-01")])
    first = log.append([make("meeting_held", "us-cn-mmca", "2021-01-01")])
    log.append([make("event_corrected", "us-cn-mmca", "2021-02-01", target_id=first[0].id,
                     changes={"occurred_on": "2020-06-01"})])  # fmt: skip
    log.append([make("channel_suspended", "us-cn-mil-to-mil", "2022-08-05", by="CHN", reason="visit")])
    log.close()
    _cli("token", "create", "--db", str(source), "--role", "writer", "--name", "newsroom")
    known_at = open_log(source).read()[2].recorded_at  # before the correction was recorded

    moved = json.loads(_cli("migrate", "--from", f"sqlite:///{source}", "--to", database, "--json"))
    assert (moved["copied"], moved["tokens"]) == (5, 1)
    returned = json.loads(_cli("migrate", "--from", database, "--to", f"sqlite:///{back}", "--json"))
    assert returned["head"] == moved["head"]

    def rows(db: str | Path) -> list[tuple]:
        opened = open_log(db)
        try:
            return [
                (r.seq, r.id, r.version, r.recorded_at, r.writer, r.body, r.prev_hash, r.hash) for r in opened.read()
            ]
        finally:
            opened.close()

    assert rows(source) == rows(database) == rows(back)  # every column, every hash, recorded_at too
    for db in (str(source), database, str(back)):
        assert "chain intact: 5 events" in _cli("verify", "--db", db)
        assert "no drift" in CliRunner().invoke(cli, ["replay", "--check", "--db", db]).stderr
    answers = [_cli("status", "--json", "--db", db) for db in (str(source), database, str(back))]
    assert answers[0] == answers[1] == answers[2]
    then = [_cli("status", "--json", "--known-at", known_at, "--db", db) for db in (str(source), database)]
    assert then[0] == then[1]  # known_at answers survive: transaction time was copied, not restamped
    assert "newsroom" in _cli("token", "list", "--db", database)
    again = json.loads(_cli("migrate", "--from", f"sqlite:///{source}", "--to", database, "--json"))
    assert (again["copied"], again["already_there"]) == (0, 5)  # a second run copies only what is new


def test_migrate_refuses_a_target_holding_another_log(tmp_path: Path, database: str) -> None:
    source = tmp_path / "source.db"
    for db in (source, database):
        log = open_log(db)
        log.append([established("us-cn-mmca", "2020-01-01")])  # same event type, another id: another log
        log.close()
    result = CliRunner().invoke(cli, ["migrate", "--from", str(source), "--to", database])
    assert result.exit_code == 1
    assert "already holds another log" in result.output
    assert open_log(database).head().seq == 1  # nothing was copied


# -- the review queue beside the log ------------------------------------------------------------------


def test_the_candidate_queue_imports_lists_and_accepts_on_postgresql(database: str) -> None:
    from inprocess import InProcess
    from test_interop import CHANNELS, POLECAT, by_origin

    log = open_log(database)
    log.append([established(c, day) for c, day in CHANNELS.items()], writer="test")
    log.close()
    imported = json.loads(_cli("candidates", "import", "--db", database, str(POLECAT), "--format", "polecat", "--json"))
    assert (imported["rows"], imported["candidates"], imported["merged"]) == (10, 5, 1)
    again = json.loads(_cli("candidates", "import", "--db", database, str(POLECAT), "--format", "polecat", "--json"))
    assert again["candidates"] == again["merged"] == 0  # the same rows read again add nothing
    app = InProcess(database).start()
    try:
        found = app.client().get("/candidates", params={"status": "all"}).json()["candidates"]
        meeting = by_origin(found, "20240403-0712-2f9c1a7e5b31")
        reviewer = app.client(app.token("writer", "reviewer"))
        accepted = reviewer.post(f"/candidates/{meeting['id']}/accept", json={"channel": "us-cn-mmca"})
        assert accepted.status_code == 201, accepted.text
        state = app.client().get("/channels/us-cn-mmca").json()
        assert state["last_meeting"] == "2024-04-03"
    finally:
        app.stop()
