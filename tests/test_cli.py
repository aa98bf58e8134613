"""The `diplo` command as a user meets it: what each command prints, and what it leaves behind."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog
from click.testing import CliRunner, Result
from factory import event_dict
from litestar.testing import TestClient
from live import LiveServer

from diplo.events import SQLiteLog
from diplo.service.app import create_app
from diplo.service.cli import cli
from diplo.service.settings import Settings

SEEDS = sorted((Path(__file__).parent.parent / "seeds").glob("*.jsonl"))
SEED_EVENTS = sum(1 for f in SEEDS for line in f.read_text().splitlines() if line.strip())
HASH = re.compile(r"\b[0-9a-f]{64}\b")


@pytest.fixture(autouse=True)
def _keep_log_config() -> Iterator[None]:
    saved = structlog.get_config()  # the CLI configures logging for itself; leave other tests theirs
    yield
    structlog.configure(**saved)


def diplo(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    db = tmp_path / "diplo.db"
    assert diplo("load", "--db", db, *SEEDS).exit_code == 0
    return db


def write_lines(path: Path, events: list[dict]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return path


def test_load_counts_with_correct_plurals_and_reloading_is_harmless(tmp_path: Path) -> None:
    db, one = tmp_path / "d.db", write_lines(tmp_path / "one.jsonl", [event_dict("channel_established")])
    first = diplo("load", "--db", db, one)
    assert first.exit_code == 0
    assert "1 event, 1 appended, 0 already present" in first.stderr
    again = diplo("load", "--db", db, one)
    assert "1 event, 0 appended, 1 already present" in again.stderr


def test_load_names_the_bad_line_and_loads_nothing_of_the_file(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    bad = write_lines(tmp_path / "bad.jsonl", [event_dict("channel_established"), {"type": "meeting_held"}])
    result = diplo("load", "--db", db, bad)
    assert result.exit_code == 1
    assert "bad.jsonl:2" in result.stderr and "nothing of this file was loaded" in result.stderr
    log = SQLiteLog(db)
    try:
        assert log.head().seq == 0
    finally:
        log.close()


def test_export_then_load_reproduces_the_log(seeded: Path, tmp_path: Path) -> None:
    dump = tmp_path / "log.jsonl"
    result = diplo("export", "--db", seeded, "-o", dump)
    assert result.exit_code == 0 and f"exported {SEED_EVENTS} events" in result.stderr
    copy = tmp_path / "copy.db"
    assert diplo("load", "--db", copy, dump).exit_code == 0
    assert _head(copy) == _head(seeded)
    single = tmp_path / "single.db"
    diplo("load", "--db", single, write_lines(tmp_path / "e.jsonl", [event_dict("channel_established")]))
    assert "exported 1 event\n" in diplo("export", "--db", single, "-o", tmp_path / "e2.jsonl").stderr


def _head(db: Path) -> tuple[int, str]:
    log = SQLiteLog(db)
    try:
        head = log.head()
        return head.seq, head.hash
    finally:
        log.close()


def test_status_json_has_the_shape_of_get_channels(seeded: Path) -> None:
    printed = json.loads(diplo("status", "--db", seeded, "--json", "--as-of", "2023-06-01").stdout)
    with TestClient(create_app(Settings(db=seeded, seed=False))) as client:
        served = client.get("/channels", params={"as_of": "2023-06-01"}).json()
    assert printed == served
    assert {c["channel"]: c["status"] for c in printed["channels"]}["us-cn-mmca"] == "suspended"


def test_status_table_names_every_channel(seeded: Path) -> None:
    result = diplo("status", "--db", seeded, "--as-of", "2023-06-01")
    assert result.exit_code == 0
    assert "us-cn-mmca" in result.stdout and "suspended" in result.stdout


def test_token_create_list_revoke(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    created = diplo("token", "create", "--db", db, "--role", "writer", "--name", "newsroom")
    assert created.exit_code == 0
    secret = created.stdout.strip()
    assert secret.startswith("diplo_") and "'newsroom' (writer)" in created.stderr
    listed = diplo("token", "list", "--db", db)
    assert "newsroom" in listed.stdout and "writer" in listed.stdout and secret not in listed.stdout
    as_json = [json.loads(line) for line in diplo("token", "list", "--db", db, "--json").stdout.splitlines()]
    assert [(t["name"], t["role"], t["revoked_at"]) for t in as_json] == [("newsroom", "writer", None)]
    assert diplo("token", "create", "--db", db, "--role", "writer", "--name", "newsroom").exit_code == 1
    revoked = diplo("token", "revoke", "--db", db, "newsroom")
    assert revoked.exit_code == 0 and "revoked 'newsroom'" in revoked.stderr
    assert json.loads(diplo("token", "list", "--db", db, "--json").stdout)["revoked_at"]
    again = diplo("token", "revoke", "--db", db, "newsroom")
    assert again.exit_code == 1 and "no active token named 'newsroom'" in again.stderr


def test_backup_prints_the_head_hash_whole_and_restore_brings_it_back(seeded: Path, tmp_path: Path) -> None:
    seq, digest = _head(seeded)
    copy = tmp_path / "backups" / "a-rather-long-directory-name-for-the-backups" / "copy.db"
    backed = diplo("backup", "--db", seeded, copy)
    assert backed.exit_code == 0
    assert any(digest in line for line in backed.stdout.splitlines()), backed.stdout  # one piece, not wrapped
    assert f"backed up {SEED_EVENTS} events" in backed.stdout and not backed.stdout.lstrip().startswith("{")
    assert json.loads(diplo("backup", "--db", seeded, tmp_path / "copy2.db", "--json").stdout) == {
        "seq": seq,
        "hash": digest,
    }
    assert diplo("backup", "--db", seeded, copy).exit_code == 1  # never overwrites
    target = tmp_path / "restored.db"
    restored = diplo("restore", "--db", target, copy)
    assert restored.exit_code == 0
    assert any(digest in line for line in restored.stdout.splitlines())
    assert f"restored {SEED_EVENTS} events" in restored.stdout
    assert _head(target) == (seq, digest)
    refused = diplo("restore", "--db", target, copy)
    assert refused.exit_code == 1 and "--force" in refused.stderr
    assert json.loads(diplo("restore", "--db", target, copy, "--force", "--json").stdout)["seq"] == seq


def test_verify_says_so_in_a_sentence_and_in_json_on_request(seeded: Path) -> None:
    said = diplo("verify", "--db", seeded)
    assert said.exit_code == 0
    assert "intact" in said.stdout and f"{SEED_EVENTS} events" in said.stdout and "{" not in said.stdout
    assert json.loads(diplo("verify", "--db", seeded, "--json").stdout)["ok"] is True
    conn = sqlite3.connect(seeded)
    conn.execute("DROP TRIGGER events_no_update")
    body = conn.execute("SELECT body FROM events WHERE seq = 5").fetchone()[0]
    conn.execute("UPDATE events SET body = ? WHERE seq = 5", (body + b" ",))
    conn.commit()
    conn.close()
    broken = diplo("verify", "--db", seeded)
    assert broken.exit_code == 1 and "broken at seq" in broken.stderr
    as_json = diplo("verify", "--db", seeded, "--json")
    assert as_json.exit_code == 1 and json.loads(as_json.stdout)["ok"] is False


def test_replay_and_check_report_with_correct_plurals(seeded: Path, tmp_path: Path) -> None:
    replayed = diplo("replay", "--db", seeded)
    assert replayed.exit_code == 0 and re.search(rf"{SEED_EVENTS} events, \d+ channels in", replayed.stderr)
    checked = diplo("replay", "--db", seeded, "--check")
    assert checked.exit_code == 0 and "no drift" in checked.stderr
    single = tmp_path / "single.db"
    diplo("load", "--db", single, write_lines(tmp_path / "e.jsonl", [event_dict("channel_established")]))
    assert "1 event, 1 channel in" in diplo("replay", "--db", single).stderr


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["serve"],
        ["load"],
        ["export"],
        ["verify"],
        ["replay"],
        ["status"],
        ["token"],
        ["token", "create"],
        ["token", "list"],
        ["token", "revoke"],
        ["backup"],
        ["restore"],
    ],
)
def test_help_is_plain_text(command: list[str]) -> None:
    shown = diplo(*command, "--help")
    assert shown.exit_code == 0
    assert "``" not in shown.stdout and ":func:" not in shown.stdout


def test_first_start_logs_one_line_for_the_seeds_and_a_restart_says_how_to_get_a_token(tmp_path: Path) -> None:
    server = LiveServer(tmp_path / "first.db", seed=True, env={"DIPLO_ADMIN_TOKEN": ""}).start()
    server.stop()
    lines = [json.loads(line) for line in server.logs().splitlines() if line.startswith("{")]
    assert not [r for r in lines if r.get("event") == "event.appended"]
    seeded = [r for r in lines if r.get("event") == "seeds.loaded"]
    assert [(r["events"], r["files"]) for r in seeded] == [(SEED_EVENTS, len(SEEDS))]
    first = server.out_path.read_text()
    assert "admin token (shown once" in first and "diplo_" in first
    server.start().stop()  # a restart: the token exists and is not shown again
    restart = server.out_path.read_text()[len(first) :]
    assert "diplo_" not in restart
    assert f"diplo token create --role admin --db {server.db}" in restart
