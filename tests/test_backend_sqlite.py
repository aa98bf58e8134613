"""The backend contract (tests/contract.py) on SQLite."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from contract import LogContract

from diplo.events.backends import open_log
from diplo.events.sqlite import SQLiteLog


class SQLiteBackend:
    def __init__(self, path: Path):
        self.path = path

    def open(self, **options: Any) -> SQLiteLog:
        return SQLiteLog(self.path, **options)

    def execute(self, sql: str, params: tuple = ()) -> None:
        conn = sqlite3.connect(self.path)
        try:
            conn.execute(sql, params)
            conn.commit()
        finally:
            conn.close()

    def tamper(self, seq: int, body: bytes) -> None:
        self.execute("DROP TRIGGER IF EXISTS events_no_update")
        self.execute("UPDATE events SET body = ? WHERE seq = ?", (body, seq))

    def fresh(self) -> SQLiteLog:
        return SQLiteLog(self.path.with_name(self.path.stem + "-copy.db"))


class TestSQLiteLog(LogContract):
    @pytest.fixture
    def backend(self, tmp_path: Path) -> SQLiteBackend:
        return SQLiteBackend(tmp_path / "diplo.db")


@pytest.mark.parametrize("form", ["{path}", "sqlite:///{path}"])
def test_open_log_picks_sqlite_for_a_path_or_a_sqlite_url(tmp_path: Path, form: str) -> None:
    path = tmp_path / "d.db"
    log = open_log(form.format(path=path))  # an absolute path gives sqlite:////abs/d.db
    try:
        assert isinstance(log, SQLiteLog) and Path(log.path) == path
    finally:
        log.close()


def test_open_log_refuses_a_scheme_it_does_not_know() -> None:
    with pytest.raises(ValueError, match="mysql:// is not supported"):
        open_log("mysql://localhost/diplo")
