"""Stored projections with both clocks, kept current inside each append's transaction.

All SQL of the projection tables lives here (plain SQL, ON CONFLICT upserts: portable to PostgreSQL).

``channel_history`` holds one row per folded event: the channel's state after it, keyed by valid time
(channel, occurred_on, seq), and the interval of *recording* during which that row was the truth,
``[recorded_from, recorded_to)`` as log positions (seq; ``recorded_to`` null while it still is). Transaction
time is the log's order: ``recorded_at`` grows with seq, so a ``known_at`` is one seek to a seq.
A back-dated event or an amendment never deletes a row: it closes the rows whose state it changes and adds
their successors, so any (as_of, known_at) question is an index seek.

Each event of a channel writes at least the channel's head row as it stands after it (a copy when
unchanged), so "the head at K" is the newest row recorded by K: one seek on (channel, recorded_from).
A row also carries the month's marks up to it (counts per kind of meetings, contacts, cancellations and
measure events in its calendar month, with the first of each), so a month's marks are one seek too, and
``changed`` flags where the status changed (a partial index gives the timeline).

``channel_heads`` holds each channel's latest state; ``lineage`` every (predecessor, channel) pair an
establishment or a correction ever named in ``succeeds`` (the candidates a successor is looked for among: each
is then asked its state at the time in question).

``register_items`` keeps the registers the same way: one item per sanction chain (target, by), measure key or
commitment, folded over all valid time (projections/registers.py), in versions with ``[recorded_from,
recorded_to)``. An event of an item (or an amendment of one) closes the item's live version when it changes
the item's body and records the new one from its seq; an item left with no event gets an empty body, so every
item keeps exactly one live row. ``register_events`` lists every (register, item, seq) an event belongs to or
once belonged to (before a correction moved it), so a back-dated event or an amendment refolds only the items
it touches, from their events read by seq, never the whole register. A register at (as_of, known_at) is the
seek for the known_at's seq, then for each item (its live row, from a partial index) one seek to its version
recorded by then, read on the day: work in proportion to the register, never to the log. ``known_at`` is thus
read one way, the seq seek, for channels and registers alike.
"""

from __future__ import annotations

import datetime as dt
import heapq
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from operator import attrgetter
from typing import Any, NamedTuple

import msgspec

from diplo.events.catalog import ChannelEstablished, EventCorrected, type_of
from diplo.events.log import StoredEvent
from diplo.events.store import COLUMNS
from diplo.events.store import row as store_row
from diplo.projections.amendments import AMENDMENT_TYPES, Amendments, Effective, effective_in_valid_order, target_of
from diplo.projections.marks import MARK_KINDS, month_index, month_start
from diplo.projections.registers import DECODERS, MEASURES, REGISTER_TYPES, REGISTERS_OF, Item, advance, items_of
from diplo.projections.registers import ENCODER as ITEM_ENCODER
from diplo.projections.state import LEAN_DECODER, ChannelState, fold, pack_state, unpack_state

# Bump when the fold changes: start-up then rebuilds from the log (serving the old tables meanwhile
# if LAYOUT, the tables' shape, is unchanged). Bump LAYOUT too when the columns change.
PROJECTION_VERSION = 7
LAYOUT = 8
NAME = "channels"
PROJECTION_TABLES = ("channel_history", "channel_heads", "register_items", "register_events", "lineage")
RETIRED_TABLES = ("sanction_intervals", "measure_register")  # the registers before register_items: dropped on swap
HISTORY = "channel, occurred_on, seq, recorded_from, recorded_to, status, changed, marks, state"
TOMBSTONE_DAY = "0000-01-01"  # the head row of a channel whose every event was retracted
MARKS_ENCODER = msgspec.json.Encoder(order="sorted")
MARKS_DECODER = msgspec.json.Decoder(dict[str, tuple[int, str]])
CHUNK = 5_000


def create_tables(conn: sqlite3.Connection, suffix: str = "", indexes: bool = True) -> None:
    # One statement at a time: executescript() would commit the caller's transaction.
    script = f"""
        CREATE TABLE IF NOT EXISTS channel_history{suffix} (
            channel TEXT NOT NULL, occurred_on TEXT NOT NULL, seq INTEGER NOT NULL,
            recorded_from INTEGER NOT NULL, recorded_to INTEGER,
            status TEXT NOT NULL, changed INTEGER NOT NULL, marks TEXT NOT NULL, state BLOB NOT NULL,
            PRIMARY KEY (channel, occurred_on, seq, recorded_from)
        ) STRICT, WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS channel_heads{suffix} (
            channel TEXT PRIMARY KEY, occurred_on TEXT NOT NULL, seq INTEGER NOT NULL, state BLOB NOT NULL,
            version INTEGER NOT NULL
        ) STRICT;
        CREATE TABLE IF NOT EXISTS register_items{suffix} (
            register TEXT NOT NULL, item TEXT NOT NULL, recorded_from INTEGER NOT NULL, recorded_to INTEGER,
            channel TEXT NOT NULL, body BLOB NOT NULL,
            PRIMARY KEY (register, item, recorded_from)
        ) STRICT, WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS register_events{suffix} (
            register TEXT NOT NULL, item TEXT NOT NULL, seq INTEGER NOT NULL, channel TEXT NOT NULL,
            PRIMARY KEY (register, item, seq)
        ) STRICT, WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS lineage{suffix} (
            predecessor TEXT NOT NULL, channel TEXT NOT NULL, PRIMARY KEY (predecessor, channel)
        ) STRICT, WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS projection_meta (
            name TEXT PRIMARY KEY, version INTEGER NOT NULL, checkpoint INTEGER NOT NULL,
            sanctions_key TEXT NOT NULL DEFAULT '', layout INTEGER NOT NULL DEFAULT 0
        ) STRICT
        """
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)
    if "layout" not in columns_of(conn, "projection_meta"):  # a database from before layouts were recorded
        conn.execute("ALTER TABLE projection_meta ADD COLUMN layout INTEGER NOT NULL DEFAULT 0")
    if indexes and layout_of(conn, suffix) == LAYOUT:
        create_indexes(conn, suffix)


def layout_of(conn: sqlite3.Connection, suffix: str = "") -> int:
    """The layout of the history table present (0 if it is of a layout before transaction time was kept)."""
    columns = columns_of(conn, f"channel_history{suffix}")
    heads = columns_of(conn, f"channel_heads{suffix}")
    register = all(
        conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (f"{table}{suffix}",)).fetchone()
        for table in ("register_items", "register_events")
    )
    return LAYOUT if "recorded_from" in columns and "marks" in columns and "version" in heads and register else 0


def columns_of(conn: sqlite3.Connection, table: str) -> set[str]:
    """The column names of an existing table (portable: no PRAGMA, which a server database lacks)."""
    return {d[0] for d in conn.execute(f"SELECT * FROM {table} LIMIT 0").description}


def create_indexes(conn: sqlite3.Connection, suffix: str = "") -> None:
    """The secondary indexes; built after a bulk fill (faster than maintaining them row by row)."""
    conn.execute(
        f"CREATE INDEX IF NOT EXISTS channel_history_known ON channel_history{suffix}"
        " (channel, recorded_from, occurred_on, seq)"
    )
    conn.execute(
        f"CREATE INDEX IF NOT EXISTS channel_history_changes ON channel_history{suffix}"
        " (channel, occurred_on, seq) WHERE changed = 1"
    )
    conn.execute(
        f"CREATE INDEX IF NOT EXISTS register_items_live ON register_items{suffix}"
        " (register, channel, item) WHERE recorded_to IS NULL"
    )
    conn.execute(f"CREATE INDEX IF NOT EXISTS register_events_channel ON register_events{suffix} (channel, register)")


def meta(conn: sqlite3.Connection) -> tuple[int, int, str, int] | None:
    """(version, checkpoint, sanctions key, layout) of the stored projections, or None."""
    try:
        row = conn.execute(
            "SELECT version, checkpoint, sanctions_key, layout FROM projection_meta WHERE name = ?", (NAME,)
        ).fetchone()
    except sqlite3.OperationalError:  # no table yet, or one from before layouts
        return None
    return (row[0], row[1], row[2], row[3]) if row else None


def set_meta(conn: sqlite3.Connection, checkpoint: int) -> None:
    key = ""  # the column of a sanctions key kept before the registers had transaction time; no longer read
    conn.execute(
        "INSERT INTO projection_meta (name, version, checkpoint, sanctions_key, layout) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT(name) DO UPDATE SET version=excluded.version, checkpoint=excluded.checkpoint,"
        " sanctions_key=excluded.sanctions_key, layout=excluded.layout",
        (NAME, PROJECTION_VERSION, checkpoint, key, LAYOUT),
    )


# -- folding into rows ---------------------------------------------------------------------------


class Folded(NamedTuple):
    """One history row as the maintainer computes it: the state after an event and the month's marks."""

    occurred_on: str
    seq: int
    state: ChannelState
    month: int
    counters: dict[str, tuple[int, str]]
    changed: int
    body: bytes  # the state packed (version left at 0: answers take the stream's version)
    marks: str

    @property
    def key(self) -> tuple[str, int]:
        return (self.occurred_on, self.seq)

    def same_row(self, other: tuple) -> bool:
        """Equal to a stored row (status, changed, marks, state) at the same key."""
        return (self.state.status, self.changed, self.marks, self.body) == other


def step(channel: str, previous: Folded | None, event: Any, seq: int, event_id: str, occurred_on: str) -> Folded:
    """The row after ``event`` (at key (occurred_on, seq)), from the row before it (valid-time order)."""
    state = fold(previous.state if previous is not None else ChannelState(channel=channel), event, 0)
    month = month_index(event.occurred_on)
    if previous is not None and previous.month == month:
        counters, marks = previous.counters, previous.marks
    else:
        counters, marks = {}, "{}"
    kind = MARK_KINDS.get(type_of(event))
    if kind is not None:
        found = counters.get(kind)
        counters = {**counters, kind: (found[0] + 1, found[1]) if found else (1, event_id)}
        marks = MARKS_ENCODER.encode(counters).decode()
    before = previous.state if previous is not None else None
    changed = int(state.since is not None and (before is None or before.since is None or before.status != state.status))
    return Folded(occurred_on, seq, state, month, counters, changed, pack_state(state), marks)


def stored(channel: str, occurred_on: str, seq: int, changed: int, marks: str, body: bytes) -> Folded:
    """A stored row read back as the maintainer's own."""
    state = unpack_state(body)
    month = month_index(dt.date.fromisoformat(occurred_on)) if occurred_on != TOMBSTONE_DAY else 0
    counters = MARKS_DECODER.decode(marks)
    return Folded(occurred_on, seq, state, month, counters, changed, bytes(body), marks)


class Writes:
    """History rows and closings waiting for one executemany each.

    A rebuild hands its inserts to a ``Background`` writer (``hand_off``): SQLite writes the B-tree without the
    GIL while the next chunk folds. Any other use of the connection first waits for it (``flush``)."""

    def __init__(self, suffix: str, background: Background | None = None) -> None:
        self.suffix = suffix
        self.background = background
        self.inserts: list[tuple] = []
        self.closings: list[tuple] = []

    def hand_off(self, conn: sqlite3.Connection) -> None:
        if self.background is None or self.closings:
            self.flush(conn)
            return
        if self.inserts:
            self.background.put(self._insert_sql(), self.inserts)
            self.inserts = []

    def _insert_sql(self) -> str:
        return f"INSERT INTO channel_history{self.suffix} ({HISTORY}) VALUES (?,?,?,?,?,?,?,?,?)"

    def insert(self, channel: str, row: Folded, recorded_from: int) -> None:
        self.inserts.append(
            (channel, row.occurred_on, row.seq, recorded_from, None, row.state.status, row.changed, row.marks, row.body)
        )

    def close(self, channel: str, key: tuple[str, int], recorded_from: int, recorded_to: int) -> None:
        self.closings.append((recorded_to, channel, key[0], key[1], recorded_from))

    def flush(self, conn: sqlite3.Connection) -> None:
        if self.background is not None:
            self.background.wait()
        if self.closings:
            conn.executemany(
                f"UPDATE channel_history{self.suffix} SET recorded_to = ?"
                " WHERE channel = ? AND occurred_on = ? AND seq = ? AND recorded_from = ?",
                self.closings,
            )
            self.closings.clear()
        if self.inserts:
            conn.executemany(self._insert_sql(), self.inserts)
            self.inserts.clear()


class Background:
    """One thread running a rebuild's executemany calls on the writer connection, in order; ``wait``
    returns once it is idle (the caller then has the connection to itself again)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.work: queue.Queue[tuple[str, list[tuple]] | None] = queue.Queue()
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="diplo-rebuild-writes", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while (item := self.work.get()) is not None:
            try:
                if self.failure is None:
                    self.conn.executemany(*item)
            except BaseException as error:  # raised to the rebuild at its next wait
                self.failure = error
            finally:
                self.work.task_done()
        self.work.task_done()

    def put(self, sql: str, rows: list[tuple]) -> None:
        self.work.put((sql, rows))

    def wait(self) -> None:
        self.work.join()
        if self.failure is not None:
            raise self.failure

    def close(self) -> None:
        self.wait()
        self.work.put(None)
        self.thread.join()


class Maintainer:
    """The append hook: brings the projections up to date with rows just inserted, in their transaction.

    Events are applied one at a time in log order, so the rows and their recording intervals are a function
    of the log alone (a replay gives the same rows, however the appends were grouped). An event after the
    channel's head is folded onto the head in memory; any other (back-dated, or an amendment) refolds the
    channel from the earliest day it may change and closes only the rows whose content changed.

    It remembers the channel heads and the register items it wrote, which stay true exactly as long as
    the next rows it sees follow on from the last ones (no other process wrote, nothing rolled back).
    """

    def __init__(self, suffix: str = "", background: Background | None = None) -> None:
        self.suffix = suffix
        self.background = background  # a rebuild's writer thread
        self.forget()

    def forget(self) -> None:
        self.after_seq: int | None = None
        self.heads: dict[str, tuple[Folded | None, int]] = {}  # channel -> (head row, its recorded_from)
        self.versions: dict[str, int] = {}  # channel -> its stream's version, for the heads table
        # (register, item) -> its live version (None: no such item); complete: every item of the register is here
        self.items: dict[tuple[str, str], Live | None] = {}
        self.complete = set(REGISTER_TYPES) if self.suffix else set()  # a rebuild starts from empty tables
        # A rebuild keeps the items' events and the amendments in memory (its tables have no indexes yet).
        self.memory = bool(self.suffix)
        self.members: dict[tuple[str, str], set[int]] = {}
        self.by_channel: dict[str, set[str]] = {}
        self.amendment_rows: list[StoredEvent] = []
        self.collected: Amendments | None = None
        self.parties: tuple[sqlite3.Connection, Callable[[str], list[str]]] | None = None
        self.register_writes = RegisterWrites(self.suffix)

    def __call__(self, conn: sqlite3.Connection, rows: Sequence[StoredEvent]) -> None:
        if not rows:
            return
        if self.after_seq != rows[0].seq - 1:
            self.forget()
        writes = Writes(self.suffix)
        touched: set[str] = set()
        for row in rows:
            self.apply(conn, row, writes)
            self.registers(conn, row, writes)
            touched.add(row.channel)
        writes.flush(conn)
        self.register_writes.flush(conn)
        self.write_heads(conn, touched)
        if not self.suffix:  # a rebuild sets its checkpoint when it swaps the tables in
            set_meta(conn, rows[-1].seq)
        self.after_seq = rows[-1].seq

    def replay_chunk(self, conn: sqlite3.Connection, values: Sequence[tuple]) -> None:
        """A rebuild's rows ``(seq, id, type, channel, version, occurred_on, body)``, in log order: the same
        as ``__call__`` with their StoredEvents, the usual in-order event taking the short way."""
        writes = Writes(self.suffix, self.background)
        heads, amendments, insert = self.heads, AMENDMENT_TYPES, writes.insert
        versions = self.versions
        for seq, event_id, kind, channel, version, occurred_on, body in values:
            versions[channel] = version
            found = heads.get(channel)
            head = found[0] if found is not None else None
            if (
                found is not None
                and kind not in amendments
                and (head is None or (occurred_on, seq) > (head.occurred_on, head.seq))
                and not (kind == "channel_established" and b'"succeeds"' in body)
            ):
                new = step(channel, head, LEAN_DECODER.decode(body), seq, event_id, occurred_on)
                insert(channel, new, seq)
                heads[channel] = (new, seq)
                if kind in REGISTERS_OF:
                    self.registers(conn, _row(seq, event_id, kind, channel, version, occurred_on, body), writes)
                continue
            writes.flush(conn)  # the connection to itself: the rows before are written, the writer thread idle
            row = _row(seq, event_id, kind, channel, version, occurred_on, body)
            self.apply(conn, row, writes)
            self.registers(conn, row, writes)
        writes.hand_off(conn)  # the heads are written once, at the end of the rebuild
        self.register_writes.hand_off(conn, self.background)
        if values:
            self.after_seq = values[-1][0]

    # -- the registers ------------------------------------------------------------------------------

    def registers(self, conn: sqlite3.Connection, row: StoredEvent, writes: Writes) -> None:
        """The register items event ``row`` changes, as known once it is recorded (after its channel's rows,
        whose head gives the parties of an upcast sanction): an event later in valid time than every event of
        its item is folded onto the item; a back-dated one refolds its item from the item's events
        (``register_events``), as amended now. An amendment of a register event refolds the items its target
        belonged to and belongs to now (a correction may move it); one of a channel's establishment (its
        parties), like an establishment itself, refolds the measures with an event of the channel."""
        if row.type in AMENDMENT_TYPES:
            self.amended(conn, row, writes)
            return
        if row.type == "channel_established":
            self.refold_channel(conn, row.channel, row.seq, writes)
            return
        if row.type not in REGISTERS_OF:
            return
        item = Effective(event=row.event(), seq=row.seq, version=row.version, id=row.id)
        for register, key, channel in items_of(item):
            self._member(conn, register, key, row.seq, row.channel)
            live = self._live(conn, register, key)
            body = live.body if live is not None else None
            if body is not None and item.event.occurred_on < body.last:
                writes.flush(conn)
                self.refold_item(conn, register, key, row.seq)
                continue
            body = advance(register, body, item, self._parties(conn))
            self._version(conn, register, key, channel, body, row.seq)

    def amended(self, conn: sqlite3.Connection, row: StoredEvent, writes: Writes) -> None:
        writes.flush(conn)  # a rebuild's writer thread idle: the connection reads the log
        before = self._amendments(conn, row.seq - 1)
        if self.memory:
            self.amendment_rows.append(row)
            self.collected = None
        root = _amended_root(conn, row)
        if root is None or root.type not in REGISTERS_OF:
            return
        if root.type == "channel_established":
            self.refold_channel(conn, root.channel, row.seq, writes)
            return
        # The items the target is in, as amended before and now (every earlier move refolded the items it left).
        touched: set[tuple[str, str]] = set()
        was, now = before.apply(root), self._amendments(conn, row.seq).apply(root)
        for item in (was, now):
            if item is not None:
                for register, key, _ in items_of(item):
                    self._member(conn, register, key, root.seq, root.channel)
                    touched.add((register, key))
        for register, key in sorted(touched):
            self.refold_item(conn, register, key, row.seq)

    def refold_channel(self, conn: sqlite3.Connection, channel: str, seq: int, writes: Writes) -> None:
        """The measures with an event of ``channel`` (an upcast sanction's ``against`` is its parties)."""
        if self.memory:
            keys = sorted(self.by_channel.get(channel, ()))
        else:
            found = conn.execute(
                f"SELECT DISTINCT item FROM register_events{self.suffix} WHERE channel = ? AND register = ?",
                (channel, MEASURES),
            )
            keys = sorted(k for (k,) in found)
        if keys:
            writes.flush(conn)
        for key in keys:
            self.refold_item(conn, MEASURES, key, seq)

    def refold_item(self, conn: sqlite3.Connection, register: str, key: str, seq: int) -> None:
        """One item from its events recorded by ``seq``, as amended then; a new version if its body changed
        (an item left with no event gets an empty one)."""
        seqs = sorted(self._members_of(conn, register, key))
        rows: list[StoredEvent] = []
        for start in range(0, len(seqs), 500):
            part = seqs[start : start + 500]
            marks = ",".join("?" * len(part))
            cursor = conn.execute(f"SELECT {COLUMNS} FROM events WHERE seq IN ({marks})", part)
            rows.extend(store_row(v) for v in cursor)
        parties = self._parties(conn)
        body: Item | None = None
        channel = ""
        for event in effective_in_valid_order((r for r in rows if r.seq <= seq), self._amendments(conn, seq)):
            for found, found_key, found_channel in items_of(event):
                if found == register and found_key == key:
                    body = advance(register, body, event, parties)
                    channel = found_channel
        live = self._live(conn, register, key)
        self._version(conn, register, key, live.channel if live is not None else channel, body, seq)

    def _amendments(self, conn: sqlite3.Connection, seq: int) -> Amendments:
        """The corrections and retractions recorded by ``seq`` (every one the maintainer has seen, in a rebuild)."""
        if self.memory:
            if self.collected is None:
                self.collected = Amendments.collect(self.amendment_rows)
            return self.collected
        marks = ",".join("?" * len(AMENDMENT_TYPES))
        found = conn.execute(
            f"SELECT {COLUMNS} FROM events WHERE type IN ({marks}) AND seq <= ?", (*AMENDMENT_TYPES, seq)
        )
        return Amendments.collect(store_row(v) for v in found)

    def _member(self, conn: sqlite3.Connection, register: str, key: str, seq: int, channel: str) -> None:
        """Event ``seq`` belongs (or once belonged) to the item: its refold reads it."""
        if self.memory:
            members = self.members.setdefault((register, key), set())
            if seq in members:
                return
            members.add(seq)
            if register == MEASURES:
                self.by_channel.setdefault(channel, set()).add(key)
        self.register_writes.member(conn, register, key, seq, channel)

    def _members_of(self, conn: sqlite3.Connection, register: str, key: str) -> Iterable[int]:
        if self.memory:
            return self.members.get((register, key), ())
        found = conn.execute(
            f"SELECT seq FROM register_events{self.suffix} WHERE register = ? AND item = ?", (register, key)
        )
        return [s for (s,) in found]

    def _parties(self, conn: sqlite3.Connection) -> Callable[[str], list[str]]:
        if self.parties is not None and self.parties[0] is conn:
            return self.parties[1]

        def parties(channel: str) -> list[str]:
            head = self._head(conn, channel)[0]
            return list(head.state.parties) if head is not None and head.state.established_on else []

        self.parties = (conn, parties)
        return parties

    def _live(self, conn: sqlite3.Connection, register: str, key: str) -> Live | None:
        if (register, key) in self.items or register in self.complete:
            return self.items.get((register, key))
        found = conn.execute(
            f"SELECT channel, body, recorded_from FROM register_items{self.suffix}"
            " WHERE register = ? AND item = ? ORDER BY recorded_from DESC LIMIT 1",
            (register, key),
        ).fetchone()
        live = _live_of(register, *found) if found else None
        self.items[(register, key)] = live
        return live

    def _load_register(self, conn: sqlite3.Connection, register: str) -> None:
        if register in self.complete:
            return
        for key, channel, body, recorded_from in conn.execute(
            f"SELECT item, channel, body, recorded_from FROM register_items{self.suffix}"
            " WHERE register = ? AND recorded_to IS NULL",
            (register,),
        ):
            self.items[(register, key)] = _live_of(register, channel, body, recorded_from)
        self.complete.add(register)

    def _version(
        self, conn: sqlite3.Connection, register: str, key: str, channel: str, body: Item | None, seq: int
    ) -> None:
        """The item as it stands once event ``seq`` is recorded: a new version if its body changed."""
        data = ITEM_ENCODER.encode(body) if body is not None else b""
        live = self.items.get((register, key))
        if live is None and body is None:
            return
        if live is not None and live.data == data:
            self.items[(register, key)] = live._replace(body=body)
            return
        if live is not None:
            self.register_writes.close(conn, register, key, live.recorded_from, seq)
        self.register_writes.insert(conn, register, key, seq, channel, data)
        self.items[(register, key)] = Live(body, data, seq, channel)

    def write_heads(self, conn: sqlite3.Connection, channels: Iterable[str]) -> None:
        values = []
        for channel in channels:
            head = self.heads.get(channel, (None, 0))[0]
            if head is not None:
                values.append((channel, head.occurred_on, head.seq, head.body, self.versions[channel]))
        conn.executemany(
            f"INSERT INTO channel_heads{self.suffix} (channel, occurred_on, seq, state, version) VALUES (?,?,?,?,?)"
            " ON CONFLICT(channel) DO UPDATE SET occurred_on=excluded.occurred_on, seq=excluded.seq,"
            " state=excluded.state, version=excluded.version",
            values,
        )

    def _head(self, conn: sqlite3.Connection, channel: str) -> tuple[Folded | None, int]:
        if channel not in self.heads:
            found = conn.execute(
                f"SELECT occurred_on, seq, recorded_from, changed, marks, state FROM channel_history{self.suffix}"
                " WHERE channel = ? ORDER BY recorded_from DESC, occurred_on DESC, seq DESC LIMIT 1",
                (channel,),
            ).fetchone()
            self.heads[channel] = (
                (stored(channel, found[0], found[1], found[3], found[4], found[5]), found[2]) if found else (None, 0)
            )
        return self.heads[channel]

    def apply(self, conn: sqlite3.Connection, row: StoredEvent, writes: Writes) -> None:
        """One event, in log order."""
        self.versions[row.channel] = row.version
        if row.type in ("channel_established", "event_corrected") and b'"succeeds"' in row.body:
            self.lineage(conn, row)
        head, _ = self._head(conn, row.channel)
        if row.type not in AMENDMENT_TYPES and (head is None or (row.occurred_on, row.seq) > head.key):
            event = LEAN_DECODER.decode(row.body)  # a new event: nothing amends it yet
            new = step(row.channel, head, event, row.seq, row.id, row.occurred_on)
            writes.insert(row.channel, new, row.seq)
            self.heads[row.channel] = (new, row.seq)
            return
        writes.flush(conn)  # the refold reads the table
        if row.type in AMENDMENT_TYPES:
            affected, until = amended_from(conn, row)
        else:
            affected = until = (row.occurred_on, row.seq)
        self.heads[row.channel] = self.refold(conn, row.channel, row.seq, affected, until, writes)
        writes.flush(conn)

    def lineage(self, conn: sqlite3.Connection, row: StoredEvent) -> None:
        event = row.event()
        named = None
        if isinstance(event, EventCorrected):
            named = event.changes.get("succeeds")
        elif isinstance(event, ChannelEstablished):
            named = event.succeeds
        if isinstance(named, str):
            conn.execute(
                f"INSERT INTO lineage{self.suffix} (predecessor, channel) VALUES (?, ?) ON CONFLICT DO NOTHING",
                (named, row.channel),
            )

    def refold(
        self,
        conn: sqlite3.Connection,
        channel: str,
        seq: int,
        affected: tuple[str, int],
        until: tuple[str, int],
        writes: Writes,
    ) -> tuple[Folded | None, int]:
        """The channel as known once event ``seq`` is recorded, from key ``affected`` on: rows whose content
        changed are closed at ``seq`` and their successors recorded from it. Returns the new head.

        Past ``until`` (the last key the event may move), the first row found unchanged ends the work: the
        fold is deterministic, so every later row is unchanged too. A back-dated event costs the rows it
        changes (its month's marks, the cadence window), not the length of the channel."""
        table = f"channel_history{self.suffix}"
        before = conn.execute(
            f"SELECT occurred_on, seq, changed, marks, state, recorded_from FROM {table}"
            " WHERE channel = ? AND recorded_to IS NULL AND (occurred_on, seq) < (?, ?)"
            " ORDER BY occurred_on DESC, seq DESC LIMIT 1",
            (channel, affected[0], affected[1]),
        ).fetchone()
        current_head = self._head(conn, channel)
        old = conn.execute(
            f"SELECT occurred_on, seq, status, changed, marks, state, recorded_from FROM {table}"
            " WHERE channel = ? AND recorded_to IS NULL AND (occurred_on, seq) >= (?, ?)"
            " ORDER BY occurred_on, seq",
            (channel, affected[0], affected[1]),
        )
        waiting = next(old, None)
        head, head_from = (stored(channel, *before[:5]), before[5]) if before else (None, 0)
        converged = False
        for item in known_effective(conn, channel, seq, affected):
            key = (item.key[0], item.seq)
            while waiting is not None and (waiting[0], waiting[1]) < key:  # an event retracted or moved away
                writes.close(channel, (waiting[0], waiting[1]), waiting[6], seq)
                waiting = next(old, None)
            new = step(channel, head, item.event, item.seq, item.id, key[0])
            if waiting is not None and (waiting[0], waiting[1]) == key:
                found, waiting = waiting, next(old, None)
                if new.same_row(found[2:6]):
                    head, head_from = new, found[6]
                    if key > until:
                        converged = True
                        break
                    continue
                writes.close(channel, key, found[6], seq)
            writes.insert(channel, new, seq)
            head, head_from = new, seq
        if converged:
            head, head_from = current_head  # every row from here on is as it was, the head included
        else:
            while waiting is not None:  # rows of events retracted or moved away
                writes.close(channel, (waiting[0], waiting[1]), waiting[6], seq)
                waiting = next(old, None)
        if head is None:
            head = stored(channel, TOMBSTONE_DAY, seq, 0, "{}", pack_state(ChannelState(channel=channel)))
            writes.insert(channel, head, seq)
        elif head_from != seq:  # the head as it stands after this event is always recorded by it
            writes.close(channel, head.key, head_from, seq)
            writes.insert(channel, head, seq)
        return head, seq


def amended_from(
    conn: sqlite3.Connection, amendment: StoredEvent, upto: int | None = None
) -> tuple[tuple[str, int], tuple[str, int]]:
    """The earliest and the latest key an amendment may change: its target's, at the date it was recorded with
    or any date a correction gave it (a retracted correction: the corrected event's). States before the
    earliest stay as they were."""
    target_id = target_of(amendment)
    found = conn.execute(f"SELECT {COLUMNS} FROM events WHERE id = ?", (target_id,)).fetchone()
    if found is None:
        return ("", 0), ("9999-12-31", 2**62)
    target = store_row(found)
    if target.type in AMENDMENT_TYPES:
        return amended_from(conn, target, amendment.seq if upto is None else upto)
    days = {target.occurred_on}
    for other in channel_amendments(conn, target.channel, amendment.seq if upto is None else upto):
        corrected = other.event()
        if isinstance(corrected, EventCorrected) and str(corrected.target_id) == target.id:
            day = corrected.changes.get("occurred_on")
            if isinstance(day, str):
                days.add(day)
    return (min(days), target.seq), (max(days), target.seq)


def channel_amendments(conn: sqlite3.Connection, channel: str, upto: int) -> list[StoredEvent]:
    """The channel's corrections and retractions recorded by ``upto``: through the type index, so in
    proportion to the log's amendments, never to the channel's length (the channel is matched here)."""
    marks = ",".join("?" * len(AMENDMENT_TYPES))
    found = conn.execute(f"SELECT {COLUMNS} FROM events WHERE type IN ({marks}) AND seq <= ?", (*AMENDMENT_TYPES, upto))
    return sorted((store_row(v) for v in found if v[3] == channel), key=lambda r: r.seq)


def known_effective(conn: sqlite3.Connection, channel: str, seq: int, affected: tuple[str, int]) -> Iterator[Any]:
    """The channel's events recorded by ``seq``, as amended then, whose (amended) key is ``affected`` or later,
    in valid-time order, streamed from the index; the few corrected events are merged in at their new keys."""
    amendments = Amendments.collect(channel_amendments(conn, channel, seq))
    cursor = conn.execute(
        "SELECT seq, id, type, version, body FROM events WHERE channel = ?"
        " AND (occurred_on, seq) >= (?, ?) AND seq <= ? ORDER BY occurred_on, seq",
        (channel, affected[0], affected[1], seq),
    )
    plain = (
        Effective(event=LEAN_DECODER.decode(body), seq=event_seq, version=version, id=event_id)
        for event_seq, event_id, kind, version, body in cursor
        if kind not in AMENDMENT_TYPES and event_id not in amendments.retracted and event_id not in amendments.changes
    )
    if not amendments.changes:
        yield from plain
        return
    ids = list(amendments.changes)
    marks = ",".join("?" * len(ids))
    targets = (store_row(v) for v in conn.execute(f"SELECT {COLUMNS} FROM events WHERE id IN ({marks})", ids))
    corrected = [
        e
        for e in map(amendments.apply, (t for t in targets if t.seq <= seq and t.channel == channel))
        if e is not None and e.key >= affected
    ]
    yield from heapq.merge(plain, sorted(corrected, key=attrgetter("key")), key=attrgetter("key"))


# -- the registers: items with the interval of recording of each version ----------------------------


class Live(NamedTuple):
    """An item's live version: its body (None: no event of it is left), as stored, since when, its channel."""

    body: Any
    data: bytes
    recorded_from: int
    channel: str


def _live_of(register: str, channel: str, body: bytes, recorded_from: int) -> Live:
    data = bytes(body)
    return Live(DECODERS[register].decode(data) if data else None, data, recorded_from, channel)


def _row(seq: int, event_id: str, kind: str, channel: str, version: int, occurred_on: str, body: bytes) -> StoredEvent:
    return StoredEvent(
        seq=seq,
        id=event_id,
        type=kind,
        channel=channel,
        version=version,
        occurred_on=occurred_on,
        recorded_at="",
        body=body,
        prev_hash="",
        hash="",
    )


def _amended_root(conn: sqlite3.Connection, amendment: StoredEvent) -> StoredEvent | None:
    """The event an amendment changes, through a retracted correction to what it corrected."""
    target = target_of(amendment)
    while True:
        found = conn.execute(f"SELECT {COLUMNS} FROM events WHERE id = ?", (target,)).fetchone()
        if found is None:
            return None
        row = store_row(found)
        if row.type not in AMENDMENT_TYPES:
            return row
        target = target_of(row)


class RegisterWrites:
    """Versions of register items. Appends write them at once; a rebuild (whose maintainer knows every item
    and never reads the table) gathers them and hands them to its writer thread."""

    def __init__(self, suffix: str) -> None:
        self.suffix = suffix
        self.inserts: dict[tuple[str, str, int], list] = {}
        self.closings: list[tuple] = []
        self.members: list[tuple] = []

    def member(self, conn: sqlite3.Connection, register: str, key: str, seq: int, channel: str) -> None:
        self.members.append((register, key, seq, channel))
        if not self.suffix:
            self.flush(conn)

    def insert(self, conn: sqlite3.Connection, register: str, key: str, seq: int, channel: str, data: bytes) -> None:
        self.inserts[(register, key, seq)] = [register, key, seq, None, channel, data]
        if not self.suffix:
            self.flush(conn)

    def close(self, conn: sqlite3.Connection, register: str, key: str, recorded_from: int, seq: int) -> None:
        pending = self.inserts.get((register, key, recorded_from))
        if pending is not None:
            pending[3] = seq
        else:
            self.closings.append((seq, register, key, recorded_from))

    def _statements(self) -> list[tuple[str, list]]:
        statements = []
        if self.closings:
            statements.append(
                (
                    f"UPDATE register_items{self.suffix} SET recorded_to = ?"
                    " WHERE register = ? AND item = ? AND recorded_from = ?",
                    self.closings,
                )
            )
        if self.inserts:
            statements.append(
                (
                    f"INSERT INTO register_items{self.suffix}"
                    " (register, item, recorded_from, recorded_to, channel, body) VALUES (?,?,?,?,?,?)",
                    [tuple(v) for v in self.inserts.values()],
                )
            )
        if self.members:
            statements.append(
                (
                    f"INSERT INTO register_events{self.suffix} (register, item, seq, channel) VALUES (?,?,?,?)"
                    " ON CONFLICT DO NOTHING",
                    self.members,
                )
            )
        self.closings, self.inserts, self.members = [], {}, []
        return statements

    def flush(self, conn: sqlite3.Connection) -> None:
        for sql, values in self._statements():
            conn.executemany(sql, values)

    def hand_off(self, conn: sqlite3.Connection, background: Background | None) -> None:
        if background is None:
            self.flush(conn)
            return
        for sql, values in self._statements():
            background.put(sql, values)


def register_at(conn: sqlite3.Connection, register: str, at: int | None, channel: str | None = None) -> list[Any]:
    """The register's items as known at log position ``at`` (None: now): for each item (one live row each,
    read from a partial index), one seek to its version recorded by then; work in proportion to the register."""
    where = "l.register = ? AND l.recorded_to IS NULL" + (" AND l.channel = ?" if channel is not None else "")
    params: tuple = (register,) if channel is None else (register, channel)
    if at is None:
        sql = f"SELECT l.body FROM register_items l WHERE {where}"
    else:
        sql = (
            "SELECT (SELECT v.body FROM register_items v WHERE v.register = l.register AND v.item = l.item"
            f" AND v.recorded_from <= ? ORDER BY v.recorded_from DESC LIMIT 1) FROM register_items l WHERE {where}"
        )
        params = (at, *params)
    decoder = DECODERS[register]
    return [decoder.decode(bytes(body)) for (body,) in conn.execute(sql, params) if body]


# -- reading ------------------------------------------------------------------------------------------


def seq_at(conn: sqlite3.Connection, known_at: str | None) -> int | None:
    """The log position ``known_at`` stands for: the newest seq recorded by then (0 if none); None for now."""
    if known_at is None:
        return None
    found = conn.execute(
        "SELECT seq FROM events WHERE recorded_at <= ? ORDER BY recorded_at DESC LIMIT 1", (known_at,)
    ).fetchone()
    return found[0] if found else 0


Head = tuple[str, bytes, int, int]  # (occurred_on, state, seq of the channel's last event, or 0; its version, or 0)


def head_state(conn: sqlite3.Connection, channel: str, at: int | None) -> Head | None:
    """The channel's head as known at log position ``at`` (None: now, with the stream's version); one seek."""
    if at is None:
        found = conn.execute(
            "SELECT occurred_on, state, 0, version FROM channel_heads WHERE channel = ?", (channel,)
        ).fetchone()
    else:
        found = conn.execute(
            "SELECT occurred_on, state, recorded_from, 0 FROM channel_history WHERE channel = ? AND recorded_from <= ?"
            " ORDER BY recorded_from DESC, occurred_on DESC, seq DESC LIMIT 1",
            (channel, at),
        ).fetchone()
    return (found[0], found[1], found[2], found[3]) if found else None


def version_at(conn: sqlite3.Connection, head: Head | None) -> int:
    """The channel stream's version: now (kept with the head), or of its last event as known then (a seek)."""
    if head is None:
        return 0
    if head[2] == 0:
        return head[3]
    found = conn.execute("SELECT version FROM events WHERE seq = ?", (head[2],)).fetchone()
    return found[0] if found else 0


def _known(at: int | None) -> tuple[str, tuple]:
    if at is None:
        return "recorded_to IS NULL", ()
    return "recorded_from <= ? AND (recorded_to IS NULL OR recorded_to > ?)", (at, at)


def state_on(conn: sqlite3.Connection, channel: str, day: str, at: int | None) -> bytes | None:
    """The stored state after the channel's last event on or before ``day``, as known at ``at``."""
    clause, params = _known(at)
    found = conn.execute(
        f"SELECT state FROM channel_history WHERE channel = ? AND occurred_on <= ? AND {clause}"
        " ORDER BY occurred_on DESC, seq DESC LIMIT 1",
        (channel, day, *params),
    ).fetchone()
    return found[0] if found else None


def status_changes(conn: sqlite3.Connection, channel: str, at: int | None, upto: str) -> Iterator[bytes]:
    """The states where the channel's status changed, in valid-time order, as known at ``at``."""
    clause, params = _known(at)
    for (state,) in conn.execute(
        f"SELECT state FROM channel_history WHERE channel = ? AND changed = 1 AND occurred_on <= ? AND {clause}"
        " ORDER BY occurred_on, seq",
        (channel, upto, *params),
    ):
        yield state


def month_ends(
    conn: sqlite3.Connection, channel: str, at: int | None, first: dt.date, last: dt.date
) -> list[tuple[int, str, str]]:
    """(month, status, marks) of the channel's last row in each month from ``first`` to ``last`` that has one,
    as known at ``at``: one seek per month, in one statement."""
    clause, params = _known(at)
    months = range(month_index(first), month_index(last) + 1)
    if not months:
        return []
    bounds = [(m, month_start(m).isoformat(), month_start(m + 1).isoformat()) for m in months]
    sql = f"""
        WITH months(m, low, high) AS (VALUES {",".join(["(?, ?, ?)"] * len(bounds))})
        SELECT m, (SELECT status || ' ' || marks FROM channel_history
                   WHERE channel = ? AND occurred_on >= low AND occurred_on < high AND {clause}
                   ORDER BY occurred_on DESC, seq DESC LIMIT 1)
        FROM months
    """
    flat = [v for bound in bounds for v in bound]
    found = conn.execute(sql, (*flat, channel, *params))
    return [(m, *end.split(" ", 1)) for m, end in found if end is not None]
