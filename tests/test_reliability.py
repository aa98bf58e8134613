"""Nothing acknowledged is lost, nothing is invented: crashes, two writers, start-up checks, backups.

The crash and two-process tests run a bounded number of rounds in CI; set
DIPLO_SOAK=1 (or run `pytest -m soak`) for the long variants.
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import socket
import sqlite3
import threading
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from factory import event_dict
from live import ADMIN, LiveServer

from diplo.events import SQLiteLog
from diplo.events.schema import migrations
from diplo.service.cli import cli

SOAK = os.environ.get("DIPLO_SOAK") == "1"
CHANNELS = ("alpha", "beta", "gamma")


def establish(server: LiveServer) -> None:
    with server.client(ADMIN) as admin:
        answer = admin.post("/events", json=[event_dict("channel_established", c, "2000-01-01") for c in CHANNELS])
        assert answer.status_code in (200, 201)


class Writers:
    """Threads posting events until stopped or out of budget; they remember what was acknowledged."""

    def __init__(self, urls: list[str], threads: int, budget: int, seed: int):
        self.urls, self.budget = urls, budget
        self.sent: set[str] = set()
        self.acknowledged: dict[str, dict] = {}
        self.statuses: list[int] = []
        self.retry_after_missing = 0
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.rng = random.Random(seed)
        self.threads = [threading.Thread(target=self._work, args=(n,)) for n in range(threads)]

    def _work(self, n: int) -> None:
        client = httpx.Client(headers={"Authorization": f"Bearer {ADMIN}"}, timeout=10)
        i = 0
        while not self.stop.is_set():
            with self.lock:
                if self.budget <= 0:
                    break
                self.budget -= 1
                day = f"20{10 + self.rng.randrange(10)}-0{1 + self.rng.randrange(9)}-1{self.rng.randrange(10)}"
            body = event_dict("meeting_held", CHANNELS[(n + i) % 3], day, summary=f"writer {n} #{i}")
            with self.lock:
                self.sent.add(body["id"])
            url = self.urls[(n + i) % len(self.urls)]
            i += 1
            try:
                answer = client.post(url + "/events", json=body)
            except httpx.HTTPError:
                continue  # the server died mid-request: not acknowledged
            with self.lock:
                self.statuses.append(answer.status_code)
                if answer.status_code == 201:
                    self.acknowledged[body["id"]] = answer.json()
                if answer.status_code == 503 and "retry-after" not in answer.headers:
                    self.retry_after_missing += 1
        client.close()

    def __enter__(self) -> Writers:
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(30)


def check_log(db: Path, writers: Writers, before: set[str]) -> int:
    log = SQLiteLog(db)
    try:
        rows = log.read()
        by_id = {r.id: r for r in rows}
        for event_id, receipt in writers.acknowledged.items():
            row = by_id.get(event_id)
            assert row is not None, f"acknowledged event {event_id} is missing"
            assert (row.seq, row.hash) == (receipt["seq"], receipt["hash"])
        invented = set(by_id) - writers.sent - before
        assert not invented, f"events nobody sent: {sorted(invented)[:3]}"
        assert [r.seq for r in rows] == list(range(1, len(rows) + 1))
        for channel in CHANNELS:
            versions = [r.version for r in rows if r.channel == channel]
            assert versions == list(range(1, len(versions) + 1))
        assert log.verify().ok
    finally:
        log.close()
    for command in (["verify"], ["replay", "--check"]):  # in this process: the CLI's code, without a start-up
        result = CliRunner().invoke(cli, [*command, "--db", str(db)])
        assert result.exit_code == 0, result.output[-2000:]
    return len(writers.acknowledged)


@pytest.mark.slow
def test_kill_9_mid_load_loses_nothing_acknowledged(tmp_path: Path) -> None:
    rounds = 12 if SOAK else 3
    server = LiveServer(tmp_path / "crash.db").start()
    establish(server)
    rng = random.Random(2026)
    acknowledged_total = 0
    try:
        for round_ in range(rounds):
            before = {r.id for r in _read_all(server.db)}
            with Writers([server.url], threads=6, budget=600, seed=round_) as writers:
                time.sleep(rng.uniform(0.3, 1.5))
                server.stop(kill=True)  # SIGKILL the server and its worker, mid-load
            server.start()  # restart on the same file: start-up verifies the chain tail
            assert httpx.get(server.url + "/health").json()["writable"] is True
            # The restarted server stays up, idle, for the checks and the next round.
            acknowledged_total += check_log(server.db, writers, before)
    finally:
        server.stop()
    print(f"\ncrash rounds: {rounds}, acknowledged events checked: {acknowledged_total}")
    assert acknowledged_total > 0


def _read_all(db: Path) -> list:
    log = SQLiteLog(db)
    try:
        return log.read()
    finally:
        log.close()


def test_two_server_processes_on_one_database(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    first = LiveServer(db).start()
    second = LiveServer(db).start()
    try:
        establish(first)
        with Writers([first.url, second.url], threads=8, budget=1200 if SOAK else 300, seed=7) as writers:
            while any(t.is_alive() for t in writers.threads):
                time.sleep(0.1)
        assert set(writers.statuses) <= {201, 503}, set(writers.statuses)
        assert writers.retry_after_missing == 0
        assert writers.statuses.count(201) > 0.9 * len(writers.statuses)
        # Optimistic concurrency holds across processes.
        version = httpx.get(first.url + "/channels/alpha").json()["version"]
        event = event_dict("meeting_held", "alpha", "2020-01-01")
        ok = httpx.post(
            second.url + "/events",
            params={"expected_version": version},
            json=event,
            headers={"Authorization": f"Bearer {ADMIN}"},
        )
        assert ok.status_code == 201
        stale = httpx.post(
            first.url + "/events",
            params={"expected_version": version},
            json=event_dict("meeting_held", "alpha", "2020-01-02"),
            headers={"Authorization": f"Bearer {ADMIN}"},
        )
        assert stale.status_code == 409 and stale.json()["current_version"] == version + 1
        writers.sent.add(event["id"])
        writers.acknowledged[event["id"]] = ok.json()
    finally:
        first.stop()
        second.stop()
    establishing = {r.id for r in _read_all(db) if r.type == "channel_established"}
    check_log(db, writers, establishing)


def test_a_broken_chain_stops_writes_but_not_reads(tmp_path: Path) -> None:
    db = tmp_path / "broken.db"
    log = SQLiteLog(db)
    log.append(
        [
            event_dict_event("channel_established", "alpha", "2000-01-01"),
            event_dict_event("meeting_held", "alpha", "2001-01-01"),
        ]
    )
    log.close()
    conn = sqlite3.connect(db)
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute(
        "UPDATE events SET body = CAST(replace(CAST(body AS TEXT), 'meeting_held on', 'meeting_held in') AS BLOB)"
        " WHERE seq = 2"
    )
    conn.commit()
    conn.close()
    server = LiveServer(db).start()
    try:
        health = httpx.get(server.url + "/health").json()
        assert health["status"] == "degraded" and health["writable"] is False and "seq 2" in health["detail"]
        refused = httpx.post(
            server.url + "/events",
            json=event_dict("meeting_held", "alpha", "2002-01-01"),
            headers={"Authorization": f"Bearer {ADMIN}"},
        )
        assert refused.status_code == 503 and "seq 2" in refused.json()["detail"]
        assert httpx.get(server.url + "/channels/alpha").status_code == 200
    finally:
        server.stop()
    assert "seq 2" in server.log_path.read_text() + server.out_path.read_text()


def event_dict_event(type_: str, channel: str, day: str):  # type: ignore[no-untyped-def]
    from factory import make

    return make(type_, channel, day)


def test_an_older_schema_is_migrated_in_place(tmp_path: Path) -> None:
    from sqlite_utils import Database

    db = tmp_path / "older.db"
    old = Database(db)
    migrations.apply(old, stop_before="m002_tokens")  # a database from before tokens existed
    assert "tokens" not in old.table_names()
    old.close()
    log = SQLiteLog(db)
    try:
        log.append([event_dict_event("channel_established", "alpha", "2000-01-01")])
    finally:
        log.close()
    upgraded = Database(db)
    assert "tokens" in upgraded.table_names()
    assert {m.name for m in migrations.applied(upgraded)} == {m.name for m in migrations._migrations}


def test_online_backup_under_concurrent_appends(tmp_path: Path) -> None:
    server = LiveServer(tmp_path / "live.db").start()
    backup = tmp_path / "backups" / "copy.db"
    try:
        establish(server)
        with Writers([server.url], threads=4, budget=400, seed=3):
            time.sleep(0.4)
            # The server's process appends while this one copies.
            result = CliRunner().invoke(cli, ["backup", "--db", str(server.db), str(backup)])
            assert result.exit_code == 0, result.output
        head = httpx.get(server.url + "/log/head").json()
    finally:
        server.stop()
    copied = SQLiteLog(backup)
    try:
        backup_head = copied.head()
        assert copied.verify().ok
    finally:
        copied.close()
    original = {r.seq: r.hash for r in _read_all(server.db)}
    assert 0 < backup_head.seq <= head["seq"]
    assert original[backup_head.seq] == backup_head.hash  # a true prefix of the live log
    restored = tmp_path / "restored.db"
    result = CliRunner().invoke(cli, ["restore", "--db", str(restored), str(backup)])
    assert result.exit_code == 0, result.output
    again = LiveServer(restored).start()
    try:
        assert httpx.get(again.url + "/log/head").json() == {"seq": backup_head.seq, "hash": backup_head.hash}
    finally:
        again.stop()


@pytest.mark.soak
def test_soak_kill_9_many_rounds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DIPLO_SOAK", "1")
    global SOAK
    SOAK = True
    try:
        test_kill_9_mid_load_loses_nothing_acknowledged(tmp_path)
    finally:
        SOAK = os.environ.get("DIPLO_SOAK") == "1"


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        found += [int(c) for c in (task / "children").read_text().split()]
    return found


def _alive(pid: int) -> bool:
    """Running, not merely a zombie waiting to be reaped."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def _port_free(port: int) -> bool:
    with socket.socket() as probe:  # no SO_REUSEPORT: binding fails while anyone listens
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_kill_9_of_the_main_process_takes_its_workers_down(tmp_path: Path) -> None:
    server = LiveServer(tmp_path / "orphan.db").start()
    assert server.process is not None
    main = server.process.pid
    workers = _children(main)
    try:
        assert workers, "the granian server has a worker process"
        os.kill(main, signal.SIGKILL)  # the main process only, not its process group
        server.process.wait(timeout=10)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and (any(map(_alive, workers)) or not _port_free(server.port)):
            time.sleep(0.1)
        assert not [w for w in workers if _alive(w)], "a worker outlived its server"
        assert _port_free(server.port), "the port is still served"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(main, signal.SIGKILL)  # whatever is left of the group
        server.process = None
