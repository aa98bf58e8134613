"""Parties as the field codes them: ISO 3166-1 alpha-3 for states, PLOVER's codes for organisations.

diplo's parties are ISO alpha-3 codes or named organisations (vocabulary v2). PLOVER codes states by
ISO alpha-3 and international organisations as UNO (United Nations), EUR (European Union) or IGO (any
other), per its table "International Non-state actor names" (PLOVER_MANUAL.tex). Datasets that diplo
reads write countries as codes (POLECAT, GDELT's CAMEO country codes) or English names (ICEWS).
"""

from __future__ import annotations

import functools

import pycountry

ORGANISATIONS = frozenset(
    {"EU", "UN", "NATO", "ASEAN", "G7", "G20", "AU", "OAS", "SCO", "BRICS", "APEC", "OSCE", "IAEA", "WTO"}
)
_PLOVER_ORGANISATION = {"EU": "EUR", "UN": "UNO"}
_FROM_PLOVER = {"EUR": "EU", "UNO": "UN"}

# Names event datasets use that ISO's tables spell otherwise.
_ALIASES = {
    "RUSSIA": "RUS",
    "TURKEY": "TUR",
    "KOSOVO": "XKX",
    "KOS": "XKX",
    "MACEDONIA": "MKD",
    "SWAZILAND": "SWZ",
    "BURMA": "MMR",
    "IVORY COAST": "CIV",
    "OCCUPIED PALESTINIAN TERRITORY": "PSE",
    "PALESTINE": "PSE",
    "DEMOCRATIC REPUBLIC OF CONGO": "COD",
    "CONGO, DEMOCRATIC REPUBLIC OF THE": "COD",
    "REPUBLIC OF CONGO": "COG",
    "VATICAN": "VAT",
    "HOLY SEE": "VAT",
}


def plover_code(party: str) -> str:
    """The 3-character PLOVER entity code of a diplo party (a state's ISO code; UNO, EUR or IGO)."""
    if party in ORGANISATIONS:
        return _PLOVER_ORGANISATION.get(party, "IGO")
    return iso_code(party) or "UNK"


def iso_code(party: str) -> str | None:
    """The ISO alpha-3 code of a state, however diplo or a dataset names it; None for anything else."""
    return _lookup(party.strip().upper()) if party and party.strip() else None


@functools.lru_cache(maxsize=4096)
def _lookup(key: str) -> str | None:
    if key in _ALIASES:
        return _ALIASES[key]
    try:
        return pycountry.countries.lookup(key).alpha_3
    except LookupError:
        return None


def diplo_party(value: str) -> str | None:
    """A dataset's actor country as a diplo party: an ISO code, or an organisation diplo names; else None."""
    key = value.strip().upper()
    if not key or key in ("NONE", "NULL", "NAN"):
        return None
    if key in ORGANISATIONS:
        return key
    if key in _FROM_PLOVER:
        return _FROM_PLOVER[key]
    return iso_code(key)


def country_name(party: str) -> str:
    """An English name for a party, as ICEWS writes countries (organisations keep their acronym)."""
    code = iso_code(party) if party not in ORGANISATIONS else None
    if code is None:
        return party
    country = pycountry.countries.get(alpha_3=code)
    if country is None:
        return party
    return getattr(country, "common_name", None) or country.name
