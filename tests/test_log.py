"""The SQLite log beyond the backend contract (tests/contract.py, run by test_backend_sqlite.py):
export and load, canonical bytes."""

from __future__ import annotations

from pathlib import Path

from factory import established, make

from diplo.events import SQLiteLog
from diplo.events.catalog import encode
from diplo.service.loading import export, load_file


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


def test_canonical_bytes_do_not_depend_on_input_key_order(log: SQLiteLog) -> None:
    from diplo.events import decode_event

    a = decode_event(
        b'{"type":"channel_resumed","channel":"x","occurred_on":"2023-11-15","summary":"s",'
        b'"sources":[{"url":"https://a.org"}],"id":"6f1c6a39-5f0e-4a8e-9d7c-3f3b1f0a0a01"}'
    )
    b = decode_event(
        b'{"id":"6f1c6a39-5f0e-4a8e-9d7c-3f3b1f0a0a01","sources":[{"url":"https://a.org"}],'
        b'"summary":"s","occurred_on":"2023-11-15T08:00:00+08:00","channel":"x","type":"channel_resumed"}'
    )
    assert encode(a) == encode(b)
