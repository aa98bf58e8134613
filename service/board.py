"""What the status board shows: rows grouped by party pair, a summary, filters, and each channel's timeline."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlencode, urlsplit

import msgspec

from diplo.events.log import EventLog
from diplo.events.parties import party_name
from diplo.projections import ChannelState, Measure, Projections
from diplo.projections.queries import Reading, upcoming_only, was_known
from diplo.projections.state import dormant
from diplo.service import plot
from diplo.service.plot import SYMBOLS, Band, MarkView, Tick, Window

# Characters XML 1.0 forbids (and lone surrogates, which no UTF-8 page can carry): a stored row holding
# one must not break a page or the feed, so views drop them when rendering.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
STATUSES = ("active", "agreed", "restricted", "suspended", "closed", "unknown")
# Marks are counted in this many periods of the window: about one per 5 px of a wide board's timeline.
BOARD_BUCKETS = 200
SHORT_SUMMARY = 72  # characters of the "set by" line; the whole text is on the event page
TYPE_WORDS = {
    "channel_established": "established",
    "channel_agreed": "agreed",
    "meeting_held": "meeting",
    "channel_suspended": "suspended",
    "channel_restricted": "restricted",
    "channel_resumed": "resumed",
    "channel_closed": "closed",
}


class Filters(msgspec.Struct, kw_only=True, frozen=True):
    """The board's filters, all optional; ``dyad`` is two party codes in alphabetical order, 'CHN-USA'."""

    party: str | None = None
    dyad: str | None = None
    status: str | None = None  # a status, or "dormant"
    kind: str | None = None

    def admits(self, state: ChannelState) -> bool:
        """Party, dyad and kind: the filters the summary counts are taken after."""
        return (
            (self.party is None or self.party in state.parties)
            and (self.dyad is None or dyad_of(state.parties) == self.dyad)
            and (self.kind is None or state.kind == self.kind)
        )

    def admits_status(self, state: ChannelState, is_dormant: bool) -> bool:
        if self.status is None:
            return True
        return is_dormant if self.status == "dormant" else state.status == self.status

    def items(self) -> dict[str, str]:
        return {k: v for k in ("party", "dyad", "status", "kind") if (v := getattr(self, k))}


class SourceLink(msgspec.Struct, kw_only=True):
    url: str
    label: str


class Cause(msgspec.Struct, kw_only=True):
    """The event that set a status, in one line: what, when, a short summary, its sources as small links."""

    what: str
    day: dt.date
    short: str
    full: str
    href: str
    confidence: str
    sources: list[SourceLink]


class Row(msgspec.Struct, kw_only=True):
    state: ChannelState
    symbol: str
    cause: Cause | None
    bands: list[Band]
    marks: list[MarkView]
    href: str
    dormant: bool = False


class Group(msgspec.Struct, kw_only=True):
    parties: str
    rows: list[Row]
    names: str = ""  # the parties' names, e.g. "United States – China"


class Board(msgspec.Struct, kw_only=True):
    groups: list[Group]
    counts: list[tuple[str, int]]  # per status, then dormant, over the channels the party/dyad/kind filters admit
    admitted: int
    shown: int
    window: Window
    ticks: list[Tick]
    parties: list[tuple[str, str]]  # (code, name) of every party on the board, for the filter
    dyads: list[str]
    kinds: list[str]


def printable(value: Any) -> Any:
    """``value`` (text, or lists and dicts of it) without the characters no page or feed may carry."""
    if isinstance(value, str):
        return _UNPRINTABLE.sub("", value)
    if isinstance(value, list | tuple):
        return type(value)(printable(v) for v in value)
    if isinstance(value, dict):
        return {k: printable(v) for k, v in value.items()}
    return value


def event_href(event_id: str, known_at: str | None) -> str:
    """An event's page, as known at the same moment as the view linking to it."""
    return f"/events/{event_id}" + (f"?known_at={known_at}" if known_at else "")


def channel_href(channel: str, as_of: dt.date | None, known_at: str | None) -> str:
    query = urlencode({k: v for k, v in (("as_of", as_of), ("known_at", known_at)) if v})
    return f"/channels/{channel}" + (f"?{query}" if query else "")


def dyad_of(parties: Iterable[str]) -> str:
    return "-".join(sorted(parties))


def shorten(text: str, limit: int = SHORT_SUMMARY) -> str:
    """The text cut at a word before ``limit`` characters, with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:-–—")
    return f"{cut}…"


def source_links(sources: Iterable[Any]) -> list[SourceLink]:
    """Each source as a small link named by its publisher, else by its site."""
    links = []
    for source in sources:
        label = source.publisher or urlsplit(source.url).hostname or "source"
        links.append(SourceLink(url=printable(source.url), label=printable(shorten(label.removeprefix("www."), 28))))
    return links


def readings_of(
    log: EventLog, projections: Projections, ids: Iterable[str], known_at: str | None
) -> dict[str, Reading]:
    """The events with these ids, as amended as known at ``known_at``."""
    rows = [row for event_id in dict.fromkeys(ids) if (row := log.get(event_id))]
    return projections.as_known(rows, known_at)


def cause(reading: Reading | None, known_at: str | None) -> Cause | None:
    if reading is None or reading.retracted:
        return None
    event = reading.event
    summary = printable(event.summary)
    return Cause(
        what=TYPE_WORDS.get(reading.row.type, reading.row.type.replace("_", " ")),
        day=event.occurred_on,
        short=shorten(summary),
        full=summary,
        href=event_href(reading.row.id, known_at),
        confidence=event.confidence,
        sources=source_links(event.sources),
    )


def timeline_marks(
    log: EventLog, projections: Projections, channel: str, window: Window, known_at: str | None, buckets: int
) -> list[MarkView]:
    """The channel's marks in the window, each at the date of its first event."""
    found = projections.marks(channel, known_at, window.start, window.end, buckets)
    readings = readings_of(log, projections, (m.first_event_id for m in found), known_at)
    hrefs = {m.first_event_id: event_href(m.first_event_id, known_at) for m in found}
    shown = plot.marks(found, readings, window, buckets, hrefs)
    return [msgspec.structs.replace(m, label=printable(m.label)) for m in shown]


def build(
    log: EventLog,
    projections: Projections,
    as_of: dt.date | None,
    known_at: str | None,
    today: dt.date,
    filters: Filters = Filters(),
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> Board:
    day = as_of or today
    # A human board of what was known at known_at: channels recorded later are left out, not listed unknown.
    known = [upcoming_only(s, as_of) for s in projections.all_channels(as_of, known_at) if was_known(s)]
    admitted = [s for s in known if filters.admits(s)]
    flags = {s.channel: dormant(s, day) for s in admitted}
    states = [s for s in admitted if filters.admits_status(s, flags[s.channel])]
    timelines = {s.channel: projections.timeline(s.channel, known_at) or [] for s in states}
    first = min((t[0].from_ for t in timelines.values() if t), default=None)
    window = plot.window_for(first, today, start, end)
    status_readings = readings_of(log, projections, (s.status_event_id for s in states if s.status_event_id), known_at)
    groups: dict[str, list[Row]] = defaultdict(list)
    for state in states:
        groups[dyad_of(state.parties) or "unknown parties"].append(
            Row(
                state=state,
                symbol=SYMBOLS[state.status],
                cause=cause(status_readings.get(state.status_event_id or ""), known_at),
                bands=plot.bands(timelines[state.channel], window),
                marks=timeline_marks(log, projections, state.channel, window, known_at, BOARD_BUCKETS),
                href=channel_href(state.channel, as_of, known_at),
                dormant=flags[state.channel],
            )
        )
    return Board(
        groups=[
            Group(
                parties=" – ".join(rows[0].state.parties) or key,
                rows=rows,
                names=" – ".join(party_name(c) for c in rows[0].state.parties),
            )
            for key, rows in sorted(groups.items())
        ],
        counts=counts(admitted, flags),
        admitted=len(admitted),
        shown=len(states),
        window=window,
        ticks=plot.axis(window),
        parties=sorted({(p, party_name(p)) for s in known for p in s.parties}),
        dyads=sorted({dyad_of(s.parties) for s in known if s.parties}),
        kinds=sorted({s.kind for s in known if s.kind}),
    )


def counts(states: list[ChannelState], flags: dict[str, bool]) -> list[tuple[str, int]]:
    """How many channels have each status (unknown only when some do), then how many are dormant."""
    by_status: Counter[str] = Counter(s.status for s in states)
    shown = [(status, by_status[status]) for status in STATUSES if status != "unknown" or by_status[status]]
    return [*shown, ("dormant", sum(flags.values()))]


def measures(
    projections: Projections, as_of: dt.date | None, known_at: str | None, filters: Filters = Filters()
) -> list[Measure]:
    """The board's measures section: every measure not lifted on the day shown, as known at ``known_at``,
    between the parties the party and dyad filters leave."""
    wanted = set(filters.dyad.split("-")) if filters.dyad else None
    return [
        printable_measure(m)
        for m in projections.measures(as_of, known_at)
        if m.status != "lifted"
        and (filters.party is None or filters.party in m.by or filters.party in m.against)
        and (wanted is None or wanted <= {*m.by, *m.against})
    ]


def printable_measure(measure: Measure) -> Measure:
    texts = {f: printable(getattr(measure, f)) for f in ("target", "rate", "scope", "instrument", "measure")}
    return msgspec.structs.replace(measure, **texts)
