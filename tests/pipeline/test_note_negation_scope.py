"""Notes to facts: where a negation reaches and where it stops."""

from __future__ import annotations

import datetime as dt

import pytest
from note_facts import facts, one


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Not on dialysis.", "Z99.2"),
        ("Never on dialysis.", "Z99.2"),
        ("No history of cancer.", "Z85.9"),
        ("No history of malignancy.", "Z85.9"),
    ],
)
def test_cue_sharing_the_concepts_first_words_negates_it(text: str, code: str) -> None:
    assert one(text, code).negated


def test_concept_starting_like_a_cue_stays_affirmed() -> None:
    assert not one("On dialysis since 2020.", "Z99.2").negated


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("No asthma exacerbation in the past year.", "J45.909"),
        ("No COPD exacerbation since 2023.", "J44.9"),
        ("No CHF exacerbation.", "I50.9"),
        ("No psoriasis flare.", "L40.9"),
    ],
)
def test_denied_flare_affirms_the_disease(text: str, code: str) -> None:
    f = one(text, code)
    assert not f.negated
    assert not any(m.startswith("negated_existence=") for m in f.term_modifiers)
    assert one(text, "disease_flare").negated


def test_denied_disease_without_event_stays_negated() -> None:
    assert one("No asthma.", "J45.909").negated


def test_verbal_negation_stops_at_comma_before_new_kind_of_item() -> None:
    assert one("He has never required immunosuppression, CKD G3a A3.", "immunosuppressant").negated
    assert not one("He has never required immunosuppression, CKD G3a A3.", "N18.9").negated
    assert not one("Never smoked, HTN on amlodipine.", "I10").negated


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Not on warfarin, apixaban.", "apixaban"),
        ("Never received methotrexate, azathioprine or mycophenolate.", "azathioprine"),
        ("No fever, chills, cough.", "R50.9"),
    ],
)
def test_lists_stay_negated(text: str, code: str) -> None:
    assert one(text, code).negated


def test_denied_flare_date_is_not_the_disease_date() -> None:
    text = "No asthma exacerbation and no systemic steroids since 2025-01-22."
    assert one(text, "J45.909").event_date is None
    assert one(text, "disease_flare").event_date == dt.date(2025, 1, 22)


@pytest.mark.parametrize(
    ("text", "code"),
    [("No prior history of cancer.", "Z85.9"), ("No previous history of seizures.", "R56.9")],
)
def test_no_prior_history_of_negates(text: str, code: str) -> None:
    assert one(text, code).negated


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("No systemic psoriasis treatment since MTX stopped.", "L40.9"),
        ("Not taking macrolides, HIV medications or rifampin.", "B20"),
    ],
)
def test_denied_treatment_of_a_disease_says_nothing_of_the_disease(text: str, code: str) -> None:
    assert code not in {f.code for f in facts(text)}


def test_relative_with_whom_history_was_taken_is_not_family() -> None:
    assert not one("Hx taken on phone w/ daughter: hypertension.", "I10").family
