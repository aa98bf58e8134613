"""Opening a database for serving: the log, its projections, tokens and seeds."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import msgspec
import structlog

from events import SQLiteLog, Verification
from events.sqlite import connect
from projections import Projections
from service import tokens
from service.loading import LoadResult, load_files, seed_files
from service.settings import Settings

log = structlog.get_logger("diplo.runtime")

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


class Runtime(msgspec.Struct, kw_only=True, dict=True):
    settings: Settings
    log: SQLiteLog
    projections: Projections
    startup_check: Verification
    started: float

    @property
    def read_only_reason(self) -> str | None:
        if self.log.writes_refused:
            return self.log.writes_refused.message
        if not self.log.writer_alive:
            return "the log's writer thread stopped; the next append starts it again"
        return None

    def close(self) -> None:
        self.log.close()


def open_runtime(settings: Settings) -> Runtime:
    event_log = SQLiteLog(settings.db)
    check = event_log.refuse_writes_if_broken(settings.verify_tail)
    if not check.ok:
        log.error("chain.broken", bad_seq=check.bad_seq, problem=check.problem)
    return Runtime(
        settings=settings,
        log=event_log,
        projections=Projections(event_log),
        startup_check=check,
        started=time.time(),
    )


def ensure_admin_token(settings: Settings) -> str | None:
    """DIPLO_ADMIN_TOKEN if given; else, on a database with no token, a new admin token to print once."""
    conn = connect(settings.db)
    try:
        if settings.admin_token:
            tokens.ensure(conn, settings.admin_token, "admin", "admin")
            return None
        if tokens.any_active(conn):
            return None
        return tokens.create(conn, "admin", "admin")[1]
    finally:
        conn.close()


def seed(runtime: Runtime, folder: Path = SEEDS) -> list[LoadResult]:
    """Fill a fresh, empty database from seeds/ (once: a database with events is left as it is)."""
    if not runtime.settings.seed or runtime.log.writes_refused or runtime.log.head().seq != 0:
        return []
    with _quiet_appends(runtime.log):
        loaded = load_files(runtime.log, seed_files(folder), writer="seeds")
    log.info("seeds.loaded", events=sum(r.appended for r in loaded), files=len(loaded))
    return loaded


@contextlib.contextmanager
def _quiet_appends(event_log: SQLiteLog) -> Iterator[None]:
    """Hold back info lines (one ``event.appended`` per seed event) while seeding: one summary will do.

    structlog's level is global, so it is lowered for the duration; loggers must not cache it.
    """
    saved = structlog.get_config()
    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING), cache_logger_on_first_use=False
    )
    try:
        yield
    finally:
        event_log.run_in_writer(lambda _conn: None)  # the writer logs after answering: let it finish
        structlog.configure(**saved)
