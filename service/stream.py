"""Live delivery of appended events to many Server-Sent-Events subscribers.

One listener on the log fans each committed group out to every subscriber's
queue, so subscribers cost the writer nothing per event. Commits by other
processes (`diplo load`, a second server) never pass this log's writer: on
PostgreSQL the log LISTENs and delivers every process's commits to the same
listener (NOTIFY, within milliseconds); on a SQLite file a poller watches the
log's head and fans out the rows it did not see committed here. The
broadcaster fans out each seq at most once.
Each subscriber first catches up from the database, then drains its queue,
skipping what it has already sent and re-reading the database if its queue
overflowed or skipped a seq: no gaps, no repeats.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Sequence

import msgspec
import structlog
from litestar.response import ServerSentEventMessage

from diplo.events import EventLog, StoredEvent
from diplo.service.metrics import SSE_SUBSCRIBERS
from diplo.service.schemas import EventOut

QUEUE_LIMIT = 10_000
CLOSED: Sequence[StoredEvent] = []  # queued by close(), told by identity: the stream ends
PAGE = 500
KEEPALIVE_SECONDS = 15.0
POLL_SECONDS = 0.25  # how soon another process's commit reaches the stream
_encode = msgspec.json.Encoder().encode
logger = structlog.get_logger("diplo.stream")


class Broadcaster:
    def __init__(self, log: EventLog, loop: asyncio.AbstractEventLoop):
        self.log = log
        self.loop = loop
        self.queues: set[asyncio.Queue[Sequence[StoredEvent] | None]] = set()
        self.streamed = 0  # the highest seq fanned out; only touched on the event loop
        self.closed = False
        self._unsubscribe = log.subscribe(self._on_commit)
        listen = getattr(log, "listen", None)
        if listen is not None:  # every process's commits reach _on_commit: nothing to poll
            listen()
            self._poller: asyncio.Task | None = None
        else:
            self._poller = loop.create_task(self._poll(), name="diplo-stream-poller")

    def _on_commit(self, rows: Sequence[StoredEvent]) -> None:  # writer (or listener) thread
        if self.queues:
            self.loop.call_soon_threadsafe(self._fan_out, rows)

    def _fan_out(self, rows: Sequence[StoredEvent] | None) -> None:
        """Queue rows (or None: "re-read the database") for every subscriber; each seq once only."""
        if rows is not None:
            rows = [row for row in rows if row.seq > self.streamed]
            if not rows:
                return  # the poller (or the writer's listener) got there first
            self.streamed = rows[-1].seq
        for queue in list(self.queues):
            if rows is None or queue.qsize() >= QUEUE_LIMIT:
                queue.put_nowait(None)  # the subscriber re-reads from the database
            else:
                queue.put_nowait(rows)

    async def _poll(self) -> None:
        """Fan out what other processes committed: the log's head moved past what was streamed."""
        while True:
            await asyncio.sleep(POLL_SECONDS)
            if not self.queues:
                continue
            try:
                self._pick_up_others()
            except Exception:  # a busy or vanished database: try again at the next tick
                logger.warning("stream.poll_failed", exc_info=True)

    def _pick_up_others(self) -> None:
        head = self.log.head().seq  # one indexed lookup
        if head <= self.streamed:
            return
        rows = self.log.read(after=self.streamed, limit=PAGE)
        if len(rows) == PAGE:  # a bulk load: let each subscriber page through the database itself
            self.streamed = head
            self._fan_out(None)
        elif rows:
            self._fan_out(rows)

    def close(self) -> None:
        """Stop listening and end every stream (at shutdown: the server need not wait for them)."""
        self._unsubscribe()
        if self._poller is not None:
            self._poller.cancel()
        self.closed = True
        for queue in list(self.queues):
            queue.put_nowait(CLOSED)

    async def follow(self, after: int) -> AsyncIterator[ServerSentEventMessage]:
        if self.closed:
            return
        queue: asyncio.Queue[Sequence[StoredEvent] | None] = asyncio.Queue()
        if not self.queues:  # nothing was followed (nor polled) while nobody listened
            self.streamed = max(self.streamed, self.log.head().seq)
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
                if rows is CLOSED:
                    return
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
