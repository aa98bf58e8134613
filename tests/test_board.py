"""The board, the channel pages and /changes in-process, against the fixture world of tests/boardfixture.py.

The browser drives the same pages in test_board_browser.py."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest
from boardfixture import AFTER, EVENTS, LATE, answered, eid, expected_changes
from inprocess import ADMIN, Client, InProcess

from diplo.projections.marks import Mark
from diplo.service import plot

HTML = {"Accept": "text/html"}
ATOM = "{http://www.w3.org/2005/Atom}"


def world(db: Path) -> InProcess:
    server = InProcess(db).start()
    assert server.client(ADMIN).post("/events", json=EVENTS).status_code == 201
    return server


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[InProcess]:
    """The fixture world, once for the module's readers (an app costs ~60 ms to build)."""
    server = world(tmp_path_factory.mktemp("board") / "board.db")
    yield server
    server.stop()


@pytest.fixture(scope="module")
def client(app: InProcess) -> Client:
    return app.client(ADMIN)


@pytest.fixture
def own_client(tmp_path: Path) -> Iterator[Client]:
    """A world of the test's own, for a test that adds to it."""
    server = world(tmp_path / "board.db")
    yield server.client(ADMIN)
    server.stop()


def recorded_at(client: Client, key: str) -> str:
    return client.get(f"/events/{eid(key)}").json()["recorded_at"]


def rows(html: str) -> list[str]:
    """The channels the board lists, in order."""
    return re.findall(r'<tr id="row-[^"]*" data-channel="([^"]*)"', html)


def summary(html: str) -> dict[str, int]:
    """The summary line's counts: {"active": 4, ..., "dormant": 3}."""
    line = re.search(r'<p class="summary".*?</p>', html, re.S).group(0)  # type: ignore[union-attr]
    return {status: int(n) for n, status in re.findall(r"<strong>(\d+)</strong> (\w+)</a>", line)}


# -- the marks of a timeline -------------------------------------------------------------------------


def test_marks_count_each_kind_per_month_at_corrected_dates_and_leave_out_retracted(
    app: InProcess, client: Client
) -> None:
    projections = app.app.state.runtime.projections
    day = dt.date.fromisoformat
    assert projections.marks("fx-mil") == [
        Mark(day("2019-06-01"), "meeting", 1, eid("mil-m1")),
        Mark(day("2020-01-01"), "meeting", 1, eid("mil-m2")),
        Mark(day("2021-09-01"), "contact", 1, eid("mil-contact")),
        Mark(day("2021-10-01"), "cancellation", 1, eid("mil-cancel")),
        Mark(day("2022-03-01"), "meeting", 1, eid("mil-m3")),
        Mark(day("2022-05-01"), "meeting", 1, eid("mil-m4")),  # corrected from 2022-05-02 to 2022-05-12
    ]
    assert projections.marks("fx-climate") == [
        Mark(day("2020-06-01"), "meeting", 1, eid("cli-m1")),
        Mark(day("2021-04-01"), "measure", 1, eid("cli-tariff")),
    ]
    # As known before the amendments: the retracted meeting still there.
    before = recorded_at(client, "q-m1")  # the last event recorded before the two amendments
    assert Mark(day("2021-01-01"), "meeting", 1, eid("cli-ghost")) in projections.marks("fx-climate", before)


def test_marks_in_buckets_count_several_events_under_the_first(app: InProcess, client: Client) -> None:
    projections = app.app.state.runtime.projections
    day = dt.date.fromisoformat
    # Four periods of whole months over 2019-2022: each a calendar year.
    assert projections.marks("fx-mil", None, day("2019-01-01"), day("2022-12-31"), buckets=4) == [
        Mark(day("2019-01-01"), "meeting", 1, eid("mil-m1")),
        Mark(day("2020-01-01"), "meeting", 1, eid("mil-m2")),
        Mark(day("2021-01-01"), "contact", 1, eid("mil-contact")),
        Mark(day("2021-01-01"), "cancellation", 1, eid("mil-cancel")),
        Mark(day("2022-01-01"), "meeting", 2, eid("mil-m3")),
    ]
    assert projections.marks("fx-mil", None, day("2022-01-01"), day("2022-04-01")) == [
        Mark(day("2022-03-01"), "meeting", 1, eid("mil-m3"))
    ]
    with pytest.raises(ValueError, match="buckets"):
        projections.marks("fx-mil", buckets=0)


# -- the axis ------------------------------------------------------------------------------------------


def test_the_axis_has_a_tick_each_year_and_months_when_zoomed() -> None:
    years = plot.axis(plot.Window(dt.date(2018, 1, 1), dt.date(2022, 7, 2)))
    assert [(t.label, t.x) for t in years] == [
        ("2018", 0.0),
        ("2019", round(365 / 1643 * 100, 3)),
        ("2020", round(730 / 1643 * 100, 3)),
        ("2021", round(1096 / 1643 * 100, 3)),
        ("2022", round(1461 / 1643 * 100, 3)),
    ]
    months = plot.axis(plot.Window(dt.date(2021, 11, 15), dt.date(2022, 3, 1)))
    assert [t.day for t in months] == [
        dt.date(2021, 12, 1),
        dt.date(2022, 1, 1),
        dt.date(2022, 2, 1),
        dt.date(2022, 3, 1),
    ]
    assert [t.label for t in months] == ["Dec", "2022", "Feb", None]  # no room right of the last tick for its label
    assert months[-1].x == 100.0
    # Over 18 months every month has a tick, every other one a label (and each January its year).
    longer = plot.axis(plot.Window(dt.date(2021, 1, 1), dt.date(2022, 6, 30)))
    assert len(longer) == 18
    assert [t.label for t in longer if t.label] == ["2021", "Mar", "May", "Jul", "Sep", "Nov", "2022", "Mar", "May"]


# -- the board: summary, filters, set by -----------------------------------------------------------------


def test_the_summary_counts_each_status_and_dormant_on_the_day_shown(client: Client) -> None:
    on_june = client.get("/", params={"as_of": "2022-06-01"}).text
    assert summary(on_june) == {"active": 4, "agreed": 1, "restricted": 0, "suspended": 0, "closed": 1, "dormant": 3}
    on_december = client.get("/", params={"as_of": "2021-12-01"}).text
    assert summary(on_december) == {
        "active": 3,
        "agreed": 1,
        "restricted": 0,
        "suspended": 1,
        "closed": 1,
        "dormant": 3,
    }


@pytest.mark.parametrize(
    ("params", "shown"),
    [
        ({"party": "JPN"}, ["fx-quiet", "fx-trade"]),
        ({"dyad": "USA-CHN"}, ["fx-climate", "fx-mil"]),  # either order of the pair
        ({"dyad": "CHN-USA", "kind": "military"}, ["fx-mil"]),
        ({"kind": "arms-control"}, ["fx-new", "fx-old"]),
        ({"status": "dormant", "as_of": "2022-06-01"}, ["fx-climate", "fx-quiet", "fx-trade"]),
        ({"status": "suspended", "as_of": "2021-12-01"}, ["fx-mil"]),
        ({"status": "closed", "party": "CHN"}, []),
    ],
)
def test_filters_narrow_the_rows_and_stay_in_the_links(client: Client, params: dict, shown: list[str]) -> None:
    html = client.get("/", params=params).text
    assert sorted(rows(html)) == shown
    # The live fragment asks with the same filters, and so do the zoom links.
    source = unescape(re.search(r'data-src="([^"]*)"', html).group(1))  # type: ignore[union-attr]
    for key, value in params.items():
        if key == "dyad":
            value = "-".join(sorted(value.split("-")))
        assert f"{key}={value}" in source
    assert sorted(rows(client.get(source).text)) == shown


def test_summary_counts_are_taken_after_the_party_filter_and_link_to_the_status(client: Client) -> None:
    html = client.get("/", params={"as_of": "2022-06-01", "party": "USA"}).text
    assert summary(html) == {"active": 3, "agreed": 1, "restricted": 0, "suspended": 0, "closed": 1, "dormant": 2}
    link = unescape(re.search(r'<a class="count closed[^"]*" href="([^"]*)"', html).group(1))  # type: ignore[union-attr]
    assert rows(client.get(link).text) == ["fx-old"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"party": "usa"}, "party"),
        ({"party": "XXX"}, "party"),
        ({"dyad": "USA"}, "dyad"),
        ({"dyad": "USA-ZZZ"}, "dyad"),
        ({"status": "sleeping"}, "status"),
        ({"kind": "naval"}, "kind"),
        ({"from": "2022-13-01"}, "from"),
        ({"from": "2022-01-01", "to": "2021-01-01"}, "from"),
        ({"known_at": "yesterday"}, "known_at"),
    ],
)
def test_the_board_refuses_a_filter_that_can_match_nothing(client: Client, params: dict, field: str) -> None:
    for path in ("/", "/board/table"):
        response = client.get(path, params=params)
        assert response.status_code == 400, (path, params)
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["field"] == field
        assert field in response.json()["detail"]


def test_set_by_is_one_short_line_with_its_sources_as_small_links(client: Client) -> None:
    html = client.get("/", params={"as_of": "2021-12-01"}).text
    row = re.search(r'id="row-fx-mil".*?</tr>', html, re.S).group(0)  # type: ignore[union-attr]
    cause = re.search(r'<td class="cause">(.*?)</td>', row, re.S).group(1)  # type: ignore[union-attr]
    line = re.search(r'<span class="line">(.*?)</span>\s*<span class="sources">', cause, re.S).group(1)  # type: ignore[union-attr]
    text = re.sub(r"<[^>]+>", "", line)
    assert text.startswith("suspended · 2021-07-01 · Mil talks suspended after a visit")
    assert text.endswith("…") and len(text) < 110  # shortened; the whole summary is on the event page
    full = next(e["summary"] for e in EVENTS if e["id"] == eid("mil-susp"))
    assert f'title="{full}"' in unescape(cause)
    assert f'href="/events/{eid("mil-susp")}"' in cause
    assert '<a class="source" href="https://example.org/readout" rel="noopener noreferrer">Example Wire</a>' in cause


def test_the_board_plots_every_mark_kind_with_its_date(client: Client) -> None:
    html = unescape(client.get("/").text)
    row = re.search(r'id="row-fx-mil".*?</tr>', html, re.S).group(0)  # type: ignore[union-attr]
    marks = re.findall(r'<a class="tick" href="[^"]*" aria-label="([^"]*)" data-kind="(\w+)"', row)
    assert ("2021-09-01: contact — Mil sideline chat", "contact") in marks
    assert ("2021-10-05: cancelled — Mil round called off", "cancellation") in marks
    assert ("2022-05-12: Mil talks in Manila", "meeting") in marks
    climate = re.search(r'id="row-fx-climate".*?</tr>', html, re.S).group(0)  # type: ignore[union-attr]
    assert '"2021-04-01: measure — US tariff on Chinese solar panels" data-kind="measure"' in climate
    assert "never were" not in climate


# -- the channel page ------------------------------------------------------------------------------------


def test_the_channel_route_answers_a_page_to_browsers_and_json_to_programs(client: Client) -> None:
    page = client.get("/channels/fx-mil", headers=HTML)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert client.get("/channels/fx-mil").json()["channel"] == "fx-mil"
    assert client.get("/channels/fx-mil", headers={"Accept": "application/json"}).json()["status"] == "active"
    missing = client.get("/channels/nowhere", headers=HTML)
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("application/problem+json")
    bad = client.get("/channels/fx-mil", params={"as_of": "2022-02-30"}, headers=HTML)
    assert bad.status_code == 400 and bad.json()["field"] == "as_of"


def test_the_channel_page_shows_its_state_events_officials_registers_and_cadence(client: Client) -> None:
    html = unescape(client.get("/channels/fx-mil", params={"as_of": "2022-06-01"}, headers=HTML).text)
    assert '<span class="badge active">● active</span> since <strong class="date">2022-03-01</strong>' in html
    listed = re.findall(r'<tr id="event-([^"]*)" class="event-row', html)
    order = ["mil-est", "mil-m1", "mil-m2", "mil-c1", "mil-official", "mil-susp", "mil-contact", "mil-cancel"]
    assert listed == [eid(k) for k in [*order, "mil-res", "mil-m3", "mil-c1-kept", "mil-m4"]]
    moved = re.search(rf'<tr id="event-{eid("mil-m4")}".*?</tr>', html, re.S).group(0)  # type: ignore[union-attr]
    assert "2022-05-12" in moved and "corrected" in moved and eid("mil-m4-moved") in moved
    assert "<dt>lead</dt><dd>Admiral Fixture</dd>" in html
    assert '2022-05-12 <span class="muted">(20 days before 2022-06-01)</span>' in html
    assert "every 200 days" in html  # the median of 219, 595, 200 and 53 days, the lower middle
    assert 'id="measure-fx-us-tariff-chn"' in html and "fx-us-steel-jpn" not in html  # between USA and CHN only
    assert "notify large exercises" in html and "soybeans" not in html
    assert "fulfilled" in html
    # Retracted events stay listed on their channel's page, struck through, with the retraction.
    climate = unescape(client.get("/channels/fx-climate", headers=HTML).text)
    ghost = re.search(rf'<tr id="event-{eid("cli-ghost")}" class="event-row retracted".*?</tr>', climate, re.S)
    assert ghost and "retracted" in ghost.group(0) and eid("cli-ghost-gone") in ghost.group(0)


def test_the_channel_page_links_predecessor_and_successor(client: Client) -> None:
    new = client.get("/channels/fx-new", headers=HTML).text
    assert '<dt>Succeeds</dt><dd><a href="/channels/fx-old">fx-old</a></dd>' in new
    old = client.get("/channels/fx-old", headers=HTML).text
    assert '<dt>Succeeded by</dt><dd><a href="/channels/fx-new">fx-new</a></dd>' in old


def test_the_channel_page_as_of_a_day_lists_events_up_to_it(client: Client) -> None:
    html = client.get("/channels/fx-mil", params={"as_of": "2020-12-31"}, headers=HTML).text
    listed = re.findall(r'<tr id="event-([^"]*)" class="event-row', html)
    assert listed == [eid(k) for k in ("mil-est", "mil-m1", "mil-m2", "mil-c1", "mil-official")]
    assert "7 later events not listed" in html


# -- what changed ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2019-01-01", "2022-12-31"),
        ("2021-06-01", "2022-06-01"),
        ("2022-05-12", "2022-05-12"),
        ("2023-01-01", "2023-12-31"),
    ],
)
def test_changes_between_two_days_are_what_the_record_says(client: Client, start: str, end: str) -> None:
    body = client.get("/changes", params={"from": start, "to": end}).json()
    assert (body["from"], body["to"]) == (start, end)
    assert answered(body) == expected_changes(EVENTS, start, end)
    for item in body["meetings"] + body["measures"] + body["commitments"]:
        assert start <= item["event"]["occurred_on"] <= end  # each with its event, as corrected


def test_changes_as_known_at_a_moment_use_the_record_as_it_stood(client: Client) -> None:
    before = recorded_at(client, "q-m1")  # the last event before any amendment
    body = client.get("/changes", params={"from": "2021-01-01", "to": "2022-05-05", "known_at": before}).json()
    meetings = [m["event"]["id"] for m in body["meetings"]]
    assert eid("cli-ghost") in meetings and eid("mil-m4") in meetings  # not yet retracted, not yet moved
    now = client.get("/changes", params={"from": "2021-01-01", "to": "2022-05-05"}).json()
    assert eid("cli-ghost") not in [m["event"]["id"] for m in now["meetings"]]


def test_changes_learned_between_two_moments_are_what_was_recorded_then(own_client: Client) -> None:
    client = own_client
    first = recorded_at(client, "cli-ghost-gone")
    assert client.post("/events", json=LATE).status_code == 201
    second = recorded_at(client, "mil-m2-fix")
    assert client.post("/events", json=AFTER).status_code == 201
    body = client.get("/changes", params={"known_from": first, "known_to": second}).json()
    assert [(c["on"], c["channel"], c["from_status"], c["to_status"]) for c in body["status_changes"]] == [
        ("2019-01-01", "fx-quiet", "active", "suspended")
    ]
    assert [m["event"]["id"] for m in body["meetings"]] == [eid("mil-m5")]  # not the one recorded after
    assert [(m["measure"], m["action"]) for m in body["measures"]] == [("fx-us-rice-jpn", "imposed")]
    assert body["commitments"] == []
    assert [(c["action"], c["target_id"], c["target_summary"]) for c in body["corrections"]] == [
        ("corrected", eid("mil-m2"), "Mil talks in Honolulu")
    ]
    # Without known_to: up to now, the later meeting too.
    everything = client.get("/changes", params={"known_from": first}).json()
    assert [m["event"]["id"] for m in everything["meetings"]] == [eid("mil-m5"), eid("mil-m6")]


def test_the_changes_page_shows_the_same_answer(client: Client) -> None:
    html = client.get("/changes", params={"from": "2021-06-01", "to": "2022-06-01"}, headers=HTML).text
    expected = expected_changes(EVENTS, "2021-06-01", "2022-06-01")
    meetings = re.findall(r'<tr data-channel="[^"]*" data-on="([^"]*)" data-event="([^"]*)">', html)
    assert sorted(meetings) == expected["meetings"]
    measures = re.findall(r'<tr data-measure="([^"]*)" data-action="([^"]*)" data-on="([^"]*)"', html)
    assert sorted((on, m, a) for m, a, on in measures) == [(on, m, a) for on, m, a, _ in expected["measures"]]
    assert '<strong class="commitment fulfilled">kept</strong>' in html


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2022-02-30"}, "from"),
        ({"to": "soon"}, "to"),
        ({"from": "2022-06-01", "to": "2022-01-01"}, "from"),
        ({"known_at": "later"}, "known_at"),
        ({"known_to": "2022-01-01"}, "known_from"),
        ({"known_from": "2022-01-01", "from": "2021-01-01"}, "from"),
        ({"known_from": "2022-01-01", "known_at": "2022-01-01"}, "known_at"),
        ({"known_from": "2022-01-02", "known_to": "2022-01-01"}, "known_from"),
        ({"known_from": "2022-01-01T25:00:00Z"}, "known_from"),
        ({"as_of": "2022-01-01"}, "as_of"),
    ],
)
def test_changes_refuse_a_question_that_cannot_be_answered(client: Client, params: dict, field: str) -> None:
    for headers in ({}, HTML):
        response = client.get("/changes", params=params, headers=headers)
        assert response.status_code == 400, params
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["field"] == field


# -- the feed, the event page, contrast ---------------------------------------------------------------------


def test_atom_feed_lists_the_latest_status_changes_newest_first(client: Client) -> None:
    feed = client.get("/feed.atom")
    assert feed.headers["content-type"].startswith("application/atom+xml")
    root = ET.fromstring(feed.content)
    titles = [e.findtext(f"{ATOM}title") for e in root.iter(f"{ATOM}entry")]
    assert "fx-climate: restricted since 2022-08-05" in titles and "fx-mil: active since 2022-03-01" in titles
    published = [e.findtext(f"{ATOM}published") for e in root.iter(f"{ATOM}entry")]
    assert published == sorted(published, reverse=True)


def test_event_page_for_people_and_json_for_programs(own_client: Client) -> None:
    client = own_client
    posted = client.post(
        "/events",
        json={
            **EVENTS[1],
            "id": eid("xss"),
            "summary": "A <script>alert(1)</script> meeting",
            "occurred_on": "2022-01-02",
        },
    ).json()
    html = client.get(f"/events/{posted['id']}", headers=HTML)
    assert html.headers["content-type"].startswith("text/html")
    assert "&lt;script&gt;" in html.text and "<script>alert" not in html.text
    assert "&lt;script&gt;" in client.get("/channels/fx-mil", headers=HTML).text
    assert client.get(f"/events/{posted['id']}").json()["id"] == posted["id"]


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


CSS = (Path(__file__).parent.parent / "service" / "static" / "board.css").read_text()


def test_status_badges_and_links_pass_wcag_aa_contrast() -> None:
    badges = re.findall(r"\.badge\.([\w-]+) \{ background: (#[0-9a-f]{6}); color: (#[0-9a-f]{6}); \}", CSS)
    statuses = {"active", "agreed", "restricted", "suspended", "closed", "unknown"}
    measures = {"measure-in_force", "measure-suspended", "measure-expired"}
    assert {name for name, _, _ in badges} == statuses | measures
    assert len({(b, c) for name, b, c in badges if name in statuses}) == len(statuses)  # a colour of its own each
    for name, background, colour in badges:
        assert _contrast(background, colour) >= 4.5, name
    flag = re.search(r"\.flag\.dormant \{[^}]*; color: (#[0-9a-f]{6});", CSS).group(1)  # type: ignore[union-attr]
    assert _contrast(flag, "#ffffff") >= 4.5
    link = re.search(r"^a \{ color: (#[0-9a-f]{6}); \}", CSS, flags=re.M).group(1)  # type: ignore[union-attr]
    assert _contrast(link, "#ffffff") >= 4.5
    muted = re.search(r"--muted: (#[0-9a-f]{6})", CSS).group(1)  # type: ignore[union-attr]
    assert _contrast(muted, "#ffffff") >= 4.5 and _contrast(muted, "#f3f4f6") >= 4.5


def test_timeline_bands_wear_the_badge_colours() -> None:
    colours = r"\{ background: (#[0-9a-f]{6}); color: (#[0-9a-f]{6}); \}"
    badges = {name: (bg, fg) for name, bg, fg in re.findall(r"\.badge\.(\w+) " + colours, CSS)}
    fills = r"\{ fill: (#[0-9a-f]{6}); stroke: (#[0-9a-f]{6}); \}"
    bands = {name: (fill, stroke) for name, fill, stroke in re.findall(r"\.band\.(\w+) " + fills, CSS)}
    statuses = ("active", "agreed", "restricted", "suspended", "closed", "unknown")
    assert set(bands) == set(statuses)
    for status in statuses:
        assert bands[status] == badges[status], status
