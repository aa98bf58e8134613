"""The SQL of the log that both backends share, over any DB-API connection.

Statements are written once with SQLite's ``?`` marks; ``Sql`` rewrites them to ``%s``
for psycopg. The columns, their meaning and the chain are the same on every backend.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from typing import Any

import msgspec
from msgspec.structs import astuple

from diplo.events import clock
from diplo.events.log import GENESIS, Head, IdempotencyKey, Receipt, StoredEvent, Verification

COLUMNS = "seq, id, type, channel, version, occurred_on, recorded_at, body, prev_hash, hash, writer"
PAGE = 5_000


class Sql:
    """A connection and the parameter mark its driver takes."""

    def __init__(self, conn: Any, mark: str = "?"):
        self.conn = conn
        self.mark = mark
        self._texts: dict[str, str] = {}

    def _text(self, sql: str) -> str:
        if self.mark == "?":
            return sql
        text = self._texts.get(sql)
        if text is None:
            text = self._texts[sql] = sql.replace("?", self.mark)
        return text

    def execute(self, sql: str, params: Sequence[object] = ()) -> Any:
        return self.conn.execute(self._text(sql), params)

    def executemany(self, sql: str, rows: Sequence[Sequence[object]]) -> None:
        if rows:
            self.conn.cursor().executemany(self._text(sql), rows)

    def one(self, sql: str, params: Sequence[object] = ()) -> Any:
        return self.execute(sql, params).fetchone()


def chain_hash(prev_hash: str, body: bytes) -> str:
    """hash = sha256(prev_hash || body), prev_hash taken as its 32 raw bytes."""
    return hashlib.sha256(bytes.fromhex(prev_hash) + body).hexdigest()


def chain_step(prev: bytes, body: bytes) -> tuple[bytes, str]:
    """``chain_hash`` with the previous hash as raw bytes: (raw digest, its hex), for placing a run of rows."""
    digest = hashlib.sha256(prev)
    digest.update(body)
    raw = digest.digest()
    return raw, raw.hex()


def row(values: Sequence[Any]) -> StoredEvent:
    return StoredEvent(
        seq=values[0],
        id=values[1],
        type=values[2],
        channel=values[3],
        version=values[4],
        occurred_on=values[5],
        recorded_at=values[6],
        body=bytes(values[7]),
        prev_hash=values[8],
        hash=values[9],
        writer=values[10],
    )


def head_row(db: Sql) -> tuple[int, str, str]:
    found = db.one("SELECT seq, hash, recorded_at FROM events ORDER BY seq DESC LIMIT 1")
    return (found[0], found[1], found[2]) if found else (0, GENESIS, "")


def rows_by_ids(db: Sql, ids: Sequence[str]) -> list[StoredEvent]:
    found: list[StoredEvent] = []
    for start in range(0, len(ids), 500):
        chunk = list(ids[start : start + 500])
        marks = ",".join("?" * len(chunk))
        found.extend(row(v) for v in db.execute(f"SELECT {COLUMNS} FROM events WHERE id IN ({marks})", chunk))
    return found


def channel_versions(db: Sql, channels: set[str]) -> dict[str, int]:
    # One query per channel: max() over (channel, version) is a single index seek, whereas
    # GROUP BY over several channels walks every row of each channel and grows with the log.
    found: dict[str, int] = {}
    for channel in channels:
        version = db.one("SELECT max(version) FROM events WHERE channel = ?", (channel,))[0]
        if version is not None:
            found[channel] = version
    return found


def channel_founding_rows(db: Sql, channel: str, amendment_types: Sequence[str]) -> list[StoredEvent]:
    """A channel's first event and its amendments: enough to tell when it was established.

    Two seeks, not a walk of the channel: its first event by (channel, version), its amendments through
    the type index (the log's amendments are few; the channel is matched here)."""
    marks = ",".join("?" * len(amendment_types))
    first = db.execute(f"SELECT {COLUMNS} FROM events WHERE channel = ? AND version = 1", (channel,)).fetchall()
    amended = db.execute(f"SELECT {COLUMNS} FROM events WHERE type IN ({marks})", tuple(amendment_types)).fetchall()
    found = {v[0]: v for v in [*first, *(v for v in amended if v[3] == channel)]}
    return [row(found[seq]) for seq in sorted(found)]


def bodies_of_types(db: Sql, types: Sequence[str]) -> Iterator[bytes]:
    """The canonical bytes of every event of these types."""
    marks = ",".join("?" * len(types))
    for (body,) in db.execute(f"SELECT body FROM events WHERE type IN ({marks})", tuple(types)):
        yield bytes(body)


def select(
    *,
    after: int = 0,
    limit: int | None = None,
    channel: str | None = None,
    type: str | None = None,
    valid_from: str | None = None,
    valid_to: str | None = None,
    recorded_by: str | None = None,
    order: str = "seq",
) -> tuple[str, list[object]]:
    """The statement for rows matching the filters; ``order`` is 'seq' or 'valid' ((occurred_on, seq))."""
    where: list[str] = ["seq > ?"]
    params: list[object] = [after]
    for clause, value in (
        ("channel = ?", channel),
        ("type = ?", type),
        ("occurred_on >= ?", valid_from),
        ("occurred_on <= ?", valid_to),
        ("recorded_at <= ?", recorded_by),
    ):
        if value is not None:
            where.append(clause)
            params.append(value)
    order_by = "occurred_on, seq" if order == "valid" else "seq"
    sql = f"SELECT {COLUMNS} FROM events WHERE {' AND '.join(where)} ORDER BY {order_by}"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return sql, params


def pages(db: Sql, after: int = 0, size: int = PAGE) -> Iterator[list[StoredEvent]]:
    """Every row after ``after`` in seq order, a page at a time (keyset paging: no cursor held open)."""
    sql = f"SELECT {COLUMNS} FROM events WHERE seq > ? ORDER BY seq LIMIT ?"
    while chunk := [row(v) for v in db.execute(sql, (after, size))]:
        yield chunk
        after = chunk[-1].seq


def insert(db: Sql, rows: Sequence[StoredEvent]) -> None:
    # StoredEvent's fields are COLUMNS, in order (checked below, at import).
    db.executemany(f"INSERT INTO events ({COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)", list(map(astuple, rows)))


assert StoredEvent.__struct_fields__ == tuple(COLUMNS.split(", ")), "StoredEvent's fields must be COLUMNS, in order"


def insert_keys(db: Sql, keys: Sequence[tuple[str, IdempotencyKey, list[Receipt]]]) -> None:
    now = clock.now_text()
    db.executemany(
        "INSERT INTO idempotency_keys (writer, key, fingerprint, receipts, created_at) VALUES (?,?,?,?,?)",
        [(writer, k.key, k.fingerprint, msgspec.json.encode(receipts), now) for writer, k, receipts in keys],
    )


def key_answer(db: Sql, writer: str, key: str) -> tuple[str, bytes] | None:
    """The fingerprint and receipts stored for an Idempotency-Key, if it was used."""
    found = db.one("SELECT fingerprint, receipts FROM idempotency_keys WHERE writer = ? AND key = ?", (writer, key))
    return (found[0], bytes(found[1])) if found else None


def purge_keys(db: Sql, before: str) -> None:
    db.execute("DELETE FROM idempotency_keys WHERE created_at < ?", (before,))


def verify(db: Sql, tail: int | None) -> Verification:
    """Recompute the chain (all of it, or the last ``tail`` rows against the stored hash before them)."""
    start_after, expected_prev = 0, GENESIS
    if tail is not None:
        start_after = max(0, head_row(db)[0] - tail)
        if start_after:
            found = db.one("SELECT hash FROM events WHERE seq = ?", (start_after,))
            expected_prev = found[0] if found else GENESIS
    checked, last_seq, last_hash = 0, start_after, expected_prev
    after = start_after
    while chunk := db.execute(
        "SELECT seq, body, prev_hash, hash FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (after, PAGE)
    ).fetchall():
        for seq, body, prev_hash, digest in chunk:
            problem = None
            if seq != last_seq + 1:
                problem = f"seq jumps from {last_seq} to {seq}"
            elif prev_hash != last_hash:
                problem = "prev_hash does not match the previous event's hash"
            elif chain_hash(prev_hash, bytes(body)) != digest:
                problem = "hash does not match sha256(prev_hash || body): the row was altered"
            if problem:
                return Verification(
                    ok=False, checked=checked, head=Head(last_seq, last_hash), bad_seq=seq, problem=problem
                )
            checked += 1
            last_seq, last_hash = seq, digest
        after = chunk[-1][0]
    return Verification(ok=True, checked=checked, head=Head(last_seq, last_hash))
