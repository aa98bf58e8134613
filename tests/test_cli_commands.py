"""Every `diplo` command through click's CliRunner, in this process: the ones tests/test_cli.py and
tests/test_interop.py leave out (serve, migrate between SQLite files, the queue's table) and their refusals."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import structlog
from click.testing import CliRunner, Result
from factory import event_dict
from live import free_port

from diplo.events import SQLiteLog
from diplo.service.cli import cli
from diplo.service.settings import WORKER_ENV

SEEDS = sorted((Path(__file__).parent.parent / "seeds").glob("*.jsonl"))


@pytest.fixture(autouse=True)
def _keep_log_config() -> Iterator[None]:
    saved = structlog.get_config()  # the CLI configures logging for itself; leave other tests theirs
    yield
    structlog.configure(**saved)


def diplo(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, [str(a) for a in args], env=env)


def write_lines(path: Path, events: list[dict]) -> Path:
    path.write_text("".join(json.dumps(e) + "\n" for e in events))
    return path


def newer_schema(db: Path) -> Path:
    """A database a later diplo migrated: one migration this diplo does not know."""
    SQLiteLog(db).close()
    conn = sqlite3.connect(db)
    conn.execute(
        "INSERT INTO _sqlite_migrations (migration_set, name, applied_at) VALUES ('diplo.events', 'm999_future', 'x')"
    )
    conn.commit()
    conn.close()
    return db


# Every command and subcommand `diplo --help` lists: each has its own help, in plain text.
COMMANDS = [
    ["serve"],
    ["load"],
    ["export"],
    ["verify"],
    ["replay"],
    ["status"],
    ["token", "create"],
    ["token", "list"],
    ["token", "revoke"],
    ["backup"],
    ["restore"],
    ["migrate"],
    ["candidates", "import"],
    ["candidates", "list"],
    ["candidates", "accept"],
    ["candidates", "reject"],
]


def commands_listed(*group: str) -> set[str]:
    section = diplo(*group, "--help").stdout.split("Commands:")[1]
    return {line.split()[0] for line in section.splitlines() if line.strip()}


def test_these_are_all_the_commands_the_help_lists() -> None:
    assert commands_listed() == {c[0] for c in COMMANDS}
    for group in ("token", "candidates"):
        assert commands_listed(group) == {c[1] for c in COMMANDS if c[0] == group}


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_each_command_has_plain_help_with_an_example(command: list[str]) -> None:
    shown = diplo(*command, "--help")
    assert shown.exit_code == 0
    assert f" {' '.join(command)} [OPTIONS]" in shown.stdout.splitlines()[0]
    assert f"Example: diplo {' '.join(command)}" in " ".join(shown.stdout.split())  # however it wraps
    assert "``" not in shown.stdout and ":func:" not in shown.stdout


# -- serve -----------------------------------------------------------------------------------------


def test_serve_refuses_a_port_in_use_before_touching_the_database(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)  # as granian binds: a second one could share it
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = diplo("serve", "--db", tmp_path / "d.db", "--port", port)
    assert result.exit_code == 1
    assert f"port {port} on 127.0.0.1 is in use" in result.stderr and "--port" in result.stderr
    assert not (tmp_path / "d.db").exists()  # refused before creating anything


@pytest.mark.parametrize("command", [["status"], ["serve", "--port", "0"], ["verify"], ["token", "list"]])
def test_a_database_of_a_newer_schema_is_refused_with_a_message_not_a_traceback(
    tmp_path: Path, command: list[str]
) -> None:
    db = newer_schema(tmp_path / "newer.db")
    result = diplo(*command, "--db", db)
    assert result.exit_code == 1
    assert "m999_future" in result.stderr and "upgrade diplo" in result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit)  # no traceback


@pytest.fixture
def environment() -> Iterator[None]:
    """`diplo serve` hands its settings to worker processes in os.environ: put it back as it was."""
    saved = dict(os.environ)
    os.environ.pop(WORKER_ENV, None)
    yield
    os.environ.clear()
    os.environ.update(saved)


def test_serve_with_uvicorn_seeds_prints_where_things_are_and_answers(tmp_path: Path, environment: None) -> None:
    """`diplo serve` in this process (uvicorn; granian's worker is another process): a fresh database
    gets the seeds and an admin token shown once, then the service answers until interrupted."""
    port = free_port()
    db = tmp_path / "served.db"
    answers: dict[str, object] = {}

    def client() -> None:
        url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                try:
                    if httpx.get(url + "/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.05)
            answers["mmca"] = httpx.get(url + "/channels/us-cn-mmca", params={"as_of": "2023-06-01"}).json()
        finally:
            signal.raise_signal(signal.SIGINT)  # Ctrl-C: uvicorn stops gracefully

    env = {"DIPLO_ADMIN_TOKEN": "", "DIPLO_SEED": "1", "DIPLO_LOG_FORMAT": "json"}
    interrupts: list[int] = []
    # uvicorn raises the SIGINT it caught again once stopped: caught here, not as pytest's KeyboardInterrupt
    previous = signal.signal(signal.SIGINT, lambda signum, _frame: interrupts.append(signum))
    asker = threading.Thread(target=client)
    asker.start()
    try:
        result = diplo("serve", "--db", db, "--port", port, "--server", "uvicorn", env=env)
    finally:
        asker.join()
        signal.signal(signal.SIGINT, previous)
    assert interrupts == [signal.SIGINT]  # stopped by the interrupt, and by nothing else
    assert result.exit_code == 0, result.output
    mmca = answers["mmca"]
    assert isinstance(mmca, dict) and (mmca["status"], mmca["since"]) == ("suspended", "2022-08-05")
    assert f"diplo is listening on http://127.0.0.1:{port}" in result.stdout
    assert f"database: {db.resolve()}" in result.stdout and "seed events)" in result.stdout
    assert "admin token (shown once" in result.stdout and "diplo_" in result.stdout
    assert "curl -s" in result.stdout


# -- migrate between SQLite files ----------------------------------------------------------------------


def test_migrate_copies_a_sqlite_log_to_another_file_and_a_second_run_copies_only_what_is_new(
    tmp_path: Path,
) -> None:
    source, target = tmp_path / "source.db", tmp_path / "target.db"
    lines = [
        event_dict("channel_established", "alpha", "2020-01-01"),
        event_dict("meeting_held", "alpha", "2021-01-01"),
    ]
    assert diplo("load", "--db", source, write_lines(tmp_path / "a.jsonl", lines)).exit_code == 0
    assert diplo("token", "create", "--db", source, "--role", "writer", "--name", "desk").exit_code == 0
    moved = diplo("migrate", "--from", source, "--to", f"sqlite:///{target}")
    assert moved.exit_code == 0, moved.output
    assert "copied 2 events (0 events already there) and 1 token from" in moved.stdout
    assert str(target.resolve()) in moved.stdout and "the target's chain verifies" in moved.stdout
    assert "desk" in diplo("token", "list", "--db", target).stdout
    assert diplo("status", "--db", target, "--json").stdout == diplo("status", "--db", source, "--json").stdout
    later = [event_dict("channel_suspended", "alpha", "2022-01-01", by="USA", reason="visit")]
    diplo("load", "--db", source, write_lines(tmp_path / "b.jsonl", later))
    again = json.loads(diplo("migrate", "--from", source, "--to", target, "--json").stdout)
    assert (again["copied"], again["already_there"], again["head"]["seq"]) == (1, 2, 3)


def test_migrate_refuses_the_same_database_and_an_unknown_scheme(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    same = diplo("migrate", "--from", db, "--to", f"sqlite:///{db}")
    assert same.exit_code == 1 and "--from and --to name the same database" in same.stderr
    unknown = diplo("migrate", "--from", db, "--to", "mysql://host/db")
    assert unknown.exit_code == 2 and "mysql:// is not supported" in unknown.stderr
    assert not db.exists()


# -- refusals of the other commands ------------------------------------------------------------------


def test_a_bad_db_option_is_a_usage_error_naming_the_schemes(tmp_path: Path) -> None:
    result = diplo("status", "--db", "mysql://host/db")
    assert result.exit_code == 2
    assert "mysql:// is not supported" in result.stderr and "postgresql://host/dbname" in result.stderr


def test_bad_dates_are_usage_errors(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    as_of = diplo("status", "--db", db, "--as-of", "2023-13-01")
    assert as_of.exit_code == 2 and "--as-of" in as_of.stderr
    known_at = diplo("status", "--db", db, "--known-at", "yesterday")
    assert known_at.exit_code == 2 and "--known-at" in known_at.stderr
    log_export = diplo("export", "--db", db, "--as-of", "2023-01-01")
    assert log_export.exit_code == 2 and "the log is exported whole" in log_export.stderr


def test_backup_and_restore_refuse_a_postgresql_url_and_say_what_to_use(tmp_path: Path) -> None:
    for command in (["backup", "--db", "postgresql://nobody@127.0.0.1/none", tmp_path / "b.db"],):
        result = diplo(*command)
        assert result.exit_code == 1 and "pg_dump" in result.stderr
    backup = tmp_path / "b.db"
    SQLiteLog(backup).close()
    restore = diplo("restore", "--db", "postgresql://nobody@127.0.0.1/none", backup)
    assert restore.exit_code == 1 and "pg_dump" in restore.stderr


def test_restore_refuses_a_backup_whose_chain_is_broken(tmp_path: Path) -> None:
    backup = tmp_path / "b.db"
    diplo("load", "--db", backup, write_lines(tmp_path / "a.jsonl", [event_dict("channel_established")]))
    conn = sqlite3.connect(backup)
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute("UPDATE events SET body = CAST(body || ' ' AS BLOB) WHERE seq = 1")
    conn.commit()
    conn.close()
    target = tmp_path / "restored.db"
    result = diplo("restore", "--db", target, backup)
    assert result.exit_code == 1 and "the backup's chain is broken at seq 1" in result.stderr
    assert not target.exists()


def test_replay_check_names_drift_and_fails(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    diplo("load", "--db", db, *SEEDS)
    conn = sqlite3.connect(db)
    conn.execute("DELETE FROM channel_heads WHERE rowid IN (SELECT rowid FROM channel_heads LIMIT 1)")
    conn.commit()
    conn.close()
    result = diplo("replay", "--db", db, "--check")
    assert result.exit_code == 1
    assert "channel_heads: 0 rows only live, 1 only rebuilt" in result.stderr and "drift" in result.stderr
    assert diplo("replay", "--db", db).exit_code == 0  # a replay repairs it
    assert "no drift" in diplo("replay", "--db", db, "--check").stderr


def test_candidates_list_prints_a_table_and_refuses_a_bad_dyad(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    diplo("load", "--db", db, *SEEDS)
    polecat = Path(__file__).parent / "fixtures" / "interop" / "polecat-sample.tsv"
    imported = diplo("candidates", "import", "--db", db, polecat, "--format", "polecat")
    assert imported.exit_code == 0, imported.output
    table = diplo("candidates", "list", "--db", db)
    assert table.exit_code == 0
    assert "5 candidates (pending)" in table.stdout
    assert "2024-04-03" in table.stdout and "meeting_held" in table.stdout  # one row: its day, type and reports
    assert "polecat CONSULT Xinhua; polecat CONSULT Reuters" in table.stdout
    bad = diplo("candidates", "list", "--db", db, "--dyad", "USA")
    assert bad.exit_code == 2 and "--dyad" in bad.stderr


def test_candidates_accept_and_reject_refuse_an_unknown_candidate_and_a_malformed_field(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    diplo("load", "--db", db, *SEEDS)
    unknown = diplo("candidates", "reject", "--db", db, "no-such-candidate", "--reason", "x")
    assert unknown.exit_code == 1 and "no-such-candidate" in unknown.stderr
    accept = diplo("candidates", "accept", "--db", db, "no-such-candidate", "--channel", "us-cn-mmca")
    assert accept.exit_code == 1 and "no-such-candidate" in accept.stderr
    field = diplo("candidates", "accept", "--db", db, "x", "--channel", "us-cn-mmca", "--field", "reason")
    assert field.exit_code == 2 and "is not NAME=VALUE" in field.stderr
    not_json = diplo("candidates", "accept", "--db", db, "x", "--channel", "us-cn-mmca", "--field", "ids=[1,")
    assert not_json.exit_code == 2 and "is not valid JSON" in not_json.stderr
