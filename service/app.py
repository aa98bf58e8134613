"""The litestar application: routes, plugins, middleware, lifecycle."""

from __future__ import annotations

import asyncio
import re
from importlib.metadata import version
from pathlib import Path
from urllib.parse import parse_qsl

import msgspec
from litestar import Litestar
from litestar._asgi.utils import get_route_handlers
from litestar._kwargs.dependencies import DependencyContainer
from litestar.config.cors import CORSConfig
from litestar.datastructures import ResponseHeader, State
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import ASGIApp, HTTPResponseBodyEvent, HTTPResponseStartEvent, Receive, Scope, Send

from diplo.events.catalog import CHANNEL_PATTERN
from diplo.service import logs, openapi, problems
from diplo.service.auth import FailureBrake
from diplo.service.metrics import GROUP_SIZE, MetricsController
from diplo.service.routes.channels import ChannelController, RegisterController
from diplo.service.routes.dependencies import dependencies
from diplo.service.routes.events import EventController
from diplo.service.routes.interop import InteropController
from diplo.service.routes.params import as_of_date, known_at_instant
from diplo.service.routes.system import SystemController
from diplo.service.routes.web import ChangesController, WebController
from diplo.service.runtime import ensure_admin_token, open_runtime
from diplo.service.schemas import ChannelOut
from diplo.service.settings import Settings
from diplo.service.stream import Broadcaster

STATIC = Path(__file__).parent / "static"


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings.from_env()
    logs.configure(settings.log_format)
    # The app's state, which the dependencies read; not empty, or litestar would put a new State in its place.
    state = State({"runtime": None})  # set on start-up

    async def start(app: Litestar) -> None:
        runtime = open_runtime(settings)
        if settings.admin_token:  # DIPLO_ADMIN_TOKEN holds however the app is started
            ensure_admin_token(settings, runtime.log)
        runtime.projections.start_rebuild()  # for a new projection version: served from the old tables meanwhile
        runtime.log.group_listeners.append(GROUP_SIZE.observe)
        app.state.runtime = runtime
        app.state.brake = FailureBrake()
        app.state.broadcaster = Broadcaster(runtime.log, asyncio.get_running_loop())

    async def stop(app: Litestar) -> None:
        app.state.broadcaster.close()
        app.state.runtime.close()

    app = Litestar(
        route_handlers=[
            EventController,
            InteropController,
            ChannelController,
            RegisterController,
            SystemController,
            MetricsController,
            WebController,
            ChangesController,
            create_static_files_router(path="/static", directories=[STATIC], include_in_schema=False),
        ],
        on_startup=[start],
        on_shutdown=[stop],
        state=state,
        dependencies=dependencies(state),
        plugins=[problems.plugin()],
        logging_config=None,  # logs.configure is the one configuration, litestar's own would add another
        middleware=[
            lambda app: logs.request_log_middleware(app, logs.wants_json(settings.log_format), metrics=True),
            *([] if settings.read_token_required or settings.cors_origins else [channel_reads]),
        ],
        exception_handlers={Exception: problems.internal_error},
        request_max_body_size=settings.max_body_bytes,
        template_config=TemplateConfig(directory=Path(__file__).parent / "templates", engine=JinjaTemplateEngine),
        openapi_config=openapi.config(version("diplo")),
        cors_config=CORSConfig(allow_origins=settings.cors_origins) if settings.cors_origins else None,
        response_headers=[
            ResponseHeader(name="X-Content-Type-Options", value="nosniff"),
            ResponseHeader(name="Referrer-Policy", value="no-referrer"),
        ],
    )
    if not settings.read_token_required:
        _drop_reader_guards(app)
    _dependencies_in_turn(app)
    return app


def _drop_reader_guards(app: Litestar) -> None:
    """With reads open every reader guard lets the request through, yet litestar copies the route handler
    for each guard it runs (a tenth of a small read's time): drop them. Writer and admin guards stay."""
    for route in app.routes:
        for handler in get_route_handlers(route):
            guards = handler.resolve_guards()
            handler._resolved_guards = [g for g in guards if getattr(g, "role", None) != "reader"]


def _dependencies_in_turn(app: Litestar) -> None:
    """Litestar resolves a handler's independent dependencies concurrently, in an anyio task group per request
    (some 35 µs, as long as a small read); ours are synchronous and cheap: resolve them one after another, by name,
    so that of two bad parameters the same one (as_of before known_at) is always the one answered."""
    for route in app.routes:
        for _handler, model in getattr(route, "route_handler_map", {}).values():
            model.dependency_batches = [
                {dependency} for batch in model.dependency_batches for dependency in sorted(batch, key=_key)
            ]


def _key(dependency: DependencyContainer) -> str:
    return dependency.key


CHANNEL_TEMPLATE = "/channels/{channel}"
CHANNEL_SLUG = re.compile(CHANNEL_PATTERN)
JSON_HEADERS: list[tuple[bytes, bytes]] = [
    (b"referrer-policy", b"no-referrer"),
    (b"x-content-type-options", b"nosniff"),
    (b"content-type", b"application/json"),
]
_ENCODER = msgspec.json.Encoder()


def channel_reads(app: ASGIApp) -> ASGIApp:
    """``GET /channels/{channel}`` answered here, once routed: the same answer as the route's, without the
    handler machinery (signature model, response object) that costs more than the read itself.

    Only a plain question takes this way (reads open, no CORS, a valid slug, ``as_of``/``known_at`` at most once
    each and valid, a channel that answers); anything else, errors included, goes on to the route."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        body = _channel_answer(scope) if scope.get("path_template") == CHANNEL_TEMPLATE else None
        if body is None:
            await app(scope, receive, send)
            return
        headers = [*JSON_HEADERS, (b"content-length", str(len(body)).encode())]
        start: HTTPResponseStartEvent = {"type": "http.response.start", "status": 200, "headers": headers}
        await send(start)
        end: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
        await send(end)

    return middleware


def _wants_html(scope: Scope) -> bool:
    """A browser asks for the channel's page: the route negotiates it."""
    return any(name == b"accept" and b"html" in value for name, value in scope["headers"])


def _channel_answer(scope: Scope) -> bytes | None:
    if scope.get("method") != "GET" or _wants_html(scope):
        return None
    channel = scope.get("path_params", {}).get("channel")
    if not isinstance(channel, str) or len(channel) > 80 or not CHANNEL_SLUG.fullmatch(channel):
        return None
    query: dict[str, str] = {}
    for key, value in parse_qsl(scope["query_string"].decode("latin-1"), keep_blank_values=True):
        if key not in ("as_of", "known_at") or key in query or len(value) > (40 if key == "as_of" else 60):
            return None
        query[key] = value
    try:
        day, moment = as_of_date(query.get("as_of")), known_at_instant(query.get("known_at"))
    except Exception:  # the route answers with the problem
        return None
    found = scope["litestar_app"].state.runtime.projections.channel_state(channel, day, moment)
    return None if found is None else _ENCODER.encode(ChannelOut.of(found, day, moment))
