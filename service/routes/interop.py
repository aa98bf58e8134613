"""Event data over HTTP: exports in the field's formats, and the review queue of candidate events."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIType, Operation, Schema
from litestar.params import FromQuery, JSONBody, Parameter
from litestar.response import Stream, Template

from diplo.service import board
from diplo.service.auth import require
from diplo.service.interop import exports
from diplo.service.interop.candidates import STATUSES, Accepted, Candidate, CandidateStore, ReviewError, parse_dyad
from diplo.service.problems import Problem, problem
from diplo.service.routes.dependencies import AppEventLog, AppProjections, Day, Moment
from diplo.service.routes.params import AsOf, as_of_date, uuid_text
from diplo.service.routes.web import HTML_HEADERS

CHUNK = 64 * 1024  # lines are sent in chunks: one thread hop per chunk, not per line
ExportFormat = Literal["plover", "icews", "panel"]
TITLES = {400: "Bad request", 404: "Not found", 409: "Conflict", 422: "Invalid review"}

# A str in the path, parsed in the handler: a malformed id gets a 400 that says so, not the router's 404.
CandidateId = Annotated[
    str, Parameter(description="The candidate's UUID", schema_extra={"format": "uuid"}, max_length=80)
]


def _problem(description: str) -> ResponseSpec:
    # generate_examples=False: litestar's generated examples are random filler
    return ResponseSpec(
        Problem, description=description, media_type="application/problem+json", generate_examples=False
    )


READ_ERRORS = {400: _problem("A parameter is not valid"), 401: _problem("A reader token is required")}
REVIEW_ERRORS = {
    400: _problem("The body is not valid JSON of the expected shape"),
    401: _problem("A writer token is required"),
    403: _problem("The token's role is too low"),
    404: _problem("No such candidate"),
    409: _problem("The candidate was already reviewed otherwise"),
    422: _problem("The review cannot make a valid event: the field named is missing or wrong"),
    503: _problem("The database is busy; retry after Retry-After"),
}


@dataclass
class _ExportOperation(Operation):
    """The export's 200 comes as JSON Lines or CSV, by format: say both in the schema."""

    def __post_init__(self) -> None:
        ok = (self.responses or {}).get("200")
        if ok is not None and not isinstance(ok, dict) and ok.content is not None:  # type: ignore[union-attr]  # a Reference has no content: ruled out above
            text = OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))
            ok.content = {media: text for media in dict.fromkeys(exports.MEDIA_TYPES.values())}  # type: ignore[union-attr]  # as above


class _ExportStream(Stream):
    """A stream whose media type is the format's (JSON Lines or CSV), not the handler's one default."""

    def to_asgi_response(self, *args: Any, media_type: Any = None, **kwargs: Any) -> Any:
        return super().to_asgi_response(*args, **kwargs)


class CandidatesOut(msgspec.Struct, kw_only=True):
    candidates: list[Candidate]
    next: str | None = None


class RejectIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: str


def _review_problem(error: ReviewError) -> Exception:
    return problem(error.status, TITLES.get(error.status, "Error"), error.message, field=error.field)


def _chunks(lines: Iterable[bytes]) -> Iterator[bytes]:
    buffer: list[bytes] = []
    size = 0
    for line in lines:
        buffer.append(line)
        size += len(line)
        if size >= CHUNK:
            yield b"".join(buffer)
            buffer, size = [], 0
    if buffer:
        yield b"".join(buffer)


def _store(state: State) -> CandidateStore:
    """The queue of this app's database (its tables created on first use)."""
    store = state.get("candidate_store")
    if store is None:
        store = state["candidate_store"] = CandidateStore(state.runtime.settings.db)
    return store


def _export_day(as_of: AsOf = None) -> dt.date | None:
    """The exports' ``day``: ``as_of`` parsed, and not after tomorrow."""
    day = as_of_date(as_of)
    if day is not None and day > dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1):
        raise problem(400, "Bad request", f"as_of: {day} is in the future; exports run up to today", field="as_of")
    return day


class InteropController(Controller):
    path = "/"
    tags = ["event data"]
    dependencies = {"day": Provide(_export_day, sync_to_thread=False)}

    @get(
        "/exports/{format:str}",
        guards=[require("reader")],
        responses=READ_ERRORS,
        operation_class=_ExportOperation,
        sync_to_thread=False,
    )
    def export(
        self,
        event_log: AppEventLog,
        projections: AppProjections,
        format: Annotated[  # noqa: A002 - the path says format
            ExportFormat,
            Parameter(description="plover: PLOVER JSON Lines; icews: dyadic CSV; panel: dyad-month panel CSV"),
        ],
        day: Day,
        moment: Moment,
    ) -> Stream:
        """The record in a format event-data tools load, streamed: every event as amended as known at
        ``known_at``, on or before ``as_of`` (the panel runs to that day's month; default today)."""
        snapshot = exports.Snapshot(event_log, projections, day, moment)
        name = f"diplo-{format}.{exports.SUFFIXES[format]}"
        return _ExportStream(
            _chunks(exports.lines(format, snapshot)),
            media_type=exports.MEDIA_TYPES[format] + ("; charset=utf-8" if format != "plover" else ""),
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @get("/candidates", guards=[require("reader")], responses=READ_ERRORS, sync_to_thread=True)
    def list_candidates(
        self,
        state: State,
        status: Annotated[
            Literal["pending", "accepted", "rejected", "all"], Parameter(description="Which candidates")
        ] = "pending",
        dyad: Annotated[
            str | None, Parameter(description="Only this pair of parties, e.g. USA-CHN", max_length=100)
        ] = None,
        after: Annotated[
            str | None, Parameter(description="Cursor: the id of the last candidate of the page before", max_length=40)
        ] = None,
        limit: Annotated[int, Parameter(ge=1, le=1_000)] = 100,
    ) -> CandidatesOut:
        """Candidate events imported from POLECAT, ICEWS or GDELT files, by day, with every report of each."""
        try:
            pair = parse_dyad(dyad) if dyad else None
            found = _store(state).listing(None if status == "all" else status, pair, limit, after)
        except ReviewError as error:
            raise _review_problem(error) from None
        return CandidatesOut(candidates=found, next=found[-1].id if len(found) == limit else None)

    @get(
        "/candidates/{candidate_id:str}",
        guards=[require("reader")],
        responses={**READ_ERRORS, 404: _problem("No such candidate")},
        sync_to_thread=True,
    )
    def one_candidate(self, state: State, candidate_id: CandidateId) -> Candidate:
        """One candidate, with its reports and review."""
        found = _store(state).get(uuid_text(candidate_id, "candidate_id"))
        if found is None:
            raise problem(404, "Not found", f"no candidate {candidate_id}; list them with GET /candidates")
        return found

    @post(
        "/candidates/{candidate_id:str}/accept",
        guards=[require("writer")],
        status_code=201,
        responses={
            200: ResponseSpec(
                Accepted, description="Accepted before with this very body: nothing appended", generate_examples=False
            ),
            **REVIEW_ERRORS,
        },
        sync_to_thread=True,
    )
    def accept(
        self,
        request: Request[Any, Any, Any],
        state: State,
        event_log: AppEventLog,
        projections: AppProjections,
        candidate_id: CandidateId,
        data: JSONBody[dict[str, Any]],
    ) -> Response[Accepted]:
        """Make the candidate an event. The body names its ``channel`` and any field the event needs that
        the dataset row did not tell (e.g. ``reason``, ``target``); it may set ``type``, ``summary``,
        ``occurred_on``, ``confidence`` (default reported) and add ``sources`` (the dataset row is always one).
        The event's id and Idempotency-Key derive from the candidate's: accepting twice appends once."""
        try:
            accepted, created = _store(state).accept(
                event_log, projections, uuid_text(candidate_id, "candidate_id"), data, request.state.get("token_name")
            )
        except ReviewError as error:
            raise _review_problem(error) from None
        return Response(accepted, status_code=201 if created else 200)

    @post(
        "/candidates/{candidate_id:str}/reject",
        guards=[require("writer")],
        status_code=200,
        responses=REVIEW_ERRORS,
        sync_to_thread=True,
    )
    def reject(
        self, request: Request[Any, Any, Any], state: State, candidate_id: CandidateId, data: JSONBody[RejectIn]
    ) -> Candidate:
        """Reject the candidate, saying why; it stays in the queue's record, never reaching the log."""
        try:
            rejected, _changed = _store(state).reject(
                uuid_text(candidate_id, "candidate_id"), data.reason, request.state.get("token_name")
            )
        except ReviewError as error:
            raise _review_problem(error) from None
        return rejected

    @get("/review", guards=[require("reader")], include_in_schema=False, sync_to_thread=True)
    def review_page(self, state: State, status: FromQuery[str] = "pending") -> Template:
        """The review queue as a page: candidates with their reports, and how to accept or reject them."""
        if status not in (*STATUSES, "all"):
            raise problem(400, "Bad request", "status: one of pending, accepted, rejected, all", field="status")
        found = _store(state).listing(None if status == "all" else status, None, 500)
        context = {"candidates": [board.printable(msgspec.to_builtins(c)) for c in found], "status": status}
        return Template("candidates.html", context={**context, "statuses": (*STATUSES, "all")}, headers=HTML_HEADERS)
