"""Bulk load: one transaction per file, however long it takes, with its phases reported."""

from __future__ import annotations

from pathlib import Path

import msgspec
from factory import event_dict

from diplo.events import SQLiteLog
from diplo.service.loading import load_file


def test_a_load_that_outlasts_the_append_timeout_still_commits_and_reports_its_transaction(
    log: SQLiteLog, tmp_path: Path
) -> None:
    lines = [event_dict("channel_established", name="MMCA", parties=["USA", "CHN"], occurred_on="1998-01-19")]
    lines += [event_dict("meeting_held", occurred_on=f"2020-01-{day:02d}") for day in range(1, 29)]
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(msgspec.json.encode(line) for line in lines) + b"\n")
    log.append_timeout = 1e-9  # an interactive append would give up at once
    told: list[object] = []
    result = load_file(log, path, appending=lambda count: (told.append(count), lambda: told.append("done"))[1])
    assert (result.appended, told) == (29, [29, "done"])
    assert log.head().seq == 29
