"""``diplo serve``: prepare the database, say where things are, run the ASGI server."""

from __future__ import annotations

import os

import click

from events import LogError
from service import logs
from service.runtime import ensure_admin_token, open_runtime, seed
from service.settings import Settings


def prepare(settings: Settings) -> tuple[str | None, int]:
    """Create and migrate the database, load seeds into a fresh one, make the first admin token."""
    runtime = open_runtime(settings)
    try:
        loaded = seed(runtime)
        if runtime.read_only_reason:
            click.echo(f"WARNING: {runtime.read_only_reason}", err=True)
    finally:
        runtime.close()
    token = ensure_admin_token(settings)
    return token, sum(r.appended for r in loaded)


def banner(settings: Settings, token: str | None, seeded: int) -> str:
    base = f"http://{settings.host}:{settings.port}"
    lines = [
        f"diplo is listening on {base}  (board: {base}/  API docs: {base}/schema)",
        f"database: {settings.db.resolve()}" + (f"  (loaded {seeded} seed events)" if seeded else ""),
    ]
    if token:
        lines += [
            "admin token (shown once; keep it, or set DIPLO_ADMIN_TOKEN):",
            f"    {token}",
        ]
    lines += [
        "try:",
        f"    curl -s '{base}/channels/us-cn-mmca?as_of=2023-06-01'",
        f"    curl -s '{base}/channels/us-cn-mmca/timeline'",
    ]
    return "\n".join(lines)


def run(settings: Settings, server: str = "granian") -> None:
    logs.configure(settings.log_format)
    try:
        token, seeded = prepare(settings)
    except LogError as error:  # a database of a newer schema, or one that cannot be opened
        raise click.ClickException(error.message) from None
    click.echo(banner(settings, token, seeded), err=False)
    # The server process builds the app from the environment (granian imports it by name).
    os.environ.update(
        DIPLO_DB=str(settings.db),
        DIPLO_HOST=settings.host,
        DIPLO_PORT=str(settings.port),
    )
    if server == "uvicorn":
        import uvicorn

        from service.app import create_app

        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning", access_log=False)
        return
    from granian import Granian
    from granian.constants import Interfaces

    Granian(
        "service.app:create_app",
        factory=True,
        address=settings.host,
        port=settings.port,
        interface=Interfaces.ASGI,
        workers=1,
        log_enabled=False,
    ).serve()
