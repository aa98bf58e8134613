"""Servers started at the same moment on a new database, as a deployment's replicas are, all come up.

Each start makes sure of the admin token: the one DIPLO_ADMIN_TOKEN gives, or a new one to print when the
database has none. Several starting at once must not refuse each other's (a server that did exited with
"a token named 'admin' already exists"; the PostgreSQL two-server tests, started together, found it).
"""

from __future__ import annotations

import threading

import pytest
from conftest import Store

from diplo.events.backends import open_log
from diplo.service import tokens
from diplo.service.runtime import ensure_admin_token
from diplo.service.settings import Settings

TOKEN = "test-admin-token-0123456789"
STARTS = 4
ROUNDS = 8


def start_together(db: object, admin_token: str | None) -> tuple[list[str | None], list[BaseException]]:
    """What each of STARTS servers' start-up does about the token, all at once, each with its own log."""
    logs = [open_log(db) for _ in range(STARTS)]  # type: ignore[arg-type]
    settings = Settings(db=db, seed=False, admin_token=admin_token)  # type: ignore[arg-type]
    printed: list[str | None] = [None] * STARTS
    errors: list[BaseException] = []
    go = threading.Barrier(STARTS)

    def start(i: int) -> None:
        go.wait()
        try:
            printed[i] = ensure_admin_token(settings, logs[i])
        except BaseException as error:  # noqa: BLE001 - reported by the test
            errors.append(error)

    threads = [threading.Thread(target=start, args=(i,)) for i in range(STARTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    for log in logs:
        log.close()
    return printed, errors


@pytest.mark.parametrize("given", [True, False], ids=["DIPLO_ADMIN_TOKEN", "no token given"])
def test_servers_starting_together_on_a_new_database_all_start_with_one_admin_token(store: Store, given: bool) -> None:
    for _ in range(ROUNDS):
        db = store.new()
        printed, errors = start_together(db, TOKEN if given else None)
        assert errors == [], errors
        shown = [token for token in printed if token is not None]
        log = open_log(db)  # type: ignore[arg-type]
        try:
            active = [t for t in tokens.listing(log.reader()) if t.revoked_at is None]
            assert [t.name for t in active] == ["admin"]
            if given:
                assert shown == []
                assert tokens.lookup(log.reader(), TOKEN) is not None
            else:
                assert len(shown) == 1  # the one that made it prints it; the others find it made
                assert tokens.lookup(log.reader(), shown[0]) is not None  # type: ignore[arg-type]
        finally:
            log.close()
