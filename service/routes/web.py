"""The pages people read: the status board, its live fragment, event pages and the Atom feed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Annotated, Any, get_args
from urllib.parse import urlencode

import msgspec
from feedgen.feed import FeedGenerator
from litestar import Controller, Request, Response, get
from litestar.di import Provide
from litestar.params import Parameter, QueryParameter
from litestar.response import Template

from diplo.events import EventLog, clock
from diplo.events.catalog import ChannelKind, Event
from diplo.events.parties import party_problem
from diplo.projections import Projections
from diplo.projections.amendments import AMENDMENT_TYPES
from diplo.service import board, changes, channel_view, plot
from diplo.service.auth import require
from diplo.service.changes import Changes  # by name: the handler ``changes`` hides the module in its class
from diplo.service.problems import bad_request, documented
from diplo.service.routes.dependencies import AppEventLog, AppProjections, Day, Moment
from diplo.service.routes.params import AsOf, as_of_date

# Scripts and styles only from this origin: no inline script, no CDN.
HTML_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
}
FEED_SIZE = 50

KnownAtInput = Annotated[
    str | None,
    Parameter(description="RFC 3339 timestamp, a date, or a date-time without zone (read as UTC)", max_length=60),
]
PartyInput = Annotated[str | None, Parameter(description="Only channels with this party", max_length=10)]
DyadInput = Annotated[str | None, Parameter(description="Only channels between two parties: CHN-USA", max_length=30)]
StatusInput = Annotated[str | None, Parameter(description="Only channels with this status, or dormant", max_length=20)]
KindInput = Annotated[str | None, Parameter(description="Only channels of this kind", max_length=30)]
DayInput = Annotated[str | None, Parameter(max_length=40)]
FromInput = Annotated[str | None, QueryParameter(name="from", description="First day (YYYY-MM-DD)", max_length=40)]
ToInput = Annotated[str | None, QueryParameter(name="to", description="Last day (YYYY-MM-DD)", max_length=40)]
CHANNEL_KINDS = set(get_args(ChannelKind))


def _known_at(value: str | None) -> str | None:
    """The board's form sends a local date-time without zone; read it as UTC."""
    return _instant_input(value, "known_at")


def _instant_input(value: str | None, field: str) -> str | None:
    if value and len(value) in (16, 19) and "T" in value and value[-1] != "Z":
        value += ":00Z" if len(value) == 16 else "Z"
    if not value:
        return None
    try:
        return clock.parse_known_at(value)
    except ValueError as error:
        raise bad_request(str(error).replace("known_at:", f"{field}:", 1), field) from None


def _day(value: str | None, field: str) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise bad_request(f"{field}: {value!r} is not a calendar date in YYYY-MM-DD form", field) from None


def _party(value: str | None, field: str) -> str | None:
    if not value:
        return None
    problem = party_problem(value)
    if problem:
        raise bad_request(f"{field}: {problem}", field)
    return value


def _filters(party: str | None, dyad: str | None, status: str | None, kind: str | None) -> board.Filters:
    """The board's filters from the URL; a value that can match nothing is refused, naming what would."""
    pair = None
    if dyad:
        codes = dyad.split("-")
        if len(codes) != 2:
            raise bad_request(f"dyad: {dyad!r} is not two party codes joined by '-', e.g. CHN-USA", "dyad")
        pair = board.dyad_of(_party(code, "dyad") or "" for code in codes)
    if status and status not in (*board.STATUSES, "dormant"):
        raise bad_request(f"status: {status!r} is not one of {', '.join(board.STATUSES)}, dormant", "status")
    if kind and kind not in CHANNEL_KINDS:
        raise bad_request(f"kind: {kind!r} is not one of {', '.join(sorted(CHANNEL_KINDS))}", "kind")
    return board.Filters(party=_party(party, "party"), dyad=pair, status=status or None, kind=kind or None)


def _span(start: str | None, end: str | None) -> tuple[dt.date | None, dt.date | None]:
    """A timeline window from the URL: ``from`` before ``to``."""
    low, high = _day(start, "from"), _day(end, "to")
    if low is not None and high is not None and low >= high:
        raise bad_request(f"from: {low} is not before to: {high}", "from")
    return low, high


def _today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def _as_of(value: str | None, today: dt.date) -> dt.date | None:
    day = as_of_date(value or None)
    if day is not None and day > today + dt.timedelta(days=1):
        raise bad_request(f"as_of: {day} is in the future; the board shows the record up to today", "as_of")
    return day


def _board_day(as_of: AsOf = None) -> dt.date | None:
    """The pages' ``day``: their forms send an empty ``as_of`` for none; a day after tomorrow is refused."""
    return _as_of(as_of, _today())


def _board_moment(known_at: KnownAtInput = None) -> str | None:
    """The pages' ``moment``: their forms send a date-time without zone, read as UTC."""
    return _known_at(known_at)


# The pages' own day and moment, under the names the API's have (service/routes/dependencies.py).
PAGE_DEPENDENCIES = {
    "day": Provide(_board_day, sync_to_thread=False),
    "moment": Provide(_board_moment, sync_to_thread=False),
}


def linker(path: str, params: dict[str, Any]) -> Callable[..., str]:
    """``url(**changes)``: this page's URL with some parameters changed (None drops one), for links and forms."""

    def url(_path: str | None = None, **changes: Any) -> str:
        merged = {k: v for k, v in {**params, **changes}.items() if v not in (None, "")}
        query = urlencode({k: str(v) for k, v in merged.items()})
        return (_path or path) + (f"?{query}" if query else "")

    return url


def _context(
    event_log: EventLog,
    projections: Projections,
    day: dt.date | None,
    moment: str | None,
    filters: board.Filters,
    span: tuple[dt.date | None, dt.date | None],
) -> dict[str, Any]:
    today = _today()
    shown = board.build(event_log, projections, day, moment, today, filters, *span)
    params = {"as_of": day, "known_at": moment, **filters.items(), "from": span[0], "to": span[1]}
    return {
        "board": shown,
        "groups": shown.groups,
        "window": shown.window,
        "measures": board.measures(projections, day, moment, filters),
        "as_of": day,
        "known_at": moment,
        "known_at_input": moment[:19] if moment else None,
        "today": today,
        "end": day or today,
        "filters": filters,
        "statuses": board.STATUSES,
        "zooms": plot.zooms(today, span[1]),
        "span": span,
        "url": linker("/", params),
        "table_url": linker("/board/table", params)(),
    }


def channel_page(
    event_log: EventLog, projections: Projections, channel: str, query: Mapping[str, str]
) -> Template | None:
    """A channel's page for people (``GET /channels/{c}`` with Accept: text/html); None if no such channel."""
    today = _today()
    day, moment = _as_of(query.get("as_of"), today), _known_at(query.get("known_at"))
    span = _span(query.get("from"), query.get("to"))
    page = channel_view.build(event_log, projections, channel, day, moment, today, *span)
    if page is None:
        return None
    params = {"as_of": day, "known_at": moment, "from": span[0], "to": span[1]}
    context = {
        "page": page,
        "as_of": day,
        "known_at": moment,
        "known_at_input": moment[:19] if moment else None,
        "today": today,
        "window": page.window,
        "zooms": plot.zooms(today, span[1]),
        "span": span,
        "url": linker(f"/channels/{channel}", params),
        "board_url": linker("/", {"as_of": day, "known_at": moment})(),
    }
    return Template("channel.html", context=context, headers=HTML_HEADERS)


class WebController(Controller):
    path = "/"
    tags = ["web"]
    guards = [require("reader")]
    include_in_schema = False
    dependencies = PAGE_DEPENDENCIES

    @get("/", sync_to_thread=False)
    def board_page(
        self,
        event_log: AppEventLog,
        projections: AppProjections,
        day: Day,
        moment: Moment,
        party: PartyInput = None,
        dyad: DyadInput = None,
        status: StatusInput = None,
        kind: KindInput = None,
        start: FromInput = None,
        end: ToInput = None,
    ) -> Template:
        """The status board: every channel, its status, timeline and the event that set it."""
        context = _context(event_log, projections, day, moment, _filters(party, dyad, status, kind), _span(start, end))
        return Template("board.html", context=context, headers=HTML_HEADERS)

    @get("/board/table", sync_to_thread=False)
    def board_table(
        self,
        event_log: AppEventLog,
        projections: AppProjections,
        day: Day,
        moment: Moment,
        party: PartyInput = None,
        dyad: DyadInput = None,
        status: StatusInput = None,
        kind: KindInput = None,
        start: FromInput = None,
        end: ToInput = None,
    ) -> Template:
        """The board's table alone, for the page's live updates."""
        context = _context(event_log, projections, day, moment, _filters(party, dyad, status, kind), _span(start, end))
        return Template("board_table.html", context=context, headers=HTML_HEADERS)

    @get("/feed.atom", sync_to_thread=False, media_type="application/atom+xml")
    def feed(
        self,
        request: Request[Any, Any, Any],
        event_log: AppEventLog,
        projections: AppProjections,
        moment: Moment,
    ) -> Response[bytes]:
        """An Atom feed of the latest status changes, newest first, as known at ``known_at`` (default: now)."""
        base = str(request.base_url).rstrip("/")
        changes = []
        for channel in projections.channel_names():
            for interval in projections.timeline(channel, moment) or []:
                if interval.event_id:
                    changes.append((interval.from_, channel, interval))
        changes.sort(key=lambda c: (c[0], c[1]), reverse=True)
        latest_changes = changes[:FEED_SIZE]
        rows = [row for _, _, i in latest_changes if i.event_id and (row := event_log.get(i.event_id))]
        readings = projections.as_known(rows, moment)
        feed = FeedGenerator()
        feed.id(f"{base}/feed.atom")
        feed.title("diplo: status changes of diplomatic channels")
        feed.link(href=f"{base}/feed.atom", rel="self")
        feed.link(href=f"{base}/", rel="alternate")
        feed.language("en")
        latest = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
        for day, channel, interval in reversed(latest_changes):
            reading = readings.get(interval.event_id or "")
            if reading is None or reading.retracted:
                continue
            # A correction is an update of the entry, so that feed readers fetch it again.
            updated = _instant(max(reading.row.recorded_at, reading.corrected_at or ""))
            latest = max(latest, updated)
            entry = feed.add_entry()
            entry.id(f"{base}/events/{reading.row.id}")
            entry.title(board.printable(f"{channel}: {interval.status} since {day}"))
            entry.link(href=f"{base}/events/{reading.row.id}")
            entry.published(dt.datetime.combine(day, dt.time(), dt.UTC))
            entry.updated(updated)
            entry.summary(board.printable(reading.event.summary))
        feed.updated(latest)
        return Response(feed.atom_str(pretty=True), media_type="application/atom+xml")


class ChangesController(Controller):
    path = "/changes"
    tags = ["changes"]
    guards = [require("reader")]

    @get(
        "/",
        sync_to_thread=False,
        responses={
            400: documented(
                400,
                "A parameter is not valid",
                "from: 2024-02-30 is not a calendar date in YYYY-MM-DD form",
                field="from",
            )
        },
    )
    def changes(
        self,
        request: Request[Any, Any, Any],
        projections: AppProjections,
        start: FromInput = None,
        end: ToInput = None,
        known_at: KnownAtInput = None,
        known_from: Annotated[
            str | None, Parameter(description="Learned after this moment (RFC 3339, or a date)", max_length=60)
        ] = None,
        known_to: Annotated[
            str | None, Parameter(description="Learned by this moment (default: now)", max_length=60)
        ] = None,
        as_of: Annotated[
            str | None,
            Parameter(description="Not taken here (400): name the span of days with from and to", max_length=40),
        ] = None,
    ) -> Response[Changes]:
        """What changed between ``from`` and ``to`` (days, both included; default the year to today), as known at
        ``known_at``: channels whose status changed, meetings held, measures imposed, modified, suspended or lifted,
        commitments made or found kept or broken, each with its event. With ``known_from`` (and ``known_to``,
        default now) instead: what was recorded between the two moments, with the corrections and retractions.

        A browser (Accept: text/html) gets the page."""
        period = _period(start, end, known_at, known_from, known_to, as_of)
        found = changes.changes(projections, period)
        if request.accept.best_match(["application/json", "text/html"], "application/json") == "text/html":
            return _changes_page(period, found)  # type: ignore[return-value]  # a Template is a Response to litestar
        return Response(found)


def _period(
    start: str | None,
    end: str | None,
    known_at: str | None,
    known_from: str | None,
    known_to: str | None,
    as_of: str | None,
) -> changes.Period:
    """The question asked of /changes: two days of valid time, or two moments of transaction time."""
    if as_of:  # declared only to say so: a span of days is asked with from and to
        raise bad_request("as_of: /changes asks about a span of days; name it with from and to", "as_of")
    if known_from or known_to:
        for value, field in ((start, "from"), (end, "to"), (known_at, "known_at")):
            if value:
                raise bad_request(
                    f"{field}: known_from/known_to ask what was learned between two moments; {field} belongs to"
                    " the other question (what happened between two days): use one or the other",
                    field,
                )
        low, high = _instant_input(known_from, "known_from"), _instant_input(known_to, "known_to")
        if low is None:
            raise bad_request("known_from: needed with known_to (the moment to compare with)", "known_from")
        if high is not None and high <= low:
            raise bad_request(f"known_from: {low} is not before known_to: {high}", "known_from")
        return changes.Period(known_from=low, known_to=high)
    last_day = _day(end, "to") or _today()
    first_day = _day(start, "from") or plot.years_before(last_day, 1)
    if first_day > last_day:
        raise bad_request(f"from: {first_day} is after to: {last_day}", "from")
    return changes.Period(start=first_day, end=last_day, known_at=_known_at(known_at))


def _changes_page(period: changes.Period, found: changes.Changes) -> Template:
    context = {
        "period": period,
        "changes": board.printable(msgspec.to_builtins(found)),
        "symbols": plot.SYMBOLS,
        "today": _today(),
        "known_at_input": period.known_at[:19] if period.known_at else None,
        "known_from_input": period.known_from[:19] if period.known_from else None,
        "known_to_input": period.known_to[:19] if period.known_to else None,
        "event_href": lambda event_id: board.event_href(event_id, period.moment),
        "channel_href": lambda channel: board.channel_href(channel, period.end, period.moment),
    }
    return Template("changes.html", context=context, headers=HTML_HEADERS)


def _fields(event: Event) -> dict[str, Any]:
    """Every field of the event, defaults included, as plain values for the template."""
    return msgspec.to_builtins({name: getattr(event, name) for name in event.__struct_fields__})


def _instant(recorded_at: str) -> dt.datetime:
    return dt.datetime.fromisoformat(recorded_at.replace("Z", "+00:00"))


def event_page(
    event_log: EventLog, projections: Projections, event_id: str, known_at: str | None = None
) -> Template | None:
    """The human page for one event as known at ``known_at`` (default: now): as corrected, marked if retracted,
    with the corrections and retractions of it recorded by then."""
    moment = _known_at(known_at)
    row = event_log.get(event_id)
    if row is None:
        return None
    reading = projections.as_known([row], moment).get(row.id)
    try:
        event = reading.event if reading else row.event()  # recorded after known_at: shown as recorded
    except msgspec.MsgspecError:
        return None  # the JSON answer shows the stored row as it is
    amendments = []
    candidates = [r for kind in AMENDMENT_TYPES for r in event_log.read(channel=row.channel, type=kind)]
    for other in sorted(candidates, key=lambda r: r.seq):
        if moment is not None and other.recorded_at > moment:
            continue
        amended = other.event()
        if str(getattr(amended, "target_id", "")) == row.id:
            amendments.append(
                {"id": other.id, "type": other.type, "recorded_at": other.recorded_at, "summary": amended.summary}
            )
    shown = _fields(event)
    original = _fields(row.event()) if reading and reading.corrected_at else shown
    skip = {"id", "type", "channel", "occurred_on", "summary", "sources", "confidence"}
    context = {
        "row": row,
        "event": shown,
        "details": [(k, v) for k, v in sorted(shown.items()) if k not in skip and v],
        "originally": [(k, v) for k, v in sorted(original.items()) if shown.get(k) != v],
        "reading": reading,
        "known_at": moment,
        "amendments": amendments,
    }
    return Template("event.html", context=board.printable(context), headers=HTML_HEADERS)
