"""Bearer-token guards: reader < writer < admin, with a brake on repeated bad tokens."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import NoReturn

import structlog
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from diplo.service import tokens
from diplo.service.problems import problem

logger = structlog.get_logger("diplo.auth")
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="diplo"'}


class FailureBrake:
    """Counts unknown tokens per client; past ``limit`` in ``window`` seconds, its unknown tokens wait.

    Only clients with a failure inside the window are kept: a failure sweeps the expired ones once the
    window has passed since the last sweep, so a server facing many addresses holds a bounded map."""

    def __init__(self, limit: int = 10, window: float = 60.0, clock: Callable[[], float] = time.monotonic):
        self.limit, self.window, self.clock = limit, window, clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self._swept = clock()

    def _recent(self, client: str, now: float) -> deque[float] | None:
        failures = self._failures.get(client)
        if failures is None:
            return None
        while failures and failures[0] < now - self.window:
            failures.popleft()
        if not failures:
            del self._failures[client]
            return None
        return failures

    def retry_after(self, client: str) -> int | None:
        now = self.clock()
        with self._lock:
            failures = self._recent(client, now)
            if failures is not None and len(failures) >= self.limit:
                return max(1, int(failures[0] + self.window - now) + 1)
        return None

    def fail(self, client: str) -> None:
        now = self.clock()
        with self._lock:
            if now - self._swept > self.window:
                for other in list(self._failures):
                    self._recent(other, now)
                self._swept = now
            self._failures.setdefault(client, deque()).append(now)

    def clients(self) -> int:
        """How many clients have failures in the window (or not yet swept)."""
        with self._lock:
            return len(self._failures)


def require(role: tokens.Role):
    """A guard letting through requests whose token has at least ``role``.

    The token is checked before the brake: a valid token is never refused, so a user who
    mistyped it a few times is not locked out. Only unknown tokens count toward the brake
    and are throttled by it (tokens are 256-bit random strings: the brake curbs noise and
    load from a misbehaving client, it is not what keeps guessing out).
    """

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:  # async: no thread hop per request
        runtime = connection.app.state.runtime
        if role == "reader" and not runtime.settings.read_token_required:
            return
        secret = _bearer_secret(connection.headers.get("authorization", ""), role)
        info = tokens.lookup(runtime.log.reader(), secret)
        if info is None:
            _refuse_unknown(connection)
        if tokens.RANKS[info.role] < tokens.RANKS[role]:
            raise problem(403, "Forbidden", f"token {info.name!r} is a {info.role} token; this route needs {role}")
        connection.state.token_name = info.name

    guard.role = role  # type: ignore[attr-defined]  # service/app.py drops reader guards when reads are open
    return guard


def article(word: str) -> str:
    return "an" if word[:1] in "aeiou" else "a"


def _bearer_secret(header: str, role: str) -> str:
    """The token of an ``Authorization: Bearer <token>`` header, or a 401 saying what is wrong with it."""
    scheme, _, secret = header.strip().partition(" ")
    if not header:
        reason = f"this route needs {article(role)} {role} token: send Authorization: Bearer <token>"
    elif scheme.lower() != "bearer" and not secret:
        reason = "the Authorization header has no scheme: use Authorization: Bearer <token>"
    elif scheme.lower() != "bearer":  # name the scheme only if it looks like one, never echo a secret
        named = f"the {scheme} scheme" if scheme.isalpha() and len(scheme) <= 20 else "another scheme"
        reason = f"the Authorization header uses {named}: use Authorization: Bearer <token>"
    elif not secret.strip():
        reason = "the bearer token is empty: use Authorization: Bearer <token>"
    else:
        return secret.strip()
    raise problem(401, "Unauthorized", reason, headers=CHALLENGE)


def _refuse_unknown(connection: ASGIConnection) -> NoReturn:
    client = connection.client.host if connection.client else "unknown"
    brake: FailureBrake = connection.app.state.brake
    wait = brake.retry_after(client)
    if wait is not None:
        logger.warning("auth.throttled", client=client, retry_after=wait)
        raise problem(
            429,
            "Too many requests",
            f"too many unknown tokens from this client; retry in {wait} s",
            headers={"Retry-After": str(wait)},
        )
    brake.fail(client)
    logger.warning("auth.bad_token", client=client, path=connection.url.path)
    raise problem(
        401,
        "Unauthorized",
        "the bearer token is unknown or revoked",
        headers={"WWW-Authenticate": 'Bearer realm="diplo", error="invalid_token"'},
    )
