"""Event data: the code map, the exports analysts load, and the review queue of candidate events."""

from __future__ import annotations

import calendar
import csv
import datetime as dt
import io
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
import structlog
from click.testing import CliRunner
from factory import event_dict
from inprocess import InProcess

from diplo.events import SQLiteLog, decode_event
from diplo.events.catalog import EVENT_TYPES
from diplo.events.sqlite import connect
from diplo.service.cli import cli
from diplo.service.interop import codes
from diplo.service.interop.candidates import CandidateStore, accepted_id
from diplo.service.loading import load_files, seed_files

ROOT = Path(__file__).parent.parent
SEEDS = ROOT / "seeds"
FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = FIXTURES / "interop"
POLECAT, ICEWS, GDELT = (
    SAMPLES / "polecat-sample.tsv",
    SAMPLES / "icews-sample.tab",
    SAMPLES / "gdelt-sample.export.tsv",
)
PLOVER_SCHEMA = json.loads((FIXTURES / "plover" / "plover-record.schema.json").read_text())


@pytest.fixture(autouse=True)
def _keep_log_config() -> Iterator[None]:
    saved = structlog.get_config()  # the CLI configures logging for itself; leave other tests theirs
    yield
    structlog.configure(**saved)


def seed_lines() -> list[dict]:
    return [json.loads(line) for path in seed_files(SEEDS) for line in path.open() if line.strip()]


def append(db: Path, *events: dict) -> None:
    log = SQLiteLog(db)
    try:
        log.append([decode_event(json.dumps(e)) for e in events], writer="test")
    finally:
        log.close()


@pytest.fixture
def seeded(tmp_path: Path) -> Path:
    db = tmp_path / "diplo.db"
    log = SQLiteLog(db)
    load_files(log, seed_files(SEEDS), writer="seeds")
    log.close()
    return db


@pytest.fixture
def app(seeded: Path) -> Iterator[InProcess]:
    server = InProcess(seeded).start()
    yield server
    server.stop()


def diplo(*args: str | Path) -> object:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def head(db: Path) -> int:
    conn = connect(db)
    try:
        return conn.execute("SELECT coalesce(max(seq), 0) FROM events").fetchone()[0]
    finally:
        conn.close()


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


# -- codes ---------------------------------------------------------------------------------------


def test_every_event_type_has_a_code_and_the_map_names_no_unknown_type() -> None:
    assert set(EVENT_TYPES) - set(codes.CODES) == set()
    # Beyond the running catalog, only vocabulary v2's names (the map serves before and after it lands).
    assert set(codes.CODES) - set(EVENT_TYPES) <= codes.V2_TYPES


def test_codes_agree_with_plover_categories_modes_and_cameo_roots() -> None:
    # CAMEO root -> PLOVER category, from PLOVER's README table (08 splits into CONCEDE and RETREAT).
    roots = {"03": "AGREE", "04": "CONSULT", "05": "SUPPORT", "08": "RETREAT", "12": "REJECT", "16": "SANCTION"}
    allowed_modes = {
        rule["if"]["properties"]["event"]["const"][0]: rule["then"]["properties"]["mode"]
        .get("items", {})
        .get("enum", [])
        for rule in PLOVER_SCHEMA["allOf"]
    }
    for name, code in codes.CODES.items():
        if code.plover is None:
            assert code.note, f"{name}: say why it is not an act between parties"
            continue
        assert roots[code.cameo_root] == code.plover, name
        assert code.mode is None or code.mode in allowed_modes[code.plover], name
        assert -10 <= code.intensity <= 10 and code.quad in (1, 2, 3, 4), name


def test_the_readme_shows_the_code_map_as_the_code_has_it() -> None:
    assert codes.markdown_table() in (ROOT / "README.md").read_text()


def test_dataset_codes_map_to_diplo_types_the_catalog_has() -> None:
    assert codes.cameo_type("42") == "meeting_held"  # a lost leading zero
    assert codes.cameo_type("0421") is None or codes.cameo_type("0421") == "meeting_held"
    assert codes.cameo_type("125") == "talks_cancelled"
    assert codes.cameo_type("190") is None
    assert codes.plover_type("REJECT", "meet") == "talks_cancelled"
    assert codes.plover_type("REJECT", "assist") is None
    assert codes.plover_type("consult", "phone") in ("contact_made", "meeting_held")
    assert codes.cameo_type("163") in ("measure_imposed", "sanction_applied")
    for preferences in (*codes.PLOVER_IMPORT.values(), *codes.CAMEO_IMPORT.values()):
        assert set(preferences) <= set(codes.CODES)


# -- exports -------------------------------------------------------------------------------------


def as_list(value: str | list[str] | None) -> list[str]:
    return [] if value is None else [value] if isinstance(value, str) else list(value)


def seed_parties() -> dict[str, list[str]]:
    return {e["channel"]: e["parties"] for e in seed_lines() if e["type"] == "channel_established"}


def expected_sides(seed: dict, parties: list[str]) -> tuple[list[str], list[str]]:
    """Who acts on whom, read straight from a seed line: ``by`` on ``against`` or the other parties."""
    by = as_list(seed.get("by"))
    if not by:
        return parties, []
    return by, as_list(seed.get("against")) or [p for p in parties if p not in by]


def test_plover_export_has_one_valid_record_per_seeded_act(app: InProcess) -> None:
    response = app.client().get("/exports/plover")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    records = [json.loads(line) for line in response.text.splitlines()]
    validator = jsonschema.Draft202012Validator(PLOVER_SCHEMA, format_checker=jsonschema.FormatChecker())
    for record in records:
        validator.validate(record)
    seeds, parties = seed_lines(), seed_parties()
    expected = {e["id"] for e in seeds if codes.CODES[e["type"]].plover is not None}
    assert {r["id"] for r in records} == expected
    by_id = {r["id"]: r for r in records}
    for seed in seeds:
        if seed["id"] not in by_id:
            continue
        record = by_id[seed["id"]]
        assert record["date"] == seed["occurred_on"]
        assert record["diplo"]["type"] == seed["type"] and record["diplo"]["channel"] == seed["channel"]
        code = codes.code_for(decode_event(json.dumps(seed)))  # the type's code, refined by the event's fields
        assert (record["event"], record.get("mode")) == ([code.plover], [code.mode] if code.mode else None)
        assert [s["url"] for s in record["sources"]] == [s["url"] for s in seed["sources"]]
        actor, recipient = expected_sides(seed, parties[seed["channel"]])
        assert [a["entity_text"] for a in record["actor"]] == actor
        assert [r["entity_text"] for r in record.get("recipient", [])] == recipient
        assert all(a["code"] == p for a, p in zip(record["actor"], actor, strict=True) if len(p) == 3)


def test_a_plover_record_that_breaks_the_codebook_fails_the_schema() -> None:
    validator = jsonschema.Draft202012Validator(PLOVER_SCHEMA, format_checker=jsonschema.FormatChecker())
    good = {"id": "x", "date": "2024-04-03", "actor": [{"code": "USA"}], "event": ["CONSULT"], "mode": ["phone"]}
    validator.validate(good)
    for bad in (
        {**good, "mode": ["withdraw"]},  # not a CONSULT mode
        {**good, "event": ["MEET"]},
        {**good, "actor": [{"code": "United States"}]},
        {k: v for k, v in good.items() if k != "date"},
    ):
        assert not validator.is_valid(bad)


def test_exports_read_events_as_amended_as_known_at(app: InProcess) -> None:
    writer = app.client(app.token("writer", "desk"))
    talks = event_dict("channel_established", "us-cn-test-talks", "2024-01-01", name="Test talks")
    meeting = event_dict("meeting_held", "us-cn-test-talks", "2024-04-03", summary="working group, Qingdao")
    other = event_dict("meeting_held", "us-cn-test-talks", "2024-05-20", summary="recorded in error")
    assert writer.post("/events", json=[talks, meeting, other]).status_code == 201
    before = app.client().get("/events", params={"limit": 1000}).json()["events"][-1]["recorded_at"]
    fix = event_dict(
        "event_corrected",
        "us-cn-test-talks",
        "2024-04-04",
        target_id=meeting["id"],
        changes={"occurred_on": "2024-04-02"},
    )
    retract = event_dict("event_retracted", "us-cn-test-talks", "2024-05-21", target_id=other["id"])
    assert writer.post("/events", json=[fix, retract]).status_code == 201

    def dates(**params: str) -> dict[str, str]:
        lines = app.client().get("/exports/plover", params=params).text.splitlines()
        return {r["id"]: r["date"] for r in map(json.loads, lines)}

    now, then = dates(), dates(known_at=before)
    assert now[meeting["id"]] == "2024-04-02" and other["id"] not in now
    assert then[meeting["id"]] == "2024-04-03" and then[other["id"]] == "2024-05-20"
    assert meeting["id"] not in dates(as_of="2024-04-01")
    icews = csv_rows(app.client().get("/exports/icews", params={"known_at": before}).text)
    assert {r["Event Date"] for r in icews if r["Event ID"] == meeting["id"]} == {"2024-04-03"}


def test_icews_export_has_a_row_per_directed_pair(app: InProcess) -> None:
    response = app.client().get("/exports/icews")
    assert response.headers["content-type"].startswith("text/csv")
    rows = csv_rows(response.text)
    parties = seed_parties()
    for seed in seed_lines():
        code = codes.CODES[seed["type"]]
        mine = [r for r in rows if r["Event ID"] == seed["id"]]
        if code.plover is None:
            assert mine == []
            continue
        actor, recipient = expected_sides(seed, parties[seed["channel"]])
        pairs = [(a, b) for a in actor for b in (recipient or actor) if a != b]  # among equals: both ways
        assert sorted((r["Source Name"], r["Target Name"]) for r in mine) == sorted(pairs), seed["id"]
        refined = codes.code_for(decode_event(json.dumps(seed)))
        assert {(r["CAMEO Code"], r["Quad Class"], r["PLOVER Mode"]) for r in mine} <= {
            (refined.cameo, str(refined.quad), refined.mode or "")
        }
    names = {(r["Source ISO"], r["Source Country"]) for r in rows if r["Source ISO"] in ("USA", "CHN")}
    assert names == {("USA", "United States"), ("CHN", "China")}


def _month_end(month: str) -> dt.date:
    year, number = map(int, month.split("-"))
    return dt.date(year, number, calendar.monthrange(year, number)[1])


PANEL_COUNTS = {
    "meeting_held": "meetings",
    "contact_made": "contacts",
    "talks_cancelled": "cancellations",
    "channel_suspended": "suspensions",
    "channel_restricted": "restrictions",
}


def measures_on(seeds: list[dict], parties: dict[str, list[str]], day: str) -> Counter[tuple[str, str]]:
    """Measures in force on ``day`` by one party against another, read straight from seed lines: imposed until
    lifted, not while suspended (until ``until``), not from ``expires_on`` on; old sanctions against the
    channel's other parties."""
    open_: dict[str, dict] = {}
    for event in sorted((e for e in seeds if e["occurred_on"] <= day), key=lambda e: e["occurred_on"]):
        kind = event["type"]
        if kind in ("sanction_applied", "sanction_lifted"):
            key = f"sanction {event['by']} {event['target']}"
            if kind == "sanction_lifted":
                open_.pop(key, None)
            elif key not in open_:
                against = [p for p in parties[event["channel"]] if p != event["by"]]
                open_[key] = {"by": [event["by"]], "against": against, "expires": None, "suspended": None}
        elif kind == "measure_imposed":
            by, against = as_list(event["by"]), as_list(event["against"])
            open_[event["measure"]] = {
                "by": by,
                "against": against,
                "expires": event.get("expires_on"),
                "suspended": None,
            }
        elif kind in ("measure_modified", "measure_suspended", "measure_lifted") and event["measure"] in open_:
            measure = open_[event["measure"]]
            if kind == "measure_lifted":
                del open_[event["measure"]]
            elif kind == "measure_suspended":
                measure["suspended"] = event.get("until") or "9999-12-31"
            elif event.get("expires_on"):
                measure["expires"] = event["expires_on"]
    found: Counter[tuple[str, str]] = Counter()
    for m in open_.values():
        if (m["expires"] and day >= m["expires"]) or (m["suspended"] and day < m["suspended"]):
            continue
        found.update((a, b) for a in m["by"] for b in m["against"] if a != b)
    return found


def test_panel_counts_equal_counts_computed_from_the_seed_files(app: InProcess) -> None:
    as_of = "2025-12-31"
    rows = csv_rows(app.client().get("/exports/panel", params={"as_of": as_of}).text)
    seeds, parties = seed_lines(), seed_parties()
    assert not [e for e in seeds if e["type"] in ("event_corrected", "event_retracted")]
    established = {e["channel"]: e["occurred_on"] for e in seeds if e["type"] == "channel_established"}
    expected: dict[tuple[str, str, str], Counter[str]] = {}
    for event in seeds:
        if event["type"] in PANEL_COUNTS and event["occurred_on"] <= as_of:
            members = parties[event["channel"]]
            for a in members:
                for b in (p for p in members if p != a):
                    key = (a, b, event["occurred_on"][:7])
                    expected.setdefault(key, Counter())[PANEL_COUNTS[event["type"]]] += 1
    pairs = {(a, b) for members in parties.values() for a in members for b in members if a != b}
    assert {(r["party_a"], r["party_b"]) for r in rows} == pairs
    assert max(r["month"] for r in rows) == as_of[:7]
    for row in rows:
        pair, month = (row["party_a"], row["party_b"]), row["month"]
        want = expected.get((*pair, month), Counter())
        for column in PANEL_COUNTS.values():
            assert int(row[column]) == want[column], (pair, month, column)
        last = _month_end(month)
        theirs = [day for channel, day in established.items() if set(pair) <= set(parties[channel])]
        assert int(row["channels"]) == sum(1 for day in theirs if dt.date.fromisoformat(day) <= last)
        assert int(row["measures_in_force"]) == measures_on(seeds, parties, str(last))[pair], (pair, month)
        # every day of each of the pair's channels that existed is in exactly one status
        first_day = dt.date.fromisoformat(month + "-01")
        channel_days = sum(
            (last - max(first_day, dt.date.fromisoformat(day))).days + 1
            for day in theirs
            if dt.date.fromisoformat(day) <= last
        )
        assert (
            sum(int(row[f"days_{s}"]) for s in ("active", "agreed", "restricted", "suspended", "closed"))
            == channel_days
        )
    for column in PANEL_COUNTS.values():  # nothing counted outside the rows
        assert sum(int(r[column]) for r in rows) == sum(c[column] for c in expected.values())
    assert sum(int(r["meetings"]) for r in rows) > 0


def test_panel_counts_days_in_each_status_and_measures_as_known_at(tmp_path: Path) -> None:
    db = tmp_path / "d.db"
    append(
        db,
        event_dict("channel_established", "us-cn-x", "2023-01-10"),
        event_dict("sanction_applied", "us-cn-x", "2023-02-01", by="USA", target="Li Shangfu"),
    )
    conn = connect(db)
    known = conn.execute("SELECT max(recorded_at) FROM events").fetchone()[0]
    conn.close()
    append(
        db,
        event_dict("channel_suspended", "us-cn-x", "2023-02-15", by="CHN", reason="countermeasure"),
        event_dict("channel_resumed", "us-cn-x", "2023-03-01"),
        event_dict("sanction_lifted", "us-cn-x", "2023-03-05", by="USA", target="Li Shangfu"),
    )
    out = tmp_path / "panel.csv"
    result = diplo("export", "--db", db, "--format", "panel", "--as-of", "2023-03-10", "-o", out)
    assert result.exit_code == 0, result.output
    rows = {(r["party_a"], r["month"]): r for r in csv_rows(out.read_text())}
    days = {k: (int(r["days_active"]), int(r["days_suspended"])) for k, r in rows.items() if k[0] == "USA"}
    assert days == {("USA", "2023-01"): (22, 0), ("USA", "2023-02"): (14, 14), ("USA", "2023-03"): (10, 0)}
    measures = {k: int(r["measures_in_force"]) for k, r in rows.items()}
    assert measures[("USA", "2023-02")] == 1 and measures[("CHN", "2023-02")] == 0
    assert measures[("USA", "2023-03")] == 0  # lifted on 03-05
    assert rows[("CHN", "2023-02")]["suspensions"] == "1"
    earlier = tmp_path / "earlier.csv"
    args = ("export", "--db", db, "--format", "panel", "--as-of", "2023-03-10", "--known-at", known, "-o", earlier)
    assert diplo(*args).exit_code == 0
    then = {(r["party_a"], r["month"]): r for r in csv_rows(earlier.read_text())}
    assert (then[("USA", "2023-02")]["days_active"], then[("USA", "2023-02")]["days_suspended"]) == ("28", "0")
    assert then[("USA", "2023-03")]["measures_in_force"] == "1"  # the lift was not known yet


def test_cli_export_writes_what_http_serves(app: InProcess, seeded: Path, tmp_path: Path) -> None:
    for fmt in ("plover", "icews", "panel"):
        out = tmp_path / f"x.{fmt}"
        result = diplo("export", "--db", seeded, "--format", fmt, "--as-of", "2025-06-30", "-o", out)
        assert result.exit_code == 0
        served = app.client().get(f"/exports/{fmt}", params={"as_of": "2025-06-30"}).text
        assert out.read_text() == served
    refused = CliRunner().invoke(cli, ["export", "--db", str(seeded), "--as-of", "2025-06-30"])
    assert refused.exit_code == 2 and "--format plover, icews and panel" in refused.output


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/exports/xml", "format"),
        ("/exports/panel?as_of=2023-13-01", "as_of"),
        ("/exports/plover?known_at=yesterday", "known_at"),
        ("/exports/panel?as_of=2999-01-01", "as_of"),
    ],
)
def test_bad_export_requests_get_a_problem_naming_the_field(app: InProcess, url: str, field: str) -> None:
    response = app.client().get(url)
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["field"] == field or field in response.json()["detail"]


# -- the review queue ------------------------------------------------------------------------------
# These tests make their own channels, so they hold whatever the seeds become.

CHANNELS = {
    "us-cn-mmca": "2020-12-14",
    "us-cn-defense-ministers": "2019-11-06",
    "us-cn-dpct": "2021-09-28",
    "us-cn-sanctions": "2018-09-20",
    "us-cn-treasury": "2023-07-08",
}


@pytest.fixture
def channels(tmp_path: Path) -> Path:
    db = tmp_path / "queue.db"
    append(
        db, *(event_dict("channel_established", c, day, name=c, parties=["USA", "CHN"]) for c, day in CHANNELS.items())
    )
    return db


@pytest.fixture
def queue_app(channels: Path) -> Iterator[InProcess]:
    server = InProcess(channels).start()
    yield server
    server.stop()


def import_(db: Path, path: Path, fmt: str, *extra: str) -> dict:
    result = CliRunner().invoke(
        cli, ["candidates", "import", "--db", str(db), str(path), "--format", fmt, "--json", *extra]
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def candidates(queue_app: InProcess, **params: str) -> list[dict]:
    response = queue_app.client().get("/candidates", params={"status": "all", **params})
    assert response.status_code == 200
    return response.json()["candidates"]


def by_origin(found: list[dict], origin: str) -> dict:
    return next(c for c in found if any(r["origin_id"] == origin for r in c["reports"]))


def test_polecat_import_review_accept_makes_the_right_event(queue_app: InProcess, channels: Path) -> None:
    result = import_(channels, POLECAT, "polecat")
    assert (result["rows"], result["candidates"], result["merged"], result["duplicates"]) == (10, 5, 1, 1)
    assert (result["other_dyad"], result["skipped"]) == (1, {"code": 1, "date": 1})
    found = candidates(queue_app)
    assert len(found) == 5 and {c["status"] for c in found} == {"pending"}
    meeting = by_origin(found, "20240403-0712-2f9c1a7e5b31")
    assert {r["source"] for r in meeting["reports"]} == {"Xinhua", "Reuters"}  # the near-duplicate, a day later
    assert by_origin(found, "20240130-1140-0d6e93c2b7f4")["type"] == codes.plover_type("CONSULT", "phone")
    before = head(channels)

    reviewer = queue_app.client(queue_app.token("writer", "reviewer-ana"))
    url = f"/candidates/{meeting['id']}/accept"
    body = {"channel": "us-cn-mmca", "level": "working", "location": "Qingdao"}
    first = reviewer.post(url, json=body)
    assert first.status_code == 201, first.text
    event_id = first.json()["receipt"]["id"]
    assert event_id == str(accepted_id(meeting["id"]))
    event = queue_app.client().get(f"/events/{event_id}").json()
    assert (event["type"], event["channel"], event["occurred_on"]) == ("meeting_held", "us-cn-mmca", "2024-04-03")
    assert event["event"]["location"] == "Qingdao" and event["event"]["confidence"] == "reported"
    titles = [s["title"] for s in event["event"]["sources"]]
    assert titles == [
        "POLECAT event 20240403-0712-2f9c1a7e5b31 (CONSULT)",
        "POLECAT event 20240404-0033-51be7d02c6aa (CONSULT)",
    ]
    conn = connect(channels)
    assert conn.execute("SELECT writer FROM events WHERE id = ?", (event_id,)).fetchone()[0] == "reviewer-ana"
    conn.close()
    accepted = first.json()["candidate"]
    assert (accepted["status"], accepted["reviewed_by"], accepted["event_id"]) == ("accepted", "reviewer-ana", event_id)
    # accepting twice appends once; accepting otherwise is a conflict
    again = reviewer.post(url, json=body)
    assert again.status_code == 200 and again.json()["receipt"]["id"] == event_id
    assert queue_app.client(queue_app.token("writer", "reviewer-bo")).post(url, json=body).status_code == 200
    other = reviewer.post(url, json={"channel": "us-cn-dpct"})
    assert other.status_code == 409 and "already accepted" in other.json()["detail"]
    assert head(channels) == before + 1

    refused = by_origin(found, "20241120-0925-7a41c9e0d3b8")
    assert refused["type"] == "talks_cancelled" and refused["fields"]["by"] == "CHN"  # who refused, as coded
    rejected = reviewer.post(f"/candidates/{refused['id']}/reject", json={"reason": "recorded by hand already"})
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    assert rejected.json()["reason"] == "recorded by hand already"
    assert (
        reviewer.post(f"/candidates/{refused['id']}/reject", json={"reason": "recorded by hand already"}).status_code
        == 200
    )
    late = reviewer.post(f"/candidates/{refused['id']}/accept", json={"channel": "us-cn-defense-ministers"})
    assert late.status_code == 409 and "rejected" in late.json()["detail"]
    assert head(channels) == before + 1
    assert [c["id"] for c in candidates(queue_app, status="rejected")] == [refused["id"]]


def test_icews_import_review_accept_asks_for_what_the_row_does_not_tell(queue_app: InProcess, channels: Path) -> None:
    result = import_(channels, ICEWS, "icews")
    assert (result["candidates"], result["merged"], result["other_dyad"]) == (4, 1, 1)
    assert result["skipped"] == {"code": 1, "party": 1}
    found = candidates(queue_app)
    visit = by_origin(found, "36912001")
    assert [r["code"] for r in visit["reports"]] == ["042", "043"]  # visit and host: one development
    assert by_origin(found, "35800417")["code"] == "046"  # '46' as written, read as 046
    sanction = by_origin(found, "36988140")
    reviewer = queue_app.client(queue_app.token("writer", "reviewer-cy"))
    url = f"/candidates/{sanction['id']}/accept"
    before = head(channels)
    missing = reviewer.post(url, json={"channel": "us-cn-sanctions"})
    assert missing.status_code == 422 and missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["field"] in ("target", "measure", "kind")
    fields = {"target": "Lockheed Martin Missiles and Fire Control"}
    if sanction["type"] == "measure_imposed":
        fields |= {"measure": "cn-countermeasure-us-defense-firms-2024", "kind": "countermeasure"}
    accepted = reviewer.post(url, json={"channel": "us-cn-sanctions", **fields})
    assert accepted.status_code == 201, accepted.text
    event = queue_app.client().get(f"/events/{accepted.json()['receipt']['id']}").json()
    assert (event["type"], event["occurred_on"]) == (sanction["type"], "2024-07-12")
    assert event["event"]["by"] in ("CHN", ["CHN"]) and event["event"]["target"] == fields["target"]
    assert event["event"]["sources"][0]["publisher"] == "Xinhua General News Service"
    refusal = by_origin(found, "37100923")
    declined = reviewer.post(f"/candidates/{refusal['id']}/accept", json={"channel": "us-cn-defense-ministers"})
    assert declined.status_code == 201, declined.text
    event = queue_app.client().get(f"/events/{declined.json()['receipt']['id']}").json()["event"]
    assert (event["type"], event["mode"], event["by"]) == ("talks_cancelled", "declined", "CHN")
    assert head(channels) == before + 2


def test_gdelt_import_review_accept_onto_a_new_channel(queue_app: InProcess, channels: Path) -> None:
    result = import_(channels, GDELT, "gdelt")
    assert (result["candidates"], result["merged"], result["duplicates"]) == (1, 1, 1)
    assert result["skipped"] == {"code": 1, "party": 1}
    (dialogue,) = candidates(queue_app)
    assert {r["source"] for r in dialogue["reports"]} == {"reuters.com", "apnews.com"}
    writer = queue_app.client(queue_app.token("writer", "desk"))
    channel = event_dict("channel_established", "us-cn-ai-dialogue", "2023-11-15", name="AI dialogue")
    assert writer.post("/events", json=channel).status_code == 201
    accepted = writer.post(
        f"/candidates/{dialogue['id']}/accept", json={"channel": "us-cn-ai-dialogue", "location": "Geneva"}
    )
    assert accepted.status_code == 201, accepted.text
    event = queue_app.client().get(f"/events/{accepted.json()['receipt']['id']}").json()
    assert (event["type"], event["occurred_on"]) == ("meeting_held", "2024-05-14")
    assert {s["url"] for s in event["event"]["sources"]} == {r["url"] for r in dialogue["reports"]}
    state = queue_app.client().get("/channels/us-cn-ai-dialogue").json()
    assert state["last_meeting"] == "2024-05-14"


def test_reimport_adds_no_candidate_and_near_duplicates_cross_datasets(channels: Path) -> None:
    for path, fmt in ((POLECAT, "polecat"), (ICEWS, "icews"), (GDELT, "gdelt")):
        import_(channels, path, fmt)
    store = CandidateStore(channels)
    first = store.listing(None, limit=1_000)
    refused_meeting = next(c for c in first if c.type == "talks_cancelled")
    assert {r.dataset for r in refused_meeting.reports} == {"polecat", "icews"}  # one development, two datasets
    for path, fmt in ((POLECAT, "polecat"), (ICEWS, "icews"), (GDELT, "gdelt")):
        again = import_(channels, path, fmt)
        assert again["candidates"] == again["merged"] == 0
    assert [(c.id, len(c.reports)) for c in store.listing(None, limit=1_000)] == [(c.id, len(c.reports)) for c in first]


def test_import_keeps_only_the_dyad_asked_for_or_parties_with_channels(channels: Path, tmp_path: Path) -> None:
    only_japan = import_(channels, POLECAT, "polecat", "--dyad", "JPN-USA")
    assert (only_japan["candidates"], only_japan["other_dyad"]) == (1, 7)
    empty = tmp_path / "empty.db"
    SQLiteLog(empty).close()
    nothing = import_(empty, POLECAT, "polecat")
    assert nothing["candidates"] == 0 and nothing["other_dyad"] == 8
    bad = CliRunner().invoke(
        cli, ["candidates", "import", "--db", str(channels), str(POLECAT), "--format", "polecat", "--dyad", "USA"]
    )
    assert bad.exit_code == 2 and "USA-CHN" in bad.output


@pytest.mark.parametrize(
    ("path", "fmt", "message"),
    [(ICEWS, "polecat", "lacks 'Event Type'"), (POLECAT, "gdelt", "58"), (GDELT, "icews", "header lacks")],
)
def test_a_file_in_another_format_is_refused_and_imports_nothing(
    channels: Path, path: Path, fmt: str, message: str
) -> None:
    result = CliRunner().invoke(cli, ["candidates", "import", "--db", str(channels), str(path), "--format", fmt])
    assert result.exit_code == 1 and message in result.output and "nothing was imported" in result.output
    assert CandidateStore(channels).listing(None) == []


def test_bad_reviews_get_a_problem_naming_the_field_and_change_nothing(queue_app: InProcess, channels: Path) -> None:
    import_(channels, POLECAT, "polecat")
    meeting = by_origin(candidates(queue_app), "20240403-0712-2f9c1a7e5b31")
    url = f"/candidates/{meeting['id']}/accept"
    writer = queue_app.client(queue_app.token("writer", "desk"))
    before = head(channels)
    cases = [
        (queue_app.client(), {"channel": "us-cn-mmca"}, 401, None),
        (queue_app.client(queue_app.token("reader", "r")), {"channel": "us-cn-mmca"}, 403, None),
        (writer, {}, 422, "channel"),
        (writer, {"channel": "us-cn-nowhere"}, 422, "channel"),
        (writer, {"channel": "us-cn-mmca", "id": "x"}, 422, "id"),
        (writer, {"channel": "us-cn-mmca", "level": 7}, 422, "level"),
        (writer, {"channel": "us-cn-mmca", "type": "meeting_adjourned"}, 422, "type"),
        (writer, {"channel": "us-cn-mmca", "occurred_on": "2024-02-30"}, 422, "occurred_on"),
        (writer, {"channel": "us-cn-mmca", "sources": "https://example.org"}, 422, "sources"),
    ]
    for client, body, status, field in cases:
        response = client.post(url, json=body)
        assert response.status_code == status, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        if field:
            assert response.json()["field"] == field, response.json()
    not_json = writer.post(url, content=b"[1, 2]", headers={"content-type": "application/json"})
    assert not_json.status_code == 400
    unknown = writer.post("/candidates/00000000-0000-4000-8000-000000000000/accept", json={"channel": "us-cn-mmca"})
    assert unknown.status_code == 404
    blank = writer.post(f"/candidates/{meeting['id']}/reject", json={"reason": "  "})
    assert blank.status_code == 422 and blank.json()["field"] == "reason"
    assert queue_app.client().get("/candidates", params={"dyad": "USA"}).json()["field"] == "dyad"
    assert head(channels) == before
    assert {c["status"] for c in candidates(queue_app)} == {"pending"}


def test_a_candidate_id_that_is_no_uuid_is_a_400_that_says_so(queue_app: InProcess, channels: Path) -> None:
    writer = queue_app.client(queue_app.token("writer", "desk"))
    before = head(channels)
    for response in (
        queue_app.client().get("/candidates/not-a-uuid"),
        writer.post("/candidates/not-a-uuid/accept", json={"channel": "us-cn-mmca"}),
        writer.post("/candidates/not-a-uuid/reject", json={"reason": "a duplicate"}),
    ):
        assert response.status_code == 400, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert "candidate_id: 'not-a-uuid' is not a UUID" in response.json()["detail"]
    assert head(channels) == before


def test_a_channel_of_other_parties_is_refused(queue_app: InProcess, channels: Path) -> None:
    writer = queue_app.client(queue_app.token("writer", "desk"))
    channel = event_dict("channel_established", "us-jp-2plus2", "2010-01-01", name="2+2", parties=["USA", "JPN"])
    assert writer.post("/events", json=channel).status_code == 201
    import_(channels, POLECAT, "polecat")
    meeting = by_origin(candidates(queue_app), "20240403-0712-2f9c1a7e5b31")
    response = writer.post(f"/candidates/{meeting['id']}/accept", json={"channel": "us-jp-2plus2"})
    assert response.status_code == 422 and "CHN not a party" in response.json()["detail"]


def test_cli_review_accepts_once_and_rejects_with_a_reason(channels: Path) -> None:
    import_(channels, ICEWS, "icews")
    listed = CliRunner().invoke(cli, ["candidates", "list", "--db", str(channels), "--json"])
    found = [json.loads(line) for line in listed.stdout.splitlines()]
    visit = by_origin(found, "36912001")
    args = [
        "candidates",
        "accept",
        "--db",
        str(channels),
        visit["id"],
        "--channel",
        "us-cn-treasury",
        "--field",
        'participants=["Janet Yellen", "He Lifeng"]',
    ]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0 and first.stdout.startswith("appended event")
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 0 and again.stdout.startswith("already in the log"), again.output
    log = SQLiteLog(channels)
    row = log.get(str(accepted_id(visit["id"])))
    log.close()
    assert row is not None and row.writer == "cli" and row.event().participants == ["Janet Yellen", "He Lifeng"]
    other = by_origin(found, "35800417")
    rejected = CliRunner().invoke(
        cli, ["candidates", "reject", "--db", str(channels), other["id"], "--reason", "not a channel"]
    )
    assert rejected.exit_code == 0
    left = CliRunner().invoke(cli, ["candidates", "list", "--db", str(channels), "--status", "rejected", "--json"])
    assert [json.loads(line)["id"] for line in left.stdout.splitlines()] == [other["id"]]


def test_the_review_page_lists_candidates_with_their_reports(queue_app: InProcess, channels: Path) -> None:
    import_(channels, GDELT, "gdelt")
    page = queue_app.client().get("/review")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    (dialogue,) = candidates(queue_app)
    assert dialogue["id"] in page.text and "apnews.com" in page.text
    assert queue_app.client().get("/review", params={"status": "nonsense"}).status_code == 400
