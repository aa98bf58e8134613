"""Reading the files machine-coded event datasets publish: POLECAT, ICEWS and GDELT.

Each row becomes a ``Report`` (who did what to whom, when, coded how, reported by whom) or a ``Skipped``
with the reason; a file that is not in the format at all raises ``DatasetError`` naming what is missing.

The layouts, as the datasets document them:
- POLECAT (Harvard Dataverse doi:10.7910/DVN/AJGVIT, coded in PLOVER): tab-separated, a header row;
  "Event ID", "Event Date", "Event Type", "Event Mode", "Event Intensity" (older files: "Intensity"),
  "Quad Code", "Contexts", "Actor Name", "Actor Country", ..., "Recipient Name", "Recipient Country", ...,
  "Source", "Publication Date", ..., "Language", "Version".
- ICEWS coded event data (doi:10.7910/DVN/28075, CAMEO): tab-separated, a header row; "Event ID",
  "Event Date", "Source Name", "Source Sectors", "Source Country", "Event Text", "CAMEO Code",
  "Intensity", "Target Name", "Target Sectors", "Target Country", "Story ID", "Sentence Number",
  "Publisher", "City", "District", "Province", "Country", "Latitude", "Longitude". Countries are English
  names. diplo's own ICEWS-style export (comma-separated, with a "URL" column) reads back the same way.
- GDELT event files (CAMEO): tab-separated, no header; 58 columns (GDELT 1.0 daily files) or 61 (2.0
  export files): GlobalEventID, Day (YYYYMMDD), ..., Actor1CountryCode (8th), ..., Actor2CountryCode
  (18th), ..., EventCode (27th), ..., DATEADDED, SOURCEURL (last).
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

import msgspec

from diplo.service.interop.codes import cameo_type, normalise_cameo, plover_type
from diplo.service.interop.parties import diplo_party

DATASETS = ("polecat", "icews", "gdelt")
DATASET_NAMES = {"polecat": "POLECAT", "icews": "ICEWS", "gdelt": "GDELT"}
DATASET_URLS = {
    "polecat": "https://doi.org/10.7910/DVN/AJGVIT",
    "icews": "https://doi.org/10.7910/DVN/28075",
    "gdelt": "https://www.gdeltproject.org/data.html",
}
MAX_TEXT = 500
csv.field_size_limit(1 << 20)


class DatasetError(ValueError):
    """A file that is not in the format named; nothing of it was imported."""


class Report(msgspec.Struct, frozen=True, kw_only=True):
    """One dataset row diplo can read: an act between two parties, coded by the dataset."""

    dataset: str
    origin_id: str
    line: int
    occurred_on: dt.date
    actor: str
    recipient: str
    code: str  # the dataset's own code: "CONSULT:phone" (PLOVER) or "042" (CAMEO)
    type: str  # the diplo event type it maps to
    source: str  # who reported it: a publisher, or a URL's host
    url: str | None = None
    text: str | None = None

    @property
    def dyad(self) -> str:
        return dyad_key(self.actor, self.recipient)


class Skipped(msgspec.Struct, frozen=True):
    line: int
    reason: str  # "code", "party", "date", "self" or "blank"


def dyad_key(a: str, b: str) -> str:
    """The unordered pair, as stored: 'CHN-USA'."""
    return "-".join(sorted((a, b)))


_DATE = re.compile(r"^(\d{4})-?(\d{2})-?(\d{2})")


def parse_day(value: str) -> dt.date | None:
    """2023-05-10, 20230510, or either followed by a time."""
    found = _DATE.match(value.strip())
    if not found:
        return None
    try:
        return dt.date(int(found[1]), int(found[2]), int(found[3]))
    except ValueError:
        return None


def _clean(value: str | None) -> str | None:
    if value is None:
        return None
    value = " ".join(value.split())  # no control characters or line breaks reach a summary
    if value.lower() in ("", "none", "null", "nan"):
        return None
    return value[:MAX_TEXT]


def _host(url: str) -> str:
    return urlsplit(url).netloc.lower().removeprefix("www.") or url


def read(path: Path, dataset: str) -> Iterator[Report | Skipped]:
    """Every row of the file as a Report or a Skipped."""
    if dataset not in DATASETS:
        raise DatasetError(f"format: {dataset!r} is not one of {', '.join(DATASETS)}")
    try:
        handle = path.open(encoding="utf-8", errors="replace", newline="")
    except OSError as error:
        raise DatasetError(f"{path}: cannot be read ({error.strerror})") from None
    with handle:
        if dataset == "gdelt":
            yield from _gdelt(handle)
        else:
            yield from _headed(handle, dataset)


def _rows(handle: IO[str], delimiter: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(handle, delimiter=delimiter, quoting=csv.QUOTE_NONE if delimiter == "\t" else csv.QUOTE_MINIMAL)
    for row in reader:
        yield reader.line_num, row


REQUIRED = {
    "polecat": ("Event ID", "Event Date", "Event Type", "Actor Country", "Recipient Country"),
    "icews": ("Event ID", "Event Date", "Source Country", "Target Country", "CAMEO Code"),
}


def _headed(handle: IO[str], dataset: str) -> Iterator[Report | Skipped]:
    first = handle.readline()
    if not first.strip():
        raise DatasetError(f"the file is empty; a {DATASET_NAMES[dataset]} file starts with its header row")
    delimiter = "\t" if "\t" in first else ","
    header = [h.strip().lstrip("\ufeff") for h in next(csv.reader([first], delimiter=delimiter))]
    missing = [c for c in REQUIRED[dataset] if c not in header]
    if missing:
        raise DatasetError(
            f"not a {DATASET_NAMES[dataset]} file: the header lacks {', '.join(repr(m) for m in missing)}"
            f" (it has {', '.join(header[:8])}{', ...' if len(header) > 8 else ''})"
        )
    index = {name: i for i, name in enumerate(header)}
    for number, values in _rows(handle, delimiter):
        number += 1  # the header was read apart
        if not any(v.strip() for v in values):
            continue
        row = {name: values[i] if i < len(values) else "" for name, i in index.items()}
        yield _polecat(row, number) if dataset == "polecat" else _icews(row, number)


def _report(
    dataset: str,
    number: int,
    origin_id: str,
    day: str,
    actor: str,
    recipient: str,
    code: str | None,
    type_: str | None,
    source: str | None,
    url: str | None,
    text: str | None,
) -> Report | Skipped:
    if code is None or type_ is None:
        return Skipped(number, "code")
    occurred_on = parse_day(day)
    if occurred_on is None:
        return Skipped(number, "date")
    a, b = diplo_party(actor), diplo_party(recipient)
    if a is None or b is None:
        return Skipped(number, "party")
    if a == b:
        return Skipped(number, "self")
    url = url if url and url.startswith(("http://", "https://")) and " " not in url else None
    reported_by = _clean(source) or (_host(url) if url else DATASET_NAMES[dataset])
    return Report(
        dataset=dataset,
        origin_id=origin_id.strip()[:200] or f"line-{number}",
        line=number,
        occurred_on=occurred_on,
        actor=a,
        recipient=b,
        code=code,
        type=type_,
        source=reported_by[:200],
        url=url,
        text=_clean(text),
    )


def _polecat(row: dict[str, str], number: int) -> Report | Skipped:
    category = row["Event Type"].strip().upper()
    mode = (_clean(row.get("Event Mode")) or "").lower()
    code = f"{category}:{mode}" if mode else category
    type_ = plover_type(category, mode) if category else None
    actor_name, recipient_name = _clean(row.get("Actor Name")), _clean(row.get("Recipient Name"))
    text = f"{actor_name or row['Actor Country']} {code} {recipient_name or row['Recipient Country']}"
    return _report(
        "polecat",
        number,
        row["Event ID"],
        row["Event Date"],
        row["Actor Country"],
        row["Recipient Country"],
        code if category else None,
        type_,
        row.get("Source"),
        None,
        text,
    )


def _icews(row: dict[str, str], number: int) -> Report | Skipped:
    cameo = normalise_cameo(row["CAMEO Code"])
    return _report(
        "icews",
        number,
        row["Event ID"],
        row["Event Date"],
        row["Source Country"],
        row["Target Country"],
        cameo,
        cameo_type(cameo) if cameo else None,
        row.get("Publisher"),
        row.get("URL"),
        row.get("Event Text"),
    )


GDELT_WIDTHS = {58: "GDELT 1.0", 61: "GDELT 2.0"}


def _gdelt(handle: IO[str]) -> Iterator[Report | Skipped]:
    seen_any = False
    for number, values in _rows(handle, "\t"):
        if not any(v.strip() for v in values):
            continue
        if len(values) not in GDELT_WIDTHS:
            raise DatasetError(
                f"line {number}: not a GDELT event file: {len(values)} tab-separated columns, where GDELT 1.0"
                " daily files have 58 and GDELT 2.0 export files 61 (and no header row)"
            )
        seen_any = True
        cameo = normalise_cameo(values[26])
        actor = values[7] or values[5][:3]
        recipient = values[17] or values[15][:3]
        text = f"{values[6] or actor} CAMEO {values[26]} {values[16] or recipient}"
        yield _report(
            "gdelt",
            number,
            values[0],
            values[1],
            actor,
            recipient,
            cameo,
            cameo_type(cameo) if cameo else None,
            None,
            values[-1].strip(),
            text,
        )
    if not seen_any:
        raise DatasetError("the file is empty; a GDELT event file has one event per line")
