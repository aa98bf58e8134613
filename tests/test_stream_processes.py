"""The live stream carries every commit to the database, whichever process made it.

A `diplo load`, or a second server on the same SQLite file, appends through its
own log object: the serving process hears of it only by looking at the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import subprocess
import threading
import time
from pathlib import Path

import httpx
from factory import event_dict, make
from live import DIPLO, LiveServer

from diplo.events import SQLiteLog
from diplo.service.stream import Broadcaster


async def _collect(broadcaster: Broadcaster, after: int, want: int, timeout: float) -> list[int]:
    seqs: list[int] = []

    async def read() -> None:
        async for message in broadcaster.follow(after):
            if message.id is not None:
                seqs.append(int(message.id))
                if len(seqs) >= want:
                    return

    with contextlib.suppress(TimeoutError):  # what arrived in time is the answer
        await asyncio.wait_for(read(), timeout)
    return seqs


def test_an_append_by_another_log_on_the_same_file_is_streamed(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    serving, other = SQLiteLog(db), SQLiteLog(db)  # `other` stands for a second process
    try:
        serving.append([make("channel_established", "alpha", "2000-01-01")])

        async def scenario() -> tuple[list[int], float]:
            broadcaster = Broadcaster(serving, asyncio.get_running_loop())
            try:
                reader = asyncio.create_task(_collect(broadcaster, 1, 1, timeout=5))
                await asyncio.sleep(0.1)  # connected and caught up
                started = time.monotonic()
                await asyncio.to_thread(other.append, [make("meeting_held", "alpha", "2000-02-01")])
                seqs = await reader
                return seqs, time.monotonic() - started
            finally:
                broadcaster.close()

        seqs, took = asyncio.run(scenario())
        assert seqs == [2]
        assert took < 1.5, f"the other process's event took {took:.2f} s to reach the stream"
    finally:
        serving.close()
        other.close()


def test_interleaved_appends_by_two_logs_stream_once_each_in_order(tmp_path: Path) -> None:
    db = tmp_path / "interleaved.db"
    serving, other = SQLiteLog(db), SQLiteLog(db)
    per_writer = 60
    try:
        serving.append([make("channel_established", "alpha", "2000-01-01")])
        other.append([make("channel_established", "beta", "2000-01-01")])

        def write(log: SQLiteLog, channel: str) -> None:
            for i in range(per_writer):
                log.append([make("meeting_held", channel, f"2001-01-{1 + i % 28:02d}")])
                if i % 7 == 0:
                    time.sleep(0.01)  # let the poller see some of the other log's commits first

        async def scenario() -> list[int]:
            broadcaster = Broadcaster(serving, asyncio.get_running_loop())
            try:
                reader = asyncio.create_task(_collect(broadcaster, 2, 2 * per_writer + 1, timeout=20))
                await asyncio.sleep(0.1)
                await asyncio.gather(
                    asyncio.to_thread(write, serving, "alpha"), asyncio.to_thread(write, other, "beta")
                )
                await asyncio.to_thread(other.append, [make("meeting_held", "beta", "2002-01-01")])  # last word
                return await reader
            finally:
                broadcaster.close()

        seqs = asyncio.run(scenario())
        assert seqs == list(range(3, 3 + 2 * per_writer + 1))
    finally:
        serving.close()
        other.close()


def _read_sse(url: str, out: list[dict], ready: threading.Event, want: int) -> None:
    with contextlib.suppress(httpx.HTTPError), httpx.stream("GET", url, timeout=30) as response:
        ready.set()
        current: dict = {}
        for line in response.iter_lines():
            if line.startswith("id:"):
                current["id"] = int(line[3:].strip())
            elif line.startswith("data:"):
                current["data"] = json.loads(line[5:].strip())
                current["at"] = time.monotonic()
            elif line == "" and "id" in current:
                out.append(current)
                current = {}
                if len(out) >= want:
                    return


def test_diplo_load_into_a_served_database_reaches_sse_subscribers(tmp_path: Path) -> None:
    server = LiveServer(tmp_path / "served.db").start()
    received: list[dict] = []
    ready = threading.Event()
    try:
        head = httpx.get(server.url + "/log/head").json()["seq"]
        reader = threading.Thread(
            target=_read_sse, args=(f"{server.url}/events/stream?after={head}", received, ready, 2), daemon=True
        )
        reader.start()
        assert ready.wait(10)
        time.sleep(0.3)
        batch = tmp_path / "batch.jsonl"
        events = [event_dict("channel_established", "gamma", "2000-01-01"), event_dict("meeting_held", "gamma")]
        batch.write_text("".join(json.dumps(e) + "\n" for e in events))
        subprocess.run([DIPLO, "load", "--db", str(server.db), str(batch)], check=True, capture_output=True)
        loaded = time.monotonic()
        deadline = loaded + 5
        while len(received) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert [m["data"]["id"] for m in received] == [e["id"] for e in events]
        assert received[-1]["at"] - loaded < 2, f"arrived {received[-1]['at'] - loaded:.2f} s after the load"
    finally:
        server.stop()


def test_closing_the_broadcaster_ends_every_stream_at_once(tmp_path: Path) -> None:
    """At shutdown the streams end, so the server stops without waiting out its grace period."""
    log = SQLiteLog(tmp_path / "closing.db")
    try:
        log.append([make("channel_established", "alpha", "2000-01-01")])

        async def scenario() -> list[object]:
            broadcaster = Broadcaster(log, asyncio.get_running_loop())
            messages: list[object] = []

            async def read() -> None:
                async for message in broadcaster.follow(0):
                    messages.append(message.id)

            reader = asyncio.create_task(read())
            await asyncio.sleep(0.1)  # caught up, waiting for the next commit
            broadcaster.close()
            await asyncio.wait_for(reader, 2)  # the keep-alive wait alone is 15 s
            return messages

        assert asyncio.run(scenario()) == [1]
    finally:
        log.close()
