"""Every error as RFC 9457 problem details (application/problem+json)."""

from __future__ import annotations

import re
from typing import Any

import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.plugins.problem_details import ProblemDetailsConfig, ProblemDetailsException, ProblemDetailsPlugin
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from diplo.events import ChainBroken, Conflict, InvalidEvent, Refused, Unavailable

MEDIA_TYPE = "application/problem+json"
TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Body too large",
    429: "Too many requests",
    503: "Service unavailable",
}
logger = structlog.get_logger("diplo.http")


class Problem(msgspec.Struct, kw_only=True):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    field: str | None = None
    index: int | None = None
    channel: str | None = None
    current_version: int | None = None


def documented(status: int, description: str, detail: str, title: str | None = None, **extra: Any) -> ResponseSpec:
    """An error response for the OpenAPI document, with a real example of its body.

    ``generate_examples=False``: litestar would otherwise fill the example with random strings and numbers.
    """
    body = {"status": status, "title": title or TITLES.get(status, "Error"), "detail": detail, **extra}
    return ResponseSpec(
        Problem,
        description=description,
        media_type=MEDIA_TYPE,
        generate_examples=False,
        examples=[Example(summary=description, value=body)],
    )


def problem(
    status: int, title: str, detail: str, headers: dict[str, str] | None = None, **extra: Any
) -> ProblemDetailsException:
    return ProblemDetailsException(
        status_code=status,
        title=title,
        detail=detail,
        headers=headers,
        extra={k: v for k, v in extra.items() if v is not None} or None,
    )


def bad_request(detail: str, field: str | None = None) -> ProblemDetailsException:
    return problem(400, "Bad request", detail, field=field)


def not_found(detail: str) -> ProblemDetailsException:
    return problem(404, "Not found", detail)


def _invalid(exc: InvalidEvent) -> ProblemDetailsException:
    detail = exc.message if exc.index is None else f"event [{exc.index}]: {exc.message}"
    return problem(422, "Invalid event", detail, field=exc.field, index=exc.index)


def _conflict(exc: Conflict) -> ProblemDetailsException:
    return problem(
        409, "Conflict", exc.message, index=exc.index, channel=exc.channel, current_version=exc.current_version
    )


def _refused(exc: Refused) -> ProblemDetailsException:
    named = re.match(r"^([a-z_]+): ", exc.message)  # the append rules start with the field they are about
    return problem(422, "Event refused", exc.message, index=exc.index, field=named.group(1) if named else None)


def _unavailable(exc: Unavailable) -> ProblemDetailsException:
    return problem(503, "Service unavailable", exc.message, headers={"Retry-After": "1"})


def _chain_broken(exc: ChainBroken) -> ProblemDetailsException:
    return problem(503, "Writes refused", exc.message, headers={"Retry-After": "3600"})


def _validation(exc: ValidationException) -> ProblemDetailsException:
    """Litestar's own parameter validation, reworded as field: message."""
    messages = []
    field = None
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if isinstance(item, dict):
            field = field or item.get("key")
            messages.append(f"{item.get('key')}: {item.get('message')}")
    return problem(400, "Bad request", "; ".join(messages) or str(exc.detail), field=field)


def _http(exc: HTTPException) -> ProblemDetailsException:
    detail = exc.detail
    if exc.status_code == 413:
        detail = "the request body is larger than this service accepts; send fewer events per request"
    elif exc.status_code == 404 and detail in ("Not Found", ""):
        detail = "no such resource; see /schema for the routes"
    return problem(exc.status_code, TITLES.get(exc.status_code, "Error"), detail, headers=exc.headers)


def plugin() -> ProblemDetailsPlugin:
    return ProblemDetailsPlugin(
        ProblemDetailsConfig(
            enable_for_all_http_exceptions=False,
            exception_to_problem_detail_map={
                InvalidEvent: _invalid,
                Conflict: _conflict,
                Refused: _refused,
                Unavailable: _unavailable,
                ChainBroken: _chain_broken,
                ValidationException: _validation,
                HTTPException: _http,
            },
        )
    )


def internal_error(request: Request, exc: Exception) -> Response:
    """A 5xx is a bug: log it with its traceback, answer problem+json without internals."""
    logger.error("unhandled", path=request.url.path, error=repr(exc), exc_info=exc)
    body = {
        "type": "about:blank",
        "title": "Internal error",
        "status": 500,
        "detail": "an unexpected error occurred; it has been logged with this request's X-Request-ID",
    }
    return Response(body, status_code=HTTP_500_INTERNAL_SERVER_ERROR, media_type=MEDIA_TYPE)
