"""Opening a database for serving: the log, its projections, tokens and seeds."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from pathlib import Path

import msgspec
import structlog

from diplo.events import EventLog, Verification
from diplo.events.backends import open_log
from diplo.projections import Projections
from diplo.service import tokens
from diplo.service.loading import LoadResult, load_files, seed_files
from diplo.service.settings import Settings

logger = structlog.get_logger("diplo.runtime")

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


class Runtime(msgspec.Struct, kw_only=True, dict=True):
    settings: Settings
    log: EventLog
    projections: Projections
    startup_check: Verification
    started: float

    @property
    def read_only_reason(self) -> str | None:
        if self.log.writes_refused:
            return self.log.writes_refused.message
        if not self.log.writer_alive:
            return "the log's writer thread stopped; the next append starts it again"
        if self.projections.stale:
            return (
                "the projections are being rebuilt for a new version: reads answer from the previous tables,"
                " appends wait until it is done"
            )
        return None

    def close(self) -> None:
        self.log.close()


def open_runtime(settings: Settings) -> Runtime:
    """The log of ``settings.db`` (a SQLite file or a PostgreSQL URL) and its projections."""
    event_log = open_log(settings.db)
    try:
        check = event_log.refuse_writes_if_broken(settings.verify_tail)
        if not check.ok:
            logger.error("chain.broken", bad_seq=check.bad_seq, problem=check.problem)
        projections = open_projections(event_log, rebuild_in_background=True)  # served while it rebuilds
    except BaseException:
        event_log.close()
        raise
    return Runtime(settings=settings, log=event_log, projections=projections, startup_check=check, started=time.time())


def open_projections(event_log: EventLog, rebuild_in_background: bool = False) -> Projections:
    """The projections over this log: on a database server, with a replay that builds outside the append lock.

    ``rebuild_in_background`` (the server): a new projection version is rebuilt once ``start_rebuild()`` is
    called, and reads answer meanwhile; otherwise (the CLI) it is rebuilt here, before anything is read."""
    if hasattr(event_log, "session"):
        from diplo.projections.postgres import ServerProjections

        return ServerProjections(event_log, rebuild_in_background)
    return Projections(event_log, rebuild_in_background)


def ensure_admin_token(settings: Settings, event_log: EventLog | None = None) -> str | None:
    """DIPLO_ADMIN_TOKEN if given; else, on a database with no token, a new admin token to print once.

    Tokens live beside the log, in its database: ``event_log``'s, or one opened for the purpose."""
    if event_log is None:
        opened = open_log(settings.db)
        try:
            return ensure_admin_token(settings, opened)
        finally:
            opened.close()
    conn = event_log.reader()
    if settings.admin_token:
        tokens.ensure(conn, settings.admin_token, "admin", "admin")
        return None
    return tokens.create_first(conn, "admin", "admin")


def seed(runtime: Runtime, folder: Path = SEEDS) -> list[LoadResult]:
    """Fill a fresh, empty database from seeds/ (once: a database with events is left as it is)."""
    if not runtime.settings.seed or runtime.log.writes_refused or runtime.log.head().seq != 0:
        return []
    with _quiet_appends(runtime.log):
        loaded = load_files(runtime.log, seed_files(folder), writer="seeds")
    logger.info("seeds.loaded", events=sum(r.appended for r in loaded), files=len(loaded))
    return loaded


@contextlib.contextmanager
def _quiet_appends(event_log: EventLog) -> Iterator[None]:
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
