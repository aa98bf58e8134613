"""``diplo migrate``: copy a log from one database to another (SQLite to PostgreSQL, or back).

Export and load go through the log's boundary: ``iterate()`` reads the source in seq order and
``load_rows()`` writes each page to the target verbatim, seq, recorded_at, writer and hash as they
were, after checking that each row continues the target's chain. So the copy answers every
question the source did, ``known_at`` ones included (re-appending would have stamped new
transaction times). The target's projections follow in the same transactions; its tokens
(hashes only) are copied beside. The target may be empty, or hold a prefix of the source (an
interrupted or earlier run): the copy resumes after it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import msgspec

from diplo.events import EventLog, Head, LogError, StoredEvent
from diplo.events.backends import open_log
from diplo.service.runtime import open_projections

PAGE = 2_000
TOKEN_COLUMNS = "name, role, token_hash, created_at, revoked_at"


class Migrated(msgspec.Struct, kw_only=True):
    copied: int
    already_there: int
    tokens: int
    head: Head


def migrate(
    source: str | Path, target: str | Path, progress: Callable[[int], None] | None = None, page: int = PAGE
) -> Migrated:
    """Copy ``source``'s log (and tokens) into ``target``; verify the target's whole chain."""
    src = open_log(source)
    try:
        dst = open_log(target)
        try:
            return _copy(src, dst, progress, page)
        finally:
            dst.close()
    finally:
        src.close()


def _copy(src: EventLog, dst: EventLog, progress: Callable[[int], None] | None, page: int) -> Migrated:
    start = _common_prefix(src, dst)
    open_projections(dst)  # its append hook keeps the target's projections in step with each page
    copied = 0
    for rows in _pages(src.iterate(after=start), page):
        dst.load_rows(rows)
        copied += len(rows)
        if progress is not None:
            progress(len(rows))
    tokens = _copy_tokens(src, dst)
    result = dst.verify()
    if not result.ok:
        raise LogError(f"the target's chain does not verify at seq {result.bad_seq}: {result.problem}")
    return Migrated(copied=copied, already_there=start, tokens=tokens, head=result.head)


def _common_prefix(src: EventLog, dst: EventLog) -> int:
    """The seq the target already holds of the source; refuse a target holding another log."""
    head = dst.head()
    if head.seq == 0:
        return 0
    same = src.read(after=head.seq - 1, limit=1)
    if not same or same[0].hash != head.hash:
        raise LogError(
            f"the target already holds another log (its seq {head.seq} is not the source's);"
            " migrate into an empty database"
        )
    return head.seq


def _pages(rows: Iterable[StoredEvent], size: int) -> Iterator[list[StoredEvent]]:
    chunk: list[StoredEvent] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _copy_tokens(src: EventLog, dst: EventLog) -> int:
    """Tokens the target does not have by name, as hashes (secrets are never stored)."""
    rows = src.reader().execute(f"SELECT {TOKEN_COLUMNS} FROM tokens ORDER BY created_at").fetchall()
    conn = dst.reader()
    added = 0
    for row in rows:
        cursor = conn.execute(f"INSERT OR IGNORE INTO tokens ({TOKEN_COLUMNS}) VALUES (?, ?, ?, ?, ?)", tuple(row))
        added += max(cursor.rowcount, 0)
    return added
