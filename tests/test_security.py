"""Hostile input and the security promises: fuzzed decoding, slow clients, tokens, CORS, brakes."""

from __future__ import annotations

import json
import socket
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from factory import event_dict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from inprocess import InProcess
from litestar.testing import TestClient
from live import ADMIN, LiveServer

from diplo.events import InvalidEvent, SQLiteLog, clock, decode_events
from diplo.service import tokens
from diplo.service.app import create_app
from diplo.service.runtime import ensure_admin_token
from diplo.service.settings import Settings

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=6),
    max_leaves=25,
)
FIELDS = st.sampled_from(
    [
        "type",
        "id",
        "channel",
        "occurred_on",
        "summary",
        "sources",
        "confidence",
        "name",
        "parties",
        "reason",
        "mode",
        "target_id",
        "changes",
        "scheduled_for",
        "round",
        "by",
    ]
)


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes_only_ever_fail_validation(data: bytes) -> None:
    try:
        decode_events(data)
    except InvalidEvent as error:
        assert error.message


@FUZZ
@given(JSON)
def test_random_json_only_ever_fails_validation(value: object) -> None:
    try:
        decode_events(json.dumps(value))
    except InvalidEvent as error:
        assert error.message


@FUZZ
@given(
    st.sampled_from(["meeting_held", "channel_suspended", "event_corrected", "sanction_applied"]),
    st.dictionaries(FIELDS, JSON, max_size=4),
)
def test_mutated_events_only_ever_fail_validation(type_: str, changes: dict) -> None:
    body = event_dict(type_) | changes
    try:
        events, _ = decode_events(json.dumps(body))
    except InvalidEvent as error:
        assert error.message
    else:
        assert events[0].channel


@FUZZ
@given(st.text(max_size=40))
def test_time_parameters_only_ever_fail_with_a_message(value: str) -> None:
    for parse in (clock.parse_as_of, clock.parse_known_at):
        try:
            parse(value)
        except ValueError as error:
            assert str(error).startswith(("as_of:", "known_at:"))


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcess]:
    """The app in this process: what these tests check is the app's answer, not the socket's."""
    running = InProcess(tmp_path_factory.mktemp("security") / "diplo.db").start()
    yield running
    running.stop()


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(
    st.text(max_size=40),
    st.sampled_from(
        ["/channels", "/channels/us-cn-mmca", "/sanctions", "/events", "/channels/us-cn-mmca/timeline", "/commitments"]
    ),
    st.sampled_from(["as_of", "known_at", "channel", "type", "after", "limit", "from", "to"]),
)
def test_query_parameters_never_cause_a_server_error(app: InProcess, value: str, path: str, name: str) -> None:
    answer = app.client().get(path, params={name: value})
    assert answer.status_code < 500, (path, name, value, answer.text)


def test_sql_meaningful_strings_change_nothing(app: InProcess) -> None:
    client = app.client()
    head = client.get("/log/head").json()
    nasty = ["'; DROP TABLE events; --", "1 OR 1=1", '" OR ""="', "us-cn-mmca' --", "%", "_", "\\", "\x00"]
    for value in nasty:
        for path in ("/channels", "/events", "/sanctions"):
            for name in ("as_of", "known_at", "channel", "type", "from"):
                assert client.get(path, params={name: value}).status_code < 500
        assert client.get(f"/channels/{quote(value, safe='')}").status_code in (400, 404)
    assert client.get("/log/head").json() == head


def test_a_slow_client_cannot_hold_the_writer(live: LiveServer) -> None:
    with live.client(ADMIN) as admin:
        admin.post("/events", json=event_dict("channel_established", "slow-test", "2000-01-01"))
    slow = socket.create_connection(("127.0.0.1", live.port))
    slow.sendall(
        b"POST /events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
        + ADMIN.encode()
        + b'\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"type": '
    )
    try:
        started = time.monotonic()
        with live.client(ADMIN) as admin:
            for day in ("2001-01-01", "2001-01-02", "2001-01-03"):
                assert admin.post("/events", json=event_dict("meeting_held", "slow-test", day)).status_code == 201
        assert time.monotonic() - started < 3  # the half-sent body holds nothing but its own connection
    finally:
        slow.close()


def test_tokens_are_stored_only_as_hashes(app: InProcess) -> None:
    secret = app.token("writer", "hash-check")
    conn = sqlite3.connect(app.db)
    try:
        rows = conn.execute("SELECT name, role, token_hash FROM tokens").fetchall()
        dump = "\n".join(conn.iterdump())
    finally:
        conn.close()
    assert ("hash-check", "writer", tokens.hash_token(secret)) in rows
    assert secret not in dump and ADMIN not in dump


def test_cors_is_off_by_default(app: InProcess) -> None:
    answer = app.client().request(
        "OPTIONS", "/channels", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    )
    assert "access-control-allow-origin" not in answer.headers
    plain = app.client().get("/channels", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in plain.headers
    assert plain.headers["x-content-type-options"] == "nosniff"


def test_cors_can_be_configured(tmp_path: Path) -> None:
    environ = {"DIPLO_DB": str(tmp_path / "cors.db"), "DIPLO_CORS_ORIGINS": "https://newsroom.example"}
    with TestClient(create_app(Settings.from_env(environ))) as client:
        answer = client.get("/channels", headers={"Origin": "https://newsroom.example"})
        assert answer.headers["access-control-allow-origin"] == "https://newsroom.example"
        other = client.get("/channels", headers={"Origin": "https://evil.example"})
        assert other.headers.get("access-control-allow-origin") != "https://evil.example"


def test_repeated_bad_tokens_are_slowed_and_logged(tmp_path: Path) -> None:
    server = LiveServer(tmp_path / "brake.db").start()
    try:
        statuses = [
            httpx.post(server.url + "/events", json={}, headers={"Authorization": f"Bearer guess-{i}"}).status_code
            for i in range(12)
        ]
        assert statuses[:10] == [401] * 10
        assert statuses[-1] == 429
        throttled = httpx.post(server.url + "/events", json={}, headers={"Authorization": "Bearer guess-again"})
        assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) > 0
    finally:
        server.stop()
    lines = [json.loads(line) for line in server.logs().splitlines() if line.startswith("{")]
    assert sum(r.get("event") == "auth.bad_token" for r in lines) == 10
    assert any(r.get("event") == "auth.throttled" for r in lines)
    assert "guess-" not in server.logs()


@pytest.fixture
def app_client(tmp_path: Path) -> Iterator[TestClient]:
    settings_ = Settings(db=tmp_path / "auth.db", seed=False, admin_token=ADMIN)
    SQLiteLog(settings_.db).close()  # create the schema, then the admin token as `diplo serve` does
    ensure_admin_token(settings_)
    with TestClient(create_app(settings_)) as client:
        yield client


def test_a_valid_token_is_never_refused_after_mistyped_ones(app_client: TestClient) -> None:
    """A new user who mistypes $TOKEN a dozen times is not locked out once they get it right."""
    for i in range(12):
        app_client.post("/admin/verify", headers={"Authorization": f"Bearer typo-{i}"})
    assert app_client.post("/admin/verify", headers={"Authorization": "Bearer typo-x"}).status_code == 429
    answer = app_client.post("/admin/verify", headers={"Authorization": f"Bearer {ADMIN}"})
    assert answer.status_code == 200, answer.text


def test_a_token_without_the_bearer_scheme_is_told_so(app_client: TestClient) -> None:
    answer = app_client.post("/admin/verify", headers={"Authorization": ADMIN})
    assert answer.status_code == 401
    detail = answer.json()["detail"]
    assert "Bearer" in detail and "unknown or revoked" not in detail
    assert "Authorization: Bearer <token>" in detail
    basic = app_client.post("/admin/verify", headers={"Authorization": "Basic " + ADMIN}).json()["detail"]
    assert "Basic" in basic and "Authorization: Bearer <token>" in basic
    empty = app_client.post("/admin/verify", headers={"Authorization": "Bearer "}).json()["detail"]
    assert "empty" in empty


def test_a_request_without_a_token_is_told_which_token_the_route_needs(app_client: TestClient) -> None:
    admin = app_client.post("/admin/verify").json()["detail"]
    assert admin.startswith("this route needs an admin token")
    writer = app_client.post("/events", json={}).json()["detail"]
    assert writer.startswith("this route needs a writer token")


def test_a_missing_scheme_does_not_count_toward_the_brake(app_client: TestClient) -> None:
    for _ in range(12):
        assert app_client.post("/admin/verify", headers={"Authorization": "typo"}).status_code == 401
    assert app_client.post("/admin/verify", headers={"Authorization": "Bearer typo"}).status_code == 401


@pytest.mark.parametrize("path", ["/admin/replay", "/admin/verify"])
def test_admin_routes_need_an_admin_token_in_every_combination(app: InProcess, path: str) -> None:
    writer = app.token("writer", f"w-{path.rsplit('/', 1)[-1]}")
    attempts = [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic " + ADMIN},
        {"Authorization": f"bearer {writer}"},
        {"Authorization": f"Bearer {ADMIN}x"},
        {"Authorization": f"Bearer {ADMIN[:-1]}"},
        {"X-Api-Key": ADMIN},
    ]
    for headers in attempts:
        assert app.client().post(path, headers=headers).status_code in (401, 403), headers
    assert app.client().post(path, headers={"Authorization": f"Bearer {ADMIN}"}).status_code == 200
