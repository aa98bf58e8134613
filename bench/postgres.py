"""diplo on PostgreSQL beside diplo on SQLite, and beside eventsourcing's PostgreSQL persistence
doing the same work, in the same run: appends, replay, HTTP.

  appends   one event per call; 32 concurrent callers; batches of 1,000 (log + projections)
            eventsourcing: one save per event; 32 threads saving; 1,000 events per save
  replay    rebuild every projection from a log of --replay-events events (50 channels)
            eventsourcing: rebuild the 50 aggregates holding the same events
  HTTP      wrk, 32 connections, POST /events and GET /channels/{c}?as_of= on one server

Every PostgreSQL database is a throwaway one on --server (default: the local PostgreSQL,
trust auth), dropped at the end. Needs the bench extra (pip install -e '.[bench]') and wrk.

    python bench/postgres.py --append-events 2000 --replay-events 100000
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg

sys.path.insert(0, str(Path(__file__).parent))

from common import channels, establishments, generated, machine  # noqa: E402
from http_load import ADMIN, BODY, wait, wrk  # noqa: E402
from replay import _eventsourcing_aggregate  # noqa: E402

from diplo.events.backends import open_log  # noqa: E402
from diplo.service import logs  # noqa: E402
from diplo.service.runtime import open_projections  # noqa: E402

CHUNK = 20_000


@contextmanager
def throwaway(server: str) -> Iterator[str]:
    name = f"diplo_bench_{secrets.token_hex(4)}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(server)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(server, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def rate(count: int, work: Callable[[], None]) -> float:
    started = time.perf_counter()
    work()
    return count / (time.perf_counter() - started)


def concurrently(threads: int, work: Callable[[int], None]) -> None:
    running = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()


# -- diplo -----------------------------------------------------------------------------------------


def diplo_appends(db: str | Path, count: int) -> dict[str, float]:
    log = open_log(db)
    open_projections(log)
    names = channels(50)
    log.append(establishments(names))
    single = generated(count, names, start=0)
    crowd = generated(count, names, start=count)
    batches = generated(10 * 1_000, names, start=2 * count)
    per = count // 32
    try:
        return {
            "single": rate(count, lambda: [log.append([e]) for e in single]),
            "concurrent": rate(
                per * 32, lambda: concurrently(32, lambda n: [log.append([e]) for e in crowd[n * per : (n + 1) * per]])
            ),
            "batches": rate(
                len(batches), lambda: [log.append(batches[i : i + 1_000]) for i in range(0, 10_000, 1_000)]
            ),
        }
    finally:
        log.close()


def diplo_replay(db: str | Path, size: int) -> float:
    log = open_log(db)
    names = channels(50)
    log.append(establishments(names))
    for start in range(0, size, CHUNK):
        log.append(generated(min(CHUNK, size - start), names, start=start))
    projections = open_projections(log)
    try:
        return projections.replay().events_per_second
    finally:
        log.close()


# -- eventsourcing, PostgreSQL persistence ---------------------------------------------------------------


def eventsourcing_app(dsn: str):  # type: ignore[no-untyped-def]
    from eventsourcing.application import Application

    parts = urlsplit(dsn)
    return Application(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": parts.path.lstrip("/"),
            "POSTGRES_HOST": parts.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parts.port or 5432),
            "POSTGRES_USER": parts.username or "postgres",
            "POSTGRES_PASSWORD": parts.password or "",
            "POSTGRES_POOL_SIZE": "40",
            "CREATE_TABLE": "y",
        }
    )


def eventsourcing_appends(dsn: str, count: int) -> dict[str, float]:
    app = eventsourcing_app(dsn)
    channel = _eventsourcing_aggregate()
    names = channels(50)
    single = generated(count, names, start=0)
    crowd = generated(count, names, start=count)
    batches = generated(10 * 1_000, names, start=2 * count)
    per = count // 32

    def one_by_one(events: list, aggregate: object) -> None:
        for e in events:
            aggregate.happened(e.__struct_config__.tag, e.occurred_on.isoformat())  # type: ignore[attr-defined]
            app.save(aggregate)

    def in_batches() -> None:
        aggregate = channel("batches")
        for i in range(0, len(batches), 1_000):
            for e in batches[i : i + 1_000]:
                aggregate.happened(e.__struct_config__.tag, e.occurred_on.isoformat())
            app.save(aggregate)

    crowd_aggregates = [channel(f"crowd-{n}") for n in range(32)]
    figures = {
        "single": rate(count, lambda: one_by_one(single, channel("single"))),
        "concurrent": rate(
            per * 32,
            lambda: concurrently(32, lambda n: one_by_one(crowd[n * per : (n + 1) * per], crowd_aggregates[n])),
        ),
        "batches": rate(len(batches), in_batches),
    }
    app.close()
    return figures


def eventsourcing_replay(dsn: str, size: int) -> float:
    app = eventsourcing_app(dsn)
    channel = _eventsourcing_aggregate()
    names = channels(50)
    aggregates = {n: channel(n) for n in names}
    for start in range(0, size, CHUNK):
        for e in generated(min(CHUNK, size - start), names, start=start):
            aggregates[e.channel].happened(e.__struct_config__.tag, e.occurred_on.isoformat())
        app.save(*aggregates.values())
    ids = [a.id for a in aggregates.values()]
    started = time.perf_counter()
    for aggregate_id in ids:
        app.repository.get(aggregate_id)
    seconds = time.perf_counter() - started
    app.close()
    return (size + len(ids)) / seconds


# -- HTTP --------------------------------------------------------------------------------------------------


def http(db: str | Path, size: int, seconds: int, folder: Path, port: int) -> dict[str, dict]:
    log = open_log(db)
    names = channels(50)
    log.append(establishments(names))
    for start in range(0, size, CHUNK):
        log.append(generated(min(CHUNK, size - start), names, start=start))
    log.close()
    post_lua = folder / "post.lua"
    post_lua.write_text(
        'wrk.method = "POST"\nwrk.body = [[' + json.dumps(BODY) + "]]\n"
        f'wrk.headers["Content-Type"] = "application/json"\nwrk.headers["Authorization"] = "Bearer {ADMIN}"\n'
    )
    env = {**os.environ, "DIPLO_DB": str(db), "DIPLO_ADMIN_TOKEN": ADMIN, "DIPLO_SEED": "0", "DIPLO_LOG_FORMAT": "json"}
    diplo = str(Path(sys.executable).parent / "diplo")
    with (folder / f"server-{port}.log").open("w") as out:
        process = subprocess.Popen([diplo, "serve", "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        wait(f"{base}/health")
        return {
            "get": wrk(f"{base}/channels/bench-channel-007?as_of=2003-06-01", seconds),
            "post": wrk(f"{base}/events", seconds, post_lua),
        }
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--server", default=os.environ.get("DIPLO_TEST_POSTGRES", "postgresql://postgres@127.0.0.1/postgres")
    )
    parser.add_argument("--append-events", type=int, default=2_000)
    parser.add_argument("--replay-events", type=int, default=100_000)
    parser.add_argument("--http-events", type=int, default=100_000)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    logs.configure(None, level=logging.WARNING)
    folder = Path(tempfile.mkdtemp(prefix="diplo-pg-bench-"))
    with psycopg.connect(args.server) as conn:
        version = conn.execute("SHOW server_version").fetchone()[0]  # type: ignore[index]
        sync = conn.execute("SHOW synchronous_commit").fetchone()[0]  # type: ignore[index]
    print(f"machine: {machine()}\nPostgreSQL {version} on loopback, synchronous_commit={sync}; SQLite WAL, FULL\n")

    print(f"appends ({args.append_events:,} single, {args.append_events:,} by 32 callers, 10 x 1,000), events/s")
    with throwaway(args.server) as pg, throwaway(args.server) as es:
        figures = {
            "diplo SQLite": diplo_appends(folder / "appends.db", args.append_events),
            "diplo PostgreSQL": diplo_appends(pg, args.append_events),
            "eventsourcing PostgreSQL": eventsourcing_appends(es, args.append_events),
        }
    print(f"  {'':26} {'one per call':>13} {'32 callers':>11} {'batches':>9}")
    for name, f in figures.items():
        print(f"  {name:26} {f['single']:13,.0f} {f['concurrent']:11,.0f} {f['batches']:9,.0f}")

    print(f"\nreplay of {args.replay_events:,} events (50 channels), events/s")
    with throwaway(args.server) as pg, throwaway(args.server) as es:
        replays = {
            "diplo SQLite": diplo_replay(folder / "replay.db", args.replay_events),
            "diplo PostgreSQL": diplo_replay(pg, args.replay_events),
            "eventsourcing PostgreSQL": eventsourcing_replay(es, args.replay_events),
        }
    for name, value in replays.items():
        print(f"  {name:26} {value:10,.0f}")

    if not shutil.which("wrk"):
        print("\nHTTP: skipped (wrk is needed: apt-get install wrk)")
        return
    print(f"\nHTTP, granian, 1 worker, wrk -t2 -c32 -d{args.seconds}s, log of {args.http_events:,} events")
    with throwaway(args.server) as pg:
        results = {
            "SQLite": http(folder / "http.db", args.http_events, args.seconds, folder, 8711),
            "PostgreSQL": http(pg, args.http_events, args.seconds, folder, 8712),
        }
    for name, r in results.items():
        for kind, label in (("post", "POST /events"), ("get", "GET /channels/{c}?as_of=")):
            d = r[kind]
            print(
                f"  {name:11} {label:26} {d['rps']:8,.0f} req/s  p50 {d['p50_ms']:6.1f} ms  p99 {d['p99_ms']:6.1f} ms"
                + (f"  ({d['errors']} non-2xx)" if d["errors"] else "")
            )


if __name__ == "__main__":
    main()
