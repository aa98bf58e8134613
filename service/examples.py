"""One real, sourced example per event type, for the OpenAPI document.

Each is a development from the public record with a source that reports it, on a channel of the seeded
log (or the one the ``channel_established`` example creates), so it can be sent as it is to a server
started with the seeds; corrections and retractions name seeded events and follow the analysts' review.
Sent in this order to a seeded log in which the US reciprocal tariff on China
(``us-tariff-reciprocal-chn``) is recorded, every one is appended (tests/test_input_edges.py checks it).
"""

from __future__ import annotations

from typing import Any

WOODSIDE = {
    "url": "https://www.whitehouse.gov/briefing-room/statements-releases/2023/11/15/readout-of-president-joe-bidens-meeting-with-president-xi-jinping-of-the-peoples-republic-of-china-2/",
    "publisher": "The White House",
    "title": "Readout of President Joe Biden's Meeting with President Xi Jinping",
    "published_on": "2023-11-15",
}


def _source(url: str, publisher: str, published_on: str | None = None) -> list[dict[str, str]]:
    return [{"url": url, "publisher": publisher} | ({"published_on": published_on} if published_on else {})]


def _event(type_: str, channel: str, occurred_on: str, summary: str, sources: list[dict], **fields: Any) -> dict:
    common = {"type": type_, "channel": channel, "occurred_on": occurred_on, "summary": summary, "sources": sources}
    return common | fields


EXAMPLES: dict[str, dict[str, Any]] = {
    "channel_established": _event(
        "channel_established",
        "us-cn-consulate-houston",
        "2020-07-22",
        "PRC Consulate General in Houston: first dated event of this channel in the sourced record",
        [
            {
                "url": "https://timesofindia.indiatimes.com/world/china/china-says-us-told-it-to-shut-its-houston-consulate/articleshow/77103805.cms",
                "publisher": "The Times of India",
                "published_on": "2020-07-22",
            }
        ],
        name="PRC Consulate General in Houston",
        parties=["USA", "CHN"],
        kind="consular",
    ),
    "channel_agreed": _event(
        "channel_agreed",
        "us-cn-mmca",
        "2023-11-15",
        "At Woodside the leaders agree to resume the MMCA meetings",
        [WOODSIDE],
        by=["USA", "CHN"],
        correlation_id="2023-11-15-woodside",
    ),
    "meeting_held": _event(
        "meeting_held",
        "us-cn-treasury",
        "2023-11-09",
        "Yellen and Vice Premier He Lifeng meet in San Francisco (Nov 9-10) before the Woodside summit",
        [{"url": "https://home.treasury.gov/news/press-releases/jy1882", "publisher": "US Department of the Treasury"}],
        participants=["Janet Yellen", "He Lifeng"],
        location="San Francisco",
        level="ministerial",
    ),
    "contact_made": _event(
        "contact_made",
        "us-cn-climate",
        "2022-11-09",
        "At COP27 Kerry says he and Xie Zhenhua have had informal talks, though formal climate talks stay suspended",
        _source(
            "https://www.nytimes.com/2022/11/09/climate/john-kerry-xie-zhenhua-cop27.html",
            "The New York Times",
            "2022-11-09",
        ),
        mode="sideline",
        participants=["John Kerry", "Xie Zhenhua"],
        location="Sharm el-Sheikh",
        forum="COP27",
    ),
    "meeting_scheduled": _event(
        "meeting_scheduled",
        "us-cn-leaders",
        "2025-10-30",
        "After Busan, Trump says he will visit China in April 2026 (no day announced: the 1st stands for April)",
        [{"url": "https://tass.com/world/2037481", "publisher": "TASS", "published_on": "2025-10-30"}],
        scheduled_for="2026-04-01",
        confidence="reported",
    ),
    "talks_cancelled": _event(
        "talks_cancelled",
        "us-cn-defense-ministers",
        "2024-11-20",
        "Dong Jun declines Austin's request to meet at the ADMM-Plus in Vientiane",
        [
            {
                "url": "https://news.usni.org/2024/11/21/china-refuses-austin-meeting-request-over-arms-sale-to-taiwan",
                "publisher": "USNI News",
                "published_on": "2024-11-21",
            }
        ],
        reason="China cites the US arms sales to Taiwan announced on Oct 25",
        mode="declined",
        by="CHN",
    ),
    "channel_suspended": _event(
        "channel_suspended",
        "us-cn-mmca",
        "2022-08-05",
        "China's foreign ministry cancels the MMCA meetings"
        " (countermeasure 3 of 8 after Speaker Pelosi's Taiwan visit)",
        [
            {
                "url": "https://cyprus-mail.com/2022/08/05/china-halts-high-level-military-dialogue-with-u-s-suspends-other-cooperation/",
                "publisher": "Reuters via Cyprus Mail",
                "published_on": "2022-08-05",
            }
        ],
        by="CHN",
        reason="Countermeasure to the Speaker's visit to Taiwan",
        correlation_id="2022-08-05-pelosi-countermeasures",
    ),
    "channel_restricted": _event(
        "channel_restricted",
        "us-cn-defense-ministers",
        "2022-08-01",
        "During the Taiwan crisis Chinese military leaders leave Secretary Austin's calls unreturned;"
        " the ministers still meet in person in November",
        _source(
            "https://www.politico.com/news/2022/08/05/pentagon-china-calls-taiwan-00050175", "Politico", "2022-08-05"
        ),
        by="CHN",
        reason="Countermeasure to the Speaker's visit to Taiwan",
        level="calls refused",
        precision="month",
    ),
    "channel_resumed": _event(
        "channel_resumed",
        "us-cn-mmca",
        "2023-11-15",
        "At Woodside the leaders welcome the resumption of the MMCA meetings",
        [WOODSIDE],
        correlation_id="2023-11-15-woodside",
    ),
    "channel_closed": _event(
        "channel_closed",
        "us-cn-consulate-houston",
        "2020-07-24",
        "The PRC Consulate General in Houston closes at the US order; China orders the US consulate in Chengdu shut",
        [
            {
                "url": "https://abc13.com/houston-chinese-consulate-china-relations-embassy-closed-consul-general/6332602/",
                "publisher": "ABC13 Houston",
                "published_on": "2020-07-24",
            }
        ],
        reason="Ordered by the US 'to protect American intellectual property and Americans' private information'",
    ),
    "sanction_applied": _event(
        "sanction_applied",
        "us-cn-defense-ministers",
        "2018-09-20",
        "State Department sanctions the CMC Equipment Development Department and its director Li Shangfu"
        " under CAATSA section 231",
        [
            {
                "url": "https://www.steptoeinternationalcomplianceblog.com/2018/09/trump-administration-sanctions-key-chinese-military-entity-under-russia-authorities/",
                "publisher": "Steptoe International Compliance Blog",
            }
        ],
        target="Li Shangfu",
        by="USA",
        program="CAATSA section 231",
    ),
    "sanction_lifted": _event(
        "sanction_lifted",
        "us-cn-defense-ministers",
        "2023-11-16",
        "Commerce removes the Ministry of Public Security's Institute of Forensic Science from the Entity List,"
        " part of the Woodside fentanyl deal",
        [
            {
                "url": "https://global.chinadaily.com.cn/a/202311/17/WS6556e1cba31090682a5eebd8.html",
                "publisher": "China Daily",
                "published_on": "2023-11-17",
            }
        ],
        target="Institute of Forensic Science of the Ministry of Public Security",
        by="USA",
    ),
    "commitment_made": _event(
        "commitment_made",
        "us-cn-counternarcotics",
        "2023-11-15",
        "China agrees to act against companies making fentanyl precursor chemicals",
        [WOODSIDE],
        by="CHN",
        text="Curb the flow of fentanyl precursor chemicals and pill presses from China",
        correlation_id="2023-11-15-woodside",
    ),
    "commitment_status": _event(
        "commitment_status",
        "us-cn-counternarcotics",
        "2025-03-03",
        "The order raising the fentanyl tariff to 20% finds China 'has not taken adequate steps'",
        _source(
            "https://www.theepochtimes.com/us/trump-raises-tariffs-on-china-to-20-percent-cites-fentanyl-trafficking-5819323",
            "The Epoch Times",
            "2025-03-03",
        ),
        target_id="d0615a9e-1370-5639-abaf-2105cb082447",  # the seeded Woodside fentanyl commitment
        status="breached",
        confidence="reported",
    ),
    "measure_imposed": _event(
        "measure_imposed",
        "us-cn-trade",
        "2025-03-10",
        "China's extra tariffs of up to 15% on US farm products take effect",
        _source(
            "https://abcnews.go.com/Business/wireStory/china-slaps-extra-tariffs-15-imports-major-us-119415771",
            "ABC News (AP)",
            "2025-03-04",
        ),
        measure="chn-tariff-us-farm-goods",
        kind="tariff",
        by="CHN",
        against="USA",
        target="US farm products",
        rate="10-15%",
        scope="15% on chicken, wheat, corn and cotton; 10% on sorghum, soybeans, pork, beef, seafood, fruit,"
        " vegetables and dairy",
    ),
    "measure_modified": _event(
        "measure_modified",
        "us-cn-trade",
        "2025-04-10",
        "The US reciprocal tariff on imports from China is raised to 125%",
        _source(
            "https://capitalpress.com/2025/04/10/trump-raises-tariffs-on-china-pauses-tariffs-on-the-rest/",
            "Capital Press",
            "2025-04-10",
        ),
        measure="us-tariff-reciprocal-chn",
        rate="125%",
    ),
    "measure_suspended": _event(
        "measure_suspended",
        "us-cn-trade",
        "2025-05-14",
        "After Geneva, 24 points of the US reciprocal tariff on China are suspended for 90 days; 10% remains",
        _source(
            "https://www.caixinglobal.com/2025-05-12/china-us-joint-statement-mutual-rollback-of-some-tariffs-continued-negotiations-on-outstanding-issues-includes-timeline-of-the-trade-war-102318875.html",
            "Caixin Global",
            "2025-05-12",
        ),
        measure="us-tariff-reciprocal-chn",
        until="2025-08-12",
    ),
    "measure_lifted": _event(
        "measure_lifted",
        "us-cn-trade",
        "2025-11-10",
        "After Busan, China removes its March tariffs on US farm products",
        _source("https://bdnews24.com/business/8b4f5bed43ab", "bdnews24.com (Reuters)", "2025-11-06"),
        measure="chn-tariff-us-farm-goods",
    ),
    "official_changed": _event(
        "official_changed",
        "us-cn-defense-ministers",
        "2023-10-24",
        "The NPC Standing Committee removes Li Shangfu as Minister of National Defense, giving no reason",
        [
            {
                "url": "https://www.khaleejtimes.com/world/asia/china-removes-defence-minister-ousts-ex-foreign-minister-from-cabinet",
                "publisher": "Khaleej Times",
            }
        ],
        role="PRC Minister of National Defense",
        person="Li Shangfu",
        change="removed",
    ),
    "event_corrected": _event(
        "event_corrected",
        "us-cn-theater-commanders",
        "2024-09-18",
        "The Indo-Pacific Chiefs of Defense conference where Wu Yanan met Paparo was in Kona, not Honolulu",
        [
            {
                "url": "https://www.dvidshub.net/news/481242/26th-annual-indo-pacific-chiefs-defense-conference-building-resilient-and-interconnected-region",
                "publisher": "DVIDS (INDOPACOM)",
                "published_on": "2024-09-18",
            }
        ],
        target_id="f8304bee-5546-529a-bdbf-bad5667d66ea",  # the seeded meeting of 2024-09-18
        changes={"location": "Kona, Hawaii"},
    ),
    "event_retracted": _event(
        "event_retracted",
        "us-cn-theater-commanders",
        "2024-08-29",
        "The theater-commander call was arranged by both sides in the Sullivan-Wang talks, not committed by China",
        [
            {
                "url": "https://newsworld24.in/politics/readout-of-national-security-advisor-jake-sullivans-meeting-with-vice-chairman-of-the-central-military-commission-zhang-youxia-of-the-peoples-republic-of-china",
                "publisher": "NewsWorld24 (White House readout)",
            }
        ],
        target_id="46a8f152-d484-5934-adf1-39bfd4141684",  # the seeded commitment of 2024-08-29
        reason="Recorded as a Chinese commitment, but the readout describes a mutual arrangement",
    ),
}
