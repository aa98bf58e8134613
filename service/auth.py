"""Bearer-token guards: reader < writer < admin, with a brake on repeated bad tokens."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

import structlog
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from service import tokens
from service.problems import problem

log = structlog.get_logger("diplo.auth")
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="diplo"'}


class FailureBrake:
    """Counts bad tokens per client; past ``limit`` in ``window`` seconds, the client waits."""

    def __init__(self, limit: int = 10, window: float = 60.0):
        self.limit, self.window = limit, window
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, client: str, now: float) -> deque[float]:
        failures = self._failures[client]
        while failures and failures[0] < now - self.window:
            failures.popleft()
        return failures

    def retry_after(self, client: str) -> int | None:
        now = time.monotonic()
        with self._lock:
            failures = self._recent(client, now)
            if len(failures) >= self.limit:
                return max(1, int(failures[0] + self.window - now) + 1)
        return None

    def fail(self, client: str) -> None:
        now = time.monotonic()
        with self._lock:
            self._recent(client, now).append(now)


def require(role: tokens.Role):
    """A guard letting through requests whose token has at least ``role``."""

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:  # async: no thread hop per request
        runtime = connection.app.state.runtime
        if role == "reader" and not runtime.settings.read_token_required:
            return
        client = connection.client.host if connection.client else "unknown"
        brake: FailureBrake = connection.app.state.brake
        wait = brake.retry_after(client)
        if wait is not None:
            log.warning("auth.throttled", client=client, retry_after=wait)
            raise problem(
                429,
                "Too many requests",
                f"too many bad tokens from this client; retry in {wait} s",
                headers={"Retry-After": str(wait)},
            )
        header = connection.headers.get("authorization", "")
        scheme, _, secret = header.partition(" ")
        if not header:
            raise problem(
                401,
                "Unauthorized",
                f"this route needs a {role} token: send Authorization: Bearer <token>",
                headers=CHALLENGE,
            )
        info = tokens.lookup(runtime.log.reader(), secret.strip()) if scheme.lower() == "bearer" else None
        if info is None:
            brake.fail(client)
            log.warning("auth.bad_token", client=client, path=connection.url.path)
            raise problem(
                401,
                "Unauthorized",
                "the bearer token is unknown or revoked",
                headers={"WWW-Authenticate": 'Bearer realm="diplo", error="invalid_token"'},
            )
        if tokens.RANKS[info.role] < tokens.RANKS[role]:
            raise problem(403, "Forbidden", f"token {info.name!r} is a {info.role} token; this route needs {role}")
        connection.state.token_name = info.name

    return guard
