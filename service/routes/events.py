"""The log over HTTP: append, read, follow."""

from __future__ import annotations

import re
import time
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import HeaderParameter, Parameter, QueryParameter
from litestar.response import ServerSentEvent

from events import decode_events
from events.catalog import CHANNEL_PATTERN, EVENT_TYPES
from service.auth import require
from service.loading import decode_checked
from service.metrics import APPEND_SECONDS, APPENDS
from service.problems import Problem, bad_request, not_found
from service.routes.params import as_of_date
from service.routes.web import event_page
from service.schemas import EventOut, EventsPage, ReceiptOut

MAX_PAGE = 1_000
MAX_SEQ = 2**63 - 1  # SQLite's largest INTEGER; a seq cursor beyond it cannot name a position
EventType = Literal[tuple(EVENT_TYPES)]  # type: ignore[valid-type]
_SEQ_TEXT = re.compile(r"[0-9]{1,19}", re.ASCII)


def _problem(description: str) -> ResponseSpec:
    return ResponseSpec(Problem, description=description, media_type="application/problem+json")


APPEND_RESPONSES = {
    200: ResponseSpec(
        ReceiptOut | list[ReceiptOut],  # type: ignore[arg-type]
        description="Already in the log with identical content: the original receipt(s), nothing appended",
    ),
    400: _problem("A query parameter is not valid"),
    401: _problem("A writer token is required"),
    403: _problem("The token's role is too low"),
    409: _problem("The id is taken by other content, or expected_version is stale (the body carries current_version)"),
    413: _problem("The body is too large"),
    422: _problem("Not a valid event, or it does not fit the log (unknown channel or target)"),
    429: _problem("Too many bad tokens from this client"),
    503: _problem("The database is busy or writes are refused; retry after Retry-After"),
}


class EventController(Controller):
    path = "/events"
    tags = ["events"]

    @post(
        "/",
        guards=[require("writer")],
        status_code=201,
        responses=APPEND_RESPONSES,
        summary="Append one event, or a JSON array atomically",
    )
    async def append(
        self,
        request: Request[Any, Any, Any],
        state: State,
        expected_version: Annotated[
            int | None, Parameter(ge=0, description="The channel stream's version the client saw; a mismatch is 409")
        ] = None,
    ) -> Response[list[ReceiptOut] | ReceiptOut]:
        """Body: one event object, or an array appended all-or-nothing. See the examples per event type.

        201 with the receipt(s) once the events are on disk; 200 with the original receipt(s) when every
        event was already in the log with identical content.
        """
        events, was_array = decode_checked(decode_events, await request.body())
        started = time.perf_counter()
        receipts = await state.runtime.log.append_async(events, expected_version, request.state.get("token_name"))
        APPEND_SECONDS.observe(time.perf_counter() - started)
        out = [ReceiptOut(**msgspec.structs.asdict(r)) for r in receipts]
        for receipt, event in zip(receipts, events, strict=True):
            if receipt.created:
                APPENDS.labels(event.__struct_config__.tag).inc()
        created = any(r.created for r in receipts)
        return Response(out if was_array else out[0], status_code=201 if created else 200)

    @get(
        "/",
        guards=[require("reader")],
        responses={400: _problem("A query parameter is not valid")},
        sync_to_thread=False,
    )
    def list_events(
        self,
        state: State,
        channel: Annotated[str | None, Parameter(pattern=CHANNEL_PATTERN, max_length=80)] = None,
        type: Annotated[EventType | None, QueryParameter()] = None,  # noqa: A002
        valid_from: Annotated[
            str | None, QueryParameter(name="from", description="occurred_on >= this day", max_length=40)
        ] = None,
        valid_to: Annotated[
            str | None, QueryParameter(name="to", description="occurred_on <= this day", max_length=40)
        ] = None,
        after: Annotated[
            int,
            Parameter(
                ge=0,
                le=MAX_SEQ,
                schema_extra={"maximum": MAX_SEQ},
                description="Cursor: events with seq greater than this",
            ),
        ] = 0,
        limit: Annotated[int, Parameter(ge=1, le=MAX_PAGE)] = 100,
    ) -> EventsPage:
        """The log in seq order; follow ``next`` as the ``after`` cursor until it is null."""
        low, high = as_of_date(valid_from, "from"), as_of_date(valid_to, "to")
        rows = state.runtime.log.read(
            after=after,
            limit=limit,
            channel=channel,
            type=type,
            valid_from=low.isoformat() if low else None,
            valid_to=high.isoformat() if high else None,
        )
        return EventsPage(events=[EventOut.of(r) for r in rows], next=rows[-1].seq if len(rows) == limit else None)

    @get("/stream", guards=[require("reader")], responses={400: _problem("A query parameter is not valid")})
    async def stream(
        self,
        request: Request[Any, Any, Any],
        state: State,
        after: Annotated[
            int | None,
            Parameter(
                ge=0,
                le=MAX_SEQ,
                schema_extra={"maximum": MAX_SEQ},
                description="Start after this seq (default: the newest)",
            ),
        ] = None,
        last_event_id: Annotated[
            str | None,
            HeaderParameter(
                name="Last-Event-ID",
                max_length=20,
                description="The id of the last message received (a seq); the stream resumes after it",
            ),
        ] = None,
    ) -> ServerSentEvent:
        """Server-Sent Events: every event after ``after`` (or Last-Event-ID), then each new one live.

        Each message's ``id`` is the event's seq, so a reconnecting client resumes without gaps or repeats.
        """
        start = after
        if last_event_id is not None and last_event_id.strip():
            start = _seq_from_header(last_event_id.strip())
        if start is None:
            start = state.runtime.log.head().seq
        return ServerSentEvent(state.broadcaster.follow(start))

    @get(
        "/{event_id:uuid}",
        guards=[require("reader")],
        responses={404: _problem("No event with this id")},
        sync_to_thread=False,
    )
    def one(
        self,
        request: Request[Any, Any, Any],
        state: State,
        event_id: Annotated[Any, Parameter(description="The event's UUID")],
    ) -> Response[EventOut]:
        """One event, with what the server added (seq, version, recorded_at, hash).

        A browser (Accept: text/html) gets the event's page, with the corrections and retractions of it.
        """
        if request.accept.best_match(["application/json", "text/html"], "application/json") == "text/html":
            page = event_page(state, str(event_id))
            if page is not None:
                return page  # a Template is a Response
        row = state.runtime.log.get(str(event_id))
        if row is None:
            raise not_found(f"no event {event_id} in the log")
        return Response(EventOut.of(row))


def _seq_from_header(value: str) -> int:
    """Last-Event-ID as a seq: ASCII digits only (``str.isdigit`` also takes '²'), within SQLite's range."""
    if _SEQ_TEXT.fullmatch(value) and int(value) <= MAX_SEQ:
        return int(value)
    raise bad_request(
        f"Last-Event-ID: {value!r} is not the id of a message of this stream (a seq, 0 to {MAX_SEQ});"
        " send the id of the last message received, or no header",
        "Last-Event-ID",
    )
