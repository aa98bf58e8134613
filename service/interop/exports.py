"""Exports analysts load: PLOVER JSON Lines, an ICEWS-style dyadic CSV, a dyad-month panel CSV.

Every export reads the log as one snapshot (the head when it starts, or ``known_at``), with the events
as amended as known then (corrections applied, retractions left out), and the world on ``as_of``
(events on or before that day; status days counted up to it). It goes through the projections' public
API: ``as_known`` for events, ``channel_state``/``all_channels`` for parties, ``timeline`` for status
days, and the registers for measures in force.
"""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
from collections import Counter, defaultdict
from collections.abc import Iterator
from typing import Any, Literal

import msgspec

from diplo.events.catalog import Event, type_of
from diplo.events.log import EventLog, StoredEvent
from diplo.projections import Projections
from diplo.projections.amendments import AMENDMENT_TYPES
from diplo.projections.queries import was_known
from diplo.service.interop.codes import CHANNEL_KIND_CONTEXT, MEASURE_KIND_CONTEXT, Code, code_for
from diplo.service.interop.parties import country_name, iso_code, plover_code

Format = Literal["plover", "icews", "panel"]
FORMATS: tuple[str, ...] = ("plover", "icews", "panel")
MEDIA_TYPES = {"plover": "application/x-ndjson", "icews": "text/csv", "panel": "text/csv"}
SUFFIXES = {"plover": "jsonl", "icews": "csv", "panel": "csv"}
PAGE = 1_000
CODER = "diplo (curated, sourced by hand)"

ICEWS_COLUMNS = [
    "Event ID",
    "Event Date",
    "Source Name",
    "Source Country",
    "Source ISO",
    "Event Text",
    "CAMEO Code",
    "CAMEO Root",
    "Quad Class",
    "Intensity",
    "PLOVER Event",
    "PLOVER Mode",
    "Target Name",
    "Target Country",
    "Target ISO",
    "Publisher",
    "URL",
    "diplo Type",
    "Channel",
    "Confidence",
]
STATUSES = ("active", "agreed", "restricted", "suspended", "closed")
COUNTED = {
    "meeting_held": "meetings",
    "contact_made": "contacts",
    "talks_cancelled": "cancellations",
    "channel_suspended": "suspensions",
    "channel_restricted": "restrictions",
}
PANEL_COLUMNS = [
    "party_a",
    "party_b",
    "month",
    "channels",
    *dict.fromkeys(COUNTED.values()),
    *(f"days_{s}" for s in STATUSES),
    "measures_in_force",
]


class Snapshot:
    """The log and its projections pinned at one moment: what every line of one export is read from."""

    def __init__(self, log: EventLog, projections: Projections, as_of: dt.date | None, known_at: str | None):
        self.log, self.projections, self.as_of = log, projections, as_of
        head = log.head()
        self.head_seq = head.seq
        if known_at is None and head.seq:
            # Pin "now" to the head's instant, so appends during a long export change none of it.
            known_at = log.read(after=head.seq - 1, limit=1)[0].recorded_at
        self.known_at = known_at
        self._states: dict[str, Any] = {}

    def state(self, channel: str) -> Any:
        if channel not in self._states:
            found = self.projections.channel_state(channel, None, self.known_at)
            self._states[channel] = found if found is not None and was_known(found) else None
        return self._states[channel]

    def remember(self, state: Any) -> None:
        self._states.setdefault(state.channel, state)

    def parties(self, channel: str) -> list[str]:
        state = self.state(channel)
        return list(state.parties) if state is not None else []

    def events(self) -> Iterator[tuple[StoredEvent, Event]]:
        """Every event as amended as known at ``known_at``, in log order; amendments and retracted ones left
        out, and those after ``as_of``."""
        cursor = 0
        while cursor < self.head_seq:
            page = [r for r in self.log.read(after=cursor, limit=PAGE) if r.seq <= self.head_seq]
            if not page:
                return
            cursor = page[-1].seq
            readings = self.projections.as_known(page, self.known_at)
            for row in page:
                reading = readings.get(row.id)
                if reading is None or reading.retracted or row.type in AMENDMENT_TYPES:
                    continue
                if self.as_of is not None and reading.event.occurred_on > self.as_of:
                    continue
                yield row, reading.event


# -- who did what to whom ---------------------------------------------------------------------------


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def sides(event: Event, parties: list[str]) -> tuple[list[str], list[str]]:
    """(actor, recipient): ``by`` acts on the other parties (or ``against``); without ``by`` every party
    acts together and there is no recipient, as PLOVER codes a meeting of equals."""
    by = _as_list(getattr(event, "by", None))
    if not by:
        return list(parties), []
    against = _as_list(getattr(event, "against", None))
    return by, against or [p for p in parties if p not in by]


def dyads(actor: list[str], recipient: list[str]) -> list[tuple[str, str]]:
    """Directed pairs, CAMEO-style: each actor to each recipient, or each pair both ways among equals."""
    targets = recipient or actor
    return [(a, b) for a in actor for b in targets if a != b]


def _contexts(event: Event, state: Any) -> list[str]:
    found = [CHANNEL_KIND_CONTEXT.get(getattr(state, "kind", None) or "")]
    found.append(MEASURE_KIND_CONTEXT.get(getattr(event, "kind", None) or ""))
    return sorted({c for c in found if c})


# -- PLOVER ---------------------------------------------------------------------------------------


def _entity(party: str) -> dict[str, str]:
    return {"code": plover_code(party), "entity_text": party}


def plover_record(row: StoredEvent, event: Event, code: Code, snapshot: Snapshot) -> dict[str, Any] | None:
    """One event as a PLOVER record (field names of the codebook's "Data Fields" chapter)."""
    actor, recipient = sides(event, snapshot.parties(event.channel))
    if not actor:
        return None
    sources = [msgspec.to_builtins(s) for s in event.sources]
    first = event.sources[0]
    record: dict[str, Any] = {
        "id": row.id,
        "date": event.occurred_on.isoformat(),
        "actor": [_entity(p) for p in actor],
        "event": [code.plover],
        "quad_code": code.quad,
        "event_scale": code.intensity,
        "event_text": [event.summary],
        "cite_info": {
            "url": first.url,
            **({"title": first.title} if first.title else {}),
            **({"publication": first.publisher} if first.publisher else {}),
            "coder": CODER,
            "codebook": "PLOVER",
        },
        "coder": CODER,
        "coded_date": row.recorded_at[:10],
        "cameo_code": code.cameo,
        "sources": sources,
        "diplo": {
            "type": type_of(event),
            "channel": event.channel,
            "confidence": event.confidence,
            "seq": row.seq,
            "recorded_at": row.recorded_at,
        },
    }
    if recipient:
        record["recipient"] = [_entity(p) for p in recipient]
    if code.mode:
        record["mode"] = [code.mode]
    contexts = _contexts(event, snapshot.state(event.channel))
    if contexts:
        record["context"] = contexts
    precision = getattr(event, "precision", "day")
    if precision != "day":
        record["diplo"]["precision"] = precision
    if event.correlation_id:
        record["link"] = event.correlation_id
    return record


def coded(snapshot: Snapshot) -> Iterator[tuple[StoredEvent, Event, Code]]:
    """The events that are acts between parties, with their codes."""
    for row, event in snapshot.events():
        code = code_for(event)
        if code.plover is not None:
            yield row, event, code


def plover_lines(snapshot: Snapshot) -> Iterator[bytes]:
    for row, event, code in coded(snapshot):
        record = plover_record(row, event, code, snapshot)
        if record is not None:
            yield msgspec.json.encode(record) + b"\n"


# -- ICEWS-style dyadic CSV -----------------------------------------------------------------------


def _csv_line(values: list[Any]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(["" if v is None else v for v in values])
    return buffer.getvalue().encode()


def icews_lines(snapshot: Snapshot) -> Iterator[bytes]:
    yield _csv_line(ICEWS_COLUMNS)
    for row, event, code in coded(snapshot):
        actor, recipient = sides(event, snapshot.parties(event.channel))
        first = event.sources[0]
        for source, target in dyads(actor, recipient):
            yield _csv_line(
                [
                    row.id,
                    event.occurred_on.isoformat(),
                    source,
                    country_name(source),
                    iso_code(source),
                    event.summary,
                    code.cameo,
                    code.cameo_root,
                    code.quad,
                    code.intensity,
                    code.plover,
                    code.mode,
                    target,
                    country_name(target),
                    iso_code(target),
                    first.publisher,
                    first.url,
                    type_of(event),
                    event.channel,
                    event.confidence,
                ]
            )


# -- the dyad-month panel ----------------------------------------------------------------------------


def _month(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def _months(first: dt.date, last: dt.date) -> list[dt.date]:
    months, day = [], first.replace(day=1)
    while day <= last:
        months.append(day)
        day = _month_end(day) + dt.timedelta(days=1)
    return months


def _status_days(intervals: list[Any], end: dt.date, into: dict[str, Counter[str]]) -> None:
    """Add each day from each interval's start to its end (exclusive; ``end`` inclusive at most) to its month."""
    for interval in intervals:
        if interval.status not in STATUSES:
            continue
        start = interval.from_
        stop = min(interval.to or end + dt.timedelta(days=1), end + dt.timedelta(days=1))
        while start < stop:
            month_stop = min(stop, _month_end(start) + dt.timedelta(days=1))
            into[_month(start)][f"days_{interval.status}"] += (month_stop - start).days
            start = month_stop


class _Measures:
    """Measures in force by one party against another on a day: the measures register where the projections
    have one (vocabulary v2), else the sanctions register (its ``by`` against the channel's other parties)."""

    def __init__(self, snapshot: Snapshot):
        self.snapshot = snapshot
        self._channel_of: dict[str, str] = {}

    def on(self, day: dt.date) -> Counter[tuple[str, str]]:
        found: Counter[tuple[str, str]] = Counter()
        projections = self.snapshot.projections
        if hasattr(projections, "measures"):
            for measure in projections.measures(as_of=day, known_at=self.snapshot.known_at):
                if getattr(measure, "status", "in_force") == "in_force":
                    found.update(dyads(_as_list(measure.by), _as_list(measure.against)))
            return found
        for sanction in projections.sanctions_in_force(day, self.snapshot.known_at):
            parties = self.snapshot.parties(self._channel(sanction.event_ids[0]))
            found.update(dyads([sanction.by], [p for p in parties if p != sanction.by]))
        return found

    def _channel(self, event_id: str) -> str:
        if event_id not in self._channel_of:
            row = self.snapshot.log.get(event_id)
            self._channel_of[event_id] = row.channel if row is not None else ""
        return self._channel_of[event_id]


def panel_rows(snapshot: Snapshot, today: dt.date | None = None) -> list[dict[str, Any]]:
    """One row per ordered pair of parties sharing a channel and month, from the first month one of their
    channels existed to the month of ``as_of`` (today if none)."""
    end = snapshot.as_of or today or dt.datetime.now(dt.UTC).date()
    channels: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for state in snapshot.projections.all_channels(None, snapshot.known_at):
        if not was_known(state) or state.established_on is None or state.established_on > end:
            continue
        snapshot.remember(state)
        for pair in dyads(list(state.parties), []):
            channels[pair].append(state)
    counts: dict[tuple[str, str], dict[str, Counter[str]]] = defaultdict(lambda: defaultdict(Counter))
    for _row, event in snapshot.events():
        column = COUNTED.get(type_of(event))
        if column is None:
            continue
        for pair in dyads(snapshot.parties(event.channel), []):
            counts[pair][_month(event.occurred_on)][column] += 1
    days: dict[str, dict[str, Counter[str]]] = {}
    for states in channels.values():
        for state in states:
            if state.channel not in days:
                days[state.channel] = defaultdict(Counter)
                _status_days(
                    snapshot.projections.timeline(state.channel, snapshot.known_at) or [], end, days[state.channel]
                )
    measures = _Measures(snapshot)
    in_force: dict[dt.date, Counter[tuple[str, str]]] = {}
    rows = []
    for pair in sorted(channels):
        states = channels[pair]
        for month in _months(min(s.established_on for s in states), end):
            key, last = _month(month), min(_month_end(month), end)
            if last not in in_force:
                in_force[last] = measures.on(last)
            row: dict[str, Any] = {"party_a": pair[0], "party_b": pair[1], "month": key}
            row["channels"] = sum(1 for s in states if s.established_on <= last)
            row |= {column: counts[pair][key][column] for column in dict.fromkeys(COUNTED.values())}
            row |= {f"days_{s}": sum(days[c.channel][key][f"days_{s}"] for c in states) for s in STATUSES}
            row["measures_in_force"] = in_force[last][pair]
            rows.append(row)
    return rows


def panel_lines(snapshot: Snapshot, today: dt.date | None = None) -> Iterator[bytes]:
    yield _csv_line(PANEL_COLUMNS)
    for row in panel_rows(snapshot, today):
        yield _csv_line([row[c] for c in PANEL_COLUMNS])


def lines(fmt: str, snapshot: Snapshot) -> Iterator[bytes]:
    """The export in this format, line by line."""
    if fmt == "plover":
        return plover_lines(snapshot)
    if fmt == "icews":
        return icews_lines(snapshot)
    if fmt == "panel":
        return panel_lines(snapshot)
    raise ValueError(f"format: {fmt!r} is not one of {', '.join(FORMATS)}")
