"""Prometheus metrics: per-request counts and durations, plus the log's own.

The request metrics keep the names and labels of litestar's Prometheus middleware
(``diplo_http_requests_total``, ``..._request_duration_seconds``, ``..._requests_in_progress``,
``..._requests_error_total``; labels method, path template, status code, app name), from a leaner
middleware: one label tuple per request, its metric children cached, no Request object built.
"""

from __future__ import annotations

from typing import Any

from litestar.plugins.prometheus import PrometheusController
from litestar.types import Scope
from prometheus_client import Counter, Gauge, Histogram

APPENDS = Counter("diplo_events_appended_total", "Events appended to the log", ["type"])
GROUP_SIZE = Histogram(
    "diplo_group_commit_size",
    "Requests committed together in one transaction",
    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512),
)
APPEND_SECONDS = Histogram(
    "diplo_append_seconds",
    "Latency of an append, from submit to durable acknowledgement",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)
SSE_SUBSCRIBERS = Gauge("diplo_sse_subscribers", "Clients following /events/stream")
REPLAY_SECONDS = Histogram(
    "diplo_replay_seconds", "Duration of projection rebuilds", buckets=(0.01, 0.1, 1, 5, 15, 60, 300)
)

APP_NAME, PREFIX = "diplo", "diplo_http"
LABELS = ["method", "path", "status_code", "app_name"]
REQUESTS = Counter(f"{PREFIX}_requests_total", "Total requests", LABELS)
DURATION = Histogram(f"{PREFIX}_request_duration_seconds", "Request duration, in seconds", LABELS)
IN_PROGRESS = Gauge(
    f"{PREFIX}_requests_in_progress",
    "Total requests currently in progress",
    ["method", "path", "app_name"],
    multiprocess_mode="livesum",
)
ERRORS = Counter(f"{PREFIX}_requests_error_total", "Total errors in requests", LABELS)
EXCLUDED = "/metrics"
_children: dict[tuple, tuple[Any, Any, Any]] = {}
_progress: dict[tuple[str, str], Any] = {}


def _metrics_for(labels: tuple[str, str, int, str]) -> tuple[Any, Any, Any]:
    found = _children.get(labels)
    if found is None:
        found = _children[labels] = (
            REQUESTS.labels(*labels),
            DURATION.labels(*labels),
            ERRORS.labels(*labels) if labels[2] >= 500 else None,
        )
    return found


def started(scope: Scope) -> Any:
    """A request begins: counted in progress; returns what ``finished`` needs (None for /metrics itself)."""
    if scope["path"].startswith(EXCLUDED):
        return None
    key = (str(scope.get("method", "")), scope.get("path_template") or scope["path"])  # HTTP only: no websockets here
    progress = _progress.get(key)
    if progress is None:
        progress = _progress[key] = IN_PROGRESS.labels(*key, APP_NAME)
    progress.inc()
    return key, progress


def finished(token: Any, scope: Scope, status: int, seconds: float) -> None:
    """A request ended: counted and timed by method, route template (known once routed) and status."""
    if token is None:
        return
    token[1].dec()
    count, duration, errors = _metrics_for((token[0][0], scope.get("path_template") or token[0][1], status, APP_NAME))
    count.inc()
    duration.observe(seconds)
    if errors is not None:
        errors.inc()


class MetricsController(PrometheusController):
    path = "/metrics"
    include_in_schema = False  # Prometheus text, not part of the JSON API
