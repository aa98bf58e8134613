"""The baseline for bench/http.py: the least a litestar + msgspec + sqlite3 service can do.

POST /events decodes a msgspec Struct and inserts it with one durable commit
(synchronous=FULL, WAL); GET /channels/{channel} reads one row by key. Same
framework, same server, no log, no hash chain, no projections.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import uuid

import msgspec
from litestar import Litestar, get, post

DB = os.environ.get("MINIMAL_DB", "/tmp/minimal.db")


class Item(msgspec.Struct):
    type: str
    channel: str
    occurred_on: str
    summary: str
    sources: list[dict]


class Receipt(msgspec.Struct):
    id: str
    seq: int


_conn = sqlite3.connect(DB, check_same_thread=False, isolation_level=None)
_conn.execute("PRAGMA journal_mode=WAL")
_conn.execute("PRAGMA synchronous=FULL")
_conn.execute("CREATE TABLE IF NOT EXISTS items (seq INTEGER PRIMARY KEY, id TEXT UNIQUE, channel TEXT, body BLOB)")
_conn.execute("INSERT OR IGNORE INTO items (seq, id, channel, body) VALUES (1, 'x', 'bench-channel-001', '{}')")
_lock = threading.Lock()


@post("/events", sync_to_thread=True)
def append(data: Item) -> Receipt:
    item_id = str(uuid.uuid4())
    with _lock:
        _conn.execute("BEGIN")
        cursor = _conn.execute(
            "INSERT INTO items (id, channel, body) VALUES (?, ?, ?)", (item_id, data.channel, msgspec.json.encode(data))
        )
        _conn.execute("COMMIT")
    return Receipt(id=item_id, seq=cursor.lastrowid or 0)


@get("/channels/{channel:str}", sync_to_thread=False)
def channel(channel: str, as_of: str | None = None) -> dict:
    row = _conn.execute("SELECT seq, id, channel FROM items WHERE seq = 1").fetchall()[0]
    return {"seq": row[0], "id": row[1], "channel": channel, "as_of": as_of}


app = Litestar(route_handlers=[append, channel])
