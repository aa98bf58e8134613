"""``diplo serve``: prepare the database, say where things are, run the ASGI server."""

from __future__ import annotations

import ctypes
import errno
import os
import shlex
import signal
import socket
import sys

import click
from litestar import Litestar

from diplo.events import LogError
from diplo.service import logs
from diplo.service.runtime import ensure_admin_token, open_runtime, seed
from diplo.service.settings import Settings, describe


def prepare(settings: Settings) -> tuple[str | None, int]:
    """Create and migrate the database, load seeds into a fresh one, make the first admin token."""
    runtime = open_runtime(settings)
    try:
        loaded = seed(runtime)
        if runtime.read_only_reason:
            click.echo(f"WARNING: {runtime.read_only_reason}", err=True)
        token = ensure_admin_token(settings, runtime.log)
    finally:
        runtime.close()
    return token, sum(r.appended for r in loaded)


def banner(settings: Settings, token: str | None, seeded: int) -> str:
    base = f"http://{settings.host}:{settings.port}"
    lines = [
        f"diplo is listening on {base}  (board: {base}/  API docs: {base}/schema)",
        f"database: {describe(settings.db)}"
        + (f"  (loaded {seeded:,} seed event{'' if seeded == 1 else 's'})" if seeded else ""),
    ]
    if token:
        lines += [
            "admin token (shown once; keep it, or set DIPLO_ADMIN_TOKEN):",
            f"    {token}",
        ]
    elif settings.admin_token:
        lines.append("admin token: the one in DIPLO_ADMIN_TOKEN")
    else:  # a restart: the first start showed the token, once
        lines += [
            "admin token: shown on the first start; lost it? make another (and revoke the old one):",
            f"    diplo token create --role admin --db {shlex.quote(describe(settings.db))}",
        ]
    lines += [
        "try:",
        f"    curl -s '{base}/channels/us-cn-mmca?as_of=2023-06-01'",
        f"    curl -s '{base}/channels/us-cn-mmca/timeline'",
    ]
    return "\n".join(lines)


def check_port_free(host: str, port: int) -> None:
    """Refuse a port someone listens on: granian binds with SO_REUSEPORT, so a second server
    (or an orphaned worker) would otherwise share the port silently, each with its own database."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a closed server's TIME_WAIT is fine
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                message = f"port {port} on {host} is in use; stop the server there or choose another --port"
            else:
                message = f"cannot listen on {host}:{port}: {error.strerror or error}"
            raise click.ClickException(message) from None


def run(settings: Settings, server: str = "granian") -> None:
    logs.configure(settings.log_format)
    check_port_free(settings.host, settings.port)
    try:
        token, seeded = prepare(settings)
    except LogError as error:  # a database of a newer schema, or one that cannot be opened
        raise click.ClickException(error.message) from None
    click.echo(banner(settings, token, seeded), err=False)
    # Granian's worker imports the app by name in another process: hand it this very object.
    os.environ.update(settings.for_workers())
    if server == "uvicorn":
        import uvicorn

        from diplo.service.app import create_app

        uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level="warning", access_log=False)
        return
    from granian import Granian
    from granian.constants import Interfaces

    os.environ[PARENT_ENV] = str(os.getpid())
    Granian(
        "diplo.service.server:worker_app",
        factory=True,
        address=settings.host,
        port=settings.port,
        interface=Interfaces.ASGI,
        workers=1,
        log_enabled=False,
    ).serve()


PARENT_ENV = "DIPLO_SERVER_PID"
PR_SET_PDEATHSIG = 1  # linux/prctl.h


def worker_app() -> Litestar:
    """The app as a granian worker builds it: first tie the worker's life to the server's."""
    from diplo.service.app import create_app

    parent = int(os.environ.get(PARENT_ENV, "0")) or os.getppid()
    if parent != os.getpid():  # not when granian builds the app in its own process
        die_with_parent(parent)
    return create_app()


def die_with_parent(parent: int) -> None:
    """Be killed when ``parent`` ends, however it ends (even kill -9): an orphaned worker would go
    on serving the port and holding the database. Linux only (prctl); elsewhere a no-op.

    SIGKILL, not SIGTERM: with its parent gone, nobody would end a graceful stop held up by an
    open event stream, and a kill loses nothing acknowledged (each append commits atomically).
    """
    if sys.platform != "linux":
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        return
    if os.getppid() != parent:  # it died before the request was made
        os._exit(1)
