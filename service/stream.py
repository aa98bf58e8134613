"""Live delivery of appended events to many Server-Sent-Events subscribers.

One listener on the log fans each committed group out to every subscriber's
queue, so subscribers cost the writer nothing per event. Each subscriber
first catches up from the database, then drains its queue, skipping what it
has already sent and re-reading the database if its queue overflowed: no
gaps, no repeats.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Sequence

import msgspec
from litestar.response import ServerSentEventMessage

from events import SQLiteLog, StoredEvent
from service.metrics import SSE_SUBSCRIBERS
from service.schemas import EventOut

QUEUE_LIMIT = 10_000
PAGE = 500
KEEPALIVE_SECONDS = 15.0
_encode = msgspec.json.Encoder().encode


class Broadcaster:
    def __init__(self, log: SQLiteLog, loop: asyncio.AbstractEventLoop):
        self.log = log
        self.loop = loop
        self.queues: set[asyncio.Queue[Sequence[StoredEvent] | None]] = set()
        self._unsubscribe = log.subscribe(self._on_commit)

    def _on_commit(self, rows: Sequence[StoredEvent]) -> None:  # writer thread
        if self.queues:
            self.loop.call_soon_threadsafe(self._fan_out, rows)

    def _fan_out(self, rows: Sequence[StoredEvent]) -> None:
        for queue in list(self.queues):
            if queue.qsize() >= QUEUE_LIMIT:
                queue.put_nowait(None)  # overflow: the subscriber re-reads from the database
            else:
                queue.put_nowait(rows)

    def close(self) -> None:
        self._unsubscribe()

    async def follow(self, after: int) -> AsyncIterator[ServerSentEventMessage]:
        queue: asyncio.Queue[Sequence[StoredEvent] | None] = asyncio.Queue()
        self.queues.add(queue)  # subscribe before catching up, so nothing falls between
        SSE_SUBSCRIBERS.inc()
        last = after
        try:
            for row in self._catch_up(last):
                last = row.seq
                yield _message(row)
            while True:
                try:
                    rows = await asyncio.wait_for(queue.get(), KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield ServerSentEventMessage(comment="keep-alive")
                    continue
                if rows is None or (rows and rows[0].seq > last + 1):
                    for row in self._catch_up(last):
                        last = row.seq
                        yield _message(row)
                    continue
                for row in rows:
                    if row.seq > last:
                        last = row.seq
                        yield _message(row)
        finally:
            self.queues.discard(queue)
            SSE_SUBSCRIBERS.dec()

    def _catch_up(self, after: int) -> Iterator[StoredEvent]:
        while rows := self.log.read(after=after, limit=PAGE):
            yield from rows
            after = rows[-1].seq
            if len(rows) < PAGE:
                break


def _message(row: StoredEvent) -> ServerSentEventMessage:
    return ServerSentEventMessage(id=row.seq, event=row.type, data=_encode(EventOut.of(row)).decode())
