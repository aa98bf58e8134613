"""The status board in a real browser (Debian's chromium, headless) against the real server."""

from __future__ import annotations

import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from factory import event_dict
from live import ADMIN, LiveServer

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
SCREENSHOT = Path(__file__).parent.parent / "docs" / "board.png"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path_factory.mktemp("board") / "board.db", seed=True).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator:
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian's chromium is not installed (apt-get install chromium); .ci/run installs it")
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


def badge(page, channel: str) -> str:  # type: ignore[no-untyped-def]
    return page.locator(f"#row-{channel} .badge").inner_text().strip()


@pytest.mark.browser
def test_board_lists_every_channel_and_travels_in_time(seeded: LiveServer, browser) -> None:  # type: ignore[no-untyped-def]
    channels = {c["channel"] for c in httpx.get(seeded.url + "/channels").json()["channels"]}
    page = browser.new_page(viewport={"width": 1500, "height": 1100})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(seeded.url + "/")
    rows = page.locator("tbody tr[data-channel]")
    assert {rows.nth(i).get_attribute("data-channel") for i in range(rows.count())} == channels
    page.fill("#as_of", "2023-06-01")
    page.click("button[type=submit]")
    page.wait_for_url("**as_of=2023-06-01**")
    assert badge(page, "us-cn-mmca").endswith("suspended")
    page.fill("#as_of", "2024-05-01")
    page.click("button[type=submit]")
    page.wait_for_url("**as_of=2024-05-01**")
    assert badge(page, "us-cn-mmca").endswith("active")
    # Keyboard: the date control and the timeline ticks are reachable with Tab.
    page.focus("#as_of")
    assert page.evaluate("document.activeElement.id") == "as_of"
    assert page.locator("#row-us-cn-mmca svg a.tick").count() >= 2
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=False)
    assert not [e for e in errors if "Content Security Policy" in e]
    page.close()


@pytest.mark.browser
def test_a_posted_event_updates_the_open_page_within_two_seconds(seeded: LiveServer, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    page.goto(seeded.url + "/")
    page.wait_for_selector("#live-status:has-text('Live')", timeout=5000)
    assert badge(page, "us-cn-arms-control").endswith("suspended")
    with seeded.client(ADMIN) as admin:
        posted = admin.post("/events", json=event_dict("channel_resumed", "us-cn-arms-control", "2025-06-01"))
        assert posted.status_code == 201
    # No eval-based waiting: the page's CSP forbids it, as it should.
    page.wait_for_selector("#row-us-cn-arms-control .badge:has-text('active')", timeout=2000)
    page.close()


def test_event_page_for_people_and_json_for_programs(seeded: LiveServer) -> None:
    with seeded.client(ADMIN) as admin:
        target = admin.post(
            "/events",
            json=event_dict(
                "meeting_held", "us-cn-climate", "2025-01-02", summary="A <script>alert(1)</script> meeting"
            ),
        ).json()
        admin.post(
            "/events",
            json=event_dict(
                "event_corrected",
                "us-cn-climate",
                "2025-01-03",
                target_id=target["id"],
                changes={"occurred_on": "2025-01-01"},
            ),
        )
    html = httpx.get(f"{seeded.url}/events/{target['id']}", headers={"Accept": "text/html"})
    assert html.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in html.headers["content-security-policy"]
    assert "&lt;script&gt;" in html.text and "<script>alert" not in html.text  # escaped, never run
    assert "event_corrected" in html.text  # the correction that touches it is listed
    as_json = httpx.get(f"{seeded.url}/events/{target['id']}")
    assert as_json.json()["id"] == target["id"]


def test_atom_feed_lists_the_latest_status_changes(seeded: LiveServer) -> None:
    feed = httpx.get(seeded.url + "/feed.atom")
    assert feed.headers["content-type"].startswith("application/atom+xml")
    root = ET.fromstring(feed.content)
    assert root.tag == f"{ATOM}feed"
    titles = [e.findtext(f"{ATOM}title") for e in root.iter(f"{ATOM}entry")]
    assert titles and len(titles) <= 50
    assert any(t.startswith("us-cn-mmca: active since 2024-04-03") for t in titles)
    published = [e.findtext(f"{ATOM}published") for e in root.iter(f"{ATOM}entry")]
    assert published == sorted(published, reverse=True)  # newest first


def _luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def _contrast(a: str, b: str) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_status_badges_and_links_pass_wcag_aa_contrast() -> None:
    import re

    css = (Path(__file__).parent.parent / "service" / "static" / "board.css").read_text()
    badges = re.findall(r"\.badge\.([\w-]+) \{ background: (#[0-9a-f]{6}); color: (#[0-9a-f]{6}); \}", css)
    statuses = {"active", "agreed", "restricted", "suspended", "closed", "unknown"}
    measures = {"measure-in_force", "measure-suspended", "measure-expired"}
    assert {name for name, _, _ in badges} == statuses | measures
    assert len({(b, c) for name, b, c in badges if name in statuses}) == len(statuses)  # a colour of its own each
    for name, background, colour in badges:
        assert _contrast(background, colour) >= 4.5, name
    flag = re.search(r"\.flag\.dormant \{[^}]*; color: (#[0-9a-f]{6});", css).group(1)  # type: ignore[union-attr]
    assert _contrast(flag, "#ffffff") >= 4.5
    link = re.search(r"^a \{ color: (#[0-9a-f]{6}); \}", css, flags=re.M).group(1)  # type: ignore[union-attr]
    assert _contrast(link, "#ffffff") >= 4.5
    muted = re.search(r"--muted: (#[0-9a-f]{6})", css).group(1)  # type: ignore[union-attr]
    assert _contrast(muted, "#ffffff") >= 4.5 and _contrast(muted, "#f3f4f6") >= 4.5


@pytest.mark.browser
def test_controls_and_timeline_ticks_are_reachable_by_keyboard(seeded: LiveServer, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    page.goto(seeded.url + "/?as_of=2024-05-01")
    reached = set()
    for _ in range(40):
        page.keyboard.press("Tab")
        reached.add(page.evaluate("document.activeElement.id || document.activeElement.tagName"))
        if "a" in reached and {"as_of", "known_at", "BUTTON"} <= reached:
            break
    assert {"as_of", "known_at", "BUTTON"} <= reached
    # Tabbing on reaches the timeline ticks (SVG links) too; focusing one shows the event.
    for _ in range(200):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.getAttribute('class')") == "tick":
            break
    label = page.evaluate("document.activeElement.getAttribute('aria-label')")
    assert label and label[:4].isdigit()  # "2021-12-14: Virtual MMCA talks begin ..."
    page.close()


@pytest.mark.browser
def test_known_at_control_shows_the_board_as_known_then(seeded: LiveServer, browser) -> None:  # type: ignore[no-untyped-def]
    page = browser.new_page()
    page.goto(seeded.url + "/")
    page.fill("#known_at", "2001-01-01T00:00:00")
    page.click("button[type=submit]")
    page.wait_for_url("**known_at=2001-01-01T00**")
    assert "as known at 2001-01-01T00:00:00" in page.locator("h1").inner_text()
    assert page.locator("tbody tr[data-channel]").count() == 0  # nothing had been recorded yet then
    page.close()
