"""Every malformed input is refused at decode with a message that says what to fix."""

from __future__ import annotations

import json

import pytest
from factory import event_dict

from diplo.events import InvalidEvent, SQLiteLog, decode_events


def _with(**changes: object) -> bytes:
    body = event_dict("meeting_held")
    for key, value in changes.items():
        if value is _DROP:
            body.pop(key)
        else:
            body[key] = value
    return json.dumps(body).encode()


_DROP = object()
SRC = {"url": "https://example.org/a"}

CASES: list[tuple[str, bytes, str]] = [
    ("not json", b"{nope", "body is not valid JSON"),
    ("empty body", b"", "body is not valid JSON"),
    ("a number", b"42", "Expected `object | array`"),
    ("empty array", b"[]", "the array is empty"),
    ("nested array", b"[[]]", "arrays may not be nested"),
    ("no type", _with(type=_DROP), "type: required field is missing"),
    ("unknown type", _with(type="meeting_helt"), "type: 'meeting_helt' is not an event type"),
    ("impossible date", _with(occurred_on="2023-02-30"), "occurred_on: 2023-02-30 is not a calendar date"),
    ("not a date", _with(occurred_on="last tuesday"), "is not a date (YYYY-MM-DD) or an RFC 3339 timestamp"),
    ("naive timestamp", _with(occurred_on="2023-02-03T10:00:00"), "or an RFC 3339 timestamp"),
    ("future date", _with(occurred_on="2999-01-01"), "occurred_on: 2999-01-01 is in the future"),
    ("missing date", _with(occurred_on=_DROP), "occurred_on: required field is missing"),
    ("channel with capitals", _with(channel="US-CN"), "channel: must be a slug"),
    ("channel with spaces", _with(channel="us cn"), "channel: must be a slug"),
    ("channel starting with hyphen", _with(channel="-us"), "channel: must be a slug"),
    ("channel too long", _with(channel="a" * 81), "channel: Expected `str` of length <= 80"),
    ("no sources", _with(sources=[]), "sources: Expected `array` of length >= 1"),
    ("missing sources", _with(sources=_DROP), "sources: required field is missing"),
    ("source without url", _with(sources=[{"title": "x"}]), "sources[0].url: required field is missing"),
    ("source url not http", _with(sources=[{"url": "ftp://x.org/a"}]), "sources[0].url: must be an http"),
    ("unknown source field", _with(sources=[{**SRC, "rank": 1}]), "sources[0].rank: unknown field"),
    (
        "bad published_on",
        _with(sources=[{**SRC, "published_on": "2023-13-01"}]),
        "sources[0].published_on: is not a calendar date",
    ),
    ("too many sources", _with(sources=[SRC] * 21), "sources: Expected `array` of length <= 20"),
    ("unknown field", _with(colour="red"), "colour: unknown field"),
    ("bad confidence", _with(confidence="likely"), "confidence: Invalid enum value 'likely'"),
    ("summary of 2 MB", _with(summary="x" * 2_000_000), "summary: Expected `str` of length <= 2000"),
    ("empty summary", _with(summary=""), "summary: Expected `str` of length >= 1"),
    ("summary not text", _with(summary=5), "summary: Expected `str`, got `int`"),
    ("bad id", _with(id="not-a-uuid"), "id: Invalid UUID"),
    ("round zero", _with(round=0), "round: Expected `int` >= 1"),
    (
        "bad cancel mode",
        json.dumps(event_dict("talks_cancelled", mode="abandoned")).encode(),
        "mode: Invalid enum value",
    ),
    (
        "suspension without reason",
        json.dumps({k: v for k, v in event_dict("channel_suspended").items() if k != "reason"}).encode(),
        "reason: required field is missing",
    ),
    (
        "bad scheduled_for",
        json.dumps(event_dict("meeting_scheduled", scheduled_for="2024-02-31")).encode(),
        "scheduled_for: is not a calendar date",
    ),
    ("bad array member", b"[" + _with() + b"," + _with(channel="X") + b"]", "channel: must be a slug"),
]


@pytest.mark.parametrize(("case", "body", "message"), CASES, ids=[c[0] for c in CASES])
def test_malformed_input_is_refused_with_a_specific_message(
    case: str, body: bytes, message: str, log: SQLiteLog
) -> None:
    before = log.head()
    with pytest.raises(InvalidEvent) as caught:
        events, _ = decode_events(body)
        log.append(events)
    assert message in caught.value.message, caught.value.message
    assert log.head() == before


def test_a_failing_array_member_is_named_by_its_index() -> None:
    with pytest.raises(InvalidEvent) as caught:
        decode_events(b"[" + _with() + b"," + _with(occurred_on="2023-02-30") + b"]")
    assert caught.value.index == 1


def test_an_rfc3339_timestamp_is_kept_as_the_local_calendar_date() -> None:
    (event,), _ = decode_events(_with(occurred_on="2024-09-09T16:00:00-10:00"))
    assert event.occurred_on.isoformat() == "2024-09-09"


def test_stored_events_with_fields_from_a_newer_version_still_read() -> None:
    from diplo.events.catalog import decode

    body = json.dumps(event_dict("meeting_held", future_field="ok")).encode()
    assert decode(body).channel == "us-cn-mmca"
