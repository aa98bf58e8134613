"""The app in-process (tests/asgi_client.py over create_app), with LiveServer's interface.

Most API tests need no socket: they run here, fast, and cover service/ in-process. Tests that
need a real server (SSE over a socket, kill -9, granian, the browser) use tests/live.py.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import httpx
from asgi_client import AsgiClient

from diplo.service import tokens
from diplo.service.app import create_app
from diplo.service.settings import Settings

ADMIN = "test-admin-token-0123456789"


class InProcess:
    def __init__(self, db: Path | str, *, seed: bool = False, **settings: object):
        self.db = db
        self.settings = Settings(db=db, seed=seed, admin_token=ADMIN, log_format="json", **settings)  # type: ignore[arg-type]
        self._stack = contextlib.ExitStack()
        self.app = create_app(self.settings)
        self._client: AsgiClient | None = None

    def start(self) -> InProcess:
        self._client = self._stack.enter_context(AsgiClient(self.app))
        return self

    def stop(self) -> None:
        self._stack.close()

    def token(self, role: str, name: str) -> str:
        return tokens.create(self.app.state.runtime.log.reader(), role, name)[1]  # type: ignore[arg-type]

    def client(self, token: str | None = None) -> Client:
        assert self._client is not None, "start() first"
        return Client(self._client, {"Authorization": f"Bearer {token}"} if token else {})


class Client:
    """One caller of the shared in-process app: its own headers on every request, usable in ``with``."""

    def __init__(self, client: AsgiClient, headers: dict[str, str]):
        self._client, self.headers = client, headers

    def request(self, method: str, url: str, **options: Any) -> httpx.Response:
        options["headers"] = {**self.headers, **(options.get("headers") or {})}
        return self._client.request(method, url, **options)

    def get(self, url: str, **options: Any) -> httpx.Response:
        return self.request("GET", url, **options)

    def post(self, url: str, **options: Any) -> httpx.Response:
        return self.request("POST", url, **options)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        return None
