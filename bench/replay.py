"""Replay, as_of latency and append cost on large generated logs (50 channels).

For each size: build a log, then in a fresh process replay every projection
(events/s and peak RSS), time in-process as_of queries (median, p99), and
compare append throughput on the large log with an empty one. The
``eventsourcing`` library (SQLite persistence) folds the same events into
50 aggregates in the same run as the baseline.

    python bench/replay.py --sizes 100000 1000000
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import logging
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import START, channels, establishments, generated, machine  # noqa: E402

from events import SQLiteLog  # noqa: E402
from projections import Projections  # noqa: E402
from service import logs  # noqa: E402

CHUNK = 20_000


def build_log(path: Path, size: int) -> float:
    log = SQLiteLog(path, synchronous="OFF")  # building the fixture, not what is measured
    names = channels(50)
    log.append(establishments(names))
    started = time.perf_counter()
    for start in range(0, size, CHUNK):
        log.append(generated(min(CHUNK, size - start), names, start=start))
    log.close()
    return size / (time.perf_counter() - started)


def measure(path: Path) -> dict:
    """Runs in a fresh process: replay, as_of latency, append cost on this log."""
    logs.configure(None, level=logging.WARNING)
    log = SQLiteLog(path)
    projections = Projections(log)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    stats = projections.replay()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rng = random.Random(1)
    names = channels(50)
    last_day = log.read(after=log.head().seq - 1)[0].occurred_on
    span = (dt.date.fromisoformat(last_day) - START).days
    timings = []
    for _ in range(2_000):
        channel, day = rng.choice(names), START + dt.timedelta(days=rng.randrange(span + 1))
        t = time.perf_counter()
        projections.channel_state(channel, day)
        timings.append(time.perf_counter() - t)
    timings.sort()
    append_rate = single_append_rate(log, names)
    log.close()
    return {
        "events": stats.events,
        "replay_seconds": stats.seconds,
        "replay_events_per_second": stats.events_per_second,
        "peak_rss_mb": peak / 1024,
        "rss_before_replay_mb": before / 1024,
        "as_of_median_ms": statistics.median(timings) * 1000,
        "as_of_p99_ms": timings[int(len(timings) * 0.99)] * 1000,
        "append_per_second": append_rate,
    }


def empty_append_rate(folder: Path) -> float:
    log = SQLiteLog(folder / "empty.db")
    Projections(log)
    names = channels(50)
    log.append(establishments(names))
    rate = single_append_rate(log, names)
    log.close()
    return rate


def single_append_rate(log: SQLiteLog, names: list[str]) -> float:
    """Durable appends of one event per call, each after the log's newest day (the common case)."""
    appends = generated(300, names, seed=99, start=10**7)
    started = time.perf_counter()
    for event in appends:
        log.append([event])
    return len(appends) / (time.perf_counter() - started)


@functools.cache
def _eventsourcing_aggregate() -> type:
    """The eventsourcing aggregate, defined once (the library registers each class by topic)."""
    from eventsourcing.domain import Aggregate, event

    class Channel(Aggregate):
        def __init__(self, name: str) -> None:
            self.name, self.status, self.last_meeting = name, "active", None

        @event("Happened")
        def happened(self, kind: str, day: str) -> None:
            if kind == "channel_suspended":
                self.status = "suspended"
            elif kind in ("channel_resumed", "meeting_held"):
                self.status = "active"
            if kind == "meeting_held":
                self.last_meeting = day

    return Channel


def eventsourcing_fold(folder: Path, size: int) -> float:
    """The same events as eventsourcing aggregates (one per channel); time rebuilding all 50."""
    os.environ.update(PERSISTENCE_MODULE="eventsourcing.sqlite", SQLITE_DBNAME=str(folder / "eventsourcing.db"))
    from eventsourcing.application import Application

    channel_class = _eventsourcing_aggregate()
    app = Application()
    names = channels(50)
    aggregates = {n: channel_class(n) for n in names}
    for start in range(0, size, CHUNK):
        for e in generated(min(CHUNK, size - start), names, start=start):
            aggregates[e.channel].happened(e.__struct_config__.tag, e.occurred_on.isoformat())
        app.save(*aggregates.values())
    ids = [a.id for a in aggregates.values()]
    t = time.perf_counter()
    for aggregate_id in ids:
        app.repository.get(aggregate_id)
    return (size + len(ids)) / (time.perf_counter() - t)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    logs.configure(None, level=logging.WARNING)
    folder = Path(tempfile.mkdtemp(prefix="diplo-replay-"))
    print(f"machine: {machine()}\n")
    empty = empty_append_rate(folder)
    for size in args.sizes:
        path = folder / f"log-{size}.db"
        build_rate = build_log(path, size)
        child = subprocess.run(
            [sys.executable, __file__, "--measure", str(path)], capture_output=True, text=True, check=True
        )
        figures = json.loads(child.stdout.strip().splitlines()[-1])
        (folder / f"es-{size}").mkdir()
        baseline = eventsourcing_fold(folder / f"es-{size}", size)
        print(f"{size:,} events over 50 channels (log built at {build_rate:,.0f} ev/s, synchronous=OFF)")
        print(
            f"  replay: {figures['replay_events_per_second']:,.0f} events/s ({figures['replay_seconds']:.1f} s);"
            f" eventsourcing folds the same events at {baseline:,.0f} events/s:"
            f" ratio {figures['replay_events_per_second'] / baseline:.2f}x"
        )
        print(
            f"  replay peak RSS: {figures['peak_rss_mb']:.0f} MB (process at {figures['rss_before_replay_mb']:.0f} MB"
            " before replay)"
        )
        median, p99 = figures["as_of_median_ms"], figures["as_of_p99_ms"]
        print(f"  as_of query in-process: median {median:.3f} ms, p99 {p99:.3f} ms")
        print(
            f"  durable single appends: {figures['append_per_second']:,.0f}/s at this size vs {empty:,.0f}/s on an"
            f" empty log ({figures['append_per_second'] / empty:.2f}x)\n"
        )


if __name__ == "__main__":
    main()
