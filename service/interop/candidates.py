"""The review queue: candidate events read from machine-coded datasets, kept apart from the log.

Candidates live in two tables beside the log (never in it), created here:
``candidates`` (one per development, with its review) and ``candidate_reports`` (each dataset row read,
pointing at its candidate). Nothing reaches the log until a writer accepts a candidate; then it is
appended through the log's normal path, with an id and an Idempotency-Key derived from the candidate's id,
so accepting twice appends once.

Duplicates, as machine-coded data has them:
- the same row read again (same dataset and row id): ignored, so a re-import adds nothing;
- an exact duplicate (same pair of parties, day, code and source, under another row id): dropped;
- a near-duplicate (same pair of parties and diplo type within a day, from any source or dataset): kept as
  one more report of the existing candidate, which the reviewer sees as corroboration.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

import msgspec

from diplo.events import EventLog, InvalidEvent, Receipt, decode_event
from diplo.events.backends import connect_beside
from diplo.events.catalog import EVENT_TYPES, Event, encode
from diplo.events.errors import Conflict
from diplo.events.log import IdempotencyKey
from diplo.projections import Projections
from diplo.projections.queries import was_known
from diplo.service.interop.datasets import DATASET_NAMES, DATASET_URLS, Report, Skipped, dyad_key, read
from diplo.service.interop.parties import diplo_party

Status = Literal["pending", "accepted", "rejected"]
STATUSES: tuple[str, ...] = ("pending", "accepted", "rejected")
MAX_SOURCES = 20  # as many as an event holds; the reviewer's come first
NEAR_DAYS = 1  # reports of the same pair and type this many days apart are one development
CANDIDATE_NAMESPACE = uuid.UUID("0b7c6f5e-2a44-4a8e-9d1f-5c3e8a9b7d21")
ACCEPTED_NAMESPACE = uuid.UUID("7e1d2c3b-4a5f-4e6d-8c7b-9a0f1e2d3c4b")


class ReviewError(ValueError):
    """A review that cannot be done as asked; ``status`` is the HTTP answer, ``field`` what to fix."""

    def __init__(self, status: int, message: str, field: str | None = None):
        super().__init__(message)
        self.status, self.message, self.field = status, message, field


class ReportOut(msgspec.Struct, kw_only=True):
    dataset: str
    origin_id: str
    occurred_on: str
    code: str
    source: str
    url: str | None = None


class Candidate(msgspec.Struct, kw_only=True):
    """A development some dataset reported, waiting for (or past) a reviewer's decision."""

    id: str
    status: Status
    type: str
    occurred_on: str
    actor: str
    recipient: str
    dataset: str
    origin_id: str
    code: str
    source: str
    url: str | None = None
    summary: str
    fields: dict[str, Any] = {}
    reports: list[ReportOut] = []
    imported_at: str
    imported_from: str | None = None
    reviewed_by: str | None = None
    reviewed_at: str | None = None
    reason: str | None = None
    event_id: str | None = None
    channel: str | None = None


class ImportResult(msgspec.Struct, kw_only=True):
    file: str
    format: str
    rows: int = 0
    candidates: int = 0  # new candidates
    merged: int = 0  # near-duplicates kept as reports of an existing candidate
    duplicates: int = 0  # exact duplicates dropped
    already_imported: int = 0  # rows read before (same dataset and row id)
    other_dyad: int = 0  # between parties without a channel (or not the dyad asked for)
    skipped: dict[str, int] = {}  # rows diplo cannot read, by reason: code, party, date, self


class Accepted(msgspec.Struct, kw_only=True):
    candidate: Candidate
    receipt: Receipt


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def accepted_id(candidate_id: str) -> uuid.UUID:
    """The id of the event a candidate becomes: the same however often it is accepted."""
    return uuid.uuid5(ACCEPTED_NAMESPACE, candidate_id)


def parse_dyad(value: str) -> frozenset[str]:
    """'USA-CHN' as a pair of diplo parties."""
    parts = value.split("-")
    parties = [diplo_party(p) for p in parts]
    if len(parts) != 2 or any(p is None for p in parties) or parties[0] == parties[1]:
        raise ReviewError(400, f"dyad: {value!r} is not two different parties such as USA-CHN", "dyad")
    return frozenset(p for p in parties if p is not None)


# SQLite's SQL (the log's connections translate it on PostgreSQL); the index names are those
# sqlite-utils gave the tables first, so an existing database is left as it is.
TABLES = """
    CREATE TABLE IF NOT EXISTS candidates (
        id TEXT PRIMARY KEY, status TEXT NOT NULL, type TEXT NOT NULL, occurred_on TEXT NOT NULL,
        actor TEXT NOT NULL, recipient TEXT NOT NULL, dyad TEXT NOT NULL, dataset TEXT NOT NULL,
        origin_id TEXT NOT NULL, code TEXT NOT NULL, source TEXT, url TEXT, summary TEXT, fields TEXT,
        imported_at TEXT, imported_from TEXT, reviewed_by TEXT, reviewed_at TEXT, reason TEXT,
        event_id TEXT, channel TEXT
    ) STRICT;
    CREATE INDEX IF NOT EXISTS idx_candidates_dyad_type_occurred_on ON candidates (dyad, type, occurred_on);
    CREATE INDEX IF NOT EXISTS idx_candidates_status_occurred_on ON candidates (status, occurred_on);
    CREATE TABLE IF NOT EXISTS candidate_reports (
        dataset TEXT, origin_id TEXT, candidate_id TEXT NOT NULL REFERENCES candidates(id),
        dedup_key TEXT NOT NULL, occurred_on TEXT NOT NULL, code TEXT NOT NULL, source TEXT NOT NULL,
        url TEXT, line INTEGER, imported_at TEXT,
        PRIMARY KEY (dataset, origin_id)
    ) STRICT;
    CREATE UNIQUE INDEX IF NOT EXISTS idx_candidate_reports_dedup_key ON candidate_reports (dedup_key);
    CREATE INDEX IF NOT EXISTS idx_candidate_reports_candidate_id ON candidate_reports (candidate_id)
"""


def create_tables(conn: Any) -> None:
    for statement in TABLES.split(";"):  # one at a time: executescript() would commit the caller's transaction
        conn.execute(statement)


class CandidateStore:
    """The queue in the database of the log (its own tables); a short connection per operation."""

    def __init__(self, path: str | Path):
        self.path = str(path)  # a SQLite file, or a PostgreSQL URL
        with self._connection() as conn:
            create_tables(conn)

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        conn = connect_beside(self.path)
        try:
            yield conn
        finally:
            conn.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    # -- import ----------------------------------------------------------------------------------
    def import_file(
        self, path: Path, dataset: str, dyads: Iterable[frozenset[str]], name: str | None = None
    ) -> ImportResult:
        """Read a dataset file and queue what it reports between these pairs of parties (all or nothing)."""
        wanted = set(dyads)
        result = ImportResult(file=name or path.name, format=dataset)
        reports: list[Report] = []
        skipped: dict[str, int] = {}
        for item in read(path, dataset):  # a malformed file raises before anything is written
            result.rows += 1
            if isinstance(item, Skipped):
                skipped[item.reason] = skipped.get(item.reason, 0) + 1
            elif frozenset((item.actor, item.recipient)) not in wanted:
                result.other_dyad += 1
            else:
                reports.append(item)
        result.skipped = skipped
        now = _now()
        with self._transaction() as conn:
            for report in reports:
                outcome = _place(conn, report, now, result.file)
                if outcome == "candidate":
                    result.candidates += 1
                elif outcome == "merged":
                    result.merged += 1
                elif outcome == "duplicate":
                    result.duplicates += 1
                else:
                    result.already_imported += 1
        return result

    # -- reading ---------------------------------------------------------------------------------
    def get(self, candidate_id: str) -> Candidate | None:
        with self._connection() as conn:
            found = _select(conn, "WHERE id = ?", (candidate_id,))
        return found[0] if found else None

    def listing(
        self,
        status: str | None = "pending",
        dyad: frozenset[str] | None = None,
        limit: int = 100,
        after: str | None = None,
    ) -> list[Candidate]:
        """Candidates by day then id; ``after`` is the id of the last one of the previous page."""
        where, params = ["1 = 1"], []
        if status is not None:
            where.append("status = ?")
            params.append(status)
        if dyad is not None:
            where.append("dyad = ?")
            params.append(dyad_key(*sorted(dyad)))
        with self._connection() as conn:
            if after is not None:
                last = conn.execute("SELECT occurred_on FROM candidates WHERE id = ?", (after,)).fetchone()
                if last is None:
                    raise ReviewError(400, f"after: no candidate {after}; pass the id of a listed candidate", "after")
                where.append("(occurred_on, id) > (?, ?)")
                params += [last[0], after]
            query = f"WHERE {' AND '.join(where)} ORDER BY occurred_on, id LIMIT ?"
            return _select(conn, query, (*params, limit))

    # -- review ----------------------------------------------------------------------------------
    def accept(
        self, log: EventLog, projections: Projections, candidate_id: str, body: dict[str, Any], reviewer: str | None
    ) -> tuple[Accepted, bool]:
        """Append the candidate as an event (the body names its channel and any field it lacks);
        (the answer, whether it was appended now)."""
        candidate = self._reviewable(candidate_id, "accept")
        event = build_event(candidate, body, projections)
        earlier = log.get(str(event.id))
        if earlier is not None and earlier.body != encode(event):
            raise ReviewError(
                409,
                f"candidate {candidate_id} was already accepted as event {earlier.id} on {earlier.channel}, other than"
                " this body describes; to change that event, append an event_corrected",
            )
        key = IdempotencyKey(f"candidate:{candidate_id}", hashlib.sha256(encode(event)).hexdigest())
        try:
            (receipt,) = log.append([event], writer=reviewer, idempotency=key)
        except Conflict as error:  # another accept of it with other content won a race
            raise ReviewError(
                409, f"candidate {candidate_id} was already accepted otherwise: {error.message}"
            ) from None
        with self._transaction() as conn:
            conn.execute(
                "UPDATE candidates SET status = 'accepted', event_id = ?, channel = ?, reviewed_by = ?,"
                " reviewed_at = ?, reason = NULL WHERE id = ? AND status = 'pending'",
                (receipt.id, event.channel, reviewer, _now(), candidate_id),
            )
        accepted = self.get(candidate_id)
        assert accepted is not None
        return Accepted(candidate=accepted, receipt=receipt), receipt.created

    def reject(self, candidate_id: str, reason: str, reviewer: str | None) -> tuple[Candidate, bool]:
        """Mark the candidate rejected with a reason; (the candidate, whether it changed now)."""
        reason = " ".join(reason.split())
        if not reason:
            raise ReviewError(422, "reason: say why the candidate is rejected (e.g. 'wrong actors')", "reason")
        if len(reason) > 2_000:
            raise ReviewError(422, "reason: at most 2000 characters", "reason")
        candidate = self._reviewable(candidate_id, "reject")
        if candidate.status == "rejected":
            if candidate.reason == reason:
                return candidate, False
            raise ReviewError(
                409, f"candidate {candidate_id} was already rejected by {candidate.reviewed_by}: {candidate.reason}"
            )
        with self._transaction() as conn:
            conn.execute(
                "UPDATE candidates SET status = 'rejected', reason = ?, reviewed_by = ?, reviewed_at = ?"
                " WHERE id = ? AND status = 'pending'",
                (reason, reviewer, _now(), candidate_id),
            )
        rejected = self.get(candidate_id)
        assert rejected is not None
        return rejected, True

    def _reviewable(self, candidate_id: str, verb: str) -> Candidate:
        candidate = self.get(candidate_id)
        if candidate is None:
            raise ReviewError(404, f"no candidate {candidate_id}; list them with GET /candidates")
        if candidate.status == "rejected" and verb == "accept":
            raise ReviewError(
                409, f"candidate {candidate_id} was rejected by {candidate.reviewed_by}: {candidate.reason}"
            )
        if candidate.status == "accepted" and verb == "reject":
            raise ReviewError(
                409,
                f"candidate {candidate_id} was accepted as event {candidate.event_id}; retract that event instead",
            )
        return candidate


# -- placing one report ---------------------------------------------------------------------------


def _dedup_key(report: Report) -> str:
    return "|".join((report.dyad, report.occurred_on.isoformat(), report.code, report.source.lower()))


def _place(conn: sqlite3.Connection, report: Report, now: str, imported_from: str) -> str:
    """Store one report: as a new candidate, a report of a near-duplicate's, or not at all."""
    known = conn.execute(
        "SELECT 1 FROM candidate_reports WHERE dataset = ? AND origin_id = ?", (report.dataset, report.origin_id)
    ).fetchone()
    if known:
        return "already"
    key = _dedup_key(report)
    if conn.execute("SELECT 1 FROM candidate_reports WHERE dedup_key = ?", (key,)).fetchone():
        return "duplicate"
    low = (report.occurred_on - dt.timedelta(days=NEAR_DAYS)).isoformat()
    high = (report.occurred_on + dt.timedelta(days=NEAR_DAYS)).isoformat()
    near = conn.execute(
        "SELECT id FROM candidates WHERE dyad = ? AND type = ? AND occurred_on BETWEEN ? AND ?"
        " ORDER BY abs(julianday(occurred_on) - julianday(?)), id LIMIT 1",
        (report.dyad, report.type, low, high, report.occurred_on.isoformat()),
    ).fetchone()
    outcome = "merged"
    if near is None:
        candidate_id = str(uuid.uuid5(CANDIDATE_NAMESPACE, f"{report.dataset}:{report.origin_id}"))
        conn.execute(
            "INSERT INTO candidates (id, status, type, occurred_on, actor, recipient, dyad, dataset, origin_id, code,"
            " source, url, summary, fields, imported_at, imported_from)"
            " VALUES (?, 'pending', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                candidate_id,
                report.type,
                report.occurred_on.isoformat(),
                report.actor,
                report.recipient,
                report.dyad,
                report.dataset,
                report.origin_id,
                report.code,
                report.source,
                report.url,
                summary_of(report),
                json.dumps(prefilled(report), sort_keys=True),
                now,
                imported_from,
            ),
        )
        outcome = "candidate"
    else:
        candidate_id = near[0]
    conn.execute(
        "INSERT INTO candidate_reports (dataset, origin_id, candidate_id, dedup_key, occurred_on, code, source, url,"
        " line, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            report.dataset,
            report.origin_id,
            candidate_id,
            key,
            report.occurred_on.isoformat(),
            report.code,
            report.source,
            report.url,
            report.line,
            now,
        ),
    )
    return outcome


def summary_of(report: Report) -> str:
    told = f": {report.text}" if report.text else ""
    return f"{DATASET_NAMES[report.dataset]} reports {report.code} between {report.actor} and {report.recipient}{told}"


def prefilled(report: Report) -> dict[str, Any]:
    """The fields of the event a dataset row already tells (the reviewer supplies the rest). A field the type
    does not have in the running vocabulary (``by`` of a cancellation before v2) is dropped on acceptance."""
    text = report.text or summary_of(report)
    return {
        "contact_made": {"mode": "call"},
        "talks_cancelled": {"mode": "declined", "reason": text, "by": report.actor},
        "channel_suspended": {"by": report.actor, "reason": text},
        "commitment_made": {"by": report.actor, "text": text},
        "sanction_applied": {"by": report.actor},
        "sanction_lifted": {"by": report.actor},
        "measure_imposed": {"by": report.actor, "against": report.recipient},
    }.get(report.type, {})


_COLUMNS = (
    "id, status, type, occurred_on, actor, recipient, dataset, origin_id, code, source, url, summary, fields,"
    " imported_at, imported_from, reviewed_by, reviewed_at, reason, event_id, channel"
)


def _select(conn: sqlite3.Connection, clause: str, params: Sequence[Any]) -> list[Candidate]:
    rows = conn.execute(f"SELECT {_COLUMNS} FROM candidates {clause}", params).fetchall()
    names = _COLUMNS.split(", ")
    found = []
    for values in rows:
        data = dict(zip(names, values, strict=True))
        data["fields"] = json.loads(data["fields"] or "{}")
        data = {k: v for k, v in data.items() if v is not None}
        found.append(msgspec.convert(data, Candidate))
    if found:
        marks = ",".join("?" * len(found))
        reports: dict[str, list[ReportOut]] = {}
        for values in conn.execute(
            "SELECT candidate_id, dataset, origin_id, occurred_on, code, source, url FROM candidate_reports"
            f" WHERE candidate_id IN ({marks}) ORDER BY occurred_on, dataset, origin_id",
            [c.id for c in found],
        ):
            reports.setdefault(values[0], []).append(
                ReportOut(
                    dataset=values[1],
                    origin_id=values[2],
                    occurred_on=values[3],
                    code=values[4],
                    source=values[5],
                    url=values[6],
                )
            )
        for candidate in found:
            candidate.reports = reports.get(candidate.id, [])
    return found


# -- accepting: the event a candidate becomes ------------------------------------------------------


def origin_sources(candidate: Candidate) -> list[dict[str, Any]]:
    """The candidate's origin as sources of the event: each dataset row that reported it."""
    reports = candidate.reports or [
        ReportOut(
            dataset=candidate.dataset,
            origin_id=candidate.origin_id,
            occurred_on=candidate.occurred_on,
            code=candidate.code,
            source=candidate.source,
            url=candidate.url,
        )
    ]
    return [
        {
            "url": report.url or DATASET_URLS[report.dataset],
            "title": f"{DATASET_NAMES[report.dataset]} event {report.origin_id} ({report.code})"[:200],
            "publisher": report.source[:200],
        }
        for report in reports
    ]


def build_event(candidate: Candidate, body: dict[str, Any], projections: Projections) -> Event:
    """The event: the candidate's day, type and summary, the fields its row told, then the reviewer's body
    (which must name the channel); the candidate's origin is always among its sources."""
    if "id" in body:
        raise ReviewError(422, "id: the event's id is derived from the candidate's; remove it", "id")
    channel = body.get("channel")
    if not isinstance(channel, str) or not channel:
        raise ReviewError(422, "channel: name the channel the event belongs to (e.g. us-cn-mmca)", "channel")
    type_ = body.get("type", candidate.type)
    if type_ not in EVENT_TYPES:
        raise ReviewError(422, f"type: {type_!r} is not an event type", "type")
    state = projections.channel_state(channel)
    if state is None or not was_known(state):
        raise ReviewError(422, f"channel: no channel {channel!r} in the log; name an established channel", "channel")
    outside = {candidate.actor, candidate.recipient} - set(state.parties)
    if outside:
        raise ReviewError(
            422,
            f"channel: {channel} is between {', '.join(state.parties)}; the candidate is between {candidate.actor}"
            f" and {candidate.recipient} ({', '.join(sorted(outside))} not a party); name a channel of theirs",
            "channel",
        )
    own = set(EVENT_TYPES[type_].__struct_fields__)
    data: dict[str, Any] = {
        "type": type_,
        "occurred_on": candidate.occurred_on,
        "summary": candidate.summary,
        "confidence": "reported",
        **{k: v for k, v in candidate.fields.items() if k in own},
        **body,
    }
    sources = body.get("sources", [])
    if not isinstance(sources, list):
        raise ReviewError(422, "sources: a list of {url, title?, publisher?, published_on?}", "sources")
    data["sources"] = [*sources, *origin_sources(candidate)][:MAX_SOURCES]
    data["id"] = str(accepted_id(candidate.id))
    try:
        return decode_event(msgspec.json.encode(data))
    except InvalidEvent as error:
        raise ReviewError(422, error.message, error.field) from None


def channel_dyads(projections: Projections) -> list[frozenset[str]]:
    """Every pair of parties that share a channel."""
    pairs = set()
    for state in projections.all_channels():
        parties = sorted(set(state.parties))
        pairs |= {frozenset((a, b)) for i, a in enumerate(parties) for b in parties[i + 1 :]}
    return sorted(pairs, key=sorted)
