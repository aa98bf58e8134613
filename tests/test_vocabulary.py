"""Vocabulary v2 (issue 12): each case the v1 vocabulary could not say, worked through with the real record.

Every case is posted over HTTP, answered at several ``as_of`` and ``known_at``, and checked after a replay.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from factory import event_dict, make
from litestar.testing import TestClient

from diplo.events import SQLiteLog
from diplo.events.catalog import EVENT_TYPES, decode, encode
from diplo.projections import Projections
from diplo.projections.state import ChannelState, dormant, fold
from diplo.service.app import create_app
from diplo.service.examples import EXAMPLES
from diplo.service.loading import load_files
from diplo.service.settings import Settings

ADMIN = "test-admin-token-0123456789"
AUTH = {"Authorization": f"Bearer {ADMIN}"}
FIXTURES = Path(__file__).parent / "fixtures"
README = (Path(__file__).parent.parent / "README.md").read_text()
WHITE_HOUSE = {
    "url": "https://www.whitehouse.gov/briefing-room/statements-releases/2023/11/15/readout-of-president-joe-bidens-meeting-with-president-xi-jinping-of-the-peoples-republic-of-china-2/",
    "publisher": "The White House",
}


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    settings = Settings(db=tmp_path / "diplo.db", seed=False, admin_token=ADMIN, log_format="json")
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def post(client: TestClient, type_: str, channel: str, occurred_on: str, **fields: Any) -> dict:
    answer = client.post("/events", json=event_dict(type_, channel, occurred_on, **fields), headers=AUTH)
    assert answer.status_code == 201, answer.text
    return answer.json()


def refused(client: TestClient, type_: str, channel: str, occurred_on: str, **fields: Any) -> dict:
    head = client.get("/log/head").json()
    answer = client.post("/events", json=event_dict(type_, channel, occurred_on, **fields), headers=AUTH)
    assert answer.status_code == 422, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert client.get("/log/head").json() == head  # nothing changed
    return answer.json()


def state(client: TestClient, channel: str, as_of: str | None = None, known_at: str | None = None) -> dict:
    params = {k: v for k, v in {"as_of": as_of, "known_at": known_at}.items() if v}
    answer = client.get(f"/channels/{channel}", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def replay(client: TestClient) -> None:
    answer = client.post("/admin/replay", headers=AUTH)
    assert answer.status_code == 200, answer.text


# -- 1. agreed, not yet resumed: Woodside ------------------------------------------------------------


def test_woodside_makes_mmca_and_theater_commanders_agreed_until_their_first_meetings(client: TestClient) -> None:
    for channel, established in (("us-cn-mmca", "1998-01-19"), ("us-cn-theater-commanders", "2022-08-05")):
        post(client, "channel_established", channel, established)
        post(
            client, "channel_suspended", channel, "2022-08-05", by="CHN", reason="Countermeasure to the Speaker's visit"
        )
        # 2023-11-15, Woodside: the leaders agree to resume both; nobody has met yet.
        post(client, "channel_agreed", channel, "2023-11-15", by=["USA", "CHN"], sources=[WHITE_HOUSE])
    post(client, "meeting_held", "us-cn-mmca", "2024-04-03", location="Honolulu", level="working group")
    recorded = client.get("/log/head").json()
    # 2024-09-09: Adm. Paparo and Gen. Wu Yanan talk by video, the first theater-commander talk in two years.
    post(client, "meeting_held", "us-cn-theater-commanders", "2024-09-09", participants=["Samuel Paparo", "Wu Yanan"])

    for _ in range(2):  # as appended, then after a replay
        mmca = state(client, "us-cn-mmca", "2024-01-01")
        assert (mmca["status"], mmca["since"]) == ("agreed", "2023-11-15")
        mmca = state(client, "us-cn-mmca", "2024-04-03")
        assert (mmca["status"], mmca["since"], mmca["last_meeting"]) == ("active", "2024-04-03", "2024-04-03")
        theater = state(client, "us-cn-theater-commanders", "2024-09-08")
        assert (theater["status"], theater["since"]) == ("agreed", "2023-11-15")
        theater = state(client, "us-cn-theater-commanders")
        assert (theater["status"], theater["since"]) == ("active", "2024-09-09")
        timeline = client.get("/channels/us-cn-theater-commanders/timeline").json()["intervals"]
        assert [(i["status"], i["from"], i["to"]) for i in timeline][-3:] == [
            ("suspended", "2022-08-05", "2023-11-15"),
            ("agreed", "2023-11-15", "2024-09-09"),
            ("active", "2024-09-09", None),
        ]
        replay(client)
    # As known before the Paparo-Wu call was recorded, the channel was still only agreed.
    known_then = client.get("/events", params={"after": recorded["seq"] - 1, "limit": 1}).json()["events"][0]
    theater = state(client, "us-cn-theater-commanders", known_at=known_then["recorded_at"])
    assert theater["status"] == "agreed"


def test_a_channel_created_agreed_is_active_from_its_first_meeting(client: TestClient) -> None:
    # Woodside also created the AI dialogue; its first meeting was in Geneva on 2024-05-14.
    post(client, "channel_established", "us-cn-ai", "2023-11-15", status="agreed", kind="technology")
    assert state(client, "us-cn-ai")["status"] == "agreed"
    post(client, "meeting_held", "us-cn-ai", "2024-05-14", location="Geneva")
    answer = state(client, "us-cn-ai")
    assert (answer["status"], answer["since"], answer["kind"]) == ("active", "2024-05-14", "technology")
    assert state(client, "us-cn-ai", "2024-05-13")["status"] == "agreed"


def test_the_board_shows_agreed_and_restricted_with_their_own_symbol(client: TestClient) -> None:
    post(client, "channel_established", "us-cn-ai", "2023-11-15", status="agreed")
    post(client, "channel_established", "us-cn-defense-ministers", "2019-11-06")
    post(client, "channel_restricted", "us-cn-defense-ministers", "2022-08-05", level="calls refused")
    html = client.get("/").text
    assert re.search(r'id="row-us-cn-ai".*?<span class="badge agreed">◇ agreed</span>', html, re.S)
    row = re.search(r'id="row-us-cn-defense-ministers".*?</tr>', html, re.S).group(0)  # type: ignore[union-attr]
    assert '<span class="badge restricted">◐ restricted</span>' in row and "calls refused" in row


# -- 2. contact that does not change status: COP27 -----------------------------------------------------


def test_cop27_sideline_talks_are_a_contact_during_the_climate_suspension(client: TestClient) -> None:
    post(client, "channel_established", "us-cn-climate", "2021-03-18", kind="climate-science")
    post(client, "meeting_held", "us-cn-climate", "2021-04-15", location="Shanghai")
    post(client, "channel_suspended", "us-cn-climate", "2022-08-05", by="CHN", reason="Countermeasure 8 of 8")
    # 2022-11-09: Kerry and Xie Zhenhua talk informally at COP27, Sharm el-Sheikh, while talks are suspended.
    post(
        client,
        "contact_made",
        "us-cn-climate",
        "2022-11-09",
        mode="sideline",
        participants=["John Kerry", "Xie Zhenhua"],
        location="Sharm el-Sheikh",
        forum="COP27",
    )
    for _ in range(2):
        answer = state(client, "us-cn-climate", "2022-11-10")
        assert (answer["status"], answer["since"]) == ("suspended", "2022-08-05")  # a contact resumes nothing
        assert (answer["last_contact"], answer["last_meeting"]) == ("2022-11-09", "2021-04-15")
        replay(client)
    # 2022-11-14, Bali: the leaders agree to resume formal climate talks; Kerry and Xie meet at COP27 on 11-17.
    post(client, "channel_resumed", "us-cn-climate", "2022-11-14")
    post(client, "meeting_held", "us-cn-climate", "2022-11-17", forum="COP27")
    answer = state(client, "us-cn-climate", "2022-11-30")
    assert (answer["status"], answer["since"], answer["last_meeting"]) == ("active", "2022-11-14", "2022-11-17")
    assert answer["last_contact"] == "2022-11-09"


# -- 3. restricted, and who declined ---------------------------------------------------------------------


def test_austins_calls_refused_while_ministers_still_meet_is_restricted(client: TestClient) -> None:
    post(client, "channel_established", "us-cn-defense-ministers", "2019-11-06")
    # August 2022 (known to the month): China leaves Austin's calls unanswered after the Speaker's visit.
    post(
        client,
        "channel_restricted",
        "us-cn-defense-ministers",
        "2022-08-01",
        precision="month",
        by="CHN",
        reason="Countermeasure to the Speaker's visit to Taiwan",
        level="calls refused",
    )
    # 2022-11-22: Austin and Wei Fenghe still meet, at the ADMM-Plus in Siem Reap.
    post(client, "meeting_held", "us-cn-defense-ministers", "2022-11-22", forum="ADMM-Plus", location="Siem Reap")
    answer = state(client, "us-cn-defense-ministers", "2022-12-01")
    assert (answer["status"], answer["restriction"], answer["since"]) == ("restricted", "calls refused", "2022-08-01")
    assert (answer["since_precision"], answer["last_meeting"]) == ("month", "2022-11-22")
    # 2023-05-29: China declines an Austin-Li meeting at Shangri-La (who declined is recorded now).
    post(client, "talks_cancelled", "us-cn-defense-ministers", "2023-05-29", mode="declined", by="CHN")
    post(client, "channel_resumed", "us-cn-defense-ministers", "2024-05-31")
    answer = state(client, "us-cn-defense-ministers")
    assert (answer["status"], answer["restriction"], answer["since_precision"]) == ("active", None, None)
    assert (answer["last_cancelled"], answer["last_cancelled_by"]) == ("2023-05-29", ["CHN"])


# -- 4. parties as codes, more than two, forums ------------------------------------------------------------


def test_a_multi_party_channel_with_a_forum_and_several_parties_in_by(client: TestClient) -> None:
    members = ["ASEAN", "USA", "CHN", "IND", "RUS", "JPN", "KOR", "AUS", "NZL"]
    post(client, "channel_established", "admm-plus", "2010-10-12", parties=members, kind="military")
    post(client, "meeting_held", "admm-plus", "2024-11-21", forum="ADMM-Plus", location="Vientiane")
    answer = state(client, "admm-plus")
    assert (answer["parties"], answer["kind"], answer["last_meeting"]) == (members, "military", "2024-11-21")
    events = client.get("/events", params={"channel": "admm-plus", "type": "meeting_held"}).json()["events"]
    assert events[0]["event"]["forum"] == "ADMM-Plus"
    html = client.get("/").text
    assert "Association of Southeast Asian Nations – United States – China – India" in html  # names from pycountry


@pytest.mark.parametrize(
    ("fields", "field", "hint"),
    [
        ({"parties": ["USA", "XX"]}, "parties[1]", "not a party code"),
        ({"parties": ["usa", "CHN"]}, "parties[0]", "must be upper case: USA"),
        ({"parties": ["USA", "PRC"]}, "parties[1]", "ISO 3166-1 alpha-3"),
    ],
)
def test_party_codes_are_validated_at_the_door(client: TestClient, fields: dict, field: str, hint: str) -> None:
    problem = refused(client, "channel_established", "us-cn-x", "2020-01-01", **fields)
    assert problem["field"] == field and hint in problem["detail"]


def test_by_takes_one_code_or_a_list_and_each_is_validated(client: TestClient) -> None:
    post(client, "channel_established", "us-cn-x", "2020-01-01")
    problem = refused(client, "channel_suspended", "us-cn-x", "2021-01-01", by=["USA", "China"])
    assert problem["field"] == "by[1]"
    problem = refused(client, "talks_cancelled", "us-cn-x", "2021-01-01", by="cn")
    assert problem["field"] == "by"
    post(client, "channel_suspended", "us-cn-x", "2021-01-01", by=["USA", "CHN"])
    post(client, "channel_restricted", "us-cn-x", "2021-02-01", by="EU")


# -- 5. succession: Yellen-He -> Bessent-He ---------------------------------------------------------------


def test_bessent_he_succeeds_yellen_he_and_both_states_show_the_link(client: TestClient) -> None:
    post(client, "channel_established", "us-cn-treasury", "2023-07-08", kind="economic")
    post(client, "meeting_held", "us-cn-treasury", "2023-07-08", location="Beijing")
    recorded = client.get("/events", params={"channel": "us-cn-treasury"}).json()["events"][-1]["recorded_at"]
    # Geneva, 2025-05-10: Bessent meets He Lifeng; the Treasury channel continues under a new secretary.
    post(client, "channel_established", "us-cn-bessent-he", "2025-05-10", succeeds="us-cn-treasury", kind="economic")
    for _ in range(2):
        assert state(client, "us-cn-bessent-he")["predecessor"] == "us-cn-treasury"
        assert state(client, "us-cn-treasury")["successor"] == "us-cn-bessent-he"
        assert state(client, "us-cn-treasury", "2025-01-01")["successor"] is None  # not yet succeeded then
        assert state(client, "us-cn-treasury", known_at=recorded)["successor"] is None  # not yet known then
        listed = {c["channel"]: c for c in client.get("/channels").json()["channels"]}
        assert listed["us-cn-treasury"]["successor"] == "us-cn-bessent-he"
        assert listed["us-cn-bessent-he"]["predecessor"] == "us-cn-treasury"
        replay(client)
    html = client.get("/").text
    assert 'succeeded by <a href="#row-us-cn-bessent-he">' in html
    assert 'succeeds <a href="#row-us-cn-treasury">' in html


def test_a_correction_of_succeeds_moves_the_link_and_known_at_before_it_keeps_the_old_one(client: TestClient) -> None:
    for channel in ("us-cn-a", "us-cn-b"):
        post(client, "channel_established", channel, "2020-01-01")
    successor = post(client, "channel_established", "us-cn-c", "2021-01-01", succeeds="us-cn-a")
    before = client.get("/events", params={"channel": "us-cn-c"}).json()["events"][-1]["recorded_at"]
    post(client, "event_corrected", "us-cn-c", "2021-02-01", target_id=successor["id"], changes={"succeeds": "us-cn-b"})
    assert state(client, "us-cn-a")["successor"] is None
    assert state(client, "us-cn-b")["successor"] == "us-cn-c"
    assert state(client, "us-cn-a", known_at=before)["successor"] == "us-cn-c"


# -- 6. commitments kept or broken ----------------------------------------------------------------------


def test_a_commitment_breached_and_one_fulfilled_answer_their_status_at_any_date(client: TestClient) -> None:
    post(client, "channel_established", "us-cn-counternarcotics", "2019-01-01")
    post(client, "channel_established", "us-cn-theater-commanders", "2022-08-05")
    # Woodside: China commits to curb fentanyl precursors; the March 2025 tariff order finds it "has not taken
    # adequate steps".
    pledge = post(
        client,
        "commitment_made",
        "us-cn-counternarcotics",
        "2023-11-15",
        by="CHN",
        text="Curb the flow of fentanyl precursor chemicals",
        conditions="Through the new counternarcotics working group",
    )
    call = post(
        client,
        "commitment_made",
        "us-cn-theater-commanders",
        "2024-08-29",
        by=["USA", "CHN"],
        text="Hold a theater-commander call",
        due_on="2024-12-31",
    )
    recorded = client.get("/log/head").json()
    post(
        client, "commitment_status", "us-cn-theater-commanders", "2024-09-09", target_id=call["id"], status="fulfilled"
    )
    post(
        client,
        "commitment_status",
        "us-cn-counternarcotics",
        "2025-03-04",
        target_id=pledge["id"],
        status="breached",
        confidence="reported",
    )

    def statuses(**params: str) -> dict[str, str]:
        answer = client.get("/commitments", params=params)
        assert answer.status_code == 200, answer.text
        return {c["text"][:10]: c["status"] for c in answer.json()}

    assert statuses(as_of="2024-09-01") == {"Curb the f": "open", "Hold a the": "open"}
    assert statuses(as_of="2024-09-09") == {"Curb the f": "open", "Hold a the": "fulfilled"}
    assert statuses() == {"Curb the f": "breached", "Hold a the": "fulfilled"}
    assert statuses(status="breached") == {"Curb the f": "breached"}
    assert statuses(party="USA") == {"Hold a the": "fulfilled"}
    assert statuses(party="CHN", status="open", as_of="2025-01-01") == {"Curb the f": "open"}
    head_time = client.get("/events", params={"after": recorded["seq"] - 1, "limit": 1}).json()["events"][0]
    assert statuses(known_at=head_time["recorded_at"]) == {"Curb the f": "open", "Hold a the": "open"}
    breached = next(c for c in client.get("/commitments").json() if c["status"] == "breached")
    assert (breached["status_since"], breached["status_event_id"] is not None) == ("2025-03-04", True)
    assert breached["conditions"] == "Through the new counternarcotics working group"
    replay(client)
    assert statuses() == {"Curb the f": "breached", "Hold a the": "fulfilled"}
    assert client.get("/commitments", params={"party": "china"}).status_code == 400


def test_commitment_status_must_name_a_commitment_of_its_own_channel(client: TestClient) -> None:
    post(client, "channel_established", "us-cn-a", "2020-01-01")
    post(client, "channel_established", "us-cn-b", "2020-01-01")
    meeting = post(client, "meeting_held", "us-cn-a", "2021-01-01")
    pledge = post(client, "commitment_made", "us-cn-a", "2021-01-01")
    assert (
        "not a commitment_made"
        in refused(client, "commitment_status", "us-cn-a", "2021-02-01", target_id=meeting["id"])["detail"]
    )
    assert (
        "record its status on us-cn-a"
        in refused(client, "commitment_status", "us-cn-b", "2021-02-01", target_id=pledge["id"])["detail"]
    )
    unknown = "6f1c6a39-5f0e-4a8e-9d7c-3f3b1f0a0a01"
    assert refused(client, "commitment_status", "us-cn-a", "2021-02-01", target_id=unknown)["field"] == "target_id"


# -- 7. measures register: the fentanyl tariff, Li Shangfu ------------------------------------------------


def measures(client: TestClient, **params: str) -> list[dict]:
    answer = client.get("/measures", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()["measures"]


def test_the_fentanyl_tariff_10_20_10_percent(client: TestClient) -> None:
    post(client, "channel_established", "us-cn-trade", "2025-01-01", kind="economic")
    post(
        client,
        "measure_imposed",
        "us-cn-trade",
        "2025-02-04",
        measure="us-tariff-fentanyl-chn",
        kind="tariff",
        by="USA",
        against="CHN",
        target="all imports from China",
        rate="10%",
        instrument="EO 14195",
    )
    post(client, "measure_modified", "us-cn-trade", "2025-03-04", measure="us-tariff-fentanyl-chn", rate="20%")
    known_before_busan = client.get("/events", params={"channel": "us-cn-trade"}).json()["events"][-1]["recorded_at"]
    # After Busan the tariff is halved, from 2025-11-10.
    post(client, "measure_modified", "us-cn-trade", "2025-11-10", measure="us-tariff-fentanyl-chn", rate="10%")
    for _ in range(2):
        assert measures(client, as_of="2025-02-03") == []
        rates = {
            d: measures(client, as_of=d)[0]["rate"] for d in ("2025-02-04", "2025-03-03", "2025-03-04", "2025-11-10")
        }
        assert rates == {"2025-02-04": "10%", "2025-03-03": "10%", "2025-03-04": "20%", "2025-11-10": "10%"}
        (now,) = measures(client, kind="tariff", party="CHN")
        assert (now["status"], now["instrument"], now["imposed_on"]) == ("in_force", "EO 14195", "2025-02-04")
        assert [(p["rate"], p["from"], p["to"]) for p in now["periods"]] == [
            ("10%", "2025-02-04", "2025-03-04"),
            ("20%", "2025-03-04", "2025-11-10"),
            ("10%", "2025-11-10", None),
        ]
        assert measures(client, as_of="2025-12-01", known_at=known_before_busan)[0]["rate"] == "20%"
        assert measures(client, kind="sanction") == [] and measures(client, party="IND") == []
        replay(client)
    html = client.get("/", params={"as_of": "2025-12-01"}).text
    assert 'id="measure-us-tariff-fentanyl-chn"' in html and "20% from 2025-03-04" in html


def test_a_suspension_for_a_period_and_a_lift(client: TestClient) -> None:
    post(client, "channel_established", "us-cn-trade", "2025-01-01")
    post(client, "measure_imposed", "us-cn-trade", "2025-04-09", measure="us-tariff-reciprocal-chn", rate="34%")
    # Geneva: 24 points suspended for 90 days from 2025-05-14.
    post(
        client, "measure_suspended", "us-cn-trade", "2025-05-14", measure="us-tariff-reciprocal-chn", until="2025-08-12"
    )
    assert measures(client, as_of="2025-06-01")[0]["status"] == "suspended"
    assert measures(client, as_of="2025-08-12")[0]["status"] == "in_force"
    post(client, "measure_lifted", "us-cn-trade", "2025-07-01", measure="us-tariff-reciprocal-chn")  # (fictional)
    (lifted,) = measures(client, as_of="2025-09-01")
    assert (lifted["status"], lifted["lifted_on"]) == ("lifted", "2025-07-01")
    assert [(p["status"], p["from"], p["to"]) for p in lifted["periods"]] == [
        ("in_force", "2025-04-09", "2025-05-14"),
        ("suspended", "2025-05-14", "2025-07-01"),
    ]
    assert measures(client, as_of="2025-09-01", status="in_force") == []


def test_a_measure_is_changed_only_once_imposed(client: TestClient) -> None:
    post(client, "channel_established", "us-cn-trade", "2025-01-01")
    problem = refused(client, "measure_modified", "us-cn-trade", "2025-03-04", measure="us-tariff-typo", rate="20%")
    assert problem["field"] == "measure" and "no measure 'us-tariff-typo'" in problem["detail"]
    # Imposed and changed in one atomic array: the rule sees the imposition placed just before.
    batch = [
        event_dict("measure_imposed", "us-cn-trade", "2025-02-04"),
        event_dict("measure_lifted", "us-cn-trade", "2025-03-01"),
    ]
    assert client.post("/events", json=batch, headers=AUTH).status_code == 201
    problem = refused(
        client, "measure_modified", "us-cn-trade", "2025-03-04", measure="us-tariff-fentanyl-chn", rate=None
    )
    assert problem["field"] == "rate"  # a modification says what changed


def test_li_shangfu_sanctioned_in_2018_is_read_as_a_measure(client: TestClient) -> None:
    post(client, "channel_established", "us-cn-defense-ministers", "2018-01-01")
    # 2018-09-20: the State Department sanctions Li Shangfu under CAATSA 231 (recorded with the old vocabulary).
    post(
        client,
        "sanction_applied",
        "us-cn-defense-ministers",
        "2018-09-20",
        target="Li Shangfu",
        by="USA",
        program="CAATSA section 231",
    )
    for _ in range(2):
        (li,) = measures(client, as_of="2023-06-01", kind="sanction", party="CHN")
        assert (li["measure"], li["by"], li["against"], li["target"]) == (
            "sanction-usa-li-shangfu",
            ["USA"],
            ["CHN"],
            "Li Shangfu",
        )
        assert (li["imposed_on"], li["instrument"], li["upcast_from"]) == (
            "2018-09-20",
            "CAATSA section 231",
            "sanction_applied",
        )
        assert measures(client, as_of="2018-09-19") == []
        # The deprecated view still answers, as before.
        assert [s["target"] for s in client.get("/sanctions", params={"as_of": "2023-06-01"}).json()["sanctions"]] == [
            "Li Shangfu"
        ]
        replay(client)
    # The stored event is as it was recorded: the upcast happens when reading.
    stored = client.get("/events", params={"type": "sanction_applied"}).json()["events"][0]
    assert stored["type"] == "sanction_applied" and "measure" not in stored["event"]
    # Its register key may be named by the new events: the designation covered his department too.
    scope = "The CMC Equipment Development Department and its director"
    post(
        client,
        "measure_modified",
        "us-cn-defense-ministers",
        "2018-09-20",
        measure="sanction-usa-li-shangfu",
        scope=scope,
    )
    (li,) = measures(client, as_of="2020-01-01")
    assert (li["scope"], li["instrument"]) == (scope, "CAATSA section 231")


# -- 8. precision --------------------------------------------------------------------------------------


def test_month_precision_folds_at_the_first_day_and_is_flagged(client: TestClient) -> None:
    post(client, "channel_established", "us-cn-economic-wg", "2023-09-22")
    # October 2024: the 6th Economic Working Group meeting, day not found.
    problem = refused(client, "meeting_held", "us-cn-economic-wg", "2024-10-15", precision="month")
    assert problem["field"] == "occurred_on" and "2024-10-01" in problem["detail"]
    problem = refused(client, "meeting_held", "us-cn-economic-wg", "2024-10-01", precision="year")
    assert "2024-01-01" in problem["detail"]
    post(client, "meeting_held", "us-cn-economic-wg", "2024-10-01", precision="month", round=6)
    assert state(client, "us-cn-economic-wg", "2024-09-30")["last_meeting"] is None
    answer = state(client, "us-cn-economic-wg", "2024-10-01")
    assert (answer["last_meeting"], answer["last_meeting_precision"]) == ("2024-10-01", "month")
    post(client, "meeting_held", "us-cn-economic-wg", "2024-12-03")
    assert state(client, "us-cn-economic-wg")["last_meeting_precision"] is None
    html = client.get("/", params={"as_of": "2024-11-01"}).text
    assert '2024-10-01 <span class="precision">(to the month)</span>' in html


# -- 9. dormant, from the channel's own cadence -----------------------------------------------------------


def test_dormant_is_derived_from_the_cadence_with_a_floor(client: TestClient) -> None:
    post(client, "channel_established", "us-cn-dpct", "2020-01-01")
    days = [dt.date(2021, 1, 1) + dt.timedelta(days=120 * n) for n in range(4)]  # every 120 days
    for day in days:
        post(client, "meeting_held", "us-cn-dpct", day.isoformat())
    answer = state(client, "us-cn-dpct", days[-1].isoformat())
    assert answer["cadence_days"] == 120 and "recent_gaps" not in answer  # internal to the fold
    assert state(client, "us-cn-dpct", (days[-1] + dt.timedelta(days=240)).isoformat())["dormant"] is False
    assert state(client, "us-cn-dpct", (days[-1] + dt.timedelta(days=241)).isoformat())["dormant"] is True
    post(client, "channel_established", "us-cn-monthly", "2020-01-01")
    for day in ("2021-01-01", "2021-02-01", "2021-03-01"):  # monthly: 2 x cadence is under the 180-day floor
        post(client, "meeting_held", "us-cn-monthly", day)
    assert state(client, "us-cn-monthly", "2021-08-28")["dormant"] is False  # 180 days
    assert state(client, "us-cn-monthly", "2021-08-29")["dormant"] is True
    post(client, "channel_established", "us-cn-rare", "2020-01-01")
    post(client, "meeting_held", "us-cn-rare", "2021-01-01")  # no cadence yet: 365 days
    assert state(client, "us-cn-rare", "2022-01-01")["dormant"] is False
    assert state(client, "us-cn-rare", "2022-01-02")["dormant"] is True
    post(client, "channel_suspended", "us-cn-rare", "2022-01-01", by="CHN", reason="x")
    assert state(client, "us-cn-rare", "2023-01-01")["dormant"] is False  # only active or restricted channels
    html = client.get("/", params={"as_of": "2022-09-01"}).text
    row = re.search(r'id="row-us-cn-dpct".*?</tr>', html, re.S).group(0)  # type: ignore[union-attr]
    assert "dormant" in row


def test_a_contact_counts_for_the_cadence_and_only_the_last_gaps_are_kept() -> None:
    state_ = fold(ChannelState(channel="x"), make("channel_established", "x", "2000-01-01"))
    for n in range(30):
        kind = "contact_made" if n % 2 else "meeting_held"
        state_ = fold(state_, make(kind, "x", (dt.date(2001, 1, 1) + dt.timedelta(days=10 * n)).isoformat()))
    assert len(state_.recent_gaps) == 19 and state_.cadence_days == 10
    assert not dormant(state_, dt.date(2001, 1, 1) + dt.timedelta(days=290 + 180))
    assert dormant(state_, dt.date(2001, 1, 1) + dt.timedelta(days=290 + 181))


# -- the old log, the documents ---------------------------------------------------------------------------


def without_empty_intervals(timeline: list[dict]) -> list[dict]:
    """The one timeline rule decided since v1: a status held for no day (from == to) leaves no interval,
    and the intervals either side of it, if of one status, are one."""
    result: list[dict] = []
    for interval in timeline:
        if interval["from"] == interval["to"]:
            continue
        if result and result[-1]["status"] == interval["status"]:
            result[-1] = {**result[-1], "to": interval["to"]}
            continue
        result.append(interval)
    return result


def test_a_log_written_with_vocabulary_v1_loads_with_identical_hashes_and_answers_the_same(tmp_path: Path) -> None:
    """log-v1.jsonl is the seeded log exported before vocabulary v2; log-v1-answers.json what v1 code answered."""
    expected = json.loads((FIXTURES / "log-v1-answers.json").read_text())
    log = SQLiteLog(tmp_path / "v1.db")
    try:
        load_files(log, [FIXTURES / "log-v1.jsonl"], writer="fixture")
        projections = Projections(log)
        rows = log.read(limit=10_000)
        assert [r.hash for r in rows] == expected["hashes"]
        assert msgspec.to_builtins(log.head()) == expected["head"]
        assert all(encode(decode(r.body)) == r.body for r in rows)  # canonical bytes unchanged
        for _ in range(2):  # as loaded, then after a replay
            for key, states in expected["states"].items():
                day = None if key == "latest" else dt.date.fromisoformat(key)
                now = msgspec.to_builtins(projections.all_channels(day))
                assert [{k: s[k] for k in old} for s, old in zip(now, states, strict=True)] == states, key
                assert msgspec.to_builtins(projections.sanctions_in_force(day)) == expected["sanctions"][key]
                commitments = msgspec.to_builtins(projections.commitments(as_of=day))
                old_commitments = expected["commitments"][key]
                assert [{k: c[k] for k in old} for c, old in zip(commitments, old_commitments, strict=True)] == (
                    old_commitments
                )
            for channel, timeline in expected["timelines"].items():
                assert msgspec.to_builtins(projections.timeline(channel)) == without_empty_intervals(timeline)
            projections.replay()
        # What v1 held as sanctions, the measures register reads as measures.
        assert {m.measure for m in projections.measures(dt.date(2025, 6, 1))} == {
            "sanction-usa-li-shangfu",
            "sanction-chn-nancy-pelosi",
            "sanction-usa-imports-from-china",
        }
    finally:
        log.close()


def test_every_event_type_has_a_valid_openapi_example_and_a_readme_row(client: TestClient) -> None:
    document = client.get("/schema/openapi.json").json()
    examples = {
        name: example["value"]
        for name, example in document["paths"]["/events"]["post"]["requestBody"]["content"]["application/json"][
            "examples"
        ].items()
    }
    assert set(examples) == set(EVENT_TYPES) == set(EXAMPLES)
    assert all(body["type"] == name for name, body in examples.items())
    # Every example appends, on one channel, in an order where what it names exists.
    post(client, "channel_established", "us-cn-examples", "2000-01-01")
    post(client, "measure_imposed", "us-cn-examples", "2025-04-09", measure="us-tariff-reciprocal-chn")
    first = ["channel_established", "measure_imposed", "commitment_made", "meeting_held", "contact_made"]
    last = ["commitment_status", "event_corrected", "event_retracted", "channel_closed"]
    ids: dict[str, str] = {}
    for name in first + sorted(set(examples) - set(first) - set(last)) + last:
        body = examples[name] | {"channel": "us-cn-examples" if name != "channel_established" else "us-cn-new"}
        named = {"commitment_status": "commitment_made", "event_corrected": "meeting_held"}
        if name in named or name == "event_retracted":
            body["target_id"] = ids[named.get(name, "contact_made")]
        answer = client.post("/events", json=body, headers=AUTH)
        assert answer.status_code == 201, (name, answer.text)
        ids[name] = answer.json()["id"]
    table = README.split("## Event vocabulary", 1)[1].split("\n## ", 1)[0]
    rows = {
        m for line in table.splitlines() if line.startswith("| `") for m in re.findall(r"`(\w+)`", line.split("|")[1])
    }
    assert set(EVENT_TYPES) <= rows


def test_a_correction_may_not_move_what_the_append_rules_checked(client: TestClient) -> None:
    post(client, "channel_established", "us-cn-a", "2020-01-01")
    pledge = post(client, "commitment_made", "us-cn-a", "2021-01-01")
    meeting = post(client, "meeting_held", "us-cn-a", "2021-01-01")
    status = post(client, "commitment_status", "us-cn-a", "2021-02-01", target_id=pledge["id"])
    problem = refused(
        client, "event_corrected", "us-cn-a", "2021-03-01", target_id=status["id"], changes={"target_id": meeting["id"]}
    )
    assert problem["field"] == "changes" and "target_id cannot be corrected" in problem["detail"]
    imposed = post(client, "measure_imposed", "us-cn-a", "2021-01-01")
    problem = refused(
        client, "event_corrected", "us-cn-a", "2021-03-01", target_id=imposed["id"], changes={"measure": "other-key"}
    )
    assert "measure cannot be corrected" in problem["detail"]
    post(client, "event_corrected", "us-cn-a", "2021-03-01", target_id=imposed["id"], changes={"rate": "25%"})
    assert measures(client, as_of="2021-06-01")[0]["rate"] == "25%"


def test_a_modification_during_a_suspension_keeps_its_planned_end(client: TestClient) -> None:
    post(client, "channel_established", "us-cn-trade", "2025-01-01")
    post(client, "measure_imposed", "us-cn-trade", "2025-04-09", measure="us-tariff-reciprocal-chn", rate="34%")
    post(
        client, "measure_suspended", "us-cn-trade", "2025-05-14", measure="us-tariff-reciprocal-chn", until="2025-08-12"
    )
    post(client, "measure_modified", "us-cn-trade", "2025-06-01", measure="us-tariff-reciprocal-chn", rate="10%")
    during = measures(client, as_of="2025-07-01")[0]
    assert (during["status"], during["rate"]) == ("suspended", "10%")
    after = measures(client, as_of="2025-08-12")[0]
    assert (after["status"], after["rate"]) == ("in_force", "10%")
    assert [(p["status"], p["from"], p["to"], p["rate"]) for p in after["periods"]] == [
        ("in_force", "2025-04-09", "2025-05-14", "34%"),
        ("suspended", "2025-05-14", "2025-06-01", "34%"),
        ("suspended", "2025-06-01", "2025-08-12", "10%"),
        ("in_force", "2025-08-12", None, "10%"),
    ]


def test_a_channel_succeeds_only_a_channel_in_the_log(client: TestClient) -> None:
    problem = refused(client, "channel_established", "us-cn-bessent-he", "2025-05-10", succeeds="us-cn-tresury")
    assert problem["field"] == "succeeds" and "no channel us-cn-tresury" in problem["detail"]
    batch = [
        event_dict("channel_established", "us-cn-treasury", "2023-07-08"),
        event_dict("channel_established", "us-cn-bessent-he", "2025-05-10", succeeds="us-cn-treasury"),
    ]
    answer = client.post("/events", json=batch, headers=AUTH)
    assert answer.status_code == 201  # its predecessor in the same array
    problem = refused(
        client,
        "event_corrected",
        "us-cn-bessent-he",
        "2025-06-01",
        target_id=answer.json()[1]["id"],
        changes={"succeeds": "us-cn-yellen"},
    )
    assert problem["field"] == "changes" and "no channel us-cn-yellen" in problem["detail"]
