"""The pages people read: the status board, its live fragment, event pages and the Atom feed."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

import msgspec
from feedgen.feed import FeedGenerator
from litestar import Controller, Request, Response, get
from litestar.datastructures import State
from litestar.params import Parameter
from litestar.response import Template

from events.catalog import Event
from projections.amendments import AMENDMENT_TYPES
from service import board
from service.auth import require
from service.problems import bad_request
from service.routes.params import AsOf, as_of_date, known_at_instant

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


def _known_at(value: str | None) -> str | None:
    """The board's form sends a local date-time without zone; read it as UTC."""
    if value and len(value) in (16, 19) and "T" in value and value[-1] != "Z":
        value += ":00Z" if len(value) == 16 else "Z"
    return known_at_instant(value or None)


def _context(state: State, as_of: str | None, known_at: str | None) -> dict[str, Any]:
    day, moment = as_of_date(as_of or None), _known_at(known_at)
    today = dt.datetime.now(dt.UTC).date()
    if day is not None and day > today + dt.timedelta(days=1):
        raise bad_request(f"as_of: {day} is in the future; the board shows the record up to today", "as_of")
    runtime = state.runtime
    return {
        "groups": board.build(runtime.log, runtime.projections, day, moment, today),
        "measures": board.measures(runtime.projections, day, moment),
        "as_of": day,
        "known_at": moment,
        "known_at_input": moment[:19] if moment else None,
        "today": today,
        "end": day or today,
        "width": board.WIDTH,
        "height": board.HEIGHT,
    }


class WebController(Controller):
    path = "/"
    tags = ["web"]
    guards = [require("reader")]
    include_in_schema = False

    @get("/", sync_to_thread=False)
    def board_page(self, state: State, as_of: AsOf = None, known_at: KnownAtInput = None) -> Template:
        """The status board: every channel, its status, timeline and the event that set it."""
        return Template("board.html", context=_context(state, as_of, known_at), headers=HTML_HEADERS)

    @get("/board/table", sync_to_thread=False)
    def board_table(self, state: State, as_of: AsOf = None, known_at: KnownAtInput = None) -> Template:
        """The board's table alone, for the page's live updates."""
        return Template("board_table.html", context=_context(state, as_of, known_at), headers=HTML_HEADERS)

    @get("/feed.atom", sync_to_thread=False, media_type="application/atom+xml")
    def feed(self, request: Request[Any, Any, Any], state: State, known_at: KnownAtInput = None) -> Response[bytes]:
        """An Atom feed of the latest status changes, newest first, as known at ``known_at`` (default: now)."""
        runtime, moment = state.runtime, _known_at(known_at)
        base = str(request.base_url).rstrip("/")
        changes = []
        for channel in runtime.projections.channel_names():
            for interval in runtime.projections.timeline(channel, moment) or []:
                if interval.event_id:
                    changes.append((interval.from_, channel, interval))
        changes.sort(key=lambda c: (c[0], c[1]), reverse=True)
        latest_changes = changes[:FEED_SIZE]
        rows = [row for _, _, interval in latest_changes if (row := runtime.log.get(interval.event_id))]
        readings = runtime.projections.as_known(rows, moment)
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


def _fields(event: Event) -> dict[str, Any]:
    """Every field of the event, defaults included, as plain values for the template."""
    return msgspec.to_builtins({name: getattr(event, name) for name in event.__struct_fields__})


def _instant(recorded_at: str) -> dt.datetime:
    return dt.datetime.fromisoformat(recorded_at.replace("Z", "+00:00"))


def event_page(state: State, event_id: str, known_at: str | None = None) -> Template | None:
    """The human page for one event as known at ``known_at`` (default: now): as corrected, marked if retracted,
    with the corrections and retractions of it recorded by then."""
    runtime, moment = state.runtime, _known_at(known_at)
    row = runtime.log.get(event_id)
    if row is None:
        return None
    reading = runtime.projections.as_known([row], moment).get(row.id)
    try:
        event = reading.event if reading else row.event()  # recorded after known_at: shown as recorded
    except msgspec.MsgspecError:
        return None  # the JSON answer shows the stored row as it is
    amendments = []
    candidates = [r for kind in AMENDMENT_TYPES for r in runtime.log.read(channel=row.channel, type=kind)]
    for other in sorted(candidates, key=lambda r: r.seq):
        if moment is not None and other.recorded_at > moment:
            continue
        amended = other.event()
        if str(amended.target_id) == row.id:  # type: ignore[attr-defined]
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
