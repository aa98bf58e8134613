"""Structured logs: JSON lines off a terminal, readable console output on one.

Every request is logged once (method, path, status, duration, request id);
headers are never logged, so no token reaches a log line.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import sys
import time
from typing import TextIO

import msgspec
import structlog
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from diplo.service import metrics as service_metrics

REQUEST_ID_HEADER = b"x-request-id"


def processors(as_json: bool) -> list:
    return [*_shared(), *_rendering(as_json)]


def _shared() -> list:
    return [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]


def _rendering(as_json: bool) -> list:
    if as_json:
        return [structlog.processors.format_exc_info, structlog.processors.JSONRenderer(serializer=_to_json)]
    return [structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())]


def _to_json(event: dict, **_: object) -> str:
    # msgspec renders a log line several times faster than json.dumps; str() for anything exotic.
    return _ENCODER.encode(event).decode()


_ENCODER = msgspec.json.Encoder(enc_hook=str)


def wants_json(log_format: str | None) -> bool:
    if log_format in ("json", "console"):
        return log_format == "json"
    return not sys.stderr.isatty()


def configure(log_format: str | None, level: int = logging.INFO) -> None:
    """The one logging configuration, for the CLI and the server alike (create_app calls it): structlog's, and the
    standard library's (libraries' records) rendered the same way. Logs go to stderr."""
    as_json = wants_json(log_format)
    structlog.configure(
        processors=processors(as_json),
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.WriteLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    handler = _StderrHandler()
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=_shared(),
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *_rendering(as_json)],
        )
    )
    root = logging.getLogger()
    for earlier in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:  # configured again: replaced
        root.removeHandler(earlier)
    root.addHandler(handler)
    root.setLevel(level)


HANDLER_NAME = "diplo"


class _StderrHandler(logging.StreamHandler):
    """Writes to ``sys.stderr`` as it is when the record comes (a test runner may have swapped it since)."""

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _: object) -> None:
        pass


def request_log_middleware(app: ASGIApp, as_json: bool | None = None, metrics: bool = False) -> ASGIApp:
    """Bind a request id (from X-Request-ID or new), echo it back, log the request once; with ``metrics``,
    count and time it too (service/metrics.py), in the same layer: one wrapper per request, not two.

    In JSON mode the line is written straight to stderr, with the fields, level and timestamp the
    processors would give it: the processor chain is the costliest part of a small request."""
    logger = structlog.get_logger("diplo.http")
    direct = wants_json(None) if as_json is None else as_json

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        incoming = b""
        for name, value in scope["headers"]:
            if name == REQUEST_ID_HEADER:
                incoming = value
                break
        text = incoming.decode("latin-1")[:100]
        request_id = text if text and text.isprintable() else os.urandom(16).hex()
        token = structlog.contextvars.bind_contextvars(request_id=request_id)
        counted = service_metrics.started(scope) if metrics else None
        started = time.perf_counter()
        status = 500
        echoed = (REQUEST_ID_HEADER, request_id.encode())

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), echoed]
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            if counted is not None:
                service_metrics.finished(counted, scope, status, seconds)
            fields = {
                "method": scope.get("method", ""),  # HTTP only: no websockets here
                "path": scope["path"],
                "status": status,
                "duration_ms": round(seconds * 1000, 3),
                "client": (scope.get("client") or ("", 0))[0],
            }
            if direct:
                _write_request_line(request_id, fields)
            else:
                logger.info("request", **fields)
            structlog.contextvars.reset_contextvars(**token)

    return middleware


def _write_request_line(request_id: str, fields: dict) -> None:
    """The request line as the JSON processors render it, without running them."""
    fields["request_id"] = request_id
    fields["event"] = "request"
    fields["level"] = "info"
    fields["timestamp"] = dt.datetime.now(dt.UTC).isoformat().replace("+00:00", "Z")
    sys.stderr.write(_ENCODER.encode(fields).decode() + "\n")
