"""Input at the edges: bytes that are not UTF-8, deep nesting, instants out of range, odd cursors.

Every one must be a 4xx application/problem+json that says what to fix, and change nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from factory import event_dict
from jsonschema import Draft202012Validator
from litestar.testing import TestClient

from diplo.events import SQLiteLog, clock, decode_events
from diplo.service.app import create_app
from diplo.service.cli import cli
from diplo.service.loading import load_file
from diplo.service.runtime import ensure_admin_token, seed
from diplo.service.settings import Settings

ADMIN = "test-admin-token-0123456789"
WRITER = {"Authorization": f"Bearer {ADMIN}"}
PROBLEM = "application/problem+json"


def open_client(db: Path, seeded: bool = False) -> TestClient:
    settings = Settings(db=db, seed=seeded, admin_token=ADMIN)
    return TestClient(create_app(settings))


def start(client: TestClient, seeded: bool = False) -> None:
    """What ``diplo serve`` does after opening the log: the admin token, and seeds if asked."""
    runtime = client.app.state.runtime
    ensure_admin_token(runtime.settings)
    if seeded:
        seed(runtime)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One app for the module (an app costs ~60 ms to build): what these tests send changes nothing, and
    the few events they add (meetings, a correction, a suspension) go to the one channel; a test that
    counts channels or events would need an app of its own."""
    with open_client(tmp_path_factory.mktemp("edges") / "d.db") as opened:
        start(opened)
        answer = opened.post(
            "/events", json=event_dict("channel_established", "us-cn-mmca", "2020-12-14"), headers=WRITER
        )
        assert answer.status_code == 201, answer.text
        yield opened


def assert_problem(answer: Any, status: int | None = None, *words: str) -> dict[str, Any]:
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text[:300])
    if status is not None:
        assert answer.status_code == status, answer.text[:300]
    assert answer.headers["content-type"] == PROBLEM
    problem = answer.json()
    assert problem["status"] == answer.status_code and problem["title"] and problem["detail"]
    for word in words:
        assert word.lower() in problem["detail"].lower(), problem
    return problem


# --- Item 7: 5xx from bad input -------------------------------------------------------------------


@pytest.mark.parametrize("bad", [b"\xff", b"\xc0\xaf", b"\xed\xa0\x80"], ids=["ff", "overlong", "surrogate"])
def test_invalid_utf8_in_a_body_is_a_problem_naming_the_byte(client: TestClient, bad: bytes) -> None:
    head = client.get("/log/head").json()
    good = json.dumps(event_dict("meeting_held", "us-cn-mmca", "2021-12-14", summary="MMCA talks held")).encode()
    body = good.replace(b"MMCA talks", b"MMCA " + bad + b" talks")
    problem = assert_problem(client.post("/events", content=body, headers=WRITER), 422, "UTF-8")
    assert f"byte {body.index(bad)}" in problem["detail"]
    assert client.get("/log/head").json() == head


@pytest.mark.parametrize(
    "body",
    [
        json.dumps(event_dict("event_corrected", target_id=str(uuid.uuid4()), changes={"summary": "X"}))
        .replace('"X"', "[" * 1000 + "]" * 1000)
        .encode(),
        b'{"a": ' * 1000 + b"1" + b"}" * 1000,
        b'[{"a": ' + b"[" * 1000 + b"]" * 1000 + b"}]",
    ],
    ids=["arrays-in-changes", "objects", "arrays-in-array"],
)
def test_json_nested_a_thousand_deep_is_a_problem(client: TestClient, body: bytes) -> None:
    head = client.get("/log/head").json()
    assert_problem(client.post("/events", content=body, headers=WRITER), None, "nest")
    assert client.get("/log/head").json() == head


def _load(tmp_path: Path, content: bytes) -> Any:
    path = tmp_path / "events.jsonl"
    path.write_bytes(content)
    return CliRunner().invoke(cli, ["load", "--db", str(tmp_path / "load.db"), str(path)])


def test_load_of_a_deeply_nested_line_is_an_error_line_not_a_traceback(tmp_path: Path) -> None:
    good = json.dumps(event_dict("channel_established", "us-cn-mmca", "2020-12-14")).encode()
    result = _load(tmp_path, good + b"\n" + b'{"a": ' * 1000 + b"1" + b"}" * 1000 + b"\n")
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)  # not a RecursionError
    assert "events.jsonl:2:" in result.output and "nest" in result.output
    assert "Traceback" not in result.output


def test_load_of_invalid_utf8_names_the_line(tmp_path: Path) -> None:
    good = json.dumps(event_dict("channel_established", "us-cn-mmca", "2020-12-14", summary="MMCA"))
    result = _load(tmp_path, good.replace("MMCA", "M\udcff", 1).encode("utf-8", "surrogateescape") + b"\n")
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert "events.jsonl:1:" in result.output and "UTF-8" in result.output


def test_load_of_a_json_array_says_one_object_per_line(tmp_path: Path) -> None:
    body = json.dumps([event_dict("channel_established", "us-cn-mmca", "2020-12-14")]).encode()
    result = _load(tmp_path, body + b"\n")
    assert result.exit_code == 1, result.output
    assert "events.jsonl:1:" in result.output
    assert "one JSON object per line (JSON Lines); this line is an array" in " ".join(result.output.split())


READ_ROUTES = [
    "/channels",
    "/channels/us-cn-mmca",
    "/channels/us-cn-mmca/timeline",
    "/sanctions",
    "/commitments",
    "/",
    "/board/table",
]
OVERFLOWING = ["0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-05:00"]


@pytest.mark.parametrize("moment", OVERFLOWING)
@pytest.mark.parametrize("route", READ_ROUTES)
def test_known_at_outside_the_utc_calendar_is_a_problem(client: TestClient, route: str, moment: str) -> None:
    problem = assert_problem(client.get(route, params={"known_at": moment}), 400, "known_at", "UTC")
    assert problem["field"] == "known_at"


@pytest.mark.parametrize("after", [2**63, 2**63 + 1, 10**20])
def test_after_beyond_a_64_bit_seq_is_a_problem(client: TestClient, after: int) -> None:
    problem = assert_problem(client.get("/events", params={"after": str(after)}), 400, "after")
    assert problem["field"] == "after"
    assert client.get("/events", params={"after": str(2**63 - 1)}).json() == {"events": [], "next": None}


@pytest.mark.parametrize("after", [2**63, 10**20])
def test_stream_after_beyond_a_64_bit_seq_is_a_problem(client: TestClient, after: int) -> None:
    assert_problem(client.get("/events/stream", params={"after": str(after)}), 400, "after")


@pytest.mark.parametrize("last_id", ["99999999999999999999", "9223372036854775808", "²", "12x", "-1", "1e3"])
def test_stream_last_event_id_that_is_not_a_seq_is_a_problem(client: TestClient, last_id: str) -> None:
    answer = client.get("/events/stream", headers={"Last-Event-ID": last_id.encode()})
    problem = assert_problem(answer, 400, "Last-Event-ID")
    assert problem["field"] == "Last-Event-ID"


def test_control_characters_in_a_stored_summary_do_not_break_the_atom_feed(client: TestClient) -> None:
    """Input refuses them now, but a log written before may hold them, and the feed must still be XML."""
    from xml.etree import ElementTree

    from factory import make

    log = client.app.state.runtime.log
    log.append([make("channel_suspended", "us-cn-mmca", "2022-08-05", summary="MMCA talks\x00 suspended\x0b again")])
    feed = client.get("/feed.atom")
    assert feed.status_code == 200, feed.text[:300]
    entries = ElementTree.fromstring(feed.content).findall("{http://www.w3.org/2005/Atom}entry")
    assert "MMCA talks suspended again" in [e.findtext("{http://www.w3.org/2005/Atom}summary") for e in entries]


def test_a_correction_of_occurred_on_to_a_timestamp_is_not_a_server_error(client: TestClient) -> None:
    target = client.post("/events", json=event_dict("meeting_held", "us-cn-mmca", "2021-12-14"), headers=WRITER)
    changes = {"occurred_on": "2021-12-15T09:00:00+08:00"}
    body = event_dict("event_corrected", "us-cn-mmca", "2021-12-20", target_id=target.json()["id"], changes=changes)
    assert client.post("/events", json=body, headers=WRITER).status_code < 500


# --- Item 8: instants canonical and fixed-width ----------------------------------------------------


@pytest.mark.parametrize("year", [1, 999, 1000, 2024, 9999])
def test_instants_are_fixed_width_for_every_year(year: int) -> None:
    moment = dt.datetime(year, 1, 2, 3, 4, 5, 6, tzinfo=dt.UTC)
    text = clock.format_instant(moment)
    assert text == f"{year:04d}-01-02T03:04:05.000006Z"
    assert clock.parse_known_at(text) == text


def test_known_at_before_year_1000_sees_nothing_yet_known(client: TestClient) -> None:
    answer = client.get("/channels", params={"known_at": "0999-01-01T00:00:00Z"})
    assert answer.status_code == 200
    assert [c["status"] for c in answer.json()["channels"]] == ["unknown"]  # not today's "active"
    assert answer.json()["known_at"] == "0999-01-01T00:00:00.000000Z"
    one = client.get("/channels/us-cn-mmca", params={"known_at": "0999-01-01"}).json()
    assert (one["known"], one["status"], one["known_at"]) == (False, "unknown", "0999-01-01T23:59:59.999999Z")


def test_known_at_in_another_zone_is_answered_in_utc(client: TestClient) -> None:
    answer = client.get("/channels", params={"known_at": "2030-01-01T02:00:00+02:00"})
    assert answer.json()["known_at"] == "2030-01-01T00:00:00.000000Z"


@pytest.mark.parametrize("value", ["20240101", "2024-W01-1", "2024-1-1", "2024-01-01T00:00:00Z", " 2024-01-01"])
@pytest.mark.parametrize("route", ["/channels", "/sanctions", "/commitments", "/"])
def test_as_of_accepts_exactly_yyyy_mm_dd(client: TestClient, route: str, value: str) -> None:
    problem = assert_problem(client.get(route, params={"as_of": value}), 400, "as_of", "YYYY-MM-DD")
    assert problem["field"] == "as_of"


@pytest.mark.parametrize("route", ["/channels", "/measures", "/commitments", "/exports/plover", "/", "/board/table"])
def test_of_two_bad_parameters_as_of_is_the_one_answered(client: TestClient, route: str) -> None:
    # day and moment are separate dependencies; litestar would resolve them concurrently, the first to fail (by set
    # order, so by hash seed) answering: the app resolves them in turn, as_of first, as handlers parsed them before.
    answer = client.get(route, params={"as_of": "2024-W01-1", "known_at": "2024-W01-1T00:00:00Z"})
    assert assert_problem(answer, 400, "as_of")["field"] == "as_of"


def test_no_request_waits_on_a_task_group_for_its_dependencies(client: TestClient) -> None:
    # The order above, whatever the hash seed; and no anyio task group per request (as long as a small read).
    for route in client.app.routes:
        for _handler, model in getattr(route, "route_handler_map", {}).values():
            assert all(len(batch) == 1 for batch in model.dependency_batches), route.path


@pytest.mark.parametrize("name", ["from", "to"])
def test_events_date_range_accepts_exactly_yyyy_mm_dd(client: TestClient, name: str) -> None:
    assert_problem(client.get("/events", params={name: "2024-W01-1"}), 400, name, "YYYY-MM-DD")
    assert client.get("/events", params={name: "2024-01-01"}).status_code == 200


@pytest.mark.parametrize("value", ["2021-W50-2", "20211214", "20211214T000000Z", "2021-12-14T00Z", "２０２１-12-14"])
def test_occurred_on_accepts_only_yyyy_mm_dd_or_rfc3339(client: TestClient, value: str) -> None:
    head = client.get("/log/head").json()
    body = event_dict("meeting_held", "us-cn-mmca", value)
    problem = assert_problem(client.post("/events", json=body, headers=WRITER), 422, "occurred_on")
    assert problem["field"] == "occurred_on"
    assert client.get("/log/head").json() == head
    stamped = event_dict("meeting_held", "us-cn-mmca", "2021-12-14T09:00:00+08:00")
    assert client.post("/events", json=stamped, headers=WRITER).status_code == 201  # RFC 3339 is still taken


@pytest.mark.parametrize(
    "value",
    ["20240101", "2024-W01-1", "20240101T000000Z", "2024-W01-1T00:00:00Z", "2024-01-01T00Z", "2024-01-01T00:00Z"],
)
def test_known_at_accepts_only_rfc3339_or_a_date(client: TestClient, value: str) -> None:
    assert_problem(client.get("/channels", params={"known_at": value}), 400, "known_at", "RFC 3339")


# --- Item 13: the API documents what it does -------------------------------------------------------


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    with open_client(tmp_path_factory.mktemp("doc") / "d.db") as opened:
        return opened.get("/schema/openapi.json").json()


def _examples(node: Any, path: str = "") -> Iterator[tuple[str, Any, Any]]:
    """(where, example value, the schema it illustrates) for every example in the document."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "examples" and isinstance(value, dict):  # a media type's named Example objects
                for name, example in value.items():
                    yield f"{path}/examples/{name}", example.get("value"), node.get("schema")
            elif key == "examples" and isinstance(value, list):  # a schema's list of values
                for number, example in enumerate(value):
                    yield f"{path}/examples[{number}]", example, node
            elif key == "example":
                yield f"{path}/example", value, node.get("schema", node)
            else:
                yield from _examples(value, f"{path}/{key}")
    elif isinstance(node, list):
        for number, value in enumerate(node):
            yield from _examples(value, f"{path}[{number}]")


FILLER = re.compile(r"^[A-Za-z]{20}$")  # what a random example generator puts in a str field


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def test_every_example_in_the_openapi_document_is_valid_and_not_filler(document: dict[str, Any]) -> None:
    found = list(_examples(document))
    assert len(found) >= 13
    for where, value, schema in found:
        assert not [s for s in _strings(value) if FILLER.match(s)], (where, value)
        if schema is not None:
            resolvable = {**schema, "components": document["components"]}  # so #/components/... resolves
            errors = list(
                Draft202012Validator(resolvable, format_checker=Draft202012Validator.FORMAT_CHECKER).iter_errors(value)
            )
            assert not errors, (where, value, errors[0].message)
        status = re.search(r"/responses/(\d{3})/", where)
        if status and isinstance(value, dict) and "status" in value:
            assert value["status"] == int(status.group(1)), (where, value)


def test_no_documented_response_asks_litestar_for_generated_examples() -> None:
    """Generated examples are random filler; that none shows today depends on which route registers a schema first."""
    asking = [
        f"{handler.handler_name} {status}"
        for route in create_app().routes
        for handler in getattr(route, "route_handlers", [])
        for status, spec in (handler.responses or {}).items()
        if spec.generate_examples
    ]
    assert asking == []


def test_every_request_body_example_decodes_and_appends_to_the_seeded_log(
    document: dict[str, Any], tmp_path: Path
) -> None:
    examples = document["paths"]["/events"]["post"]["requestBody"]["content"]["application/json"]["examples"]
    assert len(examples) >= 13
    # The measure the measure_modified and measure_suspended examples name is in the seeds.
    with open_client(tmp_path / "seeded.db", seeded=True) as seeded:
        start(seeded, seeded=True)
        for name, example in examples.items():
            events, _ = decode_events(json.dumps(example["value"]))  # the real decoder
            assert events, name
            if name in AGAINST_THE_FIRST_RECORD:
                continue
            answer = seeded.post("/events", json=example["value"], headers=WRITER)
            assert answer.status_code == 201, (name, answer.text)
    # The amendment examples fix errors of the record as first seeded (kept as tests/fixtures/log-v1.jsonl),
    # and the establishment example names a channel the seeds hold already: they append to that first record.
    first = tmp_path / "v1.db"
    load_file(SQLiteLog(first), Path(__file__).parent / "fixtures" / "log-v1.jsonl")
    with open_client(first) as v1:
        start(v1)
        for name in sorted(AGAINST_THE_FIRST_RECORD):
            answer = v1.post("/events", json=examples[name]["value"], headers=WRITER)
            assert answer.status_code == 201, (name, answer.text)


AGAINST_THE_FIRST_RECORD = {"channel_established", "event_corrected", "event_retracted"}


def test_error_responses_are_documented_as_problem_json(document: dict[str, Any]) -> None:
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status.startswith(("4", "5")):
                    assert list(response.get("content", {})) == [PROBLEM], (method, path, status)
    one = document["paths"]["/events/{event_id}"]["get"]["responses"]
    assert one["400"]["content"][PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}


def test_the_stream_is_documented_as_event_stream(document: dict[str, Any]) -> None:
    assert list(document["paths"]["/events/stream"]["get"]["responses"]["200"]["content"]) == ["text/event-stream"]


def test_the_schema_page_loads_nothing_from_another_host(client: TestClient) -> None:
    page = client.get("/schema")
    assert page.status_code == 200
    references = re.findall(r"""(?:href|src)\s*=\s*['"]([^'"]*)['"]""", page.text)
    assert references, page.text[:500]
    assert [r for r in references if re.match(r"^(https?:)?//", r)] == []
    assert not re.search(r"url\(\s*['\"]?(https?:)?//", page.text)


def test_the_schema_page_shows_the_event_bodies_on_first_load(tmp_path: Path) -> None:
    with open_client(tmp_path / "fresh.db") as fresh:  # nothing has fetched openapi.json yet
        page = fresh.get("/schema").text
    assert '"ChannelEstablishedInput"' in page and '"us-cn-consulate-houston"' in page


def test_an_event_id_that_is_not_a_uuid_says_so(client: TestClient) -> None:
    problem = assert_problem(client.get("/events/not-a-uuid"), 400, "UUID", "not-a-uuid")
    assert problem["field"] == "event_id"
    missing = client.get("/events/00000000-0000-4000-8000-000000000000")
    assert_problem(missing, 404, "no event")
    assert_problem(client.get("/events/stream", params={"after": "-1"}), 400, "after")  # still the stream route
