"""Shared helpers for the benchmarks: the machine, timing, generated events."""

from __future__ import annotations

import datetime as dt
import os
import platform
import random
import uuid

from diplo.events import Event
from diplo.events.catalog import EVENT_TYPES

SOURCE = [{"url": "https://example.org/bench", "publisher": "bench"}]
START = dt.date(2000, 1, 1)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next(line.split(":", 1)[1].strip() for line in handle if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB, Python {platform.python_version()}, {platform.system()}"


def channels(count: int) -> list[str]:
    return [f"bench-channel-{i:03d}" for i in range(count)]


def establishments(names: list[str]) -> list[Event]:
    return [
        EVENT_TYPES["channel_established"](
            channel=c, occurred_on=START, summary="established", sources=SOURCE, name=c, parties=["USA", "CHN"]
        )
        for c in names
    ]


def generated(count: int, names: list[str], seed: int = 7, start: int = 0) -> list[Event]:
    """A realistic mix: mostly meetings, some suspensions/resumptions, a few sanctions and commitments."""
    rng = random.Random(seed + start)
    kinds = ["meeting_held"] * 6 + [
        "meeting_scheduled",
        "talks_cancelled",
        "channel_suspended",
        "channel_resumed",
        "commitment_made",
        "official_changed",
        "sanction_applied",
    ]
    extra = {
        "meeting_scheduled": lambda day: {"scheduled_for": day + dt.timedelta(days=30)},
        "talks_cancelled": lambda day: {"reason": "postponed", "mode": "postponed"},
        "channel_suspended": lambda day: {"by": "USA", "reason": "countermeasure"},
        "commitment_made": lambda day: {"by": "CHN", "text": "a commitment"},
        "official_changed": lambda day: {"role": "minister", "person": "Someone", "change": "appointed"},
        "sanction_applied": lambda day: {"target": f"person-{rng.randrange(500)}", "by": "USA"},
    }
    events = []
    for i in range(start, start + count):
        kind = rng.choice(kinds)
        day = START + dt.timedelta(days=1 + i // 400)  # valid time moves forward with the log
        events.append(
            EVENT_TYPES[kind](
                id=uuid.UUID(int=rng.getrandbits(128), version=4),
                channel=names[i % len(names)],
                occurred_on=day,
                summary=f"{kind} #{i}",
                sources=SOURCE,
                **extra.get(kind, lambda d: {})(day),
            )
        )
    return events
