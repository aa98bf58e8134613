"""A real diplo server in a subprocess, on a free loopback port, with its own database."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

DIPLO = str(Path(sys.executable).parent / "diplo")
ADMIN = "test-admin-token-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    def __init__(
        self,
        db: Path | str,
        *,
        seed: bool = False,
        env: dict[str, str] | None = None,
        server: str = "granian",
        folder: Path | None = None,
    ):
        """``db``: a SQLite file, or a PostgreSQL URL (then ``folder`` holds the server's output)."""
        self.db = db
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        folder = folder or Path(db).parent
        self.log_path = folder / f"server-{self.port}.log"
        self.out_path = folder / f"server-{self.port}.out"
        self.env = {
            **os.environ,
            "DIPLO_DB": str(db),
            "DIPLO_ADMIN_TOKEN": ADMIN,
            "DIPLO_SEED": "1" if seed else "0",
            "DIPLO_LOG_FORMAT": "json",
            **(env or {}),
        }
        self.server = server
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 30) -> LiveServer:
        return self.launch().wait_until_healthy(timeout)

    def launch(self) -> LiveServer:
        """The server process started, not yet answering: several start at once, as a deployment's do."""
        self.process = subprocess.Popen(
            [DIPLO, "serve", "--port", str(self.port), "--server", self.server],
            env=self.env,
            stdout=self.out_path.open("ab"),
            stderr=self.log_path.open("ab"),
            start_new_session=True,  # its own process group: the server and its worker die together
        )
        return self

    def wait_until_healthy(self, timeout: float = 30) -> LiveServer:
        assert self.process is not None, "launch() first"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-2000:]}")
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not become healthy")

    def stop(self, kill: bool = False) -> None:
        if self.process is None:
            return
        group = os.getpgid(self.process.pid)
        os.killpg(group, signal.SIGKILL if kill else signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(group, signal.SIGKILL)
            self.process.wait()
        if kill:
            return self._forget()
        # A graceful stop lets the worker exit on its own (a moment after the server); make sure none is
        # left behind.
        deadline = time.monotonic() + 1
        with contextlib.suppress(ProcessLookupError):
            while time.monotonic() < deadline:
                os.killpg(group, 0)  # raises once the group is empty
                time.sleep(0.01)
            os.killpg(group, signal.SIGKILL)
        self._forget()

    def _forget(self) -> None:
        self.process = None

    def token(self, role: str, name: str) -> str:
        out = subprocess.run(
            [DIPLO, "token", "create", "--db", str(self.db), "--role", role, "--name", name],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip().splitlines()[-1]

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=30)

    def logs(self) -> str:
        return self.log_path.read_text()
