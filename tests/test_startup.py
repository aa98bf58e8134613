"""Start-up with a projection version change: reads go on from the previous tables while it rebuilds."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from factory import established, make
from litestar.testing import TestClient

from diplo.events import SQLiteLog
from diplo.projections import Projections, replay, tables
from diplo.service.app import create_app
from diplo.service.settings import Settings

TOKEN = "test-admin-token-0123456789"


@pytest.mark.parametrize("same_layout", [True, False])
def test_reads_answer_while_the_projections_rebuild_for_a_new_version(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, same_layout: bool
) -> None:
    db = tmp_path / "d.db"
    log = SQLiteLog(db)
    Projections(log)
    log.append([established(), make("channel_suspended", occurred_on="2022-08-05")])
    # An older projection version: of the same tables, or of tables this version cannot read.
    column = "version" if same_layout else "layout"
    log.run_in_writer(lambda conn: conn.execute(f"UPDATE projection_meta SET {column} = 0"))
    log.close()
    release, started = threading.Event(), threading.Event()
    real = replay.rebuild_and_swap

    def held(conn, progress=None):  # type: ignore[no-untyped-def]
        started.set()
        assert release.wait(30)
        return real(conn, progress)

    monkeypatch.setattr(replay, "rebuild_and_swap", held)
    with TestClient(create_app(Settings(db=db, seed=False, admin_token=TOKEN))) as client:
        assert started.wait(30)
        health = client.get("/health").json()
        assert (health["status"], health["stale"], health["writable"]) == ("degraded", True, False)
        answer = client.get("/channels/us-cn-mmca", params={"as_of": "2023-01-01"})
        assert answer.status_code == 200 and answer.json()["status"] == "suspended"
        assert client.get("/channels").json()["channels"][0]["status"] == "suspended"
        release.set()
        for _ in range(300):
            if not client.get("/health").json()["stale"]:
                break
            threading.Event().wait(0.05)
        assert client.get("/health").json() | {"events": 2} == {
            "status": "ok",
            "events": 2,
            "writable": True,
            "detail": None,
            "stale": False,
        }
        assert client.get("/channels/us-cn-mmca").json()["status"] == "suspended"
    reopened = SQLiteLog(db)
    try:
        assert tables.meta(reopened.reader())[0] == tables.PROJECTION_VERSION  # type: ignore[index]
    finally:
        reopened.close()


def test_a_rebuild_that_finds_the_database_busy_is_tried_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "d.db"
    log = SQLiteLog(db)
    Projections(log)
    log.append([established(), make("channel_suspended", occurred_on="2022-08-05")])
    log.run_in_writer(lambda conn: conn.execute("UPDATE projection_meta SET version = 0"))
    log.close()
    real, failures = replay.rebuild_and_swap, [1, 1]

    def busy_twice(conn, progress=None):  # type: ignore[no-untyped-def]
        if failures:  # as when another server process holds the write lock for its own rebuild
            failures.pop()
            raise RuntimeError("database is locked")
        return real(conn, progress)

    monkeypatch.setattr(replay, "rebuild_and_swap", busy_twice)
    reopened = SQLiteLog(db)
    try:
        projections = Projections(reopened, rebuild_in_background=True)
        projections.start_rebuild()
        for _ in range(200):
            if not projections.stale:
                break
            threading.Event().wait(0.05)
        assert not projections.stale and projections.rebuild_attempts == 1  # the writer itself tried it twice
        assert projections.channel_state("us-cn-mmca").status == "suspended"  # type: ignore[union-attr]
    finally:
        reopened.close()


def test_a_new_database_gets_current_projections_without_a_rebuild(tmp_path: Path) -> None:
    log = SQLiteLog(tmp_path / "new.db")
    try:
        projections = Projections(log)
        assert projections.last_replay is not None and projections.last_replay.events == 0
        assert tables.meta(log.reader())[0::3] == (tables.PROJECTION_VERSION, tables.LAYOUT)  # type: ignore[index]
        log.append([established()])
        assert projections.channel_state("us-cn-mmca").status == "active"
        _, drift = projections.check()
        assert all(d.only_live == d.only_rebuilt == 0 for d in drift)
    finally:
        log.close()


def test_projection_tables_of_an_old_layout_without_a_version_are_rebuilt_even_with_no_events(
    tmp_path: Path,
) -> None:
    """An older diplo made its tables, then crashed before it stamped their version: they are not current."""
    db = tmp_path / "old.db"
    SQLiteLog(db).close()
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE channel_history (channel TEXT, occurred_on TEXT, seq INTEGER, body BLOB)")
    log = SQLiteLog(db)
    try:
        Projections(log)
        assert tables.layout_of(log.reader()) == tables.LAYOUT  # type: ignore[arg-type]
        assert log.append([established()])[0].seq == 1  # the append hook writes the current layout
    finally:
        log.close()
