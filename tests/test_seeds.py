"""The seeded history answers what the sources say, channel by channel."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from events import SQLiteLog
from projections import Projections
from service.loading import load_files, seed_files

SEEDS = Path(__file__).parent.parent / "seeds"
D = dt.date.fromisoformat


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    log = SQLiteLog(tmp_path_factory.mktemp("seeds") / "seeded.db")
    projections = Projections(log)
    load_files(log, seed_files(SEEDS))
    yield log, projections
    log.close()


# (channel, as_of, status, since, last_meeting) from the sources cited in seeds/.
EXPECTED = [
    ("us-cn-mmca", "2023-06-01", "suspended", "2022-08-05", "2021-12-14"),  # cancelled after the Speaker's visit
    ("us-cn-mmca", "2024-05-01", "active", "2023-11-15", "2024-04-03"),  # resumed at Woodside, met in Honolulu
    ("us-cn-mmca", "2022-08-04", "active", "2020-12-14", "2021-12-14"),  # the day before the countermeasures
    ("us-cn-dpct", "2023-12-31", "active", "2023-11-15", "2021-09-28"),  # resumed, no meeting yet
    ("us-cn-dpct", "2024-01-10", "active", "2023-11-15", "2024-01-08"),  # 17th DPCT
    ("us-cn-theater-commanders", "2024-06-01", "active", "2023-11-15", None),  # resumed, not yet met
    ("us-cn-theater-commanders", "2024-09-10", "active", "2023-11-15", "2024-09-09"),  # Paparo-Wu (Hawaii date)
    (
        "us-cn-defense-ministers",
        "2023-11-01",
        "suspended",
        "2023-05-29",
        "2022-11-22",
    ),  # after Li's removal: still halted
    ("us-cn-defense-ministers", "2024-06-01", "active", "2024-04-16", "2024-05-31"),  # Austin-Dong, Shangri-La
    ("us-cn-climate", "2022-10-01", "suspended", "2022-08-05", "2021-04-15"),
    ("us-cn-climate", "2022-11-20", "active", "2022-11-14", "2022-11-17"),  # Bali, then COP27
    ("us-cn-counternarcotics", "2024-02-01", "active", "2023-11-15", "2024-01-30"),  # working group launched
    ("us-cn-repatriation", "2025-12-31", "suspended", "2022-08-05", None),  # no resumption found
    ("us-cn-leaders", "2023-06-01", "active", "2021-02-10", "2022-11-14"),  # last met in Bali
    ("us-cn-leaders", "2024-12-01", "active", "2021-02-10", "2024-11-16"),  # Lima
]


@pytest.mark.parametrize(("channel", "as_of", "status", "since", "last_meeting"), EXPECTED)
def test_seeded_channel_states_match_the_sources(seeded, channel, as_of, status, since, last_meeting) -> None:  # type: ignore[no-untyped-def]
    _, projections = seeded
    state = projections.channel_state(channel, D(as_of))
    assert state is not None
    assert (state.status, state.since, state.last_meeting) == (
        status,
        D(since),
        D(last_meeting) if last_meeting else None,
    )


def test_li_shangfu_sanctions_and_tenure(seeded) -> None:  # type: ignore[no-untyped-def]
    _, projections = seeded
    in_force = {s.target for s in projections.sanctions_in_force(D("2023-06-01"))}
    assert "Li Shangfu" in in_force and "Nancy Pelosi" in in_force
    assert "Nancy Pelosi" not in {s.target for s in projections.sanctions_in_force(D("2022-08-04"))}
    officials = projections.channel_state("us-cn-defense-ministers", D("2023-06-01")).officials  # type: ignore[union-attr]
    assert officials == {"PRC Minister of National Defense": "Li Shangfu"}
    after = projections.channel_state("us-cn-defense-ministers", D("2024-01-01")).officials  # type: ignore[union-attr]
    assert after == {"PRC Minister of National Defense": "Dong Jun"}


def test_the_seeds_are_large_sourced_and_idempotent(seeded) -> None:  # type: ignore[no-untyped-def]
    log, projections = seeded
    rows = log.read()
    assert len(rows) >= 60
    assert len(projections.channel_names()) >= 9
    years = {r.occurred_on[:4] for r in rows}
    assert {"2018", "2019", "2020", "2021", "2022", "2023", "2024", "2025"} <= years
    for line in (line for f in seed_files(SEEDS) for line in f.read_text().splitlines() if line.strip()):
        event = json.loads(line)
        assert event["sources"] and all(s["url"].startswith("http") and s.get("publisher") for s in event["sources"])
    again = load_files(log, seed_files(SEEDS))
    assert sum(r.appended for r in again) == 0
    assert log.read() == rows


def test_the_seed_article_is_cited_on_what_it_mentions(seeded) -> None:  # type: ignore[no-untyped-def]
    log, _ = seeded
    cited = [r for r in log.read() if b"thereportify.com" in r.body]
    kinds = {(r.channel, r.type) for r in cited}
    assert ("us-cn-mmca", "channel_resumed") in kinds  # the MMCA resumption expected at the summit
    assert ("us-cn-counternarcotics", "commitment_made") in kinds  # the fentanyl commitment
    assert ("us-cn-defense-ministers", "official_changed") in kinds  # Li Shangfu ousted
    assert ("us-cn-sanctions", "sanction_applied") in kinds  # Li under US sanctions since 2018
    assert ("us-cn-leaders", "meeting_held") in kinds  # Bali, the last face-to-face
    assert ("us-cn-secstate", "talks_cancelled") in kinds  # balloon: talks called off
