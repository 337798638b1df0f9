"""Notes to facts: a contraceptive method in use, and treatments the patient only wishes for."""

from __future__ import annotations

import pytest
from note_facts import facts

from criteria_models.facts import PatientFact


def agreement(text: str) -> list[PatientFact]:
    return [f for f in facts(text) if f.code == "contraception_agreement"]


@pytest.mark.parametrize(
    "text",
    ["Contraception: copper IUD since 2019.", "Uses a Nexplanon implant.", "On combined OCP."],
)
def test_method_in_use_is_contraception(text: str) -> None:
    found = agreement(text)
    assert len(found) == 1
    f = found[0]
    assert not (f.negated or f.uncertain or f.hypothetical)


@pytest.mark.parametrize("text", ["No IUD.", "Stopped OCP in 2020.", "Will start OCP."])
def test_method_not_in_use_is_not_contraception(text: str) -> None:
    assert not [f for f in agreement(text) if not (f.negated or f.uncertain or f.hypothetical)]


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("She is keen to try a biologic.", "biologic"),
        ("Would like to start a biologic.", "biologic"),
        ("Patient wants to switch to adalimumab.", "adalimumab"),
    ],
)
def test_wished_for_treatment_is_hypothetical(text: str, code: str) -> None:
    (f,) = [f for f in facts(text) if f.code == code]
    assert f.hypothetical
