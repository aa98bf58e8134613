"""The log over HTTP: append, read, follow."""

from __future__ import annotations

import hashlib
import re
import time
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import HeaderParameter, Parameter, QueryParameter
from litestar.response import ServerSentEvent

from diplo.events import decode_events
from diplo.events.catalog import CHANNEL_PATTERN, EVENT_TYPES, type_of
from diplo.events.sqlite import IdempotencyKey
from diplo.service.auth import require
from diplo.service.loading import decode_checked
from diplo.service.metrics import APPEND_SECONDS, APPENDS
from diplo.service.problems import bad_request, documented, not_found
from diplo.service.routes.dependencies import AppEventLog, AppProjections
from diplo.service.routes.params import as_of_date, uuid_text
from diplo.service.routes.web import event_page
from diplo.service.schemas import EventOut, EventsPage, ReceiptOut

MAX_PAGE = 1_000
MAX_SEQ = 2**63 - 1  # SQLite's largest INTEGER; a seq cursor beyond it cannot name a position
# The event types as a Literal, built from the catalog at import time (so the filter can never drift).
EventType: Any = Literal[tuple(EVENT_TYPES)]
_SEQ_TEXT = re.compile(r"[0-9]{1,19}", re.ASCII)

RECEIPT = {  # the seeded MMCA meeting of 2024-04-03, sent again to a seeded log
    "id": "bbbe35f7-0db9-5691-a2aa-22082386c13d",
    "seq": 74,
    "version": 6,
    "recorded_at": "2026-11-29T06:10:54.233467Z",
    "hash": "a560a9b133c778b16770ac3cf33b98a969525a482a22e564206261e7621abecc",
    "created": False,
}
BAD_QUERY = documented(400, "A query parameter is not valid", "limit: Expected `int` <= 1000", field="limit")
NO_READER = documented(
    401,
    "A reader token is required (when the server requires one)",
    "this route needs a reader token: send Authorization: Bearer <token>",
)
APPEND_RESPONSES = {
    200: ResponseSpec(
        ReceiptOut | list[ReceiptOut],
        description="Already in the log with identical content: the original receipt(s), nothing appended",
        generate_examples=False,
        examples=[Example(summary="one event, already in the log", value=RECEIPT)],
    ),
    400: documented(
        400, "A query parameter is not valid", "expected_version: Expected `int` >= 0", field="expected_version"
    ),
    401: documented(
        401, "A writer token is required", "this route needs a writer token: send Authorization: Bearer <token>"
    ),
    403: documented(403, "The token's role is too low", "token 'newsroom' is a reader token; this route needs writer"),
    409: documented(
        409,
        "The id is taken by other content, or expected_version is stale (the body carries current_version)",
        "channel us-cn-mmca is at version 11, not the expected 10; read it again and retry",
        channel="us-cn-mmca",
        current_version=11,
    ),
    413: documented(
        413,
        "The body is too large",
        "the request body is larger than this service accepts; send fewer events per request",
    ),
    422: documented(
        422,
        "Not a valid event, or it does not fit the log (unknown channel or target)",
        "occurred_on: 2023-02-30 is not a calendar date",
        title="Invalid event",
        field="occurred_on",
    ),
    429: documented(429, "Too many bad tokens from this client", "too many bad tokens from this client; retry in 42 s"),
    503: documented(
        503,
        "The database is busy or writes are refused; retry after Retry-After",
        "the database is busy (database is locked); retry shortly",
    ),
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
        event_log: AppEventLog,
        expected_version: Annotated[
            int | None, Parameter(ge=0, description="The channel stream's version the client saw; a mismatch is 409")
        ] = None,
        idempotency_key: Annotated[
            str | None,
            HeaderParameter(
                name="Idempotency-Key",
                min_length=1,
                max_length=255,
                pattern=r"^[\x21-\x7e]+$",
                description="Retry safely: the same key with the same body answers the original receipt(s) (200);"
                " with another body, 422. Keys are kept at least 24 hours, per token.",
            ),
        ] = None,
    ) -> Response[list[ReceiptOut] | ReceiptOut]:
        """Body: one event object, or an array appended all-or-nothing. See the examples per event type.

        201 with the receipt(s) once the events are on disk; 200 with the original receipt(s) when every
        event was already in the log with identical content.
        """
        body = await request.body()
        events, was_array = decode_checked(decode_events, body)
        key = None
        if idempotency_key is not None:
            # The query is part of the request: the same body with another expected_version is another request.
            fingerprint = hashlib.sha256(body + b"\0" + str(expected_version).encode()).hexdigest()
            key = IdempotencyKey(idempotency_key, fingerprint)
        started = time.perf_counter()
        receipts = await event_log.append_async(
            events, expected_version, request.state.get("token_name"), idempotency=key
        )
        APPEND_SECONDS.observe(time.perf_counter() - started)
        out = [ReceiptOut(**msgspec.structs.asdict(r)) for r in receipts]
        for receipt, event in zip(receipts, events, strict=True):
            if receipt.created:
                APPENDS.labels(type_of(event)).inc()
        created = any(r.created for r in receipts)
        return Response(out if was_array else out[0], status_code=201 if created else 200)

    @get(
        "/",
        guards=[require("reader")],
        responses={400: BAD_QUERY, 401: NO_READER},
        sync_to_thread=False,
    )
    def list_events(
        self,
        event_log: AppEventLog,
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
        rows = event_log.read(
            after=after,
            limit=limit,
            channel=channel,
            type=type,
            valid_from=low.isoformat() if low else None,
            valid_to=high.isoformat() if high else None,
        )
        return EventsPage(events=[EventOut.of(r) for r in rows], next=rows[-1].seq if len(rows) == limit else None)

    @get(
        "/stream",
        guards=[require("reader")],
        media_type="text/event-stream",
        responses={
            400: documented(
                400,
                "A query parameter or the Last-Event-ID header is not valid",
                "Last-Event-ID: '12x' is not the id of a message of this stream (a seq, 0 to 9223372036854775807)",
                field="Last-Event-ID",
            ),
            401: NO_READER,
        },
    )
    async def stream(
        self,
        request: Request[Any, Any, Any],
        state: State,
        event_log: AppEventLog,
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
            start = event_log.head().seq
        return ServerSentEvent(state.broadcaster.follow(start))

    @get(
        "/{event_id:str}",
        guards=[require("reader")],
        responses={
            400: documented(
                400,
                "The id is not a UUID",
                "event_id: 'not-a-uuid' is not a UUID (e.g. bbbe35f7-0db9-5691-a2aa-22082386c13d)",
                field="event_id",
            ),
            401: NO_READER,
            404: documented(404, "No event with this id", "no event bbbe35f7-0db9-5691-a2aa-22082386c13d in the log"),
        },
        sync_to_thread=False,
    )
    def one(
        self,
        request: Request[Any, Any, Any],
        event_log: AppEventLog,
        projections: AppProjections,
        event_id: Annotated[str, Parameter(description="The event's UUID", schema_extra={"format": "uuid"})],
    ) -> Response[EventOut]:
        """One event, with what the server added (seq, version, recorded_at, hash).

        A browser (Accept: text/html) gets the event's page, with the corrections and retractions of it.
        """
        event_id = uuid_text(event_id, "event_id")
        if request.accept.best_match(["application/json", "text/html"], "application/json") == "text/html":
            page = event_page(event_log, projections, str(event_id), request.query_params.get("known_at"))
            if page is not None:
                return page  # type: ignore[return-value]  # a Template is a Response to litestar, not to mypy
        row = event_log.get(str(event_id))
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
