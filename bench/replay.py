"""Replay, bitemporal read latency, the board's data and append cost on large generated logs (50 channels).

For each size: build a log (with one back-dated event per thousand, and some corrections and
retractions), then in a fresh process:
  floor    read + decode + fold the same file, nothing written (the least a replay must do)
  replay   rebuild every projection (events/s, peak RSS)
  reads    in-process channel_state for random (as_of, known_at): median, p99, max
  board    the board's data for random (as_of, known_at): every channel's state, marks, timeline
  appends  durable single appends at this size vs an empty log
The ``eventsourcing`` library (SQLite persistence) folds the same events into 50 aggregates
in the same run as the baseline.

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

from common import SOURCE, START, channels, establishments, generated, machine  # noqa: E402

from diplo.events import SQLiteLog  # noqa: E402
from diplo.events.catalog import EVENT_TYPES  # noqa: E402
from diplo.projections import Projections  # noqa: E402
from diplo.service import logs  # noqa: E402

CHUNK = 20_000


def build_log(path: Path, size: int, irregular: bool = True) -> float:
    log = SQLiteLog(path, synchronous="OFF")  # building the fixture, not what is measured
    names = channels(50)
    log.append(establishments(names))
    started = time.perf_counter()
    for start in range(0, size, CHUNK):
        log.append(generated(min(CHUNK, size - start), names, start=start))
        if irregular:
            log.append(irregular_events(log, names, start, min(CHUNK, size - start)))
    log.close()
    return size / (time.perf_counter() - started)


def irregular_events(log: SQLiteLog, names: list[str], start: int, count: int) -> list:
    """One back-dated meeting per thousand events, and a correction and a retraction per ten thousand."""
    rng = random.Random(start)
    back = [
        EVENT_TYPES["meeting_held"](
            channel=rng.choice(names),
            occurred_on=START + dt.timedelta(days=1 + rng.randrange(max(start, 1)) // 400),
            summary="a meeting recorded late",
            sources=SOURCE,
        )
        for _ in range(count // 1_000)
    ]
    recent = log.read(after=max(log.head().seq - count, 0), limit=count, type="meeting_held")
    amend = []
    for _ in range(count // 10_000):
        if len(recent) < 2:
            break
        corrected, retracted = rng.sample(recent, 2)
        moved = max(dt.date.fromisoformat(corrected.occurred_on) - dt.timedelta(days=2), START).isoformat()
        common = {"summary": "amended", "sources": SOURCE, "occurred_on": dt.date.fromisoformat(corrected.occurred_on)}
        amend.append(
            EVENT_TYPES["event_corrected"](
                channel=corrected.channel, target_id=corrected.id, changes={"occurred_on": moved}, **common
            )
        )
        amend.append(
            EVENT_TYPES["event_retracted"](
                channel=retracted.channel, target_id=retracted.id, reason="recorded in error", **common
            )
        )
    return [*back, *amend]


def floor(path: Path) -> float:
    """Read + decode + fold the whole file, nothing written: every event read (seq order), decoded with the
    catalog's decoder and folded into its channel's state in memory. A replay must at least do this."""
    from diplo.events.catalog import decode
    from diplo.events.sqlite import connect
    from diplo.projections.state import ChannelState, fold

    conn = connect(path)
    started = time.perf_counter()
    states: dict[str, ChannelState] = {}
    count = 0
    cursor = conn.execute("SELECT channel, version, body FROM events ORDER BY seq")
    while chunk := cursor.fetchmany(5_000):
        for channel, version, body in chunk:
            state = states.get(channel) or ChannelState(channel=channel)
            states[channel] = fold(state, decode(body), version)
        count += len(chunk)
    conn.close()
    return count / (time.perf_counter() - started)


def percentiles(timings: list[float]) -> dict:
    timings = sorted(timings)
    return {
        "median_ms": statistics.median(timings) * 1000,
        "p99_ms": timings[int(len(timings) * 0.99)] * 1000,
        "max_ms": timings[-1] * 1000,
    }


def measure(path: Path) -> dict:
    """Runs in a fresh process: the floor, replay, read latencies, the board's data, append cost on this log."""
    logs.configure(None, level=logging.WARNING)
    floor_rate = floor(path)
    log = SQLiteLog(path)
    projections = Projections(log)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    stats = projections.replay()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rng = random.Random(1)
    names = channels(50)
    head = log.read(after=log.head().seq - 1)[0]
    first = log.read(limit=1)[0]
    last_day = dt.date.fromisoformat(max(r.occurred_on for r in log.read(after=head.seq - 200)))
    span = (last_day - START).days
    moments = [r[0] for r in log.reader().execute("SELECT recorded_at FROM events WHERE seq % 997 = 0")]

    def question() -> tuple[str, dt.date, str]:
        return rng.choice(names), START + dt.timedelta(days=rng.randrange(span + 1)), rng.choice(moments)

    reads: dict[str, list[float]] = {"as_of": [], "as_of + known_at": [], "known_at (head)": []}
    cpu: dict[str, list[float]] = {kind: [] for kind in reads}  # the thread's CPU time: without preemption
    for _ in range(2_000):
        channel, day, moment = question()
        for kind, args in (
            ("as_of", (day, None)),
            ("as_of + known_at", (day, moment)),
            ("known_at (head)", (None, moment)),
        ):
            c, t = time.thread_time(), time.perf_counter()
            projections.channel_state(channel, *args)
            reads[kind].append(time.perf_counter() - t)
            cpu[kind].append(time.thread_time() - c)
    board = []
    for i in range(20):
        _, day, moment = question()
        day, moment = (None, None) if i == 0 else (day, moment)
        t = time.perf_counter()
        board_data(projections, day, moment)
        board.append(time.perf_counter() - t)
    append_rate = single_append_rate(log, names)
    log.close()
    return {
        "events": stats.events,
        "first": first.recorded_at,
        "floor_events_per_second": floor_rate,
        "replay_seconds": stats.seconds,
        "replay_events_per_second": stats.events_per_second,
        "peak_rss_mb": peak / 1024,
        "rss_before_replay_mb": before / 1024,
        "reads": {kind: percentiles(t) for kind, t in reads.items()},
        "reads_cpu": {kind: percentiles(t) for kind, t in cpu.items()},
        "board": percentiles(board),
        "append_per_second": append_rate,
    }


def board_data(projections: Projections, as_of: dt.date | None, known_at: str | None) -> int:
    """What the board draws: every channel's state, its status bands and its marks (at most 120 periods each)."""
    drawn = 0
    for state in projections.all_channels(as_of, known_at):
        end = as_of or dt.date.today()
        drawn += len(projections.bands(state.channel, known_at, start=START, end=end, buckets=120))
        drawn += len(projections.marks(state.channel, known_at, start=START, end=end, buckets=120))
    return drawn


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
    parser.add_argument("--log", type=Path, help="reuse a log built by an earlier run (one size)")
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure)))
        return
    logs.configure(None, level=logging.WARNING)
    folder = Path(tempfile.mkdtemp(prefix="diplo-replay-"))
    print(f"machine: {machine()}; load average before: {os.getloadavg()[0]:.2f}\n")
    empty = empty_append_rate(folder)
    for size in args.sizes:
        path = folder / f"log-{size}.db"
        if args.log:
            path = args.log
            build_rate = 0.0
        else:
            build_rate = build_log(path, size)
        child = subprocess.run(
            [sys.executable, __file__, "--measure", str(path)], capture_output=True, text=True, check=True
        )
        figures = json.loads(child.stdout.strip().splitlines()[-1])
        (folder / f"es-{size}").mkdir()
        baseline = eventsourcing_fold(folder / f"es-{size}", size)
        replay_rate, floor_rate = figures["replay_events_per_second"], figures["floor_events_per_second"]
        print(f"{figures['events']:,} events over 50 channels (log built at {build_rate:,.0f} ev/s, synchronous=OFF)")
        print(
            f"  replay: {replay_rate:,.0f} events/s ({figures['replay_seconds']:.1f} s);"
            f" eventsourcing folds the same events at {baseline:,.0f} events/s: ratio {replay_rate / baseline:.2f}x;"
            f" read + decode + fold floor {floor_rate:,.0f} events/s: ratio {replay_rate / floor_rate:.2f}"
        )
        print(
            f"  replay peak RSS: {figures['peak_rss_mb']:.0f} MB (process at {figures['rss_before_replay_mb']:.0f} MB"
            " before replay)"
        )
        for kind, p in figures["reads"].items():
            c = figures["reads_cpu"][kind]
            print(
                f"  channel_state, {kind}, in-process: median {p['median_ms']:.3f} ms,"
                f" p99 {p['p99_ms']:.3f} ms, max {p['max_ms']:.3f} ms (CPU time: median {c['median_ms']:.3f} ms,"
                f" p99 {c['p99_ms']:.3f} ms)"
            )
        board = figures["board"]
        print(
            f"  board data (50 channels: state, timeline, marks) for random as_of/known_at: median"
            f" {board['median_ms']:.0f} ms, max {board['max_ms']:.0f} ms"
        )
        print(
            f"  durable single appends: {figures['append_per_second']:,.0f}/s at this size vs {empty:,.0f}/s on an"
            f" empty log ({figures['append_per_second'] / empty:.2f}x)"
        )
        print(f"  load average after: {os.getloadavg()[0]:.2f}\n")


if __name__ == "__main__":
    main()
