"""Building events for tests, with real-looking sources."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec

from diplo.events import Event
from diplo.events.catalog import EVENT_TYPES

SOURCE = {"url": "https://example.org/readout", "publisher": "Example Wire", "published_on": "2023-11-15"}


def event_dict(type_: str, channel: str = "us-cn-mmca", occurred_on: str = "2023-11-15", **fields: Any) -> dict:
    body: dict[str, Any] = {
        "type": type_,
        "id": fields.pop("id", str(uuid.uuid4())),
        "channel": channel,
        "occurred_on": occurred_on,
        "summary": fields.pop("summary", f"{type_} on {channel}"),
        "sources": fields.pop("sources", [SOURCE]),
    }
    defaults: dict[str, dict[str, Any]] = {
        "channel_established": {"name": channel.upper(), "parties": ["USA", "CHN"]},
        "talks_cancelled": {"reason": "called off", "mode": "cancelled"},
        "channel_suspended": {"by": "CHN", "reason": "countermeasure"},
        "channel_closed": {"reason": "wound up"},
        "meeting_scheduled": {"scheduled_for": "2030-01-01"},
        "sanction_applied": {"target": "Li Shangfu", "by": "USA"},
        "sanction_lifted": {"target": "Li Shangfu", "by": "USA"},
        "commitment_made": {"by": "CHN", "text": "curb fentanyl precursor exports"},
        "official_changed": {"role": "defense minister", "person": "Dong Jun", "change": "appointed"},
        "event_retracted": {"reason": "recorded in error"},
        "contact_made": {"mode": "sideline"},
        "channel_restricted": {"by": "CHN", "reason": "countermeasure", "level": "calls refused"},
        "measure_imposed": {
            "measure": "us-tariff-fentanyl-chn",
            "kind": "tariff",
            "by": "USA",
            "against": "CHN",
            "target": "all imports from China",
            "rate": "10%",
        },
        "measure_modified": {"measure": "us-tariff-fentanyl-chn", "rate": "20%"},
        "measure_suspended": {"measure": "us-tariff-fentanyl-chn"},
        "measure_lifted": {"measure": "us-tariff-fentanyl-chn"},
        "commitment_status": {"status": "fulfilled"},
    }
    body.update(defaults.get(type_, {}))
    body.update(fields)
    return body


def make(type_: str, channel: str = "us-cn-mmca", occurred_on: str | dt.date = "2023-11-15", **fields: Any) -> Event:
    data = event_dict(type_, channel, str(occurred_on), **fields)
    return msgspec.convert(data, EVENT_TYPES[type_], strict=False)


def established(channel: str = "us-cn-mmca", occurred_on: str = "1998-01-19", **fields: Any) -> Event:
    return make("channel_established", channel, occurred_on, **fields)
