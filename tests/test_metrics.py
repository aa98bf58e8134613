"""/metrics as Prometheus scrapes it: requests counted by method, route template and status; itself not."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from factory import event_dict
from inprocess import ADMIN, InProcess
from prometheus_client.parser import text_string_to_metric_families


@pytest.fixture
def app(tmp_path: Path) -> Iterator[InProcess]:
    server = InProcess(tmp_path / "diplo.db").start()
    with server.client(ADMIN) as admin:
        for channel in ("us-cn-mmca", "us-cn-mil-to-mil"):
            assert (
                admin.post("/events", json=event_dict("channel_established", channel, "2020-01-01")).status_code == 201
            )
    yield server
    server.stop()


def requests_total(app: InProcess) -> dict[tuple[str, str, str], float]:
    """diplo_http_requests_total by (method, path, status), as a scrape reads it (the registry is the process's)."""
    text = app.client().get("/metrics").text
    return {
        (s.labels["method"], s.labels["path"], s.labels["status_code"]): s.value
        for family in text_string_to_metric_families(text)
        if family.name == "diplo_http_requests"
        for s in family.samples
        if s.name == "diplo_http_requests_total"
    }


def test_requests_are_counted_by_route_template_and_status_and_scrapes_are_not(app: InProcess) -> None:
    before = requests_total(app)
    client = app.client()
    for channel in ("us-cn-mmca", "us-cn-mil-to-mil"):
        assert client.get(f"/channels/{channel}", params={"as_of": "2023-06-01"}).status_code == 200
    assert client.get("/channels/no-such-channel").status_code == 404
    after = requests_total(app)

    def added(key: tuple[str, str, str]) -> float:
        return after.get(key, 0) - before.get(key, 0)

    assert added(("GET", "/channels/{channel}", "200")) == 2  # one series for every channel: the template
    assert added(("GET", "/channels/{channel}", "404")) == 1
    assert not [key for key in after if key[1] == "/metrics"]  # scraping is not a request worth counting
    progress = app.client().get("/metrics").text
    assert 'diplo_http_requests_in_progress{app_name="diplo",method="GET",path="/channels/{channel}"} 0.0' in progress
