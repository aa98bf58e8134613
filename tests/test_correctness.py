"""Defects of the first rank (answers that were wrong or failed), each held by a test.

Issue 10: corrections validated like the event's own fields, one bad request never failing
another, rollbacks forgetting caches, listeners isolated, one version, nothing dated before
its channel, control characters refused, idempotent retries, one instant per event.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from contract import hold_writer  # one way to make a commit group, shared with the contract suite
from factory import established, event_dict, make
from litestar.testing import TestClient

from diplo.events import InvalidEvent, SQLiteLog
from diplo.events.log import StoredEvent
from diplo.projections import Projections
from diplo.service.app import create_app
from diplo.service.loading import load_file
from diplo.service.settings import Settings

ADMIN = "test-admin-token-0123456789"
AUTH = {"Authorization": f"Bearer {ADMIN}"}
PROBLEM = "application/problem+json"


def app_settings(tmp_path: Path) -> Settings:
    return Settings(db=tmp_path / "diplo.db", seed=False, admin_token=ADMIN, log_format="json")


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(app_settings(tmp_path))) as test_client:
        yield test_client


def post(client: TestClient, body: object, **kwargs: object):  # type: ignore[no-untyped-def]
    headers = {**AUTH, **kwargs.pop("headers", {})}  # type: ignore[dict-item]
    return client.post("/events", json=body, headers=headers, **kwargs)  # type: ignore[arg-type]


# -- 1. corrections are validated and normalised like the event's own fields -----------------


def test_a_corrected_timestamp_is_stored_as_its_date(log: SQLiteLog, projections: Projections) -> None:
    log.append([established()])
    meeting = make("meeting_held", occurred_on="2024-01-05")
    log.append([meeting])
    correction = make(
        "event_corrected", occurred_on="2024-02-03", target_id=str(meeting.id),
        changes={"occurred_on": "2024-02-02T10:00:00Z"},
    )  # fmt: skip
    log.append([correction])
    stored = json.loads(log.get(str(correction.id)).body)  # type: ignore[union-attr]
    assert stored["changes"] == {"occurred_on": "2024-02-02"}
    assert projections.channel_state("us-cn-mmca").last_meeting.isoformat() == "2024-02-02"  # type: ignore[union-attr]
    assert all(d.only_live == d.only_rebuilt == 0 for d in projections.check()[1])


@pytest.mark.parametrize("bad", ["2024-W05-5", "20240202", "2024-02-30", "2024-02-02 10:00"])
def test_an_invalid_corrected_date_is_refused_and_changes_nothing(
    log: SQLiteLog, projections: Projections, bad: str
) -> None:
    log.append([established()])
    meeting = make("meeting_held", occurred_on="2024-01-05")
    log.append([meeting])
    head = log.head()
    correction = make("event_corrected", target_id=str(meeting.id), changes={"occurred_on": bad})
    with pytest.raises(InvalidEvent, match="changes: the corrected event would be invalid: occurred_on"):
        log.append([correction])
    assert log.head() == head
    assert projections.channel_state("us-cn-mmca").last_meeting.isoformat() == "2024-01-05"  # type: ignore[union-attr]


def test_iso_week_and_basic_dates_are_refused_at_the_door(client: TestClient) -> None:
    for bad in ("2024-W05-5", "20240101", "2024-01-01T10:00:00"):
        answer = post(client, event_dict("channel_established", occurred_on=bad))
        assert answer.status_code == 422, bad
        assert answer.json()["field"] == "occurred_on"


def test_one_failing_request_never_fails_its_group_neighbours(log: SQLiteLog, projections: Projections) -> None:
    """Whatever fails inside the write (here a hook refusing one event) fails that request alone,
    and nothing of it survives in any cache: no phantom in later answers."""
    log.append([established(), *(established(f"c{i}") for i in range(20))])

    def fussy_hook(_conn: object, rows: list[StoredEvent]) -> None:
        if any(r.occurred_on == "2024-06-06" for r in rows):
            raise RuntimeError("this row cannot be written")

    log.add_hook(fussy_hook)
    release = hold_writer(log)
    results: dict[str, object] = {}

    def send(name: str, event: object) -> None:
        try:
            results[name] = log.append([event])  # type: ignore[list-item]
        except Exception as error:
            results[name] = error

    neighbours = {f"c{i}": make("meeting_held", f"c{i}", "2024-05-01") for i in range(20)}
    threads = [threading.Thread(target=send, args=item) for item in neighbours.items()]
    threads.append(threading.Thread(target=send, args=("bad", make("meeting_held", occurred_on="2024-06-06"))))
    for thread in threads:
        thread.start()
    release.set()
    for thread in threads:
        thread.join(10)
    assert isinstance(results.pop("bad"), Exception)
    assert all(isinstance(r, list) for r in results.values()), results
    assert projections.channel_state("us-cn-mmca").last_meeting is None  # type: ignore[union-attr]
    log.append([make("meeting_held", occurred_on="2024-05-02")])
    assert projections.channel_state("us-cn-mmca").last_meeting.isoformat() == "2024-05-02"  # type: ignore[union-attr]
    assert all(d.only_live == d.only_rebuilt == 0 for d in projections.check()[1])


# -- 2. the writer outlives listeners that raise, and never leaves a caller waiting ----------


def test_a_stopped_writer_is_started_again(log: SQLiteLog) -> None:
    log._queue.put(None)  # what close() sends: the writer thread ends
    log._writer.join(5)
    assert not log.writer_alive
    assert log.append([established()])[0].seq == 1
    assert log.writer_alive


# -- 3. one version: the stream's ------------------------------------------------------------


def test_version_counts_corrections_and_retractions(client: TestClient) -> None:
    post(client, event_dict("channel_established", occurred_on="2020-01-01"))
    meeting = event_dict("meeting_held", occurred_on="2021-01-01")
    post(client, meeting)
    assert client.get("/channels/us-cn-mmca").json()["version"] == 2
    post(client, event_dict("event_retracted", occurred_on="2021-02-01", target_id=meeting["id"]))
    state = client.get("/channels/us-cn-mmca").json()
    assert state["version"] == 3
    listed = {c["channel"]: c for c in client.get("/channels").json()["channels"]}
    assert listed["us-cn-mmca"]["version"] == 3
    follow = post(client, event_dict("meeting_held", occurred_on="2021-03-01"), params={"expected_version": 3})
    assert follow.status_code == 201, follow.text
    assert client.get("/channels/us-cn-mmca").json()["version"] == 4


# -- 4. nothing is dated before its channel ------------------------------------------------


def test_an_event_before_its_channel_was_established_is_refused(client: TestClient) -> None:
    post(client, event_dict("channel_established", occurred_on="2024-01-05"))
    early = post(client, event_dict("meeting_held", occurred_on="2024-01-04"))
    assert early.status_code == 422
    assert early.headers["content-type"].startswith(PROBLEM)
    assert "established on 2024-01-05" in early.json()["detail"]
    assert client.get("/log/head").json()["seq"] == 1
    same_day = post(client, event_dict("meeting_held", occurred_on="2024-01-05"))
    assert same_day.status_code == 201


# -- 5. control characters are refused at the door --------------------------------------------


@pytest.mark.parametrize("char", ["\u0001", "\u000b", "\u001f", "\ufffe", "\uffff", "\u0000", "\u007f"])
@pytest.mark.parametrize("field", ["summary", "name", "sources.0.title", "parties.0"])
def test_control_characters_are_refused_in_every_text_field(client: TestClient, char: str, field: str) -> None:
    body = event_dict("channel_established")
    if field == "sources.0.title":
        body["sources"] = [{"url": "https://example.org/a", "title": f"a{char}b"}]
        expected = "sources[0].title"
    elif field == "parties.0":
        body["parties"] = [f"US{char}A", "CHN"]
        expected = "parties[0]"
    else:
        body[field] = f"a{char}b"
        expected = field
    answer = post(client, body)
    assert answer.status_code == 422, answer.text
    assert answer.json()["field"] == expected
    assert f"U+{ord(char):04X}" in answer.json()["detail"]
    assert client.get("/log/head").json()["seq"] == 0
    assert client.get("/feed.atom").status_code == 200


def test_line_breaks_and_tabs_stay_allowed_in_free_text_only(client: TestClient) -> None:
    assert post(client, event_dict("channel_established", summary="one\nand\ttwo")).status_code == 201
    assert post(client, event_dict("channel_established", "b", name="B\nB")).json()["field"] == "name"
    correction = event_dict("event_corrected", occurred_on="2024-01-01", target_id=str(event_dict("x")["id"]))
    correction["changes"] = {"summary": "bad\u0001"}
    assert post(client, correction).json()["field"] == "changes.summary"


# -- 9. retries never duplicate ---------------------------------------------------------------


def test_idempotency_key_answers_the_original_receipt(tmp_path: Path) -> None:
    settings = app_settings(tmp_path)
    body = {k: v for k, v in event_dict("channel_established").items() if k != "id"}  # no client id
    with TestClient(create_app(settings)) as first:
        created = post(first, body, headers={"Idempotency-Key": "k-1"})
        again = post(first, body, headers={"Idempotency-Key": "k-1"})
        assert (created.status_code, again.status_code) == (201, 200)
        assert again.json() | {"created": True} == created.json()
        other = post(first, body | {"summary": "another"}, headers={"Idempotency-Key": "k-1"})
        assert other.status_code == 422 and other.json()["field"] == "Idempotency-Key"
    with TestClient(create_app(settings)) as restarted:  # kept in the database, not in memory
        later = post(restarted, body, headers={"Idempotency-Key": "k-1"})
        assert later.status_code == 200 and later.json()["id"] == created.json()["id"]
        assert restarted.get("/log/head").json()["seq"] == 1


def test_reposting_with_the_same_expected_version_returns_the_original_receipt(client: TestClient) -> None:
    post(client, event_dict("channel_established"))
    meeting = event_dict("meeting_held")
    first = post(client, meeting, params={"expected_version": 1})
    retry = post(client, meeting, params={"expected_version": 1})
    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json()["seq"] == first.json()["seq"]


def test_reloading_a_file_without_ids_appends_nothing(log: SQLiteLog, tmp_path: Path) -> None:
    lines = [event_dict("channel_established", occurred_on="2020-01-01"), event_dict("meeting_held")]
    path = tmp_path / "no-ids.jsonl"
    path.write_text("".join(json.dumps({k: v for k, v in e.items() if k != "id"}) + "\n" for e in lines))
    first = load_file(log, path)
    again = load_file(log, path)
    assert (first.appended, again.appended, again.already_present) == (2, 0, 2)
    assert log.head().seq == 2


# -- 2, 4 and 14: the writer outliving listeners, the append timeout, nothing moved before its
# channel by a correction, and each event its own instant are held for every backend by tests/contract.py.


def test_a_correction_back_to_a_default_value_is_stored_as_that_value(log: SQLiteLog, projections: Projections) -> None:
    """Found by the model-based test: changes equal to a field's default (confidence "confirmed") were
    stored as null, and the correction then failed inside the write."""
    log.append([established()])
    meeting = make("meeting_held", occurred_on="2024-01-05", confidence="reported")
    log.append([meeting])
    correction = make("event_corrected", target_id=str(meeting.id), changes={"confidence": "confirmed"})
    log.append([correction])
    stored = json.loads(log.get(str(correction.id)).body)  # type: ignore[union-attr]
    assert stored["changes"] == {"confidence": "confirmed"}
    assert all(d.only_live == d.only_rebuilt == 0 for d in projections.check()[1])


@pytest.mark.parametrize(
    "query", ["to=0001-01-01", "from=0001-01-01&to=0001-01-02", "to=0001-01-02", "from=0001-01-01"]
)
def test_the_board_at_the_first_day_of_the_calendar_is_not_a_server_error(client: TestClient, query: str) -> None:
    """Found by the fuzz test (tests/test_fuzz_bytes.py): a window ending on 0001-01-01 reached before the calendar."""
    answer = client.get(f"/?{query}", headers={"Accept": "text/html"})
    assert answer.status_code < 500, answer.text[:300]
