"""Fuzzing down to raw bytes, in process: bodies, query strings, path segments and headers.

Whatever arrives, the answer is never a 5xx, every 4xx is application/problem+json, and a refused
POST leaves the log head as it was. The Server-Sent-Events route is driven through ASGI directly,
because a stream that is accepted never ends: the driver reads its head, then disconnects.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, quote_from_bytes

import anyio
import pytest
from factory import event_dict
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from litestar.testing import TestClient

from diplo.service.app import create_app
from diplo.service.runtime import ensure_admin_token
from diplo.service.settings import Settings

ADMIN = "test-admin-token-0123456789"
WRITER = {"Authorization": f"Bearer {ADMIN}"}
PROBLEM = "application/problem+json"
QUICK = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SOAK = settings(max_examples=5_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ESTABLISHED = event_dict("channel_established", "us-cn-mmca", "2020-12-14")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings_ = Settings(db=tmp_path_factory.mktemp("fuzz") / "d.db", seed=False, admin_token=ADMIN)
    with TestClient(create_app(settings_)) as opened:
        ensure_admin_token(settings_)
        assert opened.post("/events", json=ESTABLISHED, headers=WRITER).status_code == 201
        yield opened


def assert_answer(status: int, content_type: str, what: object) -> None:
    assert status < 500, what
    if status >= 400:
        assert content_type == PROBLEM, (status, content_type, what)


# --- bodies -----------------------------------------------------------------------------------------

VALID = [
    event_dict("meeting_held", "us-cn-mmca", "2021-12-14", participants=["A", "B"], round=3),
    event_dict("channel_suspended", "us-cn-mmca", "2022-08-05"),
    event_dict("meeting_scheduled", "us-cn-mmca", "2024-01-01", scheduled_for="2024-04-03"),
    event_dict("event_corrected", "us-cn-mmca", "2024-04-10", target_id=ESTABLISHED["id"], changes={"name": "MMCA"}),
    event_dict("sanction_applied", "us-cn-mmca", "2018-09-20"),
]
for _body in VALID:
    del _body["id"]  # the server assigns one, so a mutated body that is still valid is appended, not a conflict
VALID_BYTES = [json.dumps(b).encode() for b in VALID] + [json.dumps(VALID[:2]).encode()]

BAD_UTF8 = [b"\xff", b"\xfe", b"\xc0\xaf", b"\xc1\xbf", b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xf4\x90\x80\x80", b"\x80"]
ODD_TEXT = [
    "\\ud800",  # a lone surrogate, as a JSON escape
    "\\udfff\\ud800",
    "\\u0000",
    "\u202e\u200b\ufeff",
    "\U0001f600" * 50,
    "\ufffe\uffff",
    "e\u0301" * 20,
    "\x0b\x1b[31m",
]
HUGE_NUMBERS = ["9" * 400, "-" + "9" * 400, "1e999", "-1e999", "1" + "0" * 25, str(2**64), "0.0000001", "NaN"]


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A valid body, bent one way: foreign bytes, odd text, huge numbers, deep nesting, truncation."""
    data = draw(st.sampled_from(VALID_BYTES))
    kind = draw(st.sampled_from(["bytes", "utf8", "text", "number", "nest", "truncate", "splice"]))
    at = draw(st.integers(0, len(data)))
    if kind == "bytes":
        return data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
    if kind == "utf8":
        return data[:at] + draw(st.sampled_from(BAD_UTF8)) + data[at:]
    if kind == "text":  # inside the summary string, so only the text is odd
        odd = draw(st.sampled_from(ODD_TEXT)).encode("utf-8", "surrogatepass")
        return data.replace(b'"summary": "', b'"summary": "' + odd, 1)
    if kind == "number":
        field = draw(st.sampled_from([b'"round": 3', b'"name": "MMCA"', b'"occurred_on": "2021-12-14"']))
        return data.replace(field, field.split(b":")[0] + b": " + draw(st.sampled_from(HUGE_NUMBERS)).encode(), 1)
    if kind == "nest":
        depth = draw(st.integers(100, 5_000))
        opener, closer = draw(st.sampled_from([(b"[", b"]"), (b'{"a": ', b"}")]))
        inner = opener * depth + b"1" + closer * depth
        where = draw(st.sampled_from([b'"MMCA"', b'"A"', b"3"]))
        return data.replace(where, inner, 1) if where in data else inner
    if kind == "truncate":
        return data[:at]
    return data[:at] + draw(st.sampled_from(VALID_BYTES)) + data[at:]


BODIES = st.one_of(
    st.binary(max_size=400),
    mutated(),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
)


def check_post(client: TestClient, body: bytes) -> None:
    head = client.get("/log/head").json()
    answer = client.post("/events", content=body, headers={**WRITER, "Content-Type": "application/json"})
    assert_answer(answer.status_code, answer.headers.get("content-type", ""), body[:300])
    if answer.status_code >= 400:
        assert client.get("/log/head").json() == head, body[:300]


@QUICK
@given(body=BODIES)
def test_post_events_never_fails_with_a_server_error(client: TestClient, body: bytes) -> None:
    check_post(client, body)


@pytest.mark.soak
@SOAK
@given(body=BODIES)
def test_post_events_never_fails_with_a_server_error_soak(client: TestClient, body: bytes) -> None:
    check_post(client, body)


# --- query strings, path segments, headers -----------------------------------------------------------

# Edge values are built from parts rather than listed, so that the rare combinations (the first day of
# year 1 with a positive offset, the last of 9999 with a negative one, a seq past 2^63) come up often.
DIGITS = st.text(st.characters(whitelist_categories=["Nd"]), min_size=1, max_size=4)  # any script's digits
DAYS = st.one_of(
    st.sampled_from(["0001-01-01", "0999-12-31", "1000-01-01", "2024-02-29", "2023-02-29", "9999-12-31", "0000-01-01"]),
    st.sampled_from(["2024-W01-1", "20240101", "2024-001", "2024-1-1", " 2024-01-01"]),
    st.builds("{}-01-01".format, DIGITS),
)
INSTANTS = st.one_of(
    st.builds(  # well-formed, at the ends of the calendar: a zone offset can push them out of it
        "{}T{}{}".format,
        st.sampled_from(["0001-01-01", "9999-12-31", "0999-12-31"]),
        st.sampled_from(["00:00:00", "23:59:59.999999"]),
        st.sampled_from(["Z", "+01:00", "-05:00", "+14:00", "-12:00"]),
    ),
    st.builds(  # any shape
        "{}{}{}{}{}".format,
        DAYS,
        st.sampled_from(["T", "t", " ", ""]),
        st.sampled_from(["00:00:00", "23:59:59", "23:00:00", "24:00:00", "00:00", "00", "12:00:60"]),
        st.sampled_from(["", ".5", ".123456789", ".", ",5"]),
        st.sampled_from(["Z", "z", "+01:00", "-05:00", "+14:00", "-23:59", "+0100", "+01", ""]),
    ),
    DAYS,
)
NUMBERS = st.one_of(
    st.integers(-(2**64), 2**70).map(str),
    st.sampled_from([str(2**63 - 1), str(2**63), "9" * 40, "1e3", "NaN", " 1", "+1", "0x10", "1_000"]),
    DIGITS,
)
WORDS = st.sampled_from(["us-cn-mmca", "never-established", "meeting_held", "channel_suspended", "'; DROP --", "%"])
EDGES = {
    "as_of": DAYS,
    "from": DAYS,
    "to": DAYS,
    "known_at": INSTANTS,
    "after": NUMBERS,
    "limit": NUMBERS,
    "channel": WORDS,
    "type": WORDS,
    "known_from": INSTANTS,
    "known_to": INSTANTS,
    "party": st.sampled_from(["USA", "usa", "CHN", "XXX", "EU", "%"]),
    "dyad": st.sampled_from(["CHN-USA", "USA-CHN", "USA", "USA-ZZZ", "CHN-USA-RUS", "-"]),
    "status": st.sampled_from(["active", "suspended", "dormant", "unknown", "Active", ""]),
    "kind": st.sampled_from(["military", "arms-control", "naval", ""]),
}
VALUES = st.one_of(  # anything at all, as raw bytes
    st.binary(max_size=40),
    st.text(max_size=40).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.sampled_from(["", "\x00"]).map(str.encode),
)


def values_for(name: str) -> st.SearchStrategy[bytes]:
    """Mostly the edges of this parameter, sometimes anything."""
    edges = EDGES[name].map(lambda text: text.encode("utf-8", "surrogatepass"))
    return st.one_of(edges, edges, VALUES)


def queries(names: list[str]) -> st.SearchStrategy[str]:
    """Query strings of the route's own parameters mostly, any parameter sometimes, raw bytes percent-encoded."""
    chosen = st.one_of(st.sampled_from(names), st.sampled_from(names), st.sampled_from(sorted(EDGES)))
    pairs = chosen.flatmap(lambda name: st.tuples(st.just(name), values_for(name)))
    return st.lists(pairs, max_size=4).map(
        lambda items: "&".join(f"{name}={quote_from_bytes(value, safe='')}" for name, value in items)
    )


SEGMENTS = st.one_of(  # never "stream": /events/stream is the endless route, driven below
    st.sampled_from(["us-cn-mmca", "never-established", ESTABLISHED["id"], "not-a-uuid", "plover", "icews", "panel"]),
    VALUES.map(lambda value: quote_from_bytes(value, safe="")).filter(lambda segment: segment != "stream"),
)
TIMES = ["as_of", "known_at"]
BOARD = ["party", "dyad", "status", "kind", "from", "to"]  # the board's filters and timeline window
ROUTES = {  # each GET route with the query parameters it reads; the others get everything anyway
    "/": [*TIMES, *BOARD],
    "/board/table": [*TIMES, *BOARD],
    "/feed.atom": sorted(EDGES),
    "/events": ["after", "limit", "channel", "type", "from", "to"],
    "/events/{}": sorted(EDGES),
    "/channels": TIMES,
    "/channels/{}": [*TIMES, "from", "to"],  # a browser's channel page reads its timeline window too
    "/channels/{}/timeline": ["known_at"],
    "/sanctions": TIMES,
    "/commitments": ["channel", *TIMES],
    "/log/head": sorted(EDGES),
    "/health": sorted(EDGES),
    "/measures": TIMES,
    "/changes": ["from", "to", "known_at", "known_from", "known_to", "as_of"],
    "/exports/{}": TIMES,
    "/candidates": sorted(EDGES),
    "/candidates/{}": sorted(EDGES),
    "/review": sorted(EDGES),
}
REQUESTS = st.sampled_from(sorted(ROUTES)).flatmap(lambda route: st.tuples(st.just(route), queries(ROUTES[route])))
HEADER_VALUES = st.one_of(
    NUMBERS.map(str.encode),
    NUMBERS.map(str.encode),
    st.binary(max_size=30).filter(lambda b: b"\r" not in b and b"\n" not in b),
)
ACCEPTS = st.sampled_from(["application/json", "text/html", "*/*", "text/html;q=0.1, application/json", "x/\x7f"])


def check_get(client: TestClient, request: tuple[str, str], segment: str, last_id: bytes, accept: str) -> None:
    route, query = request
    url = route.format(segment) + (f"?{query}" if query else "")
    headers = {"Last-Event-ID": last_id, "Accept": accept.encode("latin-1")}
    answer = client.get(url, headers=headers)
    assert_answer(answer.status_code, answer.headers.get("content-type", ""), url)


@QUICK
@given(request=REQUESTS, segment=SEGMENTS, last_id=HEADER_VALUES, accept=ACCEPTS)
@example(request=("/", "known_at=0001-01-01T00%3A00%3A00%2B01%3A00"), segment="", last_id=b"", accept="text/html")
@example(request=("/events", f"after={2**63}"), segment="", last_id=b"", accept="*/*")
def test_get_routes_never_fail_with_a_server_error(
    client: TestClient, request: tuple[str, str], segment: str, last_id: bytes, accept: str
) -> None:
    check_get(client, request, segment, last_id, accept)


@pytest.mark.soak
@SOAK
@given(request=REQUESTS, segment=SEGMENTS, last_id=HEADER_VALUES, accept=ACCEPTS)
def test_get_routes_never_fail_with_a_server_error_soak(
    client: TestClient, request: tuple[str, str], segment: str, last_id: bytes, accept: str
) -> None:
    check_get(client, request, segment, last_id, accept)


# --- the endless route --------------------------------------------------------------------------------


async def _open_stream(app: Any, query: bytes, headers: list[tuple[bytes, bytes]]) -> tuple[int, str]:
    """Request /events/stream, wait until the answer ends or its stream has run a moment, then hang up.

    An error after the stream started is raised out of ``app`` here, so a stream cut by an
    exception fails the test instead of passing as a 200.
    """
    start: dict[str, Any] = {}
    finished, hang_up = anyio.Event(), anyio.Event()
    asked = False

    async def receive() -> dict[str, Any]:
        nonlocal asked
        if not asked:
            asked = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await hang_up.wait()
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
        elif message["type"] == "http.response.body" and not message.get("more_body", False):
            finished.set()

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/events/stream",
        "raw_path": b"/events/stream",
        "root_path": "",
        "query_string": query,
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("testclient", 50000),
        "server": ("testserver", 80),
        "extensions": {},
    }

    async def run() -> None:
        await app(scope, receive, send)
        finished.set()

    async with anyio.create_task_group() as group:
        group.start_soon(run)
        with anyio.move_on_after(0.05):  # long enough for the catch-up read that used to overflow
            await finished.wait()
        hang_up.set()
    content_type = dict(start.get("headers", [])).get(b"content-type", b"").decode("latin-1")
    return start["status"], content_type.split(";")[0]


def check_stream(client: TestClient, query: str, last_id: bytes | None) -> None:
    headers = [] if last_id is None else [(b"last-event-id", last_id)]
    status, content_type = client.blocking_portal.call(_open_stream, client.app, query.encode(), headers)
    assert_answer(status, content_type, (query, last_id))
    if status == 200:
        assert content_type == "text/event-stream"


STREAM_QUERIES = st.lists(st.tuples(st.just("after"), values_for("after")), max_size=2).map(
    lambda pairs: "&".join(f"{name}={quote_from_bytes(value, safe='')}" for name, value in pairs)
)


@QUICK
@given(query=STREAM_QUERIES, last_id=st.none() | HEADER_VALUES)
def test_the_stream_never_fails_with_a_server_error(client: TestClient, query: str, last_id: bytes | None) -> None:
    check_stream(client, query, last_id)


@pytest.mark.soak
@settings(max_examples=1_000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(query=STREAM_QUERIES, last_id=st.none() | HEADER_VALUES)
def test_the_stream_never_fails_with_a_server_error_soak(client: TestClient, query: str, last_id: bytes | None) -> None:
    check_stream(client, query, last_id)


@pytest.mark.parametrize(
    ("query", "last_id"),
    [
        (f"after={2**63}", None),
        ("", b"99999999999999999999"),
        ("", "²".encode()),
        ("", b"12x"),
        (f"after={quote('٣')}", None),
    ],
)
def test_the_stream_driver_sees_what_the_fuzzer_must_catch(
    client: TestClient, query: str, last_id: bytes | None
) -> None:
    """The cases of the report, through the same driver: each a 400 problem, not a cut or endless stream."""
    headers = [] if last_id is None else [(b"last-event-id", last_id)]
    status, content_type = client.blocking_portal.call(_open_stream, client.app, query.encode(), headers)
    assert (status, content_type) == (400, PROBLEM)
