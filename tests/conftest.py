from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from events import SQLiteLog  # noqa: E402
from projections import Projections  # noqa: E402


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


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    from live import LiveServer

    server = LiveServer(tmp_path_factory.mktemp("live") / "diplo.db").start()
    yield server
    server.stop()
