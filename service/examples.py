"""One realistic example per event type, for the OpenAPI document and the README."""

from __future__ import annotations

from typing import Any

_SOURCE = [
    {
        "url": "https://www.whitehouse.gov/briefing-room/statements-releases/2023/11/15/readout-of-president-joe-bidens-meeting-with-president-xi-jinping-of-the-peoples-republic-of-china-2/",
        "publisher": "The White House",
        "published_on": "2023-11-15",
    }
]


def _event(type_: str, channel: str, occurred_on: str, summary: str, **fields: Any) -> dict[str, Any]:
    return {
        "type": type_,
        "channel": channel,
        "occurred_on": occurred_on,
        "summary": summary,
        "sources": _SOURCE,
        **fields,
    }


EXAMPLES: dict[str, dict[str, Any]] = {
    "channel_established": _event(
        "channel_established",
        "us-cn-counternarcotics-wg",
        "2023-11-15",
        "Leaders agree to set up a counternarcotics working group",
        name="US-China Counternarcotics Working Group",
        parties=["USA", "CHN"],
        kind="law-enforcement",
    ),
    "channel_agreed": _event(
        "channel_agreed",
        "us-cn-mmca",
        "2023-11-15",
        "At Woodside the leaders agree to resume the MMCA meetings",
        by=["USA", "CHN"],
    ),
    "meeting_held": _event(
        "meeting_held",
        "us-cn-mmca",
        "2024-04-03",
        "MMCA working group meets in Honolulu",
        location="Honolulu",
        level="working group",
    ),
    "contact_made": _event(
        "contact_made",
        "us-cn-climate",
        "2022-11-09",
        "Kerry and Xie Zhenhua hold informal talks on the sidelines of COP27 while formal talks are suspended",
        mode="sideline",
        participants=["John Kerry", "Xie Zhenhua"],
        location="Sharm el-Sheikh",
        forum="COP27",
    ),
    "meeting_scheduled": _event(
        "meeting_scheduled",
        "us-cn-mmca",
        "2025-11-01",
        "Next MMCA plenary announced",
        scheduled_for="2025-11-18",
    ),
    "talks_cancelled": _event(
        "talks_cancelled",
        "us-cn-defense-ministers",
        "2023-05-29",
        "China declines an Austin-Li meeting at Shangri-La",
        reason="US sanctions on Li Shangfu",
        mode="declined",
        by="CHN",
        confidence="confirmed",
    ),
    "channel_suspended": _event(
        "channel_suspended",
        "us-cn-mmca",
        "2022-08-05",
        "China cancels the MMCA meetings after the Speaker's visit",
        by="CHN",
        reason="Countermeasure to the Speaker's visit to Taiwan",
    ),
    "channel_restricted": _event(
        "channel_restricted",
        "us-cn-defense-ministers",
        "2022-08-01",
        "After the Speaker's Taiwan visit China leaves Secretary Austin's calls unanswered; the ministers still meet"
        " in person in November",
        by="CHN",
        reason="Countermeasure to the Speaker's visit to Taiwan",
        level="calls refused",
        precision="month",
    ),
    "channel_resumed": _event(
        "channel_resumed", "us-cn-mmca", "2023-11-15", "Leaders welcome the resumption of MMCA meetings"
    ),
    "channel_closed": _event(
        "channel_closed", "us-cn-example", "2024-01-01", "The channel is wound up", reason="Superseded"
    ),
    "sanction_applied": _event(
        "sanction_applied",
        "us-cn-defense-ministers",
        "2018-09-20",
        "State Department sanctions Li Shangfu under CAATSA 231",
        target="Li Shangfu",
        by="USA",
        program="CAATSA section 231",
    ),
    "sanction_lifted": _event(
        "sanction_lifted", "us-cn-example", "2024-01-01", "A sanction is lifted", target="Someone", by="USA"
    ),
    "commitment_made": _event(
        "commitment_made",
        "us-cn-counternarcotics-wg",
        "2023-11-15",
        "China commits to act on fentanyl precursors",
        by="CHN",
        text="Take action against companies exporting fentanyl precursor chemicals",
        conditions="Through the new counternarcotics working group",
        confidence="reported",
    ),
    "commitment_status": _event(
        "commitment_status",
        "us-cn-counternarcotics-wg",
        "2025-03-04",
        "The tariff order finds China has not taken adequate steps on fentanyl",
        target_id="6f1c6a39-5f0e-4a8e-9d7c-3f3b1f0a0a02",
        status="breached",
        confidence="reported",
    ),
    "measure_imposed": _event(
        "measure_imposed",
        "us-cn-trade-consultation",
        "2025-02-04",
        "An additional 10% IEEPA tariff on imports from China, tied to fentanyl, takes effect",
        measure="us-tariff-fentanyl-chn",
        kind="tariff",
        by="USA",
        against="CHN",
        target="all imports from China",
        rate="10%",
        instrument="EO 14195",
    ),
    "measure_modified": _event(
        "measure_modified",
        "us-cn-trade-consultation",
        "2025-03-04",
        "The fentanyl tariff on imports from China is raised to 20%",
        measure="us-tariff-fentanyl-chn",
        rate="20%",
    ),
    "measure_suspended": _event(
        "measure_suspended",
        "us-cn-trade-consultation",
        "2025-05-14",
        "After Geneva, 24 points of the reciprocal tariff are suspended for 90 days",
        measure="us-tariff-reciprocal-chn",
        until="2025-08-12",
    ),
    "measure_lifted": _event(
        "measure_lifted",
        "us-cn-trade-consultation",
        "2025-11-10",
        "Example only: how the end of a measure is recorded",
        measure="us-tariff-fentanyl-chn",
    ),
    "official_changed": _event(
        "official_changed",
        "us-cn-defense-ministers",
        "2023-10-24",
        "Li Shangfu removed as defense minister",
        role="PRC Minister of National Defense",
        person="Li Shangfu",
        change="removed",
    ),
    "event_corrected": _event(
        "event_corrected",
        "us-cn-mmca",
        "2024-04-10",
        "The Honolulu meeting began a day earlier",
        target_id="6f1c6a39-5f0e-4a8e-9d7c-3f3b1f0a0a01",
        changes={"occurred_on": "2024-04-02"},
    ),
    "event_retracted": _event(
        "event_retracted",
        "us-cn-mmca",
        "2024-04-10",
        "Recorded in error",
        target_id="6f1c6a39-5f0e-4a8e-9d7c-3f3b1f0a0a01",
        reason="Duplicate of an earlier report",
    ),
}
