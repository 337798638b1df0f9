"""Notes to facts: a relative named as the source of the history is not family history."""

from __future__ import annotations

import pytest
from note_facts import one


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Warfarin (last dose 07:00 today per wife), HTN, DM2.", "I10"),
        ("Per son, patient has HTN and CKD.", "N18.9"),
        ("According to his daughter, he has COPD.", "J44.9"),
        ("Wife states he has atrial fibrillation.", "I48.91"),
        ("Son (health care proxy) signed informed consent.", "informed_consent_signed"),
        ("History as told by his wife: hypertension.", "I10"),
    ],
)
def test_relative_as_informant_is_not_family(text: str, code: str) -> None:
    assert not one(text, code).family


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Mother had breast cancer.", "C50.919"),
        ("Mother: breast cancer at 45.", "C50.919"),
    ],
)
def test_relative_own_condition_stays_family(text: str, code: str) -> None:
    assert one(text, code).family
