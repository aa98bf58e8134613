"""Bulk load: ``diplo load`` of one JSON Lines file into a fresh database, against bare executemany.

The file holds --events generated events (50 channels, valid parties). Measured in the same run:
  diplo load   the CLI, one atomic batch for the file (parse, validate, chain, place, projections)
  baseline     bare sqlite3 executemany of the same lines into a one-table log, 1,000 rows per commit

    python bench/load.py --events 1000000
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from common import channels, establishments, generated, machine  # noqa: E402

from diplo.events.catalog import encode  # noqa: E402


def write_file(path: Path, count: int) -> None:
    names = channels(50)
    with path.open("wb") as out:
        for event in establishments(names):
            out.write(encode(event) + b"\n")
        for start in range(0, count, 20_000):
            for event in generated(min(20_000, count - start), names, start=start):
                out.write(encode(event) + b"\n")


def bare(path: Path, lines: Path) -> float:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE events (seq INTEGER PRIMARY KEY, body BLOB)")
    started = time.perf_counter()
    count = 0
    with lines.open("rb") as handle:
        while chunk := [(line,) for _, line in zip(range(1_000), handle, strict=False)]:
            conn.execute("BEGIN")
            conn.executemany("INSERT INTO events (body) VALUES (?)", chunk)
            conn.execute("COMMIT")
            count += len(chunk)
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="diplo-load-"))
    lines = folder / "events.jsonl"
    write_file(lines, args.events)
    total = sum(1 for _ in lines.open("rb"))
    print(f"machine: {machine()}; load average: {os.getloadavg()[0]:.2f}")
    baseline = bare(folder / "bare.db", lines)
    diplo = Path(sys.executable).parent / "diplo"
    started = time.perf_counter()
    subprocess.run([str(diplo), "load", "--db", str(folder / "diplo.db"), str(lines)], check=True)
    rate = total / (time.perf_counter() - started)
    print(f"\n{total:,} events in one file")
    print(
        f"  diplo load: {rate:,.0f} events/s; bare executemany of the same lines: {baseline:,.0f} events/s"
        f" ({rate / baseline:.2f}x)"
    )
    print(f"  load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
