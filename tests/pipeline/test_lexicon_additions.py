"""Lexicon entries added after a QA pass on new protocols (psychiatry and heart-failure trials).

Each test runs the note pipeline or the criteria parser end to end, so it checks that the
lexicon entry is reachable (matched, valued, grouped), not only that it is present in the file.
"""

from __future__ import annotations

import datetime as dt

import pytest

from criteria_models.facts import PatientFact
from criteria_models.model import Condition, Measurement, Medication
from pipeline.facts import facts_from_doc
from pipeline.icd_groups import criterion_refs
from pipeline.judge import judge
from pipeline.nlp import get_nlp
from pipeline.parse_criteria import criterion_requirement


def _facts(text: str) -> list[PatientFact]:
    return facts_from_doc(get_nlp()(text), "p1", "n1", dt.date(2024, 1, 1), text)


def _keys(text: str) -> set[str]:
    return {f"{f.code_system}:{f.code}" for f in _facts(text) if not f.negated}


# -- 1. depression and anxiety rating scales ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code", "value"),
    [
        ("MADRS 32 at screening.", "madrs", 32.0),
        ("MADRS 32/60 at screening.", "madrs", 32.0),
        ("Montgomery-Asberg Depression Rating Scale score of 28.", "madrs", 28.0),
        ("HAM-D 24 at baseline.", "hamd", 24.0),
        ("HDRS 19/52 today.", "hamd", 19.0),
        ("HAMD-17 total 21.", "hamd", 21.0),
        ("PHQ-9 score 15.", "phq9", 15.0),
        ("PHQ-9: 14/27.", "phq9", 14.0),
        ("GAD-7 12/21.", "gad7", 12.0),
    ],
)
def test_rating_scale_scores_are_read(text: str, code: str, value: float) -> None:
    values = [f.value_as_number for f in _facts(text) if f.code_system == "LAB" and f.code == code]
    assert values == [value]


def test_a_slashed_number_other_than_the_scale_maximum_is_no_score() -> None:
    values = [f.value_as_number for f in _facts("MADRS 32/40.") if f.code == "madrs"]
    assert values in ([], [None])


@pytest.mark.parametrize(
    ("text", "code", "comparator", "value"),
    [
        ("MADRS >= 26", "madrs", ">=", 26.0),
        ("MADRS total score ≥ 22 at screening", "madrs", ">=", 22.0),
        ("HAM-D17 score ≥ 18", "hamd", ">=", 18.0),
        ("PHQ-9 score of 10 or higher", "phq9", ">=", 10.0),
        ("GAD-7 < 10", "gad7", "<", 10.0),
    ],
)
def test_rating_scale_criteria_are_measurements(
    text: str, code: str, comparator: str, value: float
) -> None:
    requirement, _ = criterion_requirement(text, "inclusion")
    assert isinstance(requirement, Measurement)
    assert [(a.system, a.code) for a in requirement.analytes] == [("LAB", code)]
    assert (requirement.comparator, requirement.value) == (comparator, value)


def test_rating_scale_criterion_is_judged_from_the_note_score() -> None:
    note = "A 34-year-old woman with major depressive disorder; MADRS 32 at screening."
    assert judge(note, "MADRS total score >= 26", "inclusion").label == "met"
    assert judge(note, "MADRS total score >= 35", "inclusion").label == "not_met"


# -- 2. echocardiography abbreviations --------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "TTE showed an ejection fraction of 55%.",
        "TEE on admission was unremarkable.",
        "Echo showed normal biventricular function.",
        "Repeat echo in 6 months.",
        "A transthoracic echocardiogram was unremarkable.",
    ],
)
def test_echocardiography_abbreviations(text: str) -> None:
    assert "ELIG:echocardiography" in _keys(text)


# -- 3. left ventricular assist device ----------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Status post LVAD implantation in 2021.",
        "He has a left ventricular assist device.",
        "Ventricular assist device in place.",
        "HeartMate 3 implanted as destination therapy.",
    ],
)
def test_ventricular_assist_device(text: str) -> None:
    assert "ICD10CM:Z95.811" in _keys(text)


# -- 4. suicide attempt and electroconvulsive therapy --------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Suicide attempt by overdose in 2019.",
        "Two prior suicide attempts.",
        "History of attempted suicide.",
        "Admitted after a suicidal attempt.",
    ],
)
def test_suicide_attempt(text: str) -> None:
    assert "ICD10CM:T14.91" in _keys(text)


def test_suicide_attempt_criterion_covers_the_encounter_codes() -> None:
    requirement, _ = criterion_requirement("History of suicide attempt", "exclusion")
    assert isinstance(requirement, Condition)
    refs = requirement.concepts
    assert any(r.matches("ICD10CM", "T14.91XA") for r in refs)
    assert not any(r.matches("ICD10CM", "R45.851") for r in refs)  # ideation is not an attempt


@pytest.mark.parametrize(
    "text",
    [
        "Received ECT in 2018 with good response.",
        "Prior course of electroconvulsive therapy.",
        "Electroshock therapy in the past.",
    ],
)
def test_electroconvulsive_therapy(text: str) -> None:
    assert "ELIG:ect" in _keys(text)


# -- 5. diabetic ketoacidosis is not a type of diabetes ------------------------------------------


def test_dka_is_a_local_concept_outside_the_diabetes_categories() -> None:
    keys = _keys("Admitted with DKA last year.") | _keys("Episode of diabetic ketoacidosis.")
    assert keys >= {"ELIG:dka"}
    assert not any(k.startswith(("ICD10CM:E10", "ICD10CM:E11")) for k in keys)


def test_type_2_patient_with_dka_does_not_meet_a_type_1_exclusion() -> None:
    note = "A 58-year-old man with type 2 diabetes mellitus admitted for DKA."
    assert judge(note, "Type 1 diabetes mellitus", "exclusion").label != "met"
    assert judge(note, "History of diabetic ketoacidosis", "exclusion").label == "met"


# -- 6. SNRI class ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "drug",
    ["venlafaxine", "Pristiq", "duloxetine", "Savella", "levomilnacipran", "Effexor", "Fetzima"],
)
def test_snri_drugs_carry_the_class_and_its_parents(drug: str) -> None:
    facts = [f for f in _facts(f"Currently taking {drug} daily.") if f.category == "drug"]
    assert facts
    assert {"snri", "antidepressant", "psychotropic"} <= set(facts[0].drug_classes)


@pytest.mark.parametrize(
    "text",
    [
        "Current use of SNRIs",
        "Treatment with a serotonin-norepinephrine reuptake inhibitor",
        "Serotonin and norepinephrine reuptake inhibitors within 2 weeks",
    ],
)
def test_snri_class_phrases_parse_to_the_class(text: str) -> None:
    requirement, _ = criterion_requirement(text, "exclusion")
    assert isinstance(requirement, Medication)
    assert requirement.drug_classes == ["snri"]


# -- 7. substance use disorders without nicotine ---------------------------------------------------


@pytest.mark.parametrize("code", ["F19.20", "F19.10"])
def test_substance_groups_cover_f10_f19_except_nicotine(code: str) -> None:
    refs = criterion_refs("ICD10CM", code, "substance use disorder")
    for covered in ("F10.20", "F11.20", "F12.90", "F14.10", "F19.20"):
        assert any(r.matches("ICD10CM", covered) for r in refs), covered
    assert not any(r.matches("ICD10CM", "F17.210") for r in refs)


@pytest.mark.parametrize(
    "text",
    [
        "Cannabis use disorder, moderate.",
        "History of cannabis dependence.",
        "Cannabis abuse in his twenties.",
        "Marijuana use disorder.",
    ],
)
def test_cannabis_use_disorder(text: str) -> None:
    assert "ICD10CM:F12.20" in _keys(text)


def test_substance_use_disorder_criterion_meets_cannabis_not_nicotine() -> None:
    criterion = "Current substance use disorder"
    assert judge("A 30-year-old man with cannabis use disorder.", criterion, "exclusion").label == (
        "met"
    )
    smoker = "A 30-year-old man with nicotine dependence, smokes 1 pack per day."
    assert judge(smoker, criterion, "exclusion").label != "met"


# -- 8. potassium: a bare "K" is not added ----------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["Given vitamin K for INR reversal.", "Fracture fixed with a K-wire.", "Group K patients."],
)
def test_a_bare_k_is_no_potassium(text: str) -> None:
    """A bare "K" would be matched without a number after it (the lab matcher does not require
    one), so it is not a potassium term; "K+" and "potassium" are."""
    assert "LAB:potassium" not in _keys(text)


@pytest.mark.parametrize(
    ("sentence", "code"),
    [
        ("History of gonorrhea, treated.", "A54.9"),
        ("Chlamydia screen positive last year.", "A74.9"),
    ],
)
def test_common_sexually_transmitted_infections_are_coded(sentence: str, code: str) -> None:
    from pipeline.facts import facts_from_doc
    from pipeline.nlp import get_nlp

    assert code in {f.code for f in facts_from_doc(get_nlp()(sentence), "p", "n", None)}


@pytest.mark.parametrize(
    ("sentence", "code"),
    [
        ("Continuous home O2 at 3 L/min via NC.", "Z99.81"),
        ("Alpha-1 antitrypsin deficiency (PiZZ).", "E88.01"),
        ("Yellow fever vaccine given 2025-12-29.", "live_vaccine"),
    ],
)
def test_named_states_a_criterion_asks_about(sentence: str, code: str) -> None:
    from pipeline.facts import facts_from_doc
    from pipeline.nlp import get_nlp

    assert code in {f.code for f in facts_from_doc(get_nlp()(sentence), "p", "n", None)}
