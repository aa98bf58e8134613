"""Prometheus metrics: litestar's request metrics plus the log's own."""

from __future__ import annotations

from litestar.plugins.prometheus import PrometheusConfig, PrometheusController
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

prometheus_config = PrometheusConfig(app_name="diplo", prefix="diplo_http", group_path=True, exclude=["/metrics"])


class MetricsController(PrometheusController):
    path = "/metrics"
    include_in_schema = False  # Prometheus text, not part of the JSON API
