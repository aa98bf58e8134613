"""The README's screenshots, from the seeded record in Debian's chromium: python tests/screenshots.py

Writes docs/board.png, docs/channel.png and docs/changes.png (1400 x 1000 px).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import httpx
from live import LiveServer  # run as a script, its own folder is on sys.path

DOCS = Path(__file__).parent.parent / "docs"
PAGES = {
    "board.png": "/?as_of=2023-06-01&dyad=CHN-USA",
    "channel.png": "/channels/{channel}",
    "changes.png": "/changes?from=2023-01-01&to=2023-12-31",
}


def main() -> None:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as folder:
        server = LiveServer(Path(folder) / "seeded.db", seed=True).start()
        try:
            names = [c["channel"] for c in httpx.get(server.url + "/channels").json()["channels"]]
            channel = "us-cn-mmca" if "us-cn-mmca" in names else names[0]
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                for name, path in PAGES.items():
                    page.goto(server.url + path.format(channel=channel))
                    page.screenshot(path=str(DOCS / name))
                    print(DOCS / name)
                browser.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
