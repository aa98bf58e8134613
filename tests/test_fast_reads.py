"""GET /channels/{channel} answered by the middleware's short way equals the route's answer, byte for byte."""

from __future__ import annotations

from pathlib import Path

import pytest
from factory import established, make
from litestar.testing import TestClient

from diplo.service import app as service_app
from diplo.service.app import create_app
from diplo.service.settings import Settings

TOKEN = "test-admin-token-0123456789"


def test_the_short_way_answers_as_the_route_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app = create_app(Settings(db=tmp_path / "d.db", seed=False, admin_token=TOKEN))
    taken: list[bool] = []
    real = service_app._channel_answer
    monkeypatch.setattr(service_app, "_channel_answer", lambda scope: taken.append(bool(b := real(scope))) or b)
    with TestClient(app) as client:
        log = app.state.runtime.log
        log.append([established(), make("channel_suspended", occurred_on="2022-08-05")])
        moment = log.read()[-1].recorded_at
        log.append([make("channel_resumed", occurred_on="2023-11-15")])
        for query in ("", "?as_of=2023-01-01", f"?known_at={moment}", f"?as_of=2024-01-01&known_at={moment}"):
            short = client.get(f"/channels/us-cn-mmca{query}")
            routed = client.get(f"/channels/us-cn-mmca{query}{'&' if query else '?'}other=1")  # not the short way
            assert short.status_code == routed.status_code == 200
            assert short.content == routed.content
            assert {k: v for k, v in short.headers.items() if k != "x-request-id"} == {
                k: v for k, v in routed.headers.items() if k != "x-request-id"
            }
            assert short.headers["x-request-id"]
        assert taken.count(True) == 4
        # Errors are the route's: a bad date, an unknown channel.
        bad = client.get("/channels/us-cn-mmca?as_of=2023-02-30")
        assert bad.status_code == 400 and bad.headers["content-type"] == "application/problem+json"
        assert client.get("/channels/no-such-channel").status_code == 404


def test_a_browser_asking_for_a_channel_gets_its_page_not_the_short_way(tmp_path: Path) -> None:
    app = create_app(Settings(db=tmp_path / "d.db", seed=False, admin_token=TOKEN))
    with TestClient(app) as client:
        app.state.runtime.log.append([established()])
        page = client.get("/channels/us-cn-mmca", headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
        assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
        assert "<html" in page.text.lower()
        answer = client.get("/channels/us-cn-mmca", headers={"Accept": "application/json"})
        assert answer.headers["content-type"] == "application/json" and answer.json()["channel"] == "us-cn-mmca"
