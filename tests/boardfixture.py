"""A small world of channels for the board's tests, and answers about it computed without the service.

Six channels between four parties, 2018-2022, with meetings, a contact, a cancellation, measures, commitments,
an official, a successor, a correction and a retraction. Every event has a fixed id and a unique summary, so a
test can find it on a page. ``expected_*`` read this list directly: they never call diplo's code.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from factory import event_dict

NAMESPACE = uuid.UUID("6f1c9a4e-7d1b-4c55-9a55-0b0a4d1e2f30")


def eid(name: str) -> str:
    return str(uuid.uuid5(NAMESPACE, name))


def ev(key: str, type_: str, channel: str, day: str, **fields: Any) -> dict:
    fields.setdefault("summary", f"{key} ({type_.replace('_', ' ')})")
    return event_dict(type_, channel, day, id=eid(key), **fields)


EVENTS: list[dict] = [
    # fx-mil: USA-CHN military talks, suspended 2021-07-01, resumed 2022-03-01
    ev("mil-est", "channel_established", "fx-mil", "2019-03-01", name="FX military talks", kind="military"),
    ev("mil-m1", "meeting_held", "fx-mil", "2019-06-10", summary="Mil talks in Beijing"),
    ev("mil-m2", "meeting_held", "fx-mil", "2020-01-15", summary="Mil talks in Hawaii"),
    ev("mil-c1", "commitment_made", "fx-mil", "2020-01-15", by="CHN", text="notify large exercises"),
    ev("mil-official", "official_changed", "fx-mil", "2020-02-01", role="lead", person="Admiral Fixture"),
    ev("mil-susp", "channel_suspended", "fx-mil", "2021-07-01", by="CHN", reason="a visit",
       summary="Mil talks suspended after a visit, " + "with a long explanation that the board must shorten " * 3),
    ev("mil-contact", "contact_made", "fx-mil", "2021-09-01", mode="sideline", summary="Mil sideline chat"),
    ev("mil-cancel", "talks_cancelled", "fx-mil", "2021-10-05", summary="Mil round called off"),
    ev("mil-res", "channel_resumed", "fx-mil", "2022-03-01", summary="Mil talks resumed"),
    ev("mil-m3", "meeting_held", "fx-mil", "2022-03-20", summary="Mil talks in Hanoi"),
    ev("mil-c1-kept", "commitment_status", "fx-mil", "2022-04-01", target_id=eid("mil-c1"), status="fulfilled"),
    ev("mil-m4", "meeting_held", "fx-mil", "2022-05-02", summary="Mil talks in Manila"),
    # fx-climate: USA-CHN, agreed 2020-02-01, active from its first meeting, restricted 2022-08-05
    ev("cli-est", "channel_established", "fx-climate", "2020-02-01", name="FX climate group", status="agreed",
       kind="climate-science"),
    ev("cli-m1", "meeting_held", "fx-climate", "2020-06-01", summary="Climate group meets in Shanghai"),
    ev("cli-ghost", "meeting_held", "fx-climate", "2021-01-10", summary="Climate talks that never were"),
    ev("cli-tariff", "measure_imposed", "fx-climate", "2021-04-01", measure="fx-us-tariff-chn", kind="tariff",
       by="USA", against="CHN", target="solar panels", rate="25%", summary="US tariff on Chinese solar panels"),
    ev("cli-restr", "channel_restricted", "fx-climate", "2022-08-05", by="CHN", level="ministers only",
       reason="countermeasure", summary="Climate group restricted"),
    # fx-trade: USA-JPN, a measure imposed and lifted, a commitment broken
    ev("tr-est", "channel_established", "fx-trade", "2019-01-01", name="FX trade dialogue", parties=["USA", "JPN"],
       kind="economic"),
    ev("tr-m1", "meeting_held", "fx-trade", "2019-02-01", summary="Trade dialogue in Tokyo"),
    ev("tr-steel", "measure_imposed", "fx-trade", "2021-02-01", measure="fx-us-steel-jpn", kind="tariff", by="USA",
       against="JPN", target="steel", rate="10%", summary="US steel tariff on Japan"),
    ev("tr-c1", "commitment_made", "fx-trade", "2021-03-01", by="JPN", text="buy more soybeans"),
    ev("tr-steel-off", "measure_lifted", "fx-trade", "2022-06-01", measure="fx-us-steel-jpn",
       summary="US steel tariff on Japan lifted"),
    ev("tr-c1-broken", "commitment_status", "fx-trade", "2022-07-01", target_id=eid("tr-c1"), status="breached"),
    # fx-old and fx-new: USA-RUS, the old one closed, the new one succeeds it
    ev("old-est", "channel_established", "fx-old", "2018-01-01", name="FX old arms talks", parties=["USA", "RUS"],
       kind="arms-control"),
    ev("old-m1", "meeting_held", "fx-old", "2018-05-01", summary="Old arms talks in Geneva"),
    ev("old-close", "channel_closed", "fx-old", "2020-06-01", reason="treaty expired", summary="Old arms talks end"),
    ev("new-est", "channel_established", "fx-new", "2020-07-01", name="FX new arms talks", parties=["USA", "RUS"],
       status="agreed", succeeds="fx-old", kind="arms-control"),
    # fx-quiet: CHN-JPN, one meeting in 2018 and nothing since: dormant
    ev("q-est", "channel_established", "fx-quiet", "2018-03-01", name="FX quiet channel", parties=["CHN", "JPN"],
       kind="diplomatic"),
    ev("q-m1", "meeting_held", "fx-quiet", "2018-04-01", summary="Quiet channel meets once"),
    # amendments: a meeting moved ten days, another never happened
    ev("mil-m4-moved", "event_corrected", "fx-mil", "2022-05-20", target_id=eid("mil-m4"),
       changes={"occurred_on": "2022-05-12"}),
    ev("cli-ghost-gone", "event_retracted", "fx-climate", "2021-02-01", target_id=eid("cli-ghost")),
]  # fmt: skip

CHANNELS = ["fx-climate", "fx-mil", "fx-new", "fx-old", "fx-quiet", "fx-trade"]

# Recorded after the fixture, between the two moments a "what did we learn" test asks about.
LATE: list[dict] = [
    ev("mil-m5", "meeting_held", "fx-mil", "2022-09-01", summary="Mil talks in Jakarta (late news)"),
    ev("q-susp", "channel_suspended", "fx-quiet", "2019-01-01", by="JPN", reason="a protest",
       summary="Quiet channel suspended (learned late)"),
    ev("tr-rice", "measure_imposed", "fx-trade", "2019-06-01", measure="fx-us-rice-jpn", kind="tariff", by="USA",
       against="JPN", target="rice", summary="US rice tariff on Japan (learned late)"),
    ev("mil-m2-fix", "event_corrected", "fx-mil", "2022-09-02", target_id=eid("mil-m2"),
       changes={"summary": "Mil talks in Honolulu"}),
]  # fmt: skip
# Recorded after the second moment: never part of its answer.
AFTER: list[dict] = [ev("mil-m6", "meeting_held", "fx-mil", "2022-10-01", summary="Mil talks in Seoul (after)")]


# -- answers computed from the list alone ------------------------------------------------------------


def effective(events: list[dict]) -> list[dict]:
    """The events as corrected, retracted ones and the amendments themselves left out, in date order."""
    retracted = {e["target_id"] for e in events if e["type"] == "event_retracted"}
    changes: dict[str, dict] = {}
    for e in events:
        if e["type"] == "event_corrected":
            changes.setdefault(e["target_id"], {}).update(e["changes"])
    kept = [
        {**e, **changes.get(e["id"], {})}
        for e in events
        if e["type"] not in ("event_corrected", "event_retracted") and e["id"] not in retracted
    ]
    return sorted(kept, key=lambda e: e["occurred_on"])  # stable: recording order within a day


STATUS_BY_TYPE = {
    "channel_suspended": "suspended",
    "channel_restricted": "restricted",
    "channel_resumed": "active",
    "channel_closed": "closed",
    "channel_agreed": "agreed",
}


def status_changes(events: list[dict]) -> list[tuple[str, str, str | None, str]]:
    """(day, channel, from, to) for every change of status, the channel's beginning included."""
    status: dict[str, str] = {}
    found = []
    for e in effective(events):
        channel, now = e["channel"], status.get(e["channel"])
        new = now
        if e["type"] == "channel_established":
            new = e.get("status", "active")
        elif e["type"] == "meeting_held" and now not in ("active", "restricted"):
            new = "active"
        elif e["type"] in STATUS_BY_TYPE:
            new = STATUS_BY_TYPE[e["type"]]
        if new != now:
            found.append((e["occurred_on"], channel, now, new))
            status[channel] = new  # type: ignore[assignment]
    return found


def between(day: str, start: str, end: str) -> bool:
    return start <= day <= end


def expected_changes(events: list[dict], start: str, end: str) -> dict[str, list]:
    """What /changes?from=start&to=end must answer, as comparable lists."""
    kept = effective(events)
    measures = {"measure_imposed": "imposed", "measure_lifted": "lifted", "measure_modified": "modified"}
    return {
        "status_changes": sorted(
            (day, channel, old, new) for day, channel, old, new in status_changes(events) if between(day, start, end)
        ),
        "meetings": sorted(
            (e["occurred_on"], e["id"])
            for e in kept
            if e["type"] == "meeting_held" and between(e["occurred_on"], start, end)
        ),
        "measures": sorted(
            (e["occurred_on"], e["measure"], measures[e["type"]], e["id"])
            for e in kept
            if e["type"] in measures and between(e["occurred_on"], start, end)
        ),
        "commitments": sorted(
            (e["occurred_on"], e.get("target_id", e["id"]), "made" if e["type"] == "commitment_made" else e["status"])
            for e in kept
            if e["type"] in ("commitment_made", "commitment_status") and between(e["occurred_on"], start, end)
        ),
    }


def answered(body: dict) -> dict[str, list]:
    """The same lists read from a /changes JSON answer."""
    return {
        "status_changes": sorted(
            (c["on"], c["channel"], c["from_status"], c["to_status"]) for c in body["status_changes"]
        ),
        "meetings": sorted((m["on"], m["event"]["id"]) for m in body["meetings"]),
        "measures": sorted((m["on"], m["measure"], m["action"], m["event"]["id"]) for m in body["measures"]),
        "commitments": sorted((c["on"], c["commitment_id"], c["action"]) for c in body["commitments"]),
    }


def date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)
