"""Rules of `pipeline.judge`: each test pins one reasoning rule and fails without it."""

from __future__ import annotations

import pytest

from pipeline.judge import (
    age_requirement,
    judge,
    patient_age,
    patient_sex,
    sentence_index,
)

WOMAN = (
    "0. A 58-year-old African-American woman presents to the ER with chest pain.\n"
    "1. She is known to have hypertension and obesity.\n"
    "2. She denies smoking and diabetes.\n"
    "3. The patient will provide informed consent, and will comply with the trial protocol."
)
YOUNG_WOMAN = "0. A 30-year-old woman presents with shortness of breath.\n1. She has a fever."
MAN = "0. A 45 yo M presents with cough.\n1. He had a stroke two years ago."
BOY = "0. A 5-year-old boy presents with sore throat and fever."


@pytest.mark.parametrize(
    ("text", "age", "sex"),
    [
        ("A 58-year-old African-American woman presents", 58, "F"),
        ("45 yo M with cough", 45, "M"),
        ("a 2-year-old boy fell", 2, "M"),
        ("A 6-month-old male infant", 0.5, "M"),
        ("Karen is a 72-year-old woman", 72, "F"),
    ],
)
def test_age_and_sex_from_summary(text: str, age: float, sex: str) -> None:
    assert patient_age(text) == pytest.approx(age)
    assert patient_sex(text) == sex


def test_sentence_index_reads_the_stated_number() -> None:
    assert sentence_index(WOMAN, WOMAN.index("hypertension")) == 1


@pytest.mark.parametrize(
    ("criterion", "text", "label"),
    [
        ("Age 18-65", WOMAN, "met"),
        ("Age 18-50 years", WOMAN, "not_met"),
        ("Patients over 18 years.", WOMAN, "met"),
        ("Age 18+", BOY, "not_met"),
        ("18 years old or older.", MAN, "met"),
        ("Children 0-15 years inclusive", BOY, "met"),
    ],
)
def test_age_criteria_are_computed_exactly(criterion: str, text: str, label: str) -> None:
    assert judge(text, criterion, "inclusion").label == label


def test_a_percentile_is_not_an_age() -> None:
    requirement, _ = age_requirement("Obese patients (wt > 95th percentile for age)")
    assert requirement is None
    assert (
        judge(WOMAN, "Obese patients (wt > 95th percentile for age)", "inclusion").label
        != "not_met"
    )


def test_age_met_but_the_rest_of_the_criterion_is_open() -> None:
    label = judge(
        WOMAN,
        "Patients 18 years or older with a symptomatic chronic subdural hematoma",
        "inclusion",
    ).label
    assert label == "unknown"


@pytest.mark.parametrize(
    "criterion", ["Pregnancy", "Pregnant or lactating women", "Women of childbearing potential"]
)
def test_pregnancy_criteria_do_not_apply_to_men(criterion: str) -> None:
    assert judge(MAN, criterion, "exclusion").label == "not_applicable"


def test_adult_behaviour_criteria_do_not_apply_to_young_children() -> None:
    assert (
        judge(BOY, "alcoholism (drunk at least once a week)", "exclusion").label == "not_applicable"
    )
    assert judge(WOMAN, "alcoholism (drunk at least once a week)", "exclusion").label == "not_met"


def test_pregnancy_silence_depends_on_childbearing_age() -> None:
    assert judge(YOUNG_WOMAN, "Pregnant women", "exclusion").label == "unknown"
    assert (
        judge(WOMAN.replace("58-year-old", "72-year-old"), "Pregnant women", "exclusion").label
        == "not_met"
    )


def test_exclusion_silence_is_closed_world() -> None:
    j = judge(WOMAN, "Congestive heart failure", "exclusion")
    assert j.label == "not_met"
    assert "not mentioned" in j.reason


def test_inclusion_silence_stays_unknown() -> None:
    assert judge(WOMAN, "Congestive heart failure", "inclusion").label == "unknown"


def test_measurement_exclusion_silence_stays_unknown() -> None:
    assert judge(WOMAN, "Serum creatinine > 3.0 mg/dl", "exclusion").label == "unknown"


def test_negated_mention_is_evidence_of_absence() -> None:
    j = judge(WOMAN, "Diabetes mellitus", "exclusion")
    assert j.label == "not_met"
    assert any("diabetes" in e.text.lower() for e in j.evidence)


def test_documented_condition_meets_inclusion_with_evidence() -> None:
    j = judge(WOMAN, "Clinical diagnosis of hypertension", "inclusion")
    assert j.label == "met"
    assert WOMAN[j.evidence[0].start : j.evidence[0].end] == j.evidence[0].text


def test_negatively_phrased_inclusion_uses_the_closed_world() -> None:
    assert judge(WOMAN, "No history of stroke", "inclusion").label == "met"
    assert judge(MAN, "No history of stroke", "inclusion").label == "not_met"


def test_negatively_phrased_exclusion_is_not_decided_by_silence() -> None:
    assert judge(WOMAN, "Patients not eligible for SPECT imaging", "exclusion").label == "unknown"


def test_consent_statement_answers_consent_criteria_both_ways() -> None:
    assert judge(WOMAN, "Able to comprehend and give informed consent", "inclusion").label == "met"
    assert judge(WOMAN, "Inability to provide informed consent", "exclusion").label == "not_met"


def test_exclusion_with_undocumented_qualifiers_is_not_met() -> None:
    assert judge(WOMAN, "Hypertension", "exclusion").label == "met"
    j = judge(WOMAN, "Severe malignant secondary hypertension refractory to treatment", "exclusion")
    assert j.label == "not_met"
    assert "qualifiers" in j.reason


def test_unverified_duration_makes_a_match_unknown() -> None:
    assert judge(YOUNG_WOMAN, "Fever", "inclusion").label == "met"
    assert judge(YOUNG_WOMAN, "Fever for more than one week", "inclusion").label == "unknown"


def test_family_history_criteria_need_a_relative() -> None:
    text = "0. A 64-year-old woman with type 2 diabetes mellitus."
    assert judge(text, "Type 2 diabetes mellitus", "inclusion").label == "met"
    assert judge(text, "Family history of type 2 diabetes", "inclusion").label == "unknown"


@pytest.mark.parametrize(
    ("criterion", "text", "label"),
    [
        ("Male and female", MAN, "met"),
        ("Both genders are eligible for study", WOMAN, "met"),
        ("Women", MAN, "not_met"),
        ("Males or females older than 18 years of age.", MAN, "met"),
    ],
)
def test_sex_criteria(criterion: str, text: str, label: str) -> None:
    assert judge(text, criterion, "inclusion").label == label


def test_empty_criterion_is_unknown_not_an_error() -> None:
    assert judge(WOMAN, "   ", "inclusion").label == "unknown"


def test_inclusion_requiring_pregnancy_is_not_met_when_none_is_stated() -> None:
    assert judge(YOUNG_WOMAN, "Term pregnancy", "inclusion").label == "not_met"
    assert judge(YOUNG_WOMAN, "Are not pregnant", "inclusion").label == "met"


def test_negatively_phrased_exclusion_flips_documented_evidence() -> None:
    assert judge(WOMAN, "Patients without hypertension", "exclusion").label == "not_met"
    assert judge(WOMAN, "Patients without diabetes", "exclusion").label == "met"


def test_age_ranges_in_months_and_sub_groups() -> None:
    infant = "0. A 6-month-old male infant has a low urine output."
    crit = "Infants aged 2-18 months, studied by age group 12-18 months"
    assert judge(infant, crit, "inclusion").label != "not_met"
    assert judge(infant, "Infants aged 8-18 months", "inclusion").label == "not_met"


def test_age_criteria_cite_where_the_age_is_stated() -> None:
    j = judge(WOMAN, "Age 18-65", "inclusion")
    assert [e.text for e in j.evidence] == ["58-year-old African-American woman"]
    assert sentence_index(WOMAN, j.evidence[0].start) == 0
