"""The field's event codes for each diplo event type, and the codes of other datasets diplo can read.

All of it is data, keyed by event type *name*, so it holds for vocabulary v1 and v2 alike: a type the
running catalog does not have is simply never met.

Where the mapping comes from (openeventdata/PLOVER on GitHub, codebook draft 0.8 and later):
- PLOVER_MANUAL.tex, chapter "Event Categories": the categories, their modes, and each one's
  "Quad category". Rules applied here: "References to future meetings ... should be coded as AGREE"
  (CONSULT, ambiguities); "Cancellation of meetings are REJECT" (SANCTION, ambiguities); "International
  (political or economic) sanctions are coded as 'discontinue'" (SANCTION modes); SUPPORT covers
  "Initiate, resume, improve, or expand diplomatic, non-material cooperation"; RETREAT covers events with
  immediate material consequences (the lifting of sanctions, CAMEO 085).
- PLOVER_MANUAL.tex, table "PLOVER conflict--cooperation scores" (tab:ploverscores): the intensity, a
  Goldstein-like score from -10 (most conflictual) to +10 (most cooperative), per category and mode.
- CAMEO2PLOVER-2021.txt (CAMEO to PLOVER conversion table): the CAMEO code given for each mapping, and the
  reverse mapping used to read ICEWS and GDELT rows (CAMEO 041 -> CONSULT phone, 125 -> REJECT meet, ...).
- Quad class numbers follow CAMEO/GDELT's QuadClass: 1 verbal cooperation, 2 material cooperation,
  3 verbal conflict, 4 material conflict.
"""

from __future__ import annotations

from typing import Any

import msgspec

from diplo.events.catalog import EVENT_TYPES, type_of

VERBAL_COOPERATION, MATERIAL_COOPERATION, VERBAL_CONFLICT, MATERIAL_CONFLICT = 1, 2, 3, 4

# PLOVER categories and their quad (PLOVER_MANUAL.tex, "Quad category" of each category).
PLOVER_QUAD: dict[str, int] = {
    "AGREE": VERBAL_COOPERATION,
    "CONSULT": VERBAL_COOPERATION,
    "SUPPORT": VERBAL_COOPERATION,
    "CONCEDE": VERBAL_COOPERATION,
    "COOPERATE": MATERIAL_COOPERATION,
    "AID": MATERIAL_COOPERATION,
    "RETREAT": MATERIAL_COOPERATION,
    "REQUEST": VERBAL_CONFLICT,
    "ACCUSE": VERBAL_CONFLICT,
    "REJECT": VERBAL_CONFLICT,
    "THREATEN": VERBAL_CONFLICT,
    "PROTEST": MATERIAL_CONFLICT,
    "SANCTION": MATERIAL_CONFLICT,
    "MOBILIZE": MATERIAL_CONFLICT,
    "COERCE": MATERIAL_CONFLICT,
    "ASSAULT": MATERIAL_CONFLICT,
}

# The scores diplo's codes use, from the PLOVER scores table (category alone, or "CATEGORY:mode").
PLOVER_SCORES: dict[str, float] = {
    "AGREE": 2.5,
    "CONSULT": 2.5,
    "CONSULT:visit": 4.0,
    "CONSULT:third-party": 1.0,
    "CONSULT:multilateral": 4.0,
    "CONSULT:phone": 1.5,
    "SUPPORT": 5.0,
    "RETREAT": 6.5,
    "REJECT": -2.0,
    "REJECT:meet": -2.0,
    "SANCTION": -6.0,
    "SANCTION:withdraw": -6.0,
    "SANCTION:discontinue": -6.0,
}


class Code(msgspec.Struct, frozen=True, kw_only=True):
    """How one diplo event type reads in the field's codes.

    ``plover`` None: the type is not an act between parties (an assessment, a personnel change, an
    amendment); the dyadic exports leave it out, and ``note`` says why.
    """

    plover: str | None
    mode: str | None = None
    cameo: str | None = None  # the CAMEO code (3 digits where one fits); its first two digits are the root
    note: str = ""

    @property
    def quad(self) -> int | None:
        return PLOVER_QUAD[self.plover] if self.plover else None

    @property
    def intensity(self) -> float | None:
        if self.plover is None:
            return None
        return PLOVER_SCORES.get(f"{self.plover}:{self.mode}", PLOVER_SCORES[self.plover])

    @property
    def cameo_root(self) -> str | None:
        return self.cameo[:2] if self.cameo else None


# Every event type of vocabularies v1 and v2, by name.
CODES: dict[str, Code] = {
    "channel_established": Code(plover="SUPPORT", cameo="050", note="initiating diplomatic cooperation"),
    "channel_agreed": Code(plover="AGREE", cameo="036", note="intent to meet or negotiate"),
    "meeting_held": Code(plover="CONSULT", cameo="040", note="a meeting; mode multilateral when held at a forum"),
    "contact_made": Code(
        plover="CONSULT", cameo="040", note="mode phone for a call or letter, multilateral for a sideline"
    ),
    "meeting_scheduled": Code(plover="AGREE", cameo="036", note="a future meeting is coded AGREE"),
    "talks_cancelled": Code(plover="REJECT", mode="meet", cameo="125", note="cancelled meetings are REJECT"),
    "channel_suspended": Code(plover="SANCTION", mode="withdraw", cameo="164", note="halting negotiations"),
    "channel_restricted": Code(plover="SANCTION", mode="discontinue", cameo="160", note="curtailing exchanges"),
    "channel_resumed": Code(plover="SUPPORT", cameo="050", note="resuming diplomatic cooperation"),
    "channel_closed": Code(plover="SANCTION", mode="withdraw", cameo="161", note="breaking off relations"),
    "sanction_applied": Code(plover="SANCTION", mode="discontinue", cameo="163", note="sanctions are discontinue"),
    "sanction_lifted": Code(plover="RETREAT", cameo="085", note="easing sanctions"),
    "measure_imposed": Code(plover="SANCTION", mode="discontinue", cameo="163", note="sanctions are discontinue"),
    "measure_modified": Code(plover="SANCTION", cameo="160", note="new terms; the direction is not coded"),
    "measure_suspended": Code(plover="RETREAT", cameo="085", note="easing sanctions"),
    "measure_lifted": Code(plover="RETREAT", cameo="085", note="easing sanctions"),
    "commitment_made": Code(plover="AGREE", cameo="030", note="a promise to cooperate"),
    "commitment_status": Code(plover=None, note="an assessment of a commitment, not an act between parties"),
    "official_changed": Code(plover=None, note="a change of who holds a seat, not an act between parties"),
    "event_corrected": Code(plover=None, note="applied to the event it corrects; never exported itself"),
    "event_retracted": Code(plover=None, note="the event it retracts is left out; never exported itself"),
}

# Vocabulary v2 (briefs/vocabulary.md): the names the map may hold beyond the running catalog's.
V2_TYPES = frozenset(
    {
        "channel_agreed",
        "contact_made",
        "channel_restricted",
        "commitment_status",
        "measure_imposed",
        "measure_modified",
        "measure_suspended",
        "measure_lifted",
    }
)

_CONTACT_MODES = {"call": ("phone", "041"), "letter": ("phone", "041"), "sideline": ("multilateral", "040")}


def code_for(event: Any) -> Code:
    """The code of one event: its type's, refined by the event's own fields where PLOVER has a mode for them."""
    tag = type_of(event)
    code = CODES[tag]
    if tag == "contact_made" and getattr(event, "mode", None) in _CONTACT_MODES:
        mode, cameo = _CONTACT_MODES[event.mode]
        return msgspec.structs.replace(code, mode=mode, cameo=cameo)
    if tag == "meeting_held" and getattr(event, "forum", None):
        return msgspec.structs.replace(code, mode="multilateral")
    if tag == "channel_established" and getattr(event, "status", None) == "agreed":
        return CODES["channel_agreed"]
    return code


# PLOVER contexts (PLOVER_MANUAL.tex, table "General contexts") for a channel's kind and a measure's kind
# (vocabulary v2); events of a channel without a kind carry no context.
CHANNEL_KIND_CONTEXT: dict[str, str] = {
    "military": "military",
    "diplomatic": "diplomatic",
    "economic": "economic",
    "law-enforcement": "crime",
    "climate-science": "environment",
    "consular": "diplomatic",
    "arms-control": "cbrn",
    "technology": "technology",
    "leaders": "diplomatic",
}
MEASURE_KIND_CONTEXT: dict[str, str] = {"tariff": "economic", "export_control": "technology"}


# -- reading other datasets: their codes -> a diplo event type --------------------------------------
# Each entry names the diplo types in order of preference; the first the running catalog has is used
# (``contact_made`` and the measure types exist from vocabulary v2 on). Codes not listed are not read:
# diplo records channels, so only meetings, refusals, suspensions, sanctions and promises are candidates.

PLOVER_IMPORT: dict[str, tuple[str, ...]] = {
    "CONSULT:phone": ("contact_made", "meeting_held"),
    "CONSULT": ("meeting_held",),
    "AGREE": ("commitment_made",),
    "REJECT:meet": ("talks_cancelled",),
    "SANCTION:withdraw": ("channel_suspended",),
    "SANCTION:discontinue": ("measure_imposed", "sanction_applied"),
}

CAMEO_IMPORT: dict[str, tuple[str, ...]] = {
    "030": ("commitment_made",),
    "031": ("commitment_made",),
    "032": ("commitment_made",),
    "057": ("commitment_made",),  # sign formal agreement
    "036": ("channel_agreed",),  # express intent to meet or negotiate
    "040": ("meeting_held",),
    "041": ("contact_made", "meeting_held"),  # discuss by telephone
    "042": ("meeting_held",),
    "043": ("meeting_held",),
    "044": ("meeting_held",),
    "045": ("meeting_held",),
    "046": ("meeting_held",),
    "125": ("talks_cancelled",),  # reject proposal to meet, discuss, negotiate
    "161": ("channel_suspended",),  # reduce or break diplomatic relations
    "164": ("channel_suspended",),  # halt negotiations
    "163": ("measure_imposed", "sanction_applied"),  # impose embargo, boycott, or sanctions
    "085": ("measure_lifted", "sanction_lifted"),  # ease economic sanctions, boycott, embargo
}


def available(preferences: tuple[str, ...], catalog: dict[str, object] | None = None) -> str | None:
    """The first of these types the catalog has."""
    known = EVENT_TYPES if catalog is None else catalog
    return next((t for t in preferences if t in known), None)


def plover_type(category: str, mode: str | None) -> str | None:
    """The diplo type for a PLOVER category and mode (as POLECAT codes them), or None if diplo does not read it."""
    category = category.strip().upper()
    mode = (mode or "").strip().lower()
    preferences = PLOVER_IMPORT.get(f"{category}:{mode}") if mode else None
    if preferences is None:
        preferences = PLOVER_IMPORT.get(category)
    return available(preferences) if preferences else None


def normalise_cameo(code: str) -> str | None:
    """A CAMEO event code as its canonical digit string ('42' as written by some tools -> '042')."""
    code = code.strip()
    if not code.isdigit() or not 2 <= len(code) <= 4:
        return None
    if len(code) == 2 and int(code) > 20:  # no root code is above 20: a leading zero was lost
        return "0" + code
    if len(code) == 3 and int(code[:2]) > 20:
        return "0" + code
    return code


def cameo_type(code: str) -> str | None:
    """The diplo type for a CAMEO code (4-digit codes read as their 3-digit base), or None."""
    canonical = normalise_cameo(code)
    if canonical is None:
        return None
    preferences = CAMEO_IMPORT.get(canonical[:3]) or (CAMEO_IMPORT.get("040") if canonical == "04" else None)
    return available(preferences) if preferences else None


def markdown_table() -> str:
    """The code map as the README shows it (a test keeps the two the same)."""
    lines = [
        "| diplo type | PLOVER event | mode | CAMEO | quad | intensity | note |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, code in CODES.items():
        cells = [
            f"`{name}`",
            code.plover or "—",
            code.mode or "",
            code.cameo or "",
            str(code.quad or ""),
            "" if code.intensity is None else f"{code.intensity:+.1f}",
            code.note,
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
