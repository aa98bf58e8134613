"""The registers' questions on large generated logs (bench/replay.py's logs: 50 channels, a few sanctions and
commitments among mostly meetings, back-dated events, corrections and retractions), in-process:

  stored   sanctions_in_force / measures / commitments (all, and one channel) at random (as_of, known_at),
           and now: one seek for the known_at's seq, the register's items live then, each read on the day
  folded   the same questions by folding every event of the register recorded by known_at (the per-request
           fold the registers used before, kept as the answer while a rebuild of another layout runs)

Both in the same run, on the same questions; median, p99 and max in ms. Also the replay's time and the size of
register_items.

    python bench/registers.py --sizes 100000 1000000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import START, channels, machine  # noqa: E402
from replay import build_log, percentiles  # noqa: E402

from diplo.events import SQLiteLog  # noqa: E402
from diplo.projections import Projections  # noqa: E402
from diplo.service import logs  # noqa: E402


def timed(question: Callable[[], object], count: int) -> tuple[dict, int]:
    timings, size = [], 0
    for _ in range(count):
        started = time.perf_counter()
        size = len(question())  # type: ignore[arg-type]
        timings.append(time.perf_counter() - started)
    return {k: round(v, 2) for k, v in percentiles(timings).items()}, size


def measure(path: Path, stored_count: int, folded_count: int) -> dict:
    logs.configure(None, level=logging.WARNING)
    log = SQLiteLog(path)
    projections = Projections(log)
    stats = projections.replay()
    conn = log.reader()
    rows, size = conn.execute("SELECT count(*), sum(length(body)) FROM register_items").fetchone()
    items = dict(conn.execute("SELECT register, count(*) FROM register_items WHERE recorded_to IS NULL GROUP BY 1"))
    moments = [r[0] for r in conn.execute("SELECT recorded_at FROM events WHERE seq % 997 = 0")]
    last_day = dt.date.fromisoformat(conn.execute("SELECT max(occurred_on) FROM events").fetchone()[0])
    span = (last_day - START).days
    names = channels(50)
    result: dict = {
        "replay_seconds": stats.seconds,
        "register_items": {"rows": rows, "megabytes": round((size or 0) / 2**20, 1), "items": items},
    }
    today = dt.datetime.now(dt.UTC).date()
    questions: dict[str, tuple[Callable, Callable]] = {  # (stored, folded as before: parties from the tables)
        "sanctions": (
            lambda p, day, at, c: p.sanctions_in_force(day, at),
            lambda p, day, at, c: p._folded_sanctions(day, at),
        ),
        "measures": (lambda p, day, at, c: p.measures(day, at), lambda p, day, at, c: p._folded_measures(day, at)),
        "commitments": (
            lambda p, day, at, c: p.commitments(None, day, at),
            lambda p, day, at, c: p._folded_commitments(None, day, at),
        ),
        "commitments_of_a_channel": (
            lambda p, day, at, c: p.commitments(c, day, at),
            lambda p, day, at, c: p._folded_commitments(c, day, at),
        ),
    }
    for name, (stored_ask, folded_ask) in questions.items():
        for known in ("known_at", "now"):

            def asker(ask: Callable, known: str = known) -> Callable[[], object]:
                rng = random.Random(1)

                def question() -> object:
                    day = START + dt.timedelta(days=rng.randrange(span + 1)) if known == "known_at" else today
                    at = rng.choice(moments) if known == "known_at" else None
                    return ask(projections, day, at, rng.choice(names))

                return question

            stored, answer_size = timed(asker(stored_ask), stored_count)
            folded, _ = timed(asker(folded_ask), folded_count)
            result[f"{name} ({known})"] = {"stored": stored, "folded": folded, "answer_size_last": answer_size}
    log.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--stored", type=int, default=200)
    parser.add_argument("--folded", type=int, default=20)
    args = parser.parse_args()
    logs.configure(None, level=logging.WARNING)
    print(json.dumps({"machine": machine()}))
    for size in args.sizes:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "bench.db"
            build_log(path, size)
            print(json.dumps({"events": size, **measure(path, args.stored, args.folded)}, indent=1), flush=True)


if __name__ == "__main__":
    main()
