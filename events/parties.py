"""Who the parties are: ISO 3166-1 alpha-3 country codes (from pycountry) and a short list of organisations."""

from __future__ import annotations

from functools import cache

import pycountry

ORGANISATIONS: dict[str, str] = {
    "EU": "European Union",
    "UN": "United Nations",
    "NATO": "North Atlantic Treaty Organization",
    "ASEAN": "Association of Southeast Asian Nations",
    "G7": "Group of Seven",
    "G20": "Group of Twenty",
    "AU": "African Union",
    "OAS": "Organization of American States",
    "SCO": "Shanghai Cooperation Organisation",
    "BRICS": "BRICS",
    "APEC": "Asia-Pacific Economic Cooperation",
    "OSCE": "Organization for Security and Co-operation in Europe",
    "IAEA": "International Atomic Energy Agency",
    "WTO": "World Trade Organization",
}


@cache
def _countries() -> dict[str, str]:
    return {c.alpha_3: getattr(c, "common_name", None) or c.name for c in pycountry.countries}


def is_party(code: str) -> bool:
    """True for an upper-case ISO 3166-1 alpha-3 code or one of the organisations."""
    return code in ORGANISATIONS or code in _countries()


def party_name(code: str) -> str:
    """The party's name (the code itself if it is not one: old stored events are never re-validated)."""
    return ORGANISATIONS.get(code) or _countries().get(code) or code


def party_problem(code: str) -> str | None:
    """What is wrong with a party code, or None if it is one."""
    if is_party(code):
        return None
    if is_party(code.upper()):
        return f"{code!r} must be upper case: {code.upper()}"
    return (
        f"{code!r} is not a party code; use an ISO 3166-1 alpha-3 country code (USA, CHN, IND, ...)"
        f" or one of the organisations {', '.join(ORGANISATIONS)}"
    )
