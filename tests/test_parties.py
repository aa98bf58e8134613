"""Parties as event datasets write them, read as diplo's parties, and written back as the field codes them."""

from __future__ import annotations

import pytest

from diplo.service.interop.parties import country_name, diplo_party, iso_code, plover_code


@pytest.mark.parametrize(
    ("written", "party"),
    [
        ("CHN", "CHN"),
        ("china", "CHN"),  # ICEWS writes English names
        (" United States ", "USA"),
        ("Russia", "RUS"),  # a name ISO spells otherwise
        ("Burma", "MMR"),
        ("Occupied Palestinian Territory", "PSE"),
        ("KOS", "XKX"),
        ("EUR", "EU"),  # PLOVER's codes for organisations
        ("UNO", "UN"),
        ("NATO", "NATO"),
        ("", None),
        ("None", None),
        ("nan", None),
        ("Atlantis", None),
    ],
)
def test_a_datasets_actor_country_becomes_a_diplo_party(written: str, party: str | None) -> None:
    assert diplo_party(written) == party


def test_plover_codes_states_by_iso_and_organisations_as_uno_eur_or_igo() -> None:
    assert [plover_code(p) for p in ("USA", "EU", "UN", "NATO", "ASEAN")] == ["USA", "EUR", "UNO", "IGO", "IGO"]
    assert plover_code("Atlantis") == "UNK"
    assert iso_code("   ") is None and iso_code("Turkey") == "TUR"


def test_icews_country_names_are_english_names_and_organisations_keep_their_acronym() -> None:
    assert country_name("CHN") == "China"
    assert country_name("TWN") == "Taiwan"  # the common name, as ICEWS writes it
    assert country_name("NATO") == "NATO"
    assert country_name("Atlantis") == "Atlantis"
