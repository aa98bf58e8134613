"""An independent reference for diplo: the accepted events kept as a list, folded here.

Written from README.md ("The two clocks", "Event vocabulary") and the intended rules the
model test holds the code to; nothing here imports diplo's projections. Events are plain
JSON dicts as posted; ``recorded_at``, ``seq`` and ``hash`` come from the receipts.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

AMENDMENTS = frozenset({"event_corrected", "event_retracted"})
IDENTITY = frozenset({"id", "type", "channel"})
COMMON = frozenset({"occurred_on", "summary", "sources", "confidence", "correlation_id"})
EXTRA: dict[str, frozenset[str]] = {
    "channel_established": frozenset({"name", "parties"}),
    "meeting_held": frozenset({"participants", "location", "level", "round"}),
    "meeting_scheduled": frozenset({"scheduled_for"}),
    "talks_cancelled": frozenset({"reason", "mode"}),
    "channel_suspended": frozenset({"by", "reason"}),
    "channel_resumed": frozenset(),
    "channel_closed": frozenset({"reason"}),
    "sanction_applied": frozenset({"target", "by", "program"}),
    "sanction_lifted": frozenset({"target", "by"}),
    "commitment_made": frozenset({"by", "text"}),
    "official_changed": frozenset({"role", "person", "change"}),
}
CONFIDENCE = ("confirmed", "reported", "unconfirmed")
PLAIN_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

# What a decision about a request can be: accepted (201/200) or refused (409/422).
OK = "ok"


def local_day(value: str) -> dt.date:
    """occurred_on as posted (a date, or an RFC 3339 timestamp kept as its local date)."""
    return dt.date.fromisoformat(value[:10])


def plain_date(value: Any, latest: dt.date | None = None) -> bool:
    """A calendar date written YYYY-MM-DD (and not after ``latest``)."""
    if not isinstance(value, str) or not PLAIN_DATE.fullmatch(value):
        return False
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return False
    return latest is None or day <= latest


def edge_day(value: Any) -> dt.date | None:
    """The day an occurred_on stands for: a YYYY-MM-DD date, or an RFC 3339 timestamp with a zone,
    kept as its local date; None if neither (an ISO week date, say)."""
    if not isinstance(value, str):
        return None
    try:
        if len(value) == 10:
            return dt.date.fromisoformat(value) if PLAIN_DATE.fullmatch(value) else None
        stamp = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return stamp.date() if stamp.tzinfo is not None else None


def well_formed(body: dict[str, Any], today: dt.date) -> bool:
    """Would the edge decode this event? (Only what the model test varies: its occurred_on.)"""
    day = edge_day(body["occurred_on"])
    return day is not None and day <= today + dt.timedelta(days=1)


def _text(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= 200


def change_valid(key: str, value: Any, today: dt.date) -> bool:
    """One field of a correction's ``changes``: would the corrected event still be a valid event?

    occurred_on follows the edge's reading of a new event; a timestamp is judged apart (rule 1).
    """
    checks = {
        "occurred_on": lambda v: (day := edge_day(v)) is not None and day <= today + dt.timedelta(days=1),
        "scheduled_for": plain_date,
        "summary": lambda v: isinstance(v, str) and 0 < len(v) <= 2_000,
        "confidence": lambda v: v in CONFIDENCE,
        "mode": lambda v: v in ("cancelled", "postponed", "declined"),
        "change": lambda v: v in ("appointed", "removed"),
        "parties": lambda v: isinstance(v, list) and 0 < len(v) <= 20 and all(_text(p) for p in v),
    }
    return checks.get(key, _text)(value)


@dataclass(frozen=True)
class Record:
    """One accepted event: the body as posted and what its receipt said."""

    body: dict[str, Any]
    seq: int
    version: int
    recorded_at: str
    hash: str

    @property
    def id(self) -> str:
        return self.body["id"]

    @property
    def type(self) -> str:
        return self.body["type"]

    @property
    def channel(self) -> str:
        return self.body["channel"]


@dataclass(frozen=True)
class Effective:
    """An event as it reads at some known_at: corrections merged in, its day as corrected."""

    id: str
    seq: int
    channel: str
    type: str
    day: dt.date
    fields: dict[str, Any]
    retracted: bool


def iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


class Reference:
    """The log as the model knows it, and every read diplo answers, computed from scratch."""

    def __init__(self, records: Iterable[Record] = ()) -> None:
        self.records: list[Record] = list(records)
        self.by_id: dict[str, Record] = {r.id: r for r in self.records}

    def add(self, record: Record) -> None:
        self.records.append(record)
        self.by_id[record.id] = record

    def with_tentative(self, bodies: Sequence[dict[str, Any]]) -> Reference:
        """A copy with these bodies appended as if accepted (for judging a batch in order)."""
        copy = Reference(self.records)
        seq = len(self.records)
        for body in bodies:
            seq += 1
            copy.add(Record(body, seq, copy.stream_version(body["channel"]) + 1, "~", ""))
        return copy

    # -- the two clocks ------------------------------------------------------
    def known(self, known_at: str | None) -> list[Record]:
        return [r for r in self.records if known_at is None or r.recorded_at <= known_at]

    def amended(self, known_at: str | None) -> list[Effective]:
        """Every non-amendment event (retracted ones flagged), as corrected at known_at, in (day, seq) order."""
        records = self.known(known_at)
        retracted = {r.body["target_id"] for r in records if r.type == "event_retracted"}
        changes: dict[str, dict[str, Any]] = {}
        for r in records:  # seq order: a later correction wins field by field
            if r.type == "event_corrected" and r.id not in retracted:
                changes.setdefault(r.body["target_id"], {}).update(r.body["changes"])
        out = []
        for r in records:
            if r.type in AMENDMENTS:
                continue
            fields = r.body | changes.get(r.id, {})
            out.append(
                Effective(r.id, r.seq, r.channel, r.type, local_day(fields["occurred_on"]), fields, r.id in retracted)
            )
        out.sort(key=lambda e: (e.day, e.seq))
        return out

    def effective(self, known_at: str | None, channel: str | None = None) -> list[Effective]:
        return [e for e in self.amended(known_at) if not e.retracted and channel in (None, e.channel)]

    def stream_version(self, channel: str, known_at: str | None = None) -> int:
        """The stream's version: every event of the channel, amendments included (intended rule 2)."""
        return sum(1 for r in self.known(known_at) if r.channel == channel)

    def establishment(self, channel: str, known_at: str | None = None) -> Effective | None:
        return next((e for e in self.effective(known_at, channel) if e.type == "channel_established"), None)

    def channels(self) -> list[str]:
        """GET /channels lists every channel that exists now, whatever the clocks."""
        return sorted({r.channel for r in self.records if r.type == "channel_established"})

    # -- a channel's state ---------------------------------------------------
    def fold(self, channel: str, as_of: dt.date | None, known_at: str | None) -> dict[str, Any]:
        """The channel's state after every event on or before as_of, before any display rule."""
        state: dict[str, Any] = {
            "status": "unknown",
            "since": None,
            "last_meeting": None,
            "next_meeting": None,
            "last_cancelled": None,
            "confidence": None,
            "reason": None,
            "status_event_id": None,
            "last_event_id": None,
            "established_on": None,
            "officials": {},
        }
        for event in self.effective(known_at, channel):
            if as_of is not None and event.day > as_of:
                break
            apply(state, event)
        return state

    def channel_state(
        self, channel: str, as_of: dt.date | None, known_at: str | None, today: dt.date
    ) -> dict[str, Any] | None:
        """GET /channels/{channel}: None (404) for a channel never recorded. Asked about before it is on
        record (as_of before its establishment, or known_at before it was recorded) it is "unknown";
        in the second case nothing of it is known: no name, no parties, version 0 (``known`` false)."""
        if channel not in self.channels():
            return None
        established = self.establishment(channel, known_at)
        state = self.fold(channel, as_of, known_at)
        if state["established_on"] is None:  # asked about a day before the channel existed
            state = self.fold(channel, dt.date.min, known_at)
        # Intended rule 6: a next meeting before the asked day is no longer a next meeting.
        shown_from = as_of or today
        raw_next = state["next_meeting"]
        state["next_meeting"] = raw_next if raw_next is not None and raw_next >= shown_from else None
        fields = established.fields if established is not None else {"name": None, "parties": []}
        return {
            "channel": channel,
            "known": established is not None,
            "name": fields["name"],
            "parties": list(fields["parties"]),
            **{k: iso(v) if isinstance(v, dt.date) else v for k, v in state.items()},
            "version": self.stream_version(channel, known_at),
            "raw_next_meeting": iso(raw_next),  # for the test, not an API field
        }

    def status_by_day(self, channel: str, known_at: str | None, days: Sequence[dt.date]) -> dict[dt.date, str]:
        """The status at the end of each day (what as_of=day answers)."""
        events = self.effective(known_at, channel)
        state = self.fold(channel, dt.date.min, known_at)
        answer: dict[dt.date, str] = {}
        i = 0
        for day in sorted(days):
            while i < len(events) and events[i].day <= day:
                apply(state, events[i])
                i += 1
            answer[day] = state["status"]
        return answer

    # -- registers -----------------------------------------------------------
    def sanction_intervals(self, known_at: str | None) -> list[dict[str, Any]]:
        """Per (target, by): applied opens an interval (if none is open), lifted on D ends it on D."""
        intervals: list[dict[str, Any]] = []
        open_: dict[tuple[str, str], dict[str, Any]] = {}
        for e in self.effective(known_at):
            if e.type not in ("sanction_applied", "sanction_lifted"):
                continue
            key = (e.fields["target"], e.fields["by"])
            current = open_.get(key)
            if e.type == "sanction_applied":
                if current is None:
                    current = {
                        "target": key[0],
                        "by": key[1],
                        "program": e.fields.get("program"),
                        "since": e.day,
                        "until": None,
                        "event_ids": [],
                        "first_seq": e.seq,
                    }
                    open_[key] = current
                    intervals.append(current)
                current["event_ids"].append(e.id)
            elif current is not None:
                del open_[key]
                current["until"] = e.day
                current["event_ids"].append(e.id)
        return intervals

    def sanctions_in_force(self, as_of: dt.date | None, known_at: str | None) -> list[dict[str, Any]]:
        day = as_of or dt.date.max
        found = [
            i
            for i in self.sanction_intervals(known_at)
            if i["since"] <= day and (i["until"] is None or i["until"] > day)
        ]
        found.sort(key=lambda i: (i["since"], i["target"], i["by"]))
        return [
            {k: v for k, v in i.items() if k != "first_seq"} | {"since": iso(i["since"]), "until": iso(i["until"])}
            for i in found
        ]

    def commitments(self, channel: str | None, as_of: dt.date | None, known_at: str | None) -> list[dict[str, Any]]:
        return [
            {
                "channel": e.channel,
                "by": e.fields["by"],
                "text": e.fields["text"],
                "made_on": iso(e.day),
                "confidence": e.fields.get("confidence", "confirmed"),
                "event_id": e.id,
            }
            for e in self.effective(known_at, channel)
            if e.type == "commitment_made" and (as_of is None or e.day <= as_of)
        ]

    # -- admission: what the log must answer -----------------------------------
    def judge_event(self, body: dict[str, Any], today: dt.date) -> tuple[set[str], str]:
        """Outcomes allowed for appending one event after the log as it stands, and why.

        Outcomes: OK, "409", "422". The reason names the rule ("rule3", ...) a refusal, or an acceptance,
        rests on, so a test that does not hold the code to that rule can leave such events out.
        """
        kind, channel = body["type"], body["channel"]
        version = self.stream_version(channel)
        if version == 0 and kind != "channel_established":
            return {"422"}, "not established"
        if version > 0 and kind == "channel_established":
            return {"409"}, "already established"
        if kind in AMENDMENTS:
            return self._judge_amendment(body, today)
        established = self.establishment(channel)
        if established is not None and local_day(body["occurred_on"]) < established.day:
            return {"422"}, "rule3"
        return {OK}, ""

    def _judge_amendment(self, body: dict[str, Any], today: dt.date) -> tuple[set[str], str]:
        target = self.by_id.get(body["target_id"])
        if target is None or target.channel != body["channel"]:
            return {"422"}, "no such target"
        retracting = body["type"] == "event_retracted"
        if retracting and target.type == "channel_established":
            return {"422"}, "retracting an establishment"
        if target.type == "event_retracted" or (not retracting and target.type == "event_corrected"):
            return {"422"}, "amending an amendment"
        if not retracting:
            changes = body["changes"]
            allowed = COMMON | EXTRA[target.type]
            if not changes or any(k in IDENTITY or k not in allowed for k in changes):
                return {"422"}, "changes a field it may not"
            if any(not change_valid(k, v, today) for k, v in changes.items()):
                return {"422"}, "invalid changes"
            if not plain_date(changes.get("occurred_on", "2000-01-01")):
                # Rule 1: a timestamp may be refused, or taken as its local date (the edge's reading of a
                # new event's occurred_on); either way the corrected event must read back, and no 5xx.
                outcomes, reason = self._judge_dates(body, "rule3")
                return (outcomes | {"422"}, "rule1" + (f"+{reason}" if reason else ""))
        outcomes, reason = self._judge_dates(body, "rule3-retract" if retracting else "rule3")
        if outcomes == {OK} and not retracting and body["changes"].get("confidence") == "confirmed":
            return outcomes, "rule7"  # a field corrected to its default value
        return outcomes, reason

    def _judge_dates(self, body: dict[str, Any], reason: str) -> tuple[set[str], str]:
        """Intended rule 3 after an amendment: no event of the channel before its establishment.

        Only events that are not retracted count for sure; a correction that would put only a
        retracted event before the establishment may be refused or accepted (the brief is silent).
        """
        after = self.with_tentative([body]).amended(None)
        channel = [e for e in after if e.channel == body["channel"]]
        start = next(e.day for e in channel if e.type == "channel_established")
        if any(e.day < start for e in channel if not e.retracted):
            return {"422"}, reason
        if any(e.day < start for e in channel):
            return {OK, "422"}, reason + "-retracted-only"
        return {OK}, ""

    def judge_request(
        self, bodies: Sequence[dict[str, Any]], expected_version: int | None, today: dt.date
    ) -> tuple[set[str], str]:
        """Outcomes for one POST /events (one event or an array, all-or-nothing): OK means 201,
        "200" an idempotent re-post, else the refusal. Reasons as in judge_event."""
        if not all(well_formed(b, today) for b in bodies):
            return {"422"}, "malformed"
        known = [self.by_id.get(b["id"]) for b in bodies]
        if all(r is not None and r.body == b for r, b in zip(known, bodies, strict=True)):
            stale = expected_version is not None and expected_version != self.stream_version(bodies[0]["channel"])
            return {"200"}, "rule5" if stale else ""
        if expected_version is not None:
            channels = {b["channel"] for b in bodies}
            if len(channels) != 1:
                return {"422"}, "expected_version over several channels"
            if self.stream_version(channels.pop()) != expected_version:
                return {"409"}, "stale expected_version"
        # Every event is judged (an array's answer may name any of its refused events), each against the
        # log with the array's earlier acceptable events in it.
        reference, new, refusals, notes = self, [], [], []
        for body in bodies:
            earlier = reference.by_id.get(body["id"])
            if earlier is not None:
                if earlier.body == body:
                    raise ValueError("the model test never mixes re-posted and new events in one array")
                refusals.append(({"409"}, "id taken"))
                continue
            outcomes, reason = reference.judge_event(body, today)
            if len(bodies) > 1 and len(outcomes) > 1:
                raise ValueError("the model test keeps undecided events out of arrays")
            if outcomes == {OK}:
                new.append(body)
                reference = self.with_tentative(new)
                notes += [reason] if reason else []
            else:
                refusals.append((outcomes, reason))
        if refusals:
            return set().union(*(o for o, _ in refusals)), ",".join(r for _, r in refusals)
        return {OK}, ",".join(notes)


def apply(state: dict[str, Any], event: Effective) -> None:
    """One event's effect on a channel's state (README, Event vocabulary)."""
    f, day = event.fields, event.day

    def set_status(status: str, reason: str | None) -> None:
        if state["status"] != status:
            state["since"] = day
        state.update(
            status=status, reason=reason, confidence=f.get("confidence", "confirmed"), status_event_id=event.id
        )

    kind = event.type
    if kind == "channel_established":
        set_status("active", None)
        state["established_on"] = day
    elif kind == "meeting_held":
        if state["status"] != "active":
            set_status("active", None)
        state["last_meeting"] = day
        if state["next_meeting"] is not None and state["next_meeting"] <= day:
            state["next_meeting"] = None
    elif kind == "meeting_scheduled":
        state["next_meeting"] = dt.date.fromisoformat(f["scheduled_for"])
    elif kind == "talks_cancelled":
        state["last_cancelled"] = day
        state["next_meeting"] = None
    elif kind == "channel_suspended":
        set_status("suspended", f["reason"])
    elif kind == "channel_resumed":
        set_status("active", None)
    elif kind == "channel_closed":
        set_status("closed", f["reason"])
    elif kind == "official_changed":
        officials = dict(state["officials"])
        if f["change"] == "appointed":
            officials[f["role"]] = f["person"]
        elif officials.get(f["role"]) == f["person"]:
            del officials[f["role"]]
        state["officials"] = officials
    state["last_event_id"] = event.id
