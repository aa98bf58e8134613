from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pgserver
import pytest

from diplo.events import SQLiteLog
from diplo.projections import Projections


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "diplo.db"


@pytest.fixture
def log(db_path: Path) -> Iterator[SQLiteLog]:
    opened = SQLiteLog(db_path)
    yield opened
    opened.close()


@pytest.fixture
def projections(log: SQLiteLog) -> Projections:
    return Projections(log)


def pytest_configure(config: pytest.Config) -> None:
    # The library logs every append at info; tests only want warnings and worse.
    import logging

    import structlog

    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow tests first, the random order kept among the rest (a stable sort, after pytest-randomly's
    shuffle): on two workers, a slow test begun last would leave the other worker idle at the end."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    from live import LiveServer

    server = LiveServer(tmp_path_factory.mktemp("live") / "diplo.db").start()
    yield server
    server.stop()


# -- PostgreSQL -------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The test PostgreSQL server's URL (tests/pgserver.py): skipped without one, failed under CI=true."""
    return pgserver.require_server()


@pytest.fixture
def database(postgres_server: str) -> Iterator[str]:
    """A fresh PostgreSQL database for one test, dropped afterwards; its postgresql:// URL."""
    url = pgserver.create_database(postgres_server)
    yield url
    pgserver.drop_database(url)


class Store:
    """Where a test's databases live: fresh SQLite files, or fresh schemas of one PostgreSQL database."""

    def __init__(self, kind: str, folder: Path, server_database: str | None = None):
        self.kind = kind
        self.folder = folder
        self.server_database = server_database
        self._count = 0
        self._spare: list[str] = []  # schemas handed back, their tables made: emptied, they serve again

    def new(self, *, durable: bool = True) -> Path | str:
        """A fresh, empty database: a file path, or a postgresql:// URL (``durable`` False: commits
        do not wait for the disk, for tests of folds rather than of durability)."""
        self._count += 1
        if self.server_database is None:
            return self.folder / f"db-{self._count}.db"
        if not durable and self._spare:
            return pgserver.empty_schema(self._spare.pop())
        return pgserver.create_schema(self.server_database, durable=durable)

    def recycle(self, db: Path | str) -> None:
        """``db``, made by ``new(durable=False)``, is done with (its log closed): a later ``new`` may empty
        and reuse it. On PostgreSQL the tables of a new schema cost ~80 ms of DDL; emptying them ~5 ms."""
        if isinstance(db, str):
            self._spare.append(db)

    def drop(self, db: Path | str) -> None:
        if isinstance(db, str):
            pgserver.drop_schema(db)


@pytest.fixture(
    scope="session",
    params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)],
)
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """Run a test on each backend: ``store.new()`` is a fresh database of it."""
    folder = tmp_path_factory.mktemp(request.param)
    if request.param == "sqlite":
        yield Store("sqlite", folder)
        return
    url = pgserver.create_database(pgserver.require_server())
    try:
        yield Store("postgres", folder, url)
    finally:
        pgserver.drop_database(url)
