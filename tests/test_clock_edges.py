"""Edges of the two clocks: a next meeting already past on the asked day, and a known_at before
the channel was recorded (answered like an as_of before it began: 200, status unknown)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from factory import event_dict
from litestar.testing import TestClient

from diplo.service.app import create_app
from diplo.service.runtime import ensure_admin_token
from diplo.service.settings import Settings

ADMIN = {"Authorization": "Bearer test-admin-token-0123456789"}
CHANNEL = "us-cn-mmca"
BEFORE_ANYTHING = "2001-01-01T00:00:00Z"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(db=tmp_path / "d.db", seed=False, admin_token="test-admin-token-0123456789")
    with TestClient(create_app(settings)) as test_client:
        ensure_admin_token(settings)  # the server does this at start-up, before serving
        yield test_client


def post(client: TestClient, type_: str, occurred_on: str, channel: str = CHANNEL, **fields: Any) -> dict:
    response = client.post("/events", json=event_dict(type_, channel, occurred_on, **fields), headers=ADMIN)
    assert response.status_code == 201, response.text
    return response.json()


def next_meeting(client: TestClient, **params: str) -> str | None:
    response = client.get(f"/channels/{CHANNEL}", params=params)
    assert response.status_code == 200, response.text
    listed = client.get("/channels", params=params).json()["channels"]
    assert [c["next_meeting"] for c in listed if c["channel"] == CHANNEL] == [response.json()["next_meeting"]]
    return response.json()["next_meeting"]


# -- (a) next_meeting is never before the day asked about ------------------------------------------


def test_next_meeting_is_shown_only_on_or_before_its_day(client: TestClient) -> None:
    post(client, "channel_established", "2021-01-01")
    post(client, "meeting_scheduled", "2023-01-01", scheduled_for="2023-03-01")
    assert next_meeting(client, as_of="2023-02-01") == "2023-03-01"
    assert next_meeting(client, as_of="2023-03-01") == "2023-03-01"  # the day itself: still ahead that morning
    assert next_meeting(client, as_of="2023-03-02") is None
    assert next_meeting(client) is None  # no as_of: today, long after 2023-03-01


def test_a_future_next_meeting_is_past_for_a_later_as_of(client: TestClient) -> None:
    post(client, "channel_established", "2021-01-01")
    post(client, "meeting_scheduled", "2024-01-01", scheduled_for="2030-01-01")
    assert next_meeting(client) == "2030-01-01"
    assert next_meeting(client, as_of="2030-01-01") == "2030-01-01"
    assert next_meeting(client, as_of="2030-01-02") is None
    assert next_meeting(client, as_of="2030-01-02", known_at=dt.date.today().isoformat()) is None


def test_the_board_shows_no_past_next_meeting(client: TestClient) -> None:
    post(client, "channel_established", "2021-01-01")
    post(client, "meeting_scheduled", "2023-01-01", scheduled_for="2023-03-01")
    assert '<td class="date">2023-03-01</td>' in unescape(client.get("/", params={"as_of": "2023-02-01"}).text)
    assert "2023-03-01" not in client.get("/", params={"as_of": "2023-06-01"}).text
    assert "2023-03-01" not in client.get("/").text


# -- (b) known_at before the channel was recorded ---------------------------------------------------


def test_known_at_before_the_channel_was_recorded_answers_unknown_like_as_of_does(client: TestClient) -> None:
    post(client, "channel_established", "2021-01-01")
    early = client.get(f"/channels/{CHANNEL}", params={"as_of": "2000-01-01"})
    assert early.status_code == 200
    assert (early.json()["status"], early.json()["known"]) == ("unknown", True)  # known, not yet begun
    before = client.get(f"/channels/{CHANNEL}", params={"known_at": BEFORE_ANYTHING})
    assert before.status_code == 200
    body = before.json()
    assert (body["status"], body["known"], body["version"], body["name"]) == ("unknown", False, 0, None)
    assert body["known_at"] == "2001-01-01T00:00:00.000000Z"
    now = client.get(f"/channels/{CHANNEL}").json()
    assert (now["status"], now["known"]) == ("active", True)


def test_a_channel_never_recorded_is_404_whatever_the_clocks(client: TestClient) -> None:
    post(client, "channel_established", "2021-01-01")
    for params in ({}, {"known_at": BEFORE_ANYTHING}, {"as_of": "2000-01-01"}):
        response = client.get("/channels/nowhere", params=params)
        assert response.status_code == 404, params
        assert response.headers["content-type"].startswith("application/problem+json")
        assert client.get("/channels/nowhere/timeline", params=params).status_code == 404


def test_the_timeline_known_before_the_channel_is_empty_not_404(client: TestClient) -> None:
    post(client, "channel_established", "2021-01-01")
    response = client.get(f"/channels/{CHANNEL}/timeline", params={"known_at": BEFORE_ANYTHING})
    assert response.status_code == 200
    assert response.json()["intervals"] == []


def test_the_channel_list_follows_the_same_rule(client: TestClient) -> None:
    first = post(client, "channel_established", "2021-01-01")
    post(client, "channel_established", "2021-01-01", channel="us-ru-hotline")
    between = client.get(f"/events/{first['id']}").json()["recorded_at"]  # the first recorded, not the second
    listed = client.get("/channels", params={"known_at": BEFORE_ANYTHING}).json()["channels"]
    assert {(c["channel"], c["status"], c["known"]) for c in listed} == {
        (CHANNEL, "unknown", False),
        ("us-ru-hotline", "unknown", False),
    }
    for channel in listed:  # each listed entry is what the channel's own route answers
        assert client.get(f"/channels/{channel['channel']}", params={"known_at": BEFORE_ANYTHING}).json() == channel
    then = client.get("/channels", params={"known_at": between}).json()["channels"]
    assert {(c["channel"], c["known"]) for c in then} == {(CHANNEL, True), ("us-ru-hotline", False)}


def test_the_board_known_before_anything_shows_no_channel(client: TestClient) -> None:
    post(client, "channel_established", "2021-01-01")
    html = client.get("/", params={"known_at": BEFORE_ANYTHING}).text
    assert 'data-channel="' not in html


def test_the_cli_status_shows_no_past_next_meeting(tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner
    from factory import established, make

    from diplo.events import SQLiteLog
    from diplo.service.cli import cli

    log = SQLiteLog(tmp_path / "cli.db")
    log.append(
        [
            established(CHANNEL, "2021-01-01"),
            make("meeting_scheduled", CHANNEL, "2023-01-01", scheduled_for="2023-03-01"),
        ]
    )
    log.close()
    for as_of, expected in (("2023-02-01", "2023-03-01"), ("2023-06-01", None)):
        result = CliRunner().invoke(cli, ["status", "--db", str(tmp_path / "cli.db"), "--as-of", as_of, "--json"])
        assert result.exit_code == 0, result.output
        assert [s["next_meeting"] for s in json.loads(result.output)["channels"]] == [expected]
