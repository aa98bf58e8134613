"""Append throughput: diplo's log against bare sqlite3, measured in the same run.

Three workloads, each on a fresh file with synchronous=FULL (every
acknowledged append is on disk):
  sequential   one event per call, one caller
  concurrent   32 threads, one event per call (diplo group-commits)
  batch        batches of 1,000 events per call
Baseline: bare sqlite3, one INSERT + COMMIT per event (sequential and
32 threads sharing one lock-protected connection), and executemany of
1,000 rows per commit for batches.

    python bench/append.py [--events N]
"""

from __future__ import annotations

import argparse
import logging
import sqlite3
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import channels, establishments, generated, machine  # noqa: E402

from diplo.events import SQLiteLog  # noqa: E402
from diplo.events.catalog import encode  # noqa: E402
from diplo.projections import Projections  # noqa: E402
from diplo.service import logs  # noqa: E402


def bare_db(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE events (seq INTEGER PRIMARY KEY, id TEXT UNIQUE, body BLOB)")
    return conn


def bare_sequential(path: Path, bodies: list[tuple[str, bytes]]) -> float:
    conn = bare_db(path)
    started = time.perf_counter()
    for row in bodies:
        conn.execute("BEGIN")
        conn.execute("INSERT INTO events (id, body) VALUES (?, ?)", row)
        conn.execute("COMMIT")
    return len(bodies) / (time.perf_counter() - started)


def bare_concurrent(path: Path, bodies: list[tuple[str, bytes]], threads: int) -> float:
    conn = bare_db(path)
    lock = threading.Lock()

    def work(part: list[tuple[str, bytes]]) -> None:
        for row in part:
            with lock:
                conn.execute("BEGIN")
                conn.execute("INSERT INTO events (id, body) VALUES (?, ?)", row)
                conn.execute("COMMIT")

    return _threads(work, bodies, threads)


def bare_batches(path: Path, bodies: list[tuple[str, bytes]], size: int) -> float:
    conn = bare_db(path)
    started = time.perf_counter()
    for i in range(0, len(bodies), size):
        conn.execute("BEGIN")
        conn.executemany("INSERT INTO events (id, body) VALUES (?, ?)", bodies[i : i + size])
        conn.execute("COMMIT")
    return len(bodies) / (time.perf_counter() - started)


def schema_ceiling(path: Path, events: list) -> float:
    """Bare executemany of ready-made rows into diplo's own events schema (all five indexes), no fsync.

    Not a baseline to beat: the most SQLite on this machine does with the schema the log needs.
    """
    from sqlite_utils import Database

    from diplo.events.schema import migrate
    from diplo.events.sqlite import COLUMNS, connect

    conn = connect(path, synchronous="OFF")
    migrate(Database(conn))
    rows = [
        (
            i + 1,
            str(e.id),
            e.__struct_config__.tag,
            e.channel,
            i + 1,
            e.occurred_on.isoformat(),
            "2026-01-01T00:00:00.000000Z",
            encode(e),
            "0" * 64,
            "0" * 64,
            None,
        )
        for i, e in enumerate(events)
    ]
    started = time.perf_counter()
    for i in range(0, len(rows), 1_000):
        conn.execute("BEGIN")
        conn.executemany(f"INSERT INTO events ({COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)", rows[i : i + 1_000])
        conn.execute("COMMIT")
    return len(rows) / (time.perf_counter() - started)


def _threads(work, items: list, threads: int) -> float:  # type: ignore[no-untyped-def]
    parts = [items[i::threads] for i in range(threads)]
    workers = [threading.Thread(target=work, args=(p,)) for p in parts]
    started = time.perf_counter()
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return len(items) / (time.perf_counter() - started)


def diplo_log(path: Path, with_projections: bool) -> tuple[SQLiteLog, list[str]]:
    log = SQLiteLog(path)
    if with_projections:
        Projections(log)
    names = channels(50)
    log.append(establishments(names))
    return log, names


def diplo_sequential(path: Path, count: int, with_projections: bool) -> float:
    log, names = diplo_log(path, with_projections)
    events = generated(count, names)
    started = time.perf_counter()
    for event in events:
        log.append([event])
    rate = count / (time.perf_counter() - started)
    log.close()
    return rate


def diplo_concurrent(path: Path, count: int, threads: int, with_projections: bool) -> float:
    log, names = diplo_log(path, with_projections)
    events = generated(count, names)

    def work(part: list) -> None:
        for event in part:
            log.append([event])

    rate = _threads(work, events, threads)
    log.close()
    return rate


def diplo_batches(path: Path, count: int, size: int, with_projections: bool) -> float:
    log, names = diplo_log(path, with_projections)
    events = generated(count, names)
    started = time.perf_counter()
    for i in range(0, count, size):
        log.append(events[i : i + size])
    rate = count / (time.perf_counter() - started)
    log.close()
    return rate


def main() -> None:
    logs.configure(None, level=logging.WARNING)  # the per-append info lines are not what is measured
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=2_000, help="events for the one-per-call workloads")
    parser.add_argument("--batch-events", type=int, default=100_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="diplo-bench-"))
    n, nb = args.events, args.batch_events
    bodies = [(str(e.id), encode(e)) for e in generated(max(n, nb), channels(50))]
    print(f"machine: {machine()}")
    print(f"files in {folder} (synchronous=FULL, WAL); {n} events one per call, {nb} in batches of 1,000\n")
    rows = []
    base_seq = bare_sequential(folder / "bare-seq.db", bodies[:n])
    base_conc = bare_concurrent(folder / "bare-conc.db", bodies[:n], 32)
    base_batch = bare_batches(folder / "bare-batch.db", bodies[:nb], 1_000)
    for label, with_projections in (("log + projections", True), ("log only", False)):
        tag = "p" if with_projections else "l"
        seq = diplo_sequential(folder / f"seq-{tag}.db", n, with_projections)
        conc = diplo_concurrent(folder / f"conc-{tag}.db", n, 32, with_projections)
        batch = diplo_batches(folder / f"batch-{tag}.db", nb, 1_000, with_projections)
        rows += [
            (f"sequential, 1 per call ({label})", seq, base_seq),
            (f"32 concurrent callers ({label})", conc, base_seq),
            (f"batches of 1,000 ({label})", batch, base_batch),
        ]
    print(f"{'workload':48} {'diplo ev/s':>12} {'baseline ev/s':>14} {'ratio':>7}")
    for label, rate, base in rows:
        print(f"{label:48} {rate:12,.0f} {base:14,.0f} {rate / base:6.2f}x")
    ceiling = schema_ceiling(folder / "ceiling.db", generated(nb, channels(50)))
    print(f"\nceiling: bare executemany into diplo's events schema, synchronous=OFF: {ceiling:,.0f} rows/s")
    print(
        f"baselines: bare sqlite3 one commit per event sequential {base_seq:,.0f} ev/s;"
        f" 32 threads on one connection {base_conc:,.0f} ev/s; executemany 1,000/commit {base_batch:,.0f} ev/s"
    )


if __name__ == "__main__":
    main()
