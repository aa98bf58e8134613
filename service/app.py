"""The litestar application: routes, plugins, middleware, lifecycle."""

from __future__ import annotations

import asyncio
from importlib.metadata import version
from pathlib import Path

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.datastructures import ResponseHeader
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig

from service import logs, openapi, problems
from service.auth import FailureBrake
from service.metrics import GROUP_SIZE, MetricsController, prometheus_config
from service.routes.channels import ChannelController, RegisterController
from service.routes.events import EventController
from service.routes.interop import InteropController
from service.routes.system import SystemController
from service.routes.web import ChangesController, WebController
from service.runtime import ensure_admin_token, open_runtime
from service.settings import Settings
from service.stream import Broadcaster

STATIC = Path(__file__).parent / "static"


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or Settings.from_env()

    async def start(app: Litestar) -> None:
        runtime = open_runtime(settings)
        if settings.admin_token:  # DIPLO_ADMIN_TOKEN holds however the app is started
            ensure_admin_token(settings, runtime.log)
        runtime.log.group_listeners.append(GROUP_SIZE.observe)
        app.state.runtime = runtime
        app.state.brake = FailureBrake()
        app.state.broadcaster = Broadcaster(runtime.log, asyncio.get_running_loop())

    async def stop(app: Litestar) -> None:
        app.state.broadcaster.close()
        app.state.runtime.close()

    return Litestar(
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
        plugins=[problems.plugin(), logs.plugin(settings.log_format)],
        middleware=[logs.request_log_middleware, prometheus_config.middleware],
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
