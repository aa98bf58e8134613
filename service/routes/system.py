"""Health, the log head, and admin operations."""

from __future__ import annotations

import time

from litestar import Controller, get, post
from litestar.datastructures import State

from diplo.events import Verification
from diplo.projections import ReplayStats
from diplo.service.auth import require
from diplo.service.metrics import REPLAY_SECONDS
from diplo.service.problems import documented
from diplo.service.routes.dependencies import AppEventLog, AppProjections
from diplo.service.schemas import HeadOut, HealthOut

ADMIN_ERRORS = {
    401: documented(
        401, "An admin token is required", "this route needs an admin token: send Authorization: Bearer <token>"
    ),
    403: documented(
        403, "The token is not an admin token", "token 'newsroom' is a writer token; this route needs admin"
    ),
    429: documented(429, "Too many bad tokens", "too many bad tokens from this client; retry in 42 s"),
}


class SystemController(Controller):
    path = "/"
    tags = ["system"]

    @get("/health", sync_to_thread=False)
    def health(self, state: State) -> HealthOut:
        """Liveness; ``degraded`` when writes are refused (a broken hash chain) or wait (``stale``: the projections
        are rebuilt for a new version, reads answer from the previous tables meanwhile)."""
        runtime = state.runtime
        reason = runtime.read_only_reason
        return HealthOut(
            status="degraded" if reason else "ok",
            events=runtime.log.head().seq,
            writable=reason is None,
            detail=reason,
            stale=runtime.projections.stale,
        )

    @get(
        "/log/head",
        guards=[require("reader")],
        responses={
            401: documented(
                401,
                "A reader token is required (when the server requires one)",
                "this route needs a reader token: send Authorization: Bearer <token>",
            )
        },
        sync_to_thread=False,
    )
    def head(self, event_log: AppEventLog) -> HeadOut:
        """The newest event's seq and hash (seq 0 and 64 zeros for an empty log)."""
        head = event_log.head()
        return HeadOut(seq=head.seq, hash=head.hash)

    @post("/admin/replay", guards=[require("admin")], status_code=200, responses=ADMIN_ERRORS, sync_to_thread=True)
    def replay(self, projections: AppProjections) -> ReplayStats:
        """Rebuild every projection from the log; readers keep the old tables until the swap."""
        started = time.perf_counter()
        stats = projections.replay()
        REPLAY_SECONDS.observe(time.perf_counter() - started)
        return stats

    @post("/admin/verify", guards=[require("admin")], status_code=200, responses=ADMIN_ERRORS, sync_to_thread=True)
    def verify(self, event_log: AppEventLog) -> Verification:
        """Recompute the whole hash chain; ``bad_seq`` names the first row that does not verify."""
        return event_log.verify()
