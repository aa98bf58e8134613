"""The HTTP API end to end: in-process over litestar's TestClient, and on a real server on
loopback where a socket matters (request logs of the server process, SSE)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from conftest import Store
from factory import event_dict
from inprocess import Client, InProcess
from live import ADMIN, LiveServer

from diplo.events.backends import open_log

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def app(store: Store) -> Iterator[InProcess]:
    """The app on each backend: a SQLite file, and a PostgreSQL database."""
    running = InProcess(store.new()).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def tokens(app: InProcess) -> dict[str, str]:
    return {role: app.token(role, f"{role}-e2e") for role in ("reader", "writer")} | {"admin": ADMIN}


@pytest.fixture(scope="module")
def writer(app: InProcess, tokens: dict[str, str]) -> Client:
    client = app.client(tokens["writer"])
    client.post("/events", json=event_dict("channel_established", "us-cn-mmca", "2020-12-14"))
    return client


def test_append_read_and_query_a_channel(app: InProcess, writer: Client) -> None:
    resumed = writer.post("/events", json=event_dict("channel_resumed", "us-cn-mmca", "2023-11-15"))
    assert resumed.status_code == 201
    receipt = resumed.json()
    assert set(receipt) == {"id", "seq", "version", "recorded_at", "hash", "created"}
    late = writer.post("/events", json=event_dict("channel_suspended", "us-cn-mmca", "2022-08-05"))
    assert late.status_code == 201

    with app.client() as anyone:
        today = anyone.get("/channels/us-cn-mmca").json()
        assert (today["status"], today["since"]) == ("active", "2023-11-15")
        then = anyone.get("/channels/us-cn-mmca", params={"as_of": "2023-01-01"}).json()
        assert (then["status"], then["since"], then["as_of"]) == ("suspended", "2022-08-05", "2023-01-01")
        known = anyone.get("/channels/us-cn-mmca", params={"as_of": "2023-01-01", "known_at": receipt["recorded_at"]})
        assert known.json()["status"] == "active"  # the suspension was not yet recorded then
        timeline = anyone.get("/channels/us-cn-mmca/timeline").json()["intervals"]
        assert [i["status"] for i in timeline] == ["active", "suspended", "active"]
        assert timeline[-1]["to"] is None
        listed = anyone.get("/channels").json()["channels"]
        assert "us-cn-mmca" in {c["channel"] for c in listed}
        one = anyone.get(f"/events/{receipt['id']}").json()
        assert (one["seq"], one["event"]["type"]) == (receipt["seq"], "channel_resumed")
        head = anyone.get("/log/head").json()
        assert head["seq"] == late.json()["seq"]
        assert anyone.get("/health").json()["status"] == "ok"


def test_arrays_are_atomic_and_idempotent(writer: Client) -> None:
    head = writer.get("/log/head").json()
    batch = [
        event_dict("meeting_held", "us-cn-mmca", "2024-04-03"),
        event_dict("meeting_held", "nowhere", "2024-04-03"),
    ]
    refused = writer.post("/events", json=batch)
    assert refused.status_code == 422
    assert refused.json()["index"] == 1 and "nowhere is not established" in refused.json()["detail"]
    assert writer.get("/log/head").json() == head
    good = [batch[0], event_dict("meeting_scheduled", "us-cn-mmca", "2024-04-04", scheduled_for="2024-11-06")]
    first = writer.post("/events", json=good)
    assert first.status_code == 201 and len(first.json()) == 2
    again = writer.post("/events", json=good)
    assert again.status_code == 200
    assert [r["seq"] for r in again.json()] == [r["seq"] for r in first.json()]
    assert all(r["created"] is False for r in again.json())
    other = writer.post("/events", json={**good[0], "summary": "something else"})
    assert other.status_code == 409 and "other content" in other.json()["detail"]


def test_expected_version(writer: Client) -> None:
    state = writer.get("/channels/us-cn-mmca").json()
    stale = writer.post(
        "/events",
        params={"expected_version": state["version"] - 1},
        json=event_dict("meeting_held", "us-cn-mmca", "2024-11-06"),
    )
    assert stale.status_code == 409
    assert stale.json()["current_version"] == state["version"]
    fresh = writer.post(
        "/events",
        params={"expected_version": state["version"]},
        json=event_dict("meeting_held", "us-cn-mmca", "2024-11-06"),
    )
    assert fresh.status_code == 201 and fresh.json()["version"] == state["version"] + 1


def test_paging_through_the_log_with_the_next_cursor(app: InProcess, writer: Client) -> None:
    for day in ("2024-02-01", "2024-03-01", "2024-04-01"):  # enough to page through, whatever ran before
        writer.post("/events", json=event_dict("meeting_held", "us-cn-mmca", day))
    with app.client() as anyone:
        everything = anyone.get("/events", params={"limit": 1000}).json()["events"]
        seen, after = [], 0
        while after is not None:
            page = anyone.get("/events", params={"after": after, "limit": 2}).json()
            seen += [e["seq"] for e in page["events"]]
            after = page["next"]
        assert seen == [e["seq"] for e in everything]
        filtered = anyone.get("/events", params={"channel": "us-cn-mmca", "type": "meeting_held", "from": "2024-01-01"})
        assert {e["type"] for e in filtered.json()["events"]} == {"meeting_held"}


def test_not_found_answers(app: InProcess) -> None:
    with app.client() as anyone:
        for path in (
            "/channels/never-seen",
            "/channels/never-seen/timeline",
            "/events/00000000-0000-4000-8000-000000000000",
            "/no/such/route",
        ):
            answer = anyone.get(path)
            assert answer.status_code == 404, path
            assert answer.headers["content-type"] == PROBLEM
            assert answer.json()["detail"]


AUTH_ROUTES = [("POST", "/events", "writer"), ("POST", "/admin/replay", "admin"), ("POST", "/admin/verify", "admin")]


@pytest.mark.parametrize(("method", "path", "needed"), AUTH_ROUTES)
def test_auth_matrix(
    app: InProcess, writer: Client, tokens: dict[str, str], method: str, path: str, needed: str
) -> None:
    rank = {"reader": 1, "writer": 2, "admin": 3}
    body = event_dict("meeting_held", "us-cn-mmca", "2024-11-07")
    for who in (None, "bad", "reader", "writer", "admin"):
        headers = {} if who is None else {"Authorization": f"Bearer {tokens.get(who, 'not-a-real-token')}"}
        answer = app.client().request(method, path, headers=headers, json=body)
        if who is None or who == "bad":
            assert answer.status_code == 401, (who, path)
            assert answer.headers["www-authenticate"].startswith("Bearer")
        elif rank[who] < rank[needed]:
            assert answer.status_code == 403, (who, path)
        else:
            assert answer.status_code in (200, 201), (who, path, answer.text)
        if answer.status_code >= 400:
            assert answer.headers["content-type"] == PROBLEM


def test_appends_record_the_token_name(app: InProcess, writer: Client, tokens: dict[str, str]) -> None:
    with app.client(tokens["writer"]) as client:
        receipt = client.post("/events", json=event_dict("meeting_held", "us-cn-mmca", "2024-11-08")).json()
    log = open_log(app.db)
    try:
        assert log.get(receipt["id"]).writer == "writer-e2e"  # type: ignore[union-attr]
    finally:
        log.close()


def _bad_requests(writer_token: str) -> list[tuple[str, str, dict]]:
    w = {"Authorization": f"Bearer {writer_token}"}
    ok = event_dict("meeting_held", "us-cn-mmca", "2024-01-01")
    return [
        ("GET", "/channels/us-cn-mmca?as_of=banana", {}),
        ("GET", "/channels/us-cn-mmca?as_of=2023-02-30", {}),
        ("GET", "/channels?as_of=2023-13-01", {}),
        ("GET", "/channels?known_at=yesterday", {}),
        ("GET", "/channels?known_at=2024-01-01T10:00:00", {}),
        ("GET", "/channels/us-cn-mmca/timeline?known_at=x", {}),
        ("GET", "/sanctions?as_of=2024-1-1", {}),
        ("GET", "/events?limit=0", {}),
        ("GET", "/events?limit=100000", {}),
        ("GET", "/events?after=-1", {}),
        ("GET", "/events?type=meeting_helt", {}),
        ("GET", "/events?channel=Not A Slug", {}),
        ("GET", "/events?from=2024-02-31", {}),
        ("GET", "/events/not-a-uuid", {}),
        ("POST", "/events", {"headers": w, "content": b"{not json"}),
        ("POST", "/events", {"headers": w, "content": b""}),
        ("POST", "/events", {"headers": w, "content": b"[]"}),
        ("POST", "/events", {"headers": w, "json": {**ok, "occurred_on": "2023-02-30"}}),
        ("POST", "/events", {"headers": w, "json": {**ok, "occurred_on": "2999-01-01"}}),
        ("POST", "/events", {"headers": w, "json": {**ok, "sources": []}}),
        ("POST", "/events", {"headers": w, "json": {**ok, "surprise": 1}}),
        ("POST", "/events", {"headers": w, "json": {**ok, "type": "meeting_helt"}}),
        ("POST", "/events", {"headers": w, "json": {**ok, "channel": "never-established"}}),
        ("POST", "/events", {"headers": w, "json": {**ok, "confidence": "sure"}}),
        ("POST", "/events", {"headers": w, "json": {**ok, "summary": "x" * 3000}}),
        ("POST", "/events", {"headers": w, "content": b"\xff\xfe not utf-8"}),
        ("POST", "/events", {"headers": w, "content": b"[" * 5000 + b"]" * 5000}),
        ("POST", "/events", {"headers": w, "content": json.dumps({**ok, "summary": "y" * 2_000_000}).encode()}),
        ("POST", "/events?expected_version=-1", {"headers": w, "json": ok}),
        ("POST", "/events?expected_version=abc", {"headers": w, "json": ok}),
        (
            "POST",
            "/events",
            {
                "headers": w,
                "json": event_dict(
                    "event_retracted", "us-cn-mmca", "2024-01-01", target_id="00000000-0000-4000-8000-000000000000"
                ),
            },
        ),
        ("DELETE", "/events", {"headers": w}),
        ("GET", "/channels/us-cn-mmca?as_of=2023-06-01'; DROP TABLE events;--", {}),
    ]


def _request(client: Client, method: str, path: str, options: dict) -> httpx.Response:
    # A server may answer 413 and close before a 2 MB upload finishes; the client then sees a
    # broken pipe instead of the answer. Retrying lets it read the 413 the server sent.
    for _ in range(5):
        try:
            return client.request(method, path, **options)
        except httpx.TransportError:
            time.sleep(0.1)
    return client.request(method, path, **options)


def test_bad_requests_get_problem_details_and_change_nothing(
    app: InProcess, writer: Client, tokens: dict[str, str]
) -> None:
    cases = _bad_requests(tokens["writer"])
    assert len(cases) >= 25
    statuses = {}
    with app.client() as anyone:
        head = anyone.get("/log/head").json()
        for method, path, options in cases:
            answer = _request(anyone, method, path, options)
            statuses[len(options.get("content", b""))] = answer.status_code
            assert 400 <= answer.status_code < 500, (method, path, answer.status_code, answer.text[:200])
            assert answer.headers["content-type"] == PROBLEM, (method, path)
            problem = answer.json()
            assert problem["status"] == answer.status_code and problem["title"] and problem["detail"]
        assert anyone.get("/log/head").json() == head
    assert statuses[max(statuses)] == 413  # the 2 MB body is refused by size before decoding


def test_request_ids_are_echoed_and_tokens_never_logged(live: LiveServer) -> None:
    tokens = {"writer": live.token("writer", "writer-e2e"), "admin": ADMIN}
    with live.client(tokens["writer"]) as client:
        client.post("/events", json=event_dict("channel_established", "us-cn-mmca", "2020-12-14"))
        answer = client.get("/channels", headers={"X-Request-ID": "trace-me-42"})
        assert answer.headers["x-request-id"] == "trace-me-42"
        client.post("/events", json=event_dict("meeting_held", "us-cn-mmca", "2024-11-09"))
    time.sleep(0.3)
    logs = live.logs()
    lines = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    assert any(r.get("request_id") == "trace-me-42" and r.get("status") == 200 for r in lines)
    assert any(r.get("event") == "event.appended" and r.get("writer") == "writer-e2e" for r in lines)
    for secret in tokens.values():
        assert secret not in logs
    assert "authorization" not in logs.lower()


def test_metrics_and_schema(app: InProcess, writer: Client) -> None:
    with app.client() as anyone:
        metrics = anyone.get("/metrics").text
        for name in (
            "diplo_events_appended_total",
            "diplo_group_commit_size",
            "diplo_append_seconds",
            "diplo_sse_subscribers",
            "diplo_http_requests_total",
        ):
            assert name in metrics
        schema = anyone.get("/schema/openapi.json").json()
        for path in (
            "/events",
            "/events/stream",
            "/events/{event_id}",
            "/channels",
            "/channels/{channel}",
            "/channels/{channel}/timeline",
            "/sanctions",
            "/admin/replay",
            "/log/head",
            "/health",
        ):
            assert path in schema["paths"], path
        body = schema["paths"]["/events"]["post"]["requestBody"]["content"]["application/json"]
        assert "meeting_held" in body["examples"]
        assert anyone.get("/schema").status_code == 200


def test_admin_replay_returns_figures(app: InProcess, writer: Client) -> None:
    with app.client(ADMIN) as admin:
        before = admin.get("/channels").json()
        stats = admin.post("/admin/replay").json()
        assert stats["events"] == admin.get("/log/head").json()["seq"]
        assert stats["events_per_second"] > 0
        assert admin.get("/channels").json() == before
        assert admin.post("/admin/verify").json()["ok"] is True


def _read_sse(url: str, headers: dict[str, str], want: int, out: list[dict], ready: threading.Event) -> None:
    with httpx.stream("GET", url, headers=headers, timeout=30) as response:
        ready.set()
        current: dict = {}
        for line in response.iter_lines():
            if line.startswith("id:"):
                current["id"] = int(line[3:].strip())
            elif line.startswith("data:"):
                current["data"] = json.loads(line[5:].strip())
            elif line == "" and "id" in current:
                out.append(current)
                current = {}
                if len(out) >= want:
                    return


def test_sse_catch_up_live_then_resume(live: LiveServer) -> None:
    writer = live.client(ADMIN)
    for day in ("2020-12-14", "2021-01-01", "2021-02-01"):
        kind = "channel_established" if day == "2020-12-14" else "meeting_held"
        writer.post("/events", json=event_dict(kind, "us-cn-sse", day))
    head = writer.get("/log/head").json()["seq"]
    received: list[dict] = []
    ready = threading.Event()
    reader = threading.Thread(
        target=_read_sse, args=(f"{live.url}/events/stream?after={head - 2}", {}, 4, received, ready)
    )
    reader.start()
    ready.wait(10)
    time.sleep(0.3)
    posted = [
        writer.post("/events", json=event_dict("meeting_held", "us-cn-sse", "2024-12-0" + str(i))).json()
        for i in (1, 2)
    ]
    reader.join(15)
    assert [m["id"] for m in received] == [head - 1, head, posted[0]["seq"], posted[1]["seq"]]
    assert received[-1]["data"]["id"] == posted[1]["id"]
    # Reconnect with Last-Event-ID: only what came after, no gaps, no repeats.
    writer.post("/events", json=event_dict("meeting_held", "us-cn-sse", "2024-12-03"))
    resumed: list[dict] = []
    ready2 = threading.Event()
    again = threading.Thread(
        target=_read_sse,
        args=(f"{live.url}/events/stream", {"Last-Event-ID": str(posted[0]["seq"])}, 2, resumed, ready2),
    )
    again.start()
    again.join(15)
    assert [m["id"] for m in resumed] == [posted[1]["seq"], posted[1]["seq"] + 1]
