"""The board, a channel's page and /changes in a real browser (Debian's chromium, headless) against the real
server, on the fixture world of tests/boardfixture.py: what a reader sees, where, and by keyboard."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from boardfixture import CHANNELS, EVENTS, effective, eid, expected_changes
from factory import event_dict
from live import ADMIN, LiveServer

# One worker runs them all (the README's test command distributes with --dist loadgroup): one world
# server and one chromium, not one of each on both workers, fighting for the two cores.
pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.xdist_group("browser")]

# Debian's build of chromium's old headless mode: the same Blink and V8 without the browser's UI processes, half
# the CPU of `chromium --headless` for these tests (26 against 52 core-seconds here). The full browser will do.
CHROMIUM = shutil.which("chromium-headless-shell") or shutil.which("chromium") or "/usr/bin/chromium-headless-shell"
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
DATES = {e["id"]: dt.date.fromisoformat(e["occurred_on"]) for e in effective(EVENTS)}  # as corrected


def start_world(folder: Path) -> LiveServer:
    server = LiveServer(folder / "world.db").start()
    with server.client(ADMIN) as admin:
        assert admin.post("/events", json=EVENTS).status_code == 201
    return server


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """Read only: tests that append start a server of their own."""
    server = start_world(tmp_path_factory.mktemp("world"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator:
    if not Path(CHROMIUM).exists():
        pytest.skip("no Debian chromium (apt-get install chromium-headless-shell); .ci/run installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser) -> Iterator:  # type: ignore[no-untyped-def]
    opened = browser.new_page(viewport={"width": 1400, "height": 1000})
    errors: list[str] = []
    opened.on("console", lambda m: errors.append(m.text) if m.type == "error" and "favicon" not in m.text else None)
    opened.on("pageerror", lambda e: errors.append(str(e)))
    yield opened
    opened.close()
    assert not [e for e in errors if "404" not in e], errors  # no script error, no CSP refusal


def rows(page) -> list[str]:  # type: ignore[no-untyped-def]
    found = page.locator("tbody tr[data-channel]")
    return sorted(found.nth(i).get_attribute("data-channel") for i in range(found.count()))


def centre_x(locator) -> float:  # type: ignore[no-untyped-def]
    box = locator.bounding_box()
    assert box is not None
    return box["x"] + box["width"] / 2


def axis_labels(page, scope: str = "thead svg.axis") -> list[tuple[dt.date, float]]:  # type: ignore[no-untyped-def]
    """Each visible label of the axis as the day it names (a year: its 1 January; a month: its 1st, the year read
    from the labels before it) and where on screen its tick is (a label starts 3 px right of its tick)."""
    labels = page.locator(f"{scope} text.axis-label")
    found: list[tuple[dt.date, float]] = []
    year = None
    for i in range(labels.count()):
        label = labels.nth(i)
        if not label.is_visible():
            continue
        text = label.text_content().strip()
        box = label.bounding_box()
        if text.isdigit():
            year, month = int(text), 1
        else:
            month = MONTHS.index(text) + 1
            year = year or int(page.locator(f"{scope}").get_attribute("data-start")[:4])
        found.append((dt.date(year, month, 1), box["x"] - 3))
    return found


def x_on_axis(labels: list[tuple[dt.date, float]], day: dt.date) -> float:
    """Where ``day`` falls between the two labels around it (linearly in days)."""
    for (d0, x0), (d1, x1) in zip(labels, labels[1:], strict=False):
        if d0 <= day <= d1:
            return x0 + (x1 - x0) * (day - d0).days / (d1 - d0).days
    raise AssertionError(f"{day} is not between two labels of the axis")


def glyph(page, channel: str, summary: str):  # type: ignore[no-untyped-def]
    """The drawn shape of the mark whose label holds ``summary``, in the channel's row."""
    mark = page.locator(f'#row-{channel} a.tick[aria-label*="{summary}"]')
    assert mark.count() == 1, summary
    return mark, mark.locator("line, circle, path").first


MARKED = [  # (channel, summary, event key): one of each kind, and the meeting whose date was corrected
    ("fx-mil", "Mil talks in Beijing", "mil-m1"),
    ("fx-mil", "Mil sideline chat", "mil-contact"),
    ("fx-mil", "Mil round called off", "mil-cancel"),
    ("fx-mil", "Mil talks in Manila", "mil-m4"),
    ("fx-climate", "US tariff on Chinese solar panels", "cli-tariff"),
    ("fx-old", "Old arms talks in Geneva", "old-m1"),
]


@pytest.mark.parametrize(
    ("window", "expected_labels"),
    [
        ("from=2018-01-01&to=2023-06-30", ["2018", "2019", "2020", "2021", "2022", "2023"]),
        ("from=2021-08-15&to=2022-06-15", ["Sep", "Oct", "Nov", "Dec", "2022", "Feb", "Mar", "Apr", "May", "Jun"]),
    ],
)
def test_axis_labels_sit_at_the_dates_of_the_events(world: LiveServer, page, window: str, expected_labels) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{world.url}/?{window}")
    texts = [t.strip() for t in page.locator("thead svg.axis text.axis-label").all_text_contents()]
    assert texts == expected_labels
    labels = axis_labels(page)
    start, end = (dt.date.fromisoformat(v) for v in re.findall(r"\d{4}-\d{2}-\d{2}", window))
    checked = 0
    for channel, summary, key in MARKED:
        day = DATES[eid(key)]
        if not (labels[0][0] <= day <= labels[-1][0]):
            assert page.locator(f'#row-{channel} a.tick[aria-label*="{summary}"]').count() == 0  # outside the window
            continue
        mark, shape = glyph(page, channel, summary)
        assert abs(centre_x(shape) - x_on_axis(labels, day)) <= 2, (summary, day)
        mark.hover()  # the date on hover ...
        assert page.locator("#tip").inner_text().startswith(f"{day}: ")
        checked += 1
    assert checked >= 3
    # ... and every row's bands line up with the same axis: fx-mil's suspension starts on its day.
    if start <= dt.date(2021, 7, 1) <= end:
        band = page.locator("#row-fx-mil rect.band.suspended")
        assert abs(band.bounding_box()["x"] - x_on_axis(labels, dt.date(2021, 7, 1))) <= 2


def test_today_and_the_day_shown_are_marked_on_the_axis(world: LiveServer, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(world.url + "/?as_of=2021-12-01")
    labels = axis_labels(page)
    assert labels[0][0] == dt.date(2018, 1, 1)  # the first year on record
    flag = page.locator("thead svg.axis text.flag.as-of")
    assert flag.text_content() == "as of 2021-12-01"
    assert abs(centre_x(page.locator("thead svg.axis line.as-of")) - x_on_axis(labels, dt.date(2021, 12, 1))) <= 2
    today = dt.datetime.now(dt.UTC).date()
    assert page.locator("thead svg.axis text.flag.today").text_content() == "today"
    line = centre_x(page.locator("thead svg.axis line.today"))
    assert abs(line - x_on_axis(labels, dt.date(today.year, 1, 1))) <= 1 + 366 * (labels[1][1] - labels[0][1]) / 365
    # The badges tell the day shown: fx-mil was suspended then, and the summary counts it.
    assert page.locator("#row-fx-mil .badge").inner_text().endswith("suspended")
    assert "1 suspended" in page.locator("#summary").inner_text()


def test_filters_are_kept_in_the_url_and_narrow_the_rows(world: LiveServer, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(world.url + "/?as_of=2022-06-01")
    assert rows(page) == sorted(CHANNELS)
    page.select_option("#party", "JPN")
    page.click("form.controls button[type=submit]")
    page.wait_for_url("**party=JPN**")
    assert "as_of=2022-06-01" in page.url
    assert rows(page) == ["fx-quiet", "fx-trade"]
    assert page.input_value("#party") == "JPN"
    # The summary counts the filtered channels; each count links to that status.
    assert re.search(r"\b2 active\b.*\b2 dormant\b", page.locator("#summary").inner_text())
    page.click("#summary a.count.dormant")
    page.wait_for_url("**status=dormant**")
    assert "party=JPN" in page.url and rows(page) == ["fx-quiet", "fx-trade"]
    page.select_option("#party", "")
    page.select_option("#dyad", "CHN-USA")
    page.click("form.controls button[type=submit]")
    page.wait_for_url("**dyad=CHN-USA**")
    assert rows(page) == ["fx-climate"]  # the dormant one of the pair; fx-mil met 20 days before
    page.select_option("#status", "")
    page.select_option("#kind", "military")
    page.click("form.controls button[type=submit]")
    page.wait_for_url("**kind=military**")
    assert rows(page) == ["fx-mil"]
    page.reload()
    assert (page.input_value("#dyad"), page.input_value("#kind"), page.input_value("#status")) == (
        "CHN-USA",
        "military",
        "",
    )


def test_the_changes_page_lists_what_the_record_says(world: LiveServer, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(world.url + "/changes")
    page.fill("#from", "2021-06-01")
    page.fill("#to", "2022-07-31")
    page.click("form[aria-label='Between two days'] button")
    page.wait_for_url("**from=2021-06-01**")
    expected = expected_changes(EVENTS, "2021-06-01", "2022-07-31")
    statuses = page.locator("#status-changes tbody tr")
    shown = []
    for i in range(statuses.count()):
        row = statuses.nth(i)
        badges = [b.split()[-1] for b in row.locator(".badge").all_text_contents()]  # "▲ suspended"
        shown.append(
            (
                row.get_attribute("data-on"),
                row.get_attribute("data-channel"),
                badges[0] if len(badges) == 2 else None,
                badges[-1],
            )
        )
    assert sorted(shown) == expected["status_changes"]
    meetings = page.locator("#meetings tbody tr")
    assert (
        sorted(
            (meetings.nth(i).get_attribute("data-on"), meetings.nth(i).get_attribute("data-event"))
            for i in range(meetings.count())
        )
        == expected["meetings"]
    )
    measures = page.locator("#measures tbody tr")
    assert (
        sorted(
            (
                measures.nth(i).get_attribute("data-on"),
                measures.nth(i).get_attribute("data-measure"),
                measures.nth(i).locator("td strong").inner_text(),
                measures.nth(i).get_attribute("data-event"),
            )
            for i in range(measures.count())
        )
        == expected["measures"]
    )
    commitments = page.locator("#commitments tbody tr")
    assert (
        sorted(
            (
                commitments.nth(i).get_attribute("data-on"),
                commitments.nth(i).get_attribute("data-commitment"),
                commitments.nth(i).get_attribute("data-action"),
            )
            for i in range(commitments.count())
        )
        == expected["commitments"]
    )
    assert page.locator("#commitments tbody tr[data-action=breached] strong").inner_text() == "broken"
    # Each change links to its event.
    page.click(f"#meetings tr[data-event='{eid('mil-m4')}'] a[href^='/events/']")
    page.wait_for_url(f"**/events/{eid('mil-m4')}**")
    assert "2022-05-12" in page.locator("dl.event").first.inner_text()


def test_a_channel_page_for_browsers(world: LiveServer, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(world.url + "/?as_of=2022-06-01")
    page.click("#row-fx-mil a.channel-link")
    page.wait_for_url("**/channels/fx-mil?as_of=2022-06-01")
    assert page.locator("h1").inner_text().startswith("FX military talks")
    plot = page.locator("svg.timeline.big")
    assert plot.bounding_box()["width"] > 1200  # the channel's timeline across the page
    labels = axis_labels(page, ".plot-frame svg.axis")
    shape = page.locator('svg.timeline.big a.tick[aria-label*="Mil talks in Manila"] line')
    assert abs(centre_x(shape) - x_on_axis(labels, dt.date(2022, 5, 12))) <= 2
    events = page.locator("table.events tbody tr")
    days = [events.nth(i).locator("td.date").inner_text()[:10] for i in range(events.count())]
    assert days == sorted(days) and len(days) == 12
    assert "Admiral Fixture" in page.locator("#officials-title + dl").inner_text()
    assert page.locator("#measure-fx-us-tariff-chn").count() == 1
    assert "20 days before 2022-06-01" in page.locator("main").inner_text()
    assert httpx.get(world.url + "/channels/fx-mil").json()["status"] == "active"  # programs still get JSON


def test_a_phone_gets_stacked_cards_and_a_readable_timeline(world: LiveServer, browser) -> None:  # type: ignore[no-untyped-def]
    phone = browser.new_page(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    for path in ("/?as_of=2022-06-01", "/channels/fx-mil", "/changes?from=2019-01-01&to=2022-12-31"):
        phone.goto(world.url + path)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390, path  # nothing wider than the phone
    phone.goto(world.url + "/?as_of=2022-06-01")
    card, previous = phone.locator("#row-fx-mil").bounding_box(), phone.locator("#row-fx-climate").bounding_box()
    assert card["width"] >= 350 and previous["width"] >= 350  # a card the phone's width ...
    assert card["y"] >= previous["y"] + previous["height"]  # ... below the one before, not beside it
    assert phone.locator("table.board > thead").first.is_hidden()
    plot = phone.locator("#row-fx-mil svg.timeline")
    assert plot.bounding_box()["width"] >= 300
    years = phone.locator("#row-fx-mil .row-axis text:visible")
    assert years.count() >= 2  # the card carries its own year labels
    assert float(years.first.evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 10
    # The card's labels sit at their years: the same check as on the wide board.
    first, second = years.nth(0), years.nth(1)
    y0, y1 = int(first.text_content()), int(second.text_content())
    x0, x1 = first.bounding_box()["x"] - 2, second.bounding_box()["x"] - 2
    day = dt.date(2021, 7, 1)
    expected = x0 + (x1 - x0) * (day - dt.date(y0, 1, 1)).days / (dt.date(y1, 1, 1) - dt.date(y0, 1, 1)).days
    assert abs(phone.locator("#row-fx-mil rect.band.suspended").bounding_box()["x"] - expected) <= 2
    phone.close()


def test_the_board_prints_on_a4(world: LiveServer, browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    paper = browser.new_page(viewport={"width": 1047, "height": 740})  # A4 landscape less 10 mm margins, at 96 dpi
    for path in ("/?as_of=2022-06-01", "/channels/fx-mil", "/changes?from=2019-01-01&to=2022-12-31"):
        paper.goto(world.url + path)
        paper.emulate_media(media="print")
        assert paper.evaluate("document.documentElement.scrollWidth") <= 1047, path
        assert paper.locator("form.controls").first.is_hidden()
        pdf = paper.pdf(prefer_css_page_size=True, print_background=True)
        sizes = {tuple(round(float(v)) for v in m) for m in re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf)}
        assert sizes == {(842, 595)}, path  # every page A4 landscape, in points
        paper.emulate_media(media="screen")
    paper.close()


def focus_walk(page, wanted: dict[str, str], presses: int = 400) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Press Tab until every selector in ``wanted`` has had the focus; what each focused element was."""
    reached: dict[str, str] = {}
    for _ in range(presses):
        page.keyboard.press("Tab")
        for name, selector in wanted.items():
            if name not in reached and page.evaluate(f"document.activeElement.matches({selector!r})"):
                label = page.evaluate("document.activeElement.getAttribute('aria-label') || ''")
                reached[name] = label
                if name == "mark":  # focus shows the mark's date, as hover does
                    assert page.locator("#tip").is_visible()
                    assert page.locator("#tip").inner_text() == label
        if len(reached) == len(wanted):
            break
    assert set(reached) == set(wanted), set(wanted) - set(reached)
    return reached


def test_every_control_link_and_mark_is_reachable_by_keyboard(world: LiveServer, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(world.url + "/?as_of=2022-06-01")
    reached = focus_walk(
        page,
        {
            "skip": "a.skip",
            "as_of": "#as_of",
            "known_at": "#known_at",
            "party": "#party",
            "dyad": "#dyad",
            "status": "#status",
            "kind": "#kind",
            "show": "form.controls button",
            "count": "#summary a.count",
            "zoom": "nav.zoom a",
            "channel": "a.channel-link",
            "mark": "a.tick",
            "set by": "td.cause .line a",
        },
    )
    assert re.match(r"\d{4}-\d{2}-\d{2}: ", reached["mark"])
    page.goto(world.url + "/channels/fx-mil")
    reached = focus_walk(page, {"mark": "svg.timeline.big a.tick", "event": "table.events th a"})
    assert re.match(r"\d{4}-\d{2}-\d{2}: ", reached["mark"])
    page.goto(world.url + "/changes?from=2019-01-01&to=2022-12-31")
    focus_walk(page, {"from": "#from", "to": "#to", "known_from": "#known_from", "event": "#meetings td a"})
    # Enter follows the focused link.
    page.goto(world.url + "/")
    focus_walk(page, {"channel": "#row-fx-old a.channel-link"})
    page.keyboard.press("Enter")
    page.wait_for_url("**/channels/fx-old")


def test_known_at_control_shows_the_board_as_known_then(world: LiveServer, page) -> None:  # type: ignore[no-untyped-def]
    page.goto(world.url + "/")
    page.fill("#known_at", "2001-01-01T00:00:00")
    page.click("form.controls button[type=submit]")
    page.wait_for_url("**known_at=2001-01-01T00**")
    assert "as known at 2001-01-01T00:00:00" in page.locator("h1").inner_text()
    assert rows(page) == []  # nothing had been recorded yet then


def test_a_posted_event_updates_the_open_page_within_two_seconds(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server = start_world(tmp_path)
    try:
        page = browser.new_page()
        page.goto(server.url + "/?party=JPN")
        page.wait_for_selector("#live-status:has-text('Live')", timeout=5000)
        assert page.locator("#row-fx-quiet .badge").inner_text().endswith("active")
        with server.client(ADMIN) as admin:
            suspended = event_dict("channel_suspended", "fx-quiet", "2023-01-01", by="JPN")
            assert admin.post("/events", json=suspended).status_code == 201
        # No eval-based waiting: the page's CSP forbids it, as it should.
        page.wait_for_selector("#row-fx-quiet .badge:has-text('suspended')", timeout=2000)
        assert rows(page) == ["fx-quiet", "fx-trade"]  # the refreshed table keeps the filter
        page.close()
    finally:
        server.stop()


def test_the_seeded_board_and_every_channel_page_render(browser, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Whatever the seeds hold: every channel is a row, the counts add up, every channel page opens."""
    server = LiveServer(tmp_path / "seeded.db", seed=True).start()
    try:
        channels = httpx.get(server.url + "/channels").json()["channels"]
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
        page.goto(server.url + "/")
        assert rows(page) == sorted(c["channel"] for c in channels)
        counts = re.findall(r"(\d+) (\w+)", page.locator("#summary").inner_text().split("—")[0])
        assert sum(int(n) for n, status in counts if status != "dormant") == len(channels)
        for channel in channels:
            response = httpx.get(f"{server.url}/channels/{channel['channel']}", headers={"Accept": "text/html"})
            assert response.status_code == 200, channel["channel"]
        assert not errors
        page.close()
    finally:
        server.stop()
