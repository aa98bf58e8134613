"""Every view of an event (board row, timeline ticks, feed entry, event page) reads it as amended,
as known at the view's ``known_at``; and no single stored row can break a page or the feed."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from factory import event_dict, make
from litestar.testing import TestClient

from diplo.service.app import create_app
from diplo.service.runtime import ensure_admin_token
from diplo.service.settings import Settings

ADMIN = {"Authorization": "Bearer test-admin-token-0123456789"}
HTML = {"Accept": "text/html"}
ATOM = "{http://www.w3.org/2005/Atom}"
CHANNEL = "us-cn-mmca"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(db=tmp_path / "d.db", seed=False, admin_token="test-admin-token-0123456789")
    with TestClient(create_app(settings)) as test_client:
        ensure_admin_token(settings)  # the server does this at start-up, before serving
        yield test_client


def post(client: TestClient, type_: str, occurred_on: str, **fields: Any) -> dict:
    response = client.post("/events", json=event_dict(type_, CHANNEL, occurred_on, **fields), headers=ADMIN)
    assert response.status_code == 201, response.text
    return response.json()


def feed_entries(client: TestClient, **params: str) -> list[tuple[str, str]]:
    response = client.get("/feed.atom", params=params)
    assert response.status_code == 200, response.text
    root = ET.fromstring(response.content)
    return [(e.findtext(f"{ATOM}title") or "", e.findtext(f"{ATOM}summary") or "") for e in root.iter(f"{ATOM}entry")]


def ticks(html: str) -> list[str]:
    """The aria-labels of the board's meeting ticks: '<date>: <summary>'."""
    return [unescape(label) for label in re.findall(r'<a class="tick" href="[^"]*" aria-label="([^"]*)"', html)]


@pytest.fixture
def amended(client: TestClient) -> dict[str, dict]:
    """A channel whose suspension is corrected, one meeting moved, another retracted."""
    post(client, "channel_established", "2021-01-01")
    suspended = post(client, "channel_suspended", "2022-08-05", summary="Suspended with a typo")
    moved = post(client, "meeting_held", "2021-06-01", summary="Talks in Hanoi")
    retracted = post(client, "meeting_held", "2021-09-01", summary="Talks that never were")
    before = client.get("/log/head").json()  # the moment before any amendment
    known_before = client.get(f"/events/{retracted['id']}").json()["recorded_at"]
    post(
        client,
        "event_corrected",
        "2022-08-06",
        target_id=suspended["id"],
        changes={
            "summary": "Suspended after the Speaker's visit",
            "sources": [{"url": "https://example.org/corrected", "publisher": "Corrected Wire"}],
        },
    )
    post(client, "event_corrected", "2022-08-06", target_id=moved["id"], changes={"occurred_on": "2021-07-15"})
    post(client, "event_retracted", "2022-08-06", target_id=retracted["id"])
    return {"suspended": suspended, "moved": moved, "retracted": retracted, "before": before, "at": known_before}


def test_board_row_shows_the_corrected_summary_and_sources(client: TestClient, amended: dict) -> None:
    html = unescape(client.get("/").text)
    assert "Suspended after the Speaker's visit" in html
    assert "Corrected Wire" in html
    assert "Suspended with a typo" not in html and "Example Wire" not in html


def test_board_ticks_show_meetings_at_corrected_dates_and_not_retracted_ones(client: TestClient, amended: dict) -> None:
    labels = ticks(client.get("/").text)
    assert labels == ["2021-07-15: Talks in Hanoi"]


def test_board_known_before_the_amendments_shows_the_originals(client: TestClient, amended: dict) -> None:
    html = client.get("/", params={"known_at": amended["at"]}).text
    assert "Suspended with a typo" in html and "Speaker" not in html
    assert sorted(ticks(html)) == ["2021-06-01: Talks in Hanoi", "2021-09-01: Talks that never were"]


def test_feed_shows_corrected_entries_and_originals_when_known_before(client: TestClient, amended: dict) -> None:
    entries = feed_entries(client)
    summaries = [summary for _, summary in entries]
    assert "Suspended after the Speaker's visit" in summaries
    assert "Suspended with a typo" not in summaries
    before = [summary for _, summary in feed_entries(client, known_at=amended["at"])]
    assert "Suspended with a typo" in before and "Suspended after the Speaker's visit" not in before


def test_feed_leaves_out_a_retracted_status_change(client: TestClient) -> None:
    post(client, "channel_established", "2021-01-01")
    closed = post(client, "channel_closed", "2023-01-01", summary="Closed in error")
    at = client.get(f"/events/{closed['id']}").json()["recorded_at"]
    post(client, "event_retracted", "2023-01-02", target_id=closed["id"])
    assert not any("Closed in error" in s for _, s in feed_entries(client))
    assert any("Closed in error" in s for _, s in feed_entries(client, known_at=at))


def test_a_channel_suspended_the_day_it_was_established_has_no_active_entry(client: TestClient) -> None:
    post(client, "channel_established", "2021-01-01", summary="Talks set up")
    post(client, "channel_suspended", "2021-01-01", summary="Suspended at once")
    summaries = [s for _, s in feed_entries(client)]
    assert any("Suspended at once" in s for s in summaries)
    assert not any("Talks set up" in s for s in summaries)  # it was active on no day


def test_event_page_shows_the_event_as_corrected_as_known_at(client: TestClient, amended: dict) -> None:
    moved = amended["moved"]["id"]
    page = client.get(f"/events/{moved}", headers=HTML).text
    assert "<dt>Occurred on</dt><dd>2021-07-15</dd>" in page
    then = client.get(f"/events/{moved}", params={"known_at": amended["at"]}, headers=HTML).text
    assert "<dt>Occurred on</dt><dd>2021-06-01</dd>" in then and "2021-07-15" not in then
    suspended = client.get(f"/events/{amended['suspended']['id']}", headers=HTML).text
    assert "Speaker" in suspended and "Corrected Wire" in suspended
    assert "<h1>Suspended with a typo</h1>" not in suspended


def test_event_page_of_a_retracted_event_says_so(client: TestClient, amended: dict) -> None:
    retracted = amended["retracted"]["id"]
    page = client.get(f"/events/{retracted}", headers=HTML).text
    assert "Retracted" in page
    then = client.get(f"/events/{retracted}", params={"known_at": amended["at"]}, headers=HTML).text
    assert "Retracted" not in then


def test_event_page_refuses_a_bad_known_at(client: TestClient, amended: dict) -> None:
    response = client.get(f"/events/{amended['moved']['id']}", params={"known_at": "yesterday"}, headers=HTML)
    assert response.status_code == 400
    assert response.json()["field"] == "known_at"


# -- no single stored row breaks a page ------------------------------------------------------------

XML_INCOMPATIBLE = "".join(map(chr, [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF]))


@pytest.fixture
def dirty(client: TestClient) -> dict[str, str]:
    """Rows holding characters XML forbids, written straight to the log past the door's validation:
    a database from before the door refused them may hold such rows."""
    post(client, "channel_established", "2021-01-01")
    bad = make("channel_suspended", CHANNEL, "2022-01-01", summary=f"Bad{XML_INCOMPATIBLE}text", reason="x\x00y")
    meeting = make("meeting_held", CHANNEL, "2021-06-01", summary=f"Meeting{XML_INCOMPATIBLE}")
    client.app.state.runtime.log.append([bad, meeting])
    return {"status": str(bad.id), "meeting": str(meeting.id)}


def test_the_feed_renders_a_row_with_xml_incompatible_characters(client: TestClient, dirty: dict) -> None:
    assert "Badtext" in [summary for _, summary in feed_entries(client)]


def test_the_board_and_event_pages_render_a_row_with_xml_incompatible_characters(
    client: TestClient, dirty: dict
) -> None:
    board = client.get("/")
    assert board.status_code == 200
    assert "Badtext" in board.text and "2021-06-01: Meeting" in ticks(board.text)
    for event_id in dirty.values():
        page = client.get(f"/events/{event_id}", headers=HTML)
        assert page.status_code == 200
        assert not re.search(f"[{re.escape(XML_INCOMPATIBLE)}]", page.text)
