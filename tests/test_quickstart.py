"""The README's run command works on a fresh clone: a broken Quick start fails CI."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
from live import free_port
from test_packaging import readme_commands

ROOT = Path(__file__).parent.parent


def test_readme_run_command_starts_a_seeded_service_from_a_fresh_clone(tmp_path: Path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    run, _ = readme_commands()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "DIPLO_ADMIN_TOKEN", "DIPLO_SEED")}
    env |= {"DIPLO_PORT": str(port), "DIPLO_DB": str(tmp_path / "quickstart.db"), "DIPLO_LOG_FORMAT": "json"}
    out = (tmp_path / "out.txt").open("w+")
    process = subprocess.Popen(
        ["bash", "-c", run], cwd=clone, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            assert process.poll() is None, (tmp_path / "out.txt").read_text()[-3000:]
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        mmca = httpx.get(url + "/channels/us-cn-mmca", params={"as_of": "2023-06-01"}, timeout=10).json()
        assert (mmca["status"], mmca["since"]) == ("suspended", "2022-08-05")
        printed = (tmp_path / "out.txt").read_text()
        assert f"listening on {url}" in printed
        assert "quickstart.db" in printed
        assert "admin token" in printed and "diplo_" in printed
        assert "curl" in printed
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
