"""Notes to facts: short forms read by their neighbours (room air, predicted, bare K)."""

from __future__ import annotations

import pytest
from note_facts import facts


def codes(text: str) -> set[str]:
    return {f.code for f in facts(text)}


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("SpO2 97% RA.", "M06.9"),
        ("Sats 95% on RA, RR 18.", "M06.9"),
        ("FEV1 1.71 L (62% pred).", "prednisone"),
        ("Vitamin K 10 mg given.", "potassium"),
    ],
)
def test_measurement_sense_is_not_the_lexicon_concept(text: str, code: str) -> None:
    assert code not in codes(text)


def test_lexicon_sense_kept_elsewhere() -> None:
    assert "M06.9" in codes("RA on methotrexate.")
    assert "prednisone" in codes("Pred 10 mg daily.")


def test_bare_k_before_a_potassium_unit_is_potassium() -> None:
    (k,) = [f for f in facts("K 4.5 mmol/L, Na 139 mmol/L.") if f.code == "potassium"]
    assert (k.value_as_number, k.unit) == (4.5, "mmol/L")


def test_fingerstick_glucose_short_form() -> None:
    (g,) = [f for f in facts("FSBG 188 this morning.") if f.code == "glucose"]
    assert g.value_as_number == 188.0


@pytest.mark.parametrize(
    "text", ["K 3.9, Na 140.", "Na 140, K 3.9.", "Lytes: Na 139; K 4.2; Cl 101."]
)
def test_bare_k_in_a_list_of_labs_is_potassium(text: str) -> None:
    assert "potassium" in codes(text)


def test_lone_bare_k_is_not_potassium() -> None:
    assert "potassium" not in codes("K 3.9.")
