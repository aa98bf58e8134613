"""Stored projections: temporal tables kept current inside each append's transaction.

``channel_history`` holds one row per folded event with the channel's state
after it, keyed (channel, occurred_on, seq): an ``as_of`` question is one
index seek. ``channel_heads`` holds each channel's latest state.
``sanction_intervals`` holds the sanctions register as intervals.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import defaultdict
from collections.abc import Iterable, Sequence

from events.log import StoredEvent
from events.sqlite import read_channel_types, read_rows, read_types
from projections.amendments import AMENDMENT_TYPES, Amendments, Effective, effective_in_valid_order
from projections.sanctions import SANCTION_TYPES, SanctionInterval, apply_interval, fold_sanctions
from projections.state import STATE_DECODER, STATE_ENCODER, ChannelState, fold

# Bump when the fold or the tables change: start-up then rebuilds from the log.
PROJECTION_VERSION = 2
NAME = "channels"


def create_tables(conn: sqlite3.Connection, suffix: str = "") -> None:
    # One statement at a time: executescript() would commit the caller's transaction.
    script = f"""
        CREATE TABLE IF NOT EXISTS channel_history{suffix} (
            channel TEXT NOT NULL, occurred_on TEXT NOT NULL, seq INTEGER NOT NULL,
            status TEXT NOT NULL, state BLOB NOT NULL,
            PRIMARY KEY (channel, occurred_on, seq)
        ) STRICT, WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS channel_heads{suffix} (
            channel TEXT PRIMARY KEY, occurred_on TEXT NOT NULL, seq INTEGER NOT NULL, state BLOB NOT NULL
        ) STRICT;
        CREATE TABLE IF NOT EXISTS sanction_intervals{suffix} (
            target TEXT NOT NULL, by_party TEXT NOT NULL, program TEXT, since TEXT NOT NULL, until TEXT,
            event_ids TEXT NOT NULL, first_seq INTEGER NOT NULL,
            PRIMARY KEY (first_seq)
        ) STRICT;
        CREATE TABLE IF NOT EXISTS projection_meta (
            name TEXT PRIMARY KEY, version INTEGER NOT NULL, checkpoint INTEGER NOT NULL,
            sanctions_key TEXT NOT NULL DEFAULT ''
        ) STRICT;
        """
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


PROJECTION_TABLES = ("channel_history", "channel_heads", "sanction_intervals")


def meta(conn: sqlite3.Connection) -> tuple[int, int, str] | None:
    row = conn.execute(
        "SELECT version, checkpoint, sanctions_key FROM projection_meta WHERE name = ?", (NAME,)
    ).fetchone()
    return (row[0], row[1], row[2]) if row else None


def set_meta(conn: sqlite3.Connection, checkpoint: int, sanctions_key: str | None = None) -> None:
    current = meta(conn)
    key = sanctions_key if sanctions_key is not None else (current[2] if current else "")
    conn.execute(
        "INSERT INTO projection_meta (name, version, checkpoint, sanctions_key) VALUES (?, ?, ?, ?)"
        " ON CONFLICT(name) DO UPDATE SET version=excluded.version, checkpoint=excluded.checkpoint,"
        " sanctions_key=excluded.sanctions_key",
        (NAME, PROJECTION_VERSION, checkpoint, key),
    )


def write_channel(
    conn: sqlite3.Connection, channel: str, start: ChannelState, events: Iterable[Effective], suffix: str = ""
) -> tuple[str, ChannelState] | None:
    """Fold events onto start, writing a history row per event (in chunks) and the channel's head.

    Returns the head written (its occurred_on and state), or None if there were no events.
    """
    state = start
    history: list[tuple] = []
    last = None
    insert = f"INSERT INTO channel_history{suffix} (channel, occurred_on, seq, status, state) VALUES (?,?,?,?,?)"
    for item in events:
        state = fold(state, item.event, item.version)
        last = (channel, item.key[0], item.seq, state.status, STATE_ENCODER.encode(state))
        history.append(last)
        if len(history) >= 5_000:
            conn.executemany(insert, history)
            history.clear()
    conn.executemany(insert, history)
    if last is None:
        return None
    conn.execute(
        f"INSERT OR REPLACE INTO channel_heads{suffix} (channel, occurred_on, seq, state) VALUES (?,?,?,?)",
        (channel, last[1], last[2], last[4]),
    )
    return last[1], state


def write_sanctions(conn: sqlite3.Connection, intervals: Sequence[SanctionInterval], suffix: str = "") -> None:
    conn.executemany(
        f"INSERT OR REPLACE INTO sanction_intervals{suffix}"
        " (target, by_party, program, since, until, event_ids, first_seq) VALUES (?,?,?,?,?,?,?)",
        [
            (
                i.target,
                i.by,
                i.program,
                i.since.isoformat(),
                i.until.isoformat() if i.until else None,
                ",".join(i.event_ids),
                i.first_seq,
            )
            for i in intervals
        ],
    )


def read_sanction_intervals(
    conn: sqlite3.Connection, open_for: set[tuple[str, str]] | None = None
) -> list[SanctionInterval]:
    """All intervals, or only the open ones of the given (target, by) pairs."""
    sql = "SELECT target, by_party, program, since, until, event_ids, first_seq FROM sanction_intervals"
    params: list[str] = []
    if open_for is not None:
        if not open_for:
            return []
        sql += " WHERE until IS NULL AND (" + " OR ".join(["(target = ? AND by_party = ?)"] * len(open_for)) + ")"
        params = [v for pair in sorted(open_for) for v in pair]
    return [
        SanctionInterval(
            target=t,
            by=b,
            program=p,
            since=dt.date.fromisoformat(s),
            until=dt.date.fromisoformat(u) if u else None,
            event_ids=ids.split(","),
            first_seq=f,
        )
        for t, b, p, s, u, ids, f in conn.execute(sql + " ORDER BY first_seq", params)
    ]


def recompute_channel(conn: sqlite3.Connection, channel: str) -> None:
    """Rebuild one channel's rows from its events (corrections applied)."""
    conn.execute("DELETE FROM channel_history WHERE channel = ?", (channel,))
    amendments = Amendments.collect(read_channel_types(conn, channel, AMENDMENT_TYPES))
    rows = read_rows(conn, channel=channel, order="valid")
    write_channel(conn, channel, ChannelState(channel=channel), effective_in_valid_order(rows, amendments))


def recompute_channel_from(conn: sqlite3.Connection, channel: str, occurred_on: str) -> None:
    """Rebuild one channel's rows from a date on (no amendments on it), starting from the state before."""
    before = conn.execute(
        "SELECT state FROM channel_history WHERE channel = ? AND occurred_on < ?"
        " ORDER BY occurred_on DESC, seq DESC LIMIT 1",
        (channel, occurred_on),
    ).fetchone()
    start = STATE_DECODER.decode(before[0]) if before else ChannelState(channel=channel)
    conn.execute("DELETE FROM channel_history WHERE channel = ? AND occurred_on >= ?", (channel, occurred_on))
    rows = read_rows(conn, channel=channel, valid_from=occurred_on, order="valid")
    write_channel(conn, channel, start, effective_in_valid_order(rows, Amendments(set(), {})))


def recompute_sanctions(conn: sqlite3.Connection) -> str:
    conn.execute("DELETE FROM sanction_intervals")
    amendments = Amendments.collect(read_types(conn, AMENDMENT_TYPES))
    events = effective_in_valid_order(read_types(conn, SANCTION_TYPES), amendments)
    write_sanctions(conn, fold_sanctions(events))
    return events[-1].key[0] if events else ""


class Maintainer:
    """The append hook: brings the projections up to date with rows just inserted, in their transaction.

    It remembers the channel heads and the sanctions key it wrote, which stay true exactly as long as
    the next rows it sees follow on from the last ones (no other process wrote, nothing rolled back).
    """

    def __init__(self) -> None:
        self.forget()

    def forget(self) -> None:
        self.after_seq: int | None = None
        self.heads: dict[str, tuple[str, ChannelState] | None] = {}
        self.sanctions_key: str | None = None

    def _head(self, conn: sqlite3.Connection, channel: str) -> tuple[str, ChannelState] | None:
        if channel not in self.heads:
            row = conn.execute("SELECT occurred_on, state FROM channel_heads WHERE channel = ?", (channel,)).fetchall()
            self.heads[channel] = (row[0][0], STATE_DECODER.decode(row[0][1])) if row else None
        return self.heads[channel]

    def __call__(self, conn: sqlite3.Connection, rows: Sequence[StoredEvent]) -> None:
        if not rows:
            return
        if self.after_seq != rows[0].seq - 1:
            self.forget()
        by_channel: dict[str, list[StoredEvent]] = defaultdict(list)
        for row in rows:
            by_channel[row.channel].append(row)
        sanctions_touched = False
        for channel, channel_rows in by_channel.items():
            if any(r.type in AMENDMENT_TYPES for r in channel_rows):
                sanctions_touched = True  # an amendment may target a sanction event
                recompute_channel(conn, channel)
                self.heads.pop(channel, None)
                continue
            if any(r.type in SANCTION_TYPES for r in channel_rows):
                sanctions_touched = True
            head = self._head(conn, channel)
            earliest = min(r.occurred_on for r in channel_rows)
            if head is not None and earliest < head[0]:  # back-dated: history from that day on changes
                if read_channel_types(conn, channel, AMENDMENT_TYPES):
                    recompute_channel(conn, channel)
                else:
                    recompute_channel_from(conn, channel, earliest)
                self.heads.pop(channel, None)
                continue
            start = head[1] if head else ChannelState(channel=channel)
            effective = effective_in_valid_order(channel_rows, Amendments(set(), {}))
            self.heads[channel] = write_channel(conn, channel, start, effective)
        if self.sanctions_key is None:
            current = meta(conn)
            self.sanctions_key = current[2] if current else ""
        if sanctions_touched:
            self.sanctions_key = _apply_sanction_rows(conn, rows, self.sanctions_key)
        set_meta(conn, rows[-1].seq, self.sanctions_key)
        self.after_seq = rows[-1].seq


def _apply_sanction_rows(conn: sqlite3.Connection, rows: Sequence[StoredEvent], key: str) -> str:
    """Apply in-order sanction events to the open intervals; anything else recomputes. Returns the new key."""
    sanction_rows = [r for r in rows if r.type in SANCTION_TYPES]
    if any(r.type in AMENDMENT_TYPES for r in rows) or any(r.occurred_on < key for r in sanction_rows):
        return recompute_sanctions(conn)
    keys = {(r.event().target, r.event().by) for r in sanction_rows}  # type: ignore[attr-defined]
    open_ = {(i.target, i.by): i for i in read_sanction_intervals(conn, open_for=keys)}
    touched: dict[int, SanctionInterval] = {}
    created: list[SanctionInterval] = []
    for item in effective_in_valid_order(sanction_rows, Amendments(set(), {})):
        event = item.event
        existing = open_.get((event.target, event.by))  # type: ignore[attr-defined]
        apply_interval(open_, created, item)
        if existing is not None:
            touched[existing.first_seq] = existing
        key = max(key, item.key[0])
    for interval in created:
        touched[interval.first_seq] = interval
    write_sanctions(conn, list(touched.values()))
    return key
