"""HTTP throughput and latency with wrk on loopback: diplo against a minimal litestar+msgspec app.

Both apps run on the same ASGI server in the same run; diplo's database holds
--events generated events (50 channels) so that as_of reads hit a large log.
  POST /events   32 connections, durable acknowledgements
  GET  /channels/{c}?as_of=...   32 connections
Run with --server granian and --server uvicorn to compare the servers.

    python bench/http_load.py --events 1000000 --server granian
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).parent))

from common import machine  # noqa: E402
from replay import build_log  # noqa: E402

from diplo.events import SQLiteLog  # noqa: E402
from diplo.projections import Projections  # noqa: E402
from diplo.service import logs  # noqa: E402

HERE = Path(__file__).parent
ADMIN = "bench-admin-token"
BODY = {
    "type": "meeting_held",
    "channel": "bench-channel-001",
    "occurred_on": "2010-01-01",
    "summary": "bench",
    "sources": [{"url": "https://example.org/bench"}],
}


def wait(url: str) -> None:
    for _ in range(600):
        try:
            if httpx.get(url, timeout=1).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


def wrk(url: str, seconds: int, lua: Path | None = None) -> dict:
    command = ["wrk", "-t2", "-c32", f"-d{seconds}s", "--latency"]
    if lua:
        command += ["-s", str(lua)]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = re.search(r"50%\s+([\d.]+)(us|ms|s)", out)
    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": rate,
        "p50_ms": float(p50.group(1)) * scale[p50.group(2)] if p50 else None,  # type: ignore[union-attr]
        "p99_ms": float(p99.group(1)) * scale[p99.group(2)] if p99 else None,  # type: ignore[union-attr]
        "errors": int(non2xx.group(1)) if non2xx else 0,
    }


def _combined(runs: list[dict]) -> dict:
    """Slices of one app and route: the mean rate, the median slice's p50, the worst slice's p99."""
    by_rate = sorted(runs, key=lambda r: r["rps"])
    return {
        "rps": sum(r["rps"] for r in runs) / len(runs),
        "p50_ms": by_rate[len(by_rate) // 2]["p50_ms"],
        "p99_ms": max(r["p99_ms"] for r in runs),
        "errors": sum(r["errors"] for r in runs),
    }


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(command, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--server", choices=["granian", "uvicorn"], default="granian")
    parser.add_argument("--seconds", type=int, default=12, help="per app and route, in --rounds slices")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--log", type=Path, help="start from a copy of this log instead of building one")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is needed: apt-get install wrk")
    logs.configure(None, level=logging.WARNING)
    folder = Path(tempfile.mkdtemp(prefix="diplo-http-"))
    db = folder / "diplo.db"
    if args.log:
        shutil.copy(args.log, db)
    else:
        build_log(db, args.events)
    opened = SQLiteLog(db)
    Projections(opened)  # built before the servers start: start-up is not what is measured
    opened.close()
    post_lua = folder / "post.lua"
    post_lua.write_text(
        'wrk.method = "POST"\nwrk.body = [[' + json.dumps(BODY) + "]]\n"
        f'wrk.headers["Content-Type"] = "application/json"\nwrk.headers["Authorization"] = "Bearer {ADMIN}"\n'
    )
    bin_dir = Path(sys.executable).parent
    env = {
        **os.environ,
        "DIPLO_DB": str(db),
        "DIPLO_ADMIN_TOKEN": ADMIN,
        "DIPLO_SEED": "0",
        "DIPLO_LOG_FORMAT": "json",
        "MINIMAL_DB": str(folder / "minimal.db"),
    }
    print(f"machine: {machine()}; load average: {os.getloadavg()[0]:.2f}")
    print(
        f"server: {args.server}, 1 worker each; wrk -t2 -c32 on loopback, {args.seconds} s per app and route in"
        f" {args.rounds} alternating slices; log of {args.events:,} events\n"
    )
    # Both servers run at once and the wrk runs alternate between them, a slice at a time: on a shared VM
    # the load changes from minute to minute, and each app should meet the same conditions.
    servers = {
        "diplo": ([str(bin_dir / "diplo"), "serve", "--port", "8701", "--server", args.server], 8701),
        "minimal": (_minimal_command(args.server, bin_dir, 8702), 8702),
    }
    processes = [start(command, env, folder / f"{name}.log") for name, (command, _) in servers.items()]
    runs: dict[tuple[str, str], list[dict]] = {}
    try:
        for _, port in servers.values():
            wait(f"http://127.0.0.1:{port}/channels/bench-channel-001")
        for _ in range(args.rounds):
            for name, (_, port) in servers.items():
                base = f"http://127.0.0.1:{port}"
                slice_ = max(1, args.seconds // args.rounds)
                runs.setdefault((name, "get"), []).append(
                    wrk(f"{base}/channels/bench-channel-007?as_of=2003-06-01", slice_)
                )
            for name, (_, port) in servers.items():
                runs.setdefault((name, "post"), []).append(
                    wrk(f"http://127.0.0.1:{port}/events", max(1, args.seconds // args.rounds), post_lua)
                )
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
    results = {key: _combined(found) for key, found in runs.items()}
    print(f"{'route':44} {'diplo req/s':>12} {'minimal req/s':>14} {'ratio':>6} {'diplo p50':>10} {'diplo p99':>10}")
    for kind, label in (
        ("post", "POST /events (durable, 32 connections)"),
        ("get", "GET /channels/{c}?as_of= (32 connections)"),
    ):
        d, m = results["diplo", kind], results["minimal", kind]
        print(
            f"{label:44} {d['rps']:12,.0f} {m['rps']:14,.0f} {d['rps'] / m['rps']:5.2f}x"
            f" {d['p50_ms']:8.2f}ms {d['p99_ms']:8.2f}ms" + (f"  ({d['errors']} non-2xx)" if d["errors"] else "")
        )


def _minimal_command(server: str, bin_dir: Path, port: int) -> list[str]:
    if server == "granian":
        return [
            str(bin_dir / "granian"),
            "--interface",
            "asgi",
            "--port",
            str(port),
            "--workers",
            "1",
            "--working-dir",
            str(HERE),
            "minimal_app:app",
        ]
    return [
        str(bin_dir / "uvicorn"),
        "--port",
        str(port),
        "--app-dir",
        str(HERE),
        "--log-level",
        "warning",
        "--no-access-log",
        "minimal_app:app",
    ]


if __name__ == "__main__":
    main()
