"""Criteria parser: how coordinated mentions become requirement groups ("and" lists of drug
classes, "or" alternatives, a test's finding, a remission clause) and values named in free text
(ages, thresholds of analytes the lexicon may not know, inflected terms, consent acts)."""

from __future__ import annotations

import datetime as dt

import pytest

from criteria_models.evaluate import Evaluator
from criteria_models.facts import PatientContext
from criteria_models.model import (
    AllOf,
    AnyOf,
    Condition,
    Demographic,
    Measurement,
    Medication,
    Not,
    Requirement,
)
from pipeline.parse_criteria import criterion_requirement


def _codes(node: Requirement) -> set[str]:
    return {c.code for c in getattr(node, "concepts", [])}


# -- coordination ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["Current epilepsy or migraine", "Pregnant (or breastfeeding) participants"],
)
def test_or_joined_conditions_are_separate_alternatives(text: str) -> None:
    requirement, _ = criterion_requirement(text, "exclusion")
    assert isinstance(requirement, AnyOf), requirement
    assert all(isinstance(i, Condition) and len(i.concepts) == 1 for i in requirement.items)
    assert len(requirement.items) == 2


def test_a_comma_list_of_conditions_stays_one_condition() -> None:
    requirement, _ = criterion_requirement("History of epilepsy, stroke, and migraine", "exclusion")
    assert isinstance(requirement, Condition)
    # epilepsy, the strokes (I60-I63: a group name) and migraine, in one condition
    assert {"G40.9", "I63", "G43"} <= _codes(requirement)


def test_a_generic_head_gives_way_to_its_specific_kind() -> None:
    requirement, _ = criterion_requirement("Active infection of hepatitis C virus", "exclusion")
    assert isinstance(requirement, Condition), requirement
    assert all(code.startswith("B1") for code in _codes(requirement)), _codes(requirement)


def test_a_tests_finding_stands_apart_and_the_test_is_not_required() -> None:
    requirement, _ = criterion_requirement(
        "ECG showing atrial fibrillation, heart failure such as cardiomyopathy", "exclusion"
    )
    assert isinstance(requirement, AnyOf), requirement
    first, second = requirement.items
    assert isinstance(first, Condition) and len(first.concepts) == 1
    assert isinstance(second, Condition) and len(second.concepts) == 2
    assert not any("ecg" in c.code.lower() for i in requirement.items for c in i.concepts)  # type: ignore[union-attr]


def test_an_and_list_of_drug_classes_requires_each_class() -> None:
    requirement, category = criterion_requirement(
        "Previously treated with NSAIDs, glucocorticoids and DMARDs", "inclusion"
    )
    assert isinstance(requirement, AllOf), requirement
    classes = [i.drug_classes for i in requirement.items if isinstance(i, Medication)]
    assert classes == [["nsaid"], ["glucocorticoid"], ["dmard"]]
    assert category == "medication"


def test_an_or_list_of_drug_classes_is_one_medication() -> None:
    requirement, _ = criterion_requirement("Treated with DMARDs or glucocorticoids", "inclusion")
    assert isinstance(requirement, Medication), requirement
    assert set(requirement.drug_classes) == {"dmard", "glucocorticoid"}


@pytest.mark.parametrize(
    "text",
    [
        "Maximal tolerated statin therapy ± ezetimibe",
        "Treated with methotrexate, leflunomide, glucocorticoids, or other DMARDs",
        "Stable glucocorticoids 3 months before treatment with methotrexate",
        "Received platinum-based chemotherapy",
    ],
)
def test_drug_mentions_that_are_not_a_list_of_required_classes(text: str) -> None:
    requirement, _ = criterion_requirement(text, "inclusion")
    assert isinstance(requirement, Medication), requirement


def test_a_class_with_its_agent_is_one_group() -> None:
    requirement, _ = criterion_requirement(
        "Planned chemotherapy with cisplatin and NSAIDs as needed", "inclusion"
    )
    assert isinstance(requirement, AllOf), requirement
    chemo, nsaid = requirement.items
    assert isinstance(chemo, Medication) and {d.code for d in chemo.drugs} == {"cisplatin"}
    assert isinstance(nsaid, Medication) and nsaid.drug_classes == ["nsaid"]


def test_drugs_named_as_examples_join_their_class() -> None:
    requirement, _ = criterion_requirement(
        "Prior corticosteroids and immunosuppressants (such as azathioprine or mycophenolate "
        "mofetil)",
        "inclusion",
    )
    assert isinstance(requirement, AllOf), requirement
    steroids, immuno = requirement.items
    assert isinstance(steroids, Medication) and steroids.drug_classes == ["glucocorticoid"]
    assert isinstance(immuno, Medication) and immuno.drug_classes == ["immunosuppressant"]
    assert {d.code for d in immuno.drugs} == {"azathioprine", "mycophenolate mofetil"}


@pytest.mark.parametrize(
    "text",
    [
        "Received methotrexate and glucocorticoids but failed to achieve remission",
        "Despite NSAIDs and glucocorticoids the disease is still active",
    ],
)
def test_a_treatment_failure_clause_requires_the_disease_not_in_remission(text: str) -> None:
    requirement, category = criterion_requirement(text, "inclusion")
    assert isinstance(requirement, AllOf), requirement
    last = requirement.items[-1]
    assert isinstance(last, Not) and isinstance(last.item, Condition)
    assert _codes(last.item) == {"clinical_remission"}
    assert any(isinstance(i, Medication) for i in requirement.items)
    assert category == "medication"


def test_or_inside_an_age_phrase_does_not_make_alternatives() -> None:
    requirement, _ = criterion_requirement(
        "Male or female aged 18 years or older with type 2 diabetes", "inclusion"
    )
    assert isinstance(requirement, AllOf), requirement
    types = sorted(i.type for i in requirement.items)
    assert types == ["condition", "demographic"]


def test_or_between_requirements_makes_alternatives() -> None:
    requirement, _ = criterion_requirement("Type 2 diabetes or HbA1c > 7%", "inclusion")
    assert isinstance(requirement, AnyOf), requirement


# -- ages ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("Participants 21 years or younger", "inclusion", [("<=", 21.0)]),
        ("19 years of age or older", "inclusion", [(">=", 19.0)]),
        ("Men and women between 30 and 60 years", "inclusion", [(">=", 30.0), ("<=", 60.0)]),
        ("27-44-year-old volunteers", "inclusion", [(">=", 27.0), ("<=", 44.0)]),
        ("Ages 7-15", "inclusion", [(">=", 7.0), ("<=", 15.0)]),
        ("Age: 20~40", "inclusion", [(">=", 20.0), ("<=", 40.0)]),
        ("older than 3 months and younger than 17 years", "inclusion", [(">", 0.25), ("<", 17.0)]),
        ("Subjects below 20 and above 70 years", "exclusion", [("<", 20.0), (">", 70.0)]),
        ("patients <16", "exclusion", [("<", 16.0)]),
        ("Infants less than 10 days old", "inclusion", [("<", round(10 / 365.25, 4))]),
        ("over the age of 21", "inclusion", [(">=", 21.0)]),
        ("Age (30-55)", "inclusion", [(">=", 30.0), ("<=", 55.0)]),
        ("Adults", "inclusion", [(">=", 18.0)]),
    ],
)
def test_age_phrasings(text: str, kind: str, expected: list[tuple[str, float]]) -> None:
    requirement, category = criterion_requirement(text, kind)
    assert requirement is not None, text
    leaves = [requirement] if isinstance(requirement, Demographic) else requirement.items  # type: ignore[union-attr]
    assert [(leaf.comparator, leaf.value) for leaf in leaves] == expected  # type: ignore[union-attr]
    assert category == "demographic"
    if kind == "exclusion" and len(expected) == 2:
        assert isinstance(requirement, AnyOf)


@pytest.mark.parametrize(
    "text",
    [
        "More than 3 years of running experience",
        "Back pain for more than 6 months",
        ">= 4 days per week of exercise",
    ],
)
def test_durations_and_frequencies_are_not_ages(text: str) -> None:
    requirement, _ = criterion_requirement(text, "inclusion")
    assert not isinstance(requirement, Demographic), requirement
    assert "demographic" not in (requirement.model_dump_json() if requirement else "")


# -- values named in free text ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "name", "comparator", "value", "unit"),
    [
        ("Oswestry disability index 40 or less", "Oswestry disability index", "<=", 40.0, None),
        ("Retinal thickness above 250 microns", "Retinal thickness", ">", 250.0, "microns"),
        ("Zorblat score (ZS) ≥ 3", "Zorblat score (ZS)", ">=", 3.0, None),
        ("At least 12 natural teeth", "natural teeth", ">=", 12.0, None),
        ("Step count (< 5000 steps/day)", "Step count", "<", 5000.0, "steps/day"),
    ],
)
def test_threshold_of_an_analyte_the_lexicon_does_not_know(
    text: str, name: str, comparator: str, value: float, unit: str | None
) -> None:
    requirement, category = criterion_requirement(text, "inclusion")
    assert isinstance(requirement, Measurement), requirement
    assert requirement.analytes[0].system == "TEXT" and requirement.analytes[0].name == name
    assert (requirement.comparator, requirement.value, requirement.unit) == (
        comparator,
        value,
        unit,
    )
    assert category == "measurement"


def test_per_sex_thresholds_are_alternatives() -> None:
    requirement, _ = criterion_requirement(
        "FOO risk score ≥2 for men and ≥3 for women", "inclusion"
    )
    assert isinstance(requirement, AnyOf), requirement
    assert [(m.sex, m.value) for m in requirement.items] == [("M", 2.0), ("F", 3.0)]  # type: ignore[union-attr]


def test_two_bounds_joined_by_or_are_alternatives() -> None:
    requirement, _ = criterion_requirement(
        "Quality score less than 10% or greater than 90%", "inclusion"
    )
    assert isinstance(requirement, AnyOf), requirement
    assert [(m.comparator, m.value) for m in requirement.items] == [("<", 10.0), (">", 90.0)]  # type: ignore[union-attr]


def test_blood_pressure_pair_reads_systolic_and_diastolic() -> None:
    high, _ = criterion_requirement("Blood pressure above 150/95 mmHg", "exclusion")
    assert isinstance(high, AnyOf), high
    assert [(m.analytes[0].code, m.value) for m in high.items] == [  # type: ignore[union-attr]
        ("systolic_bp", 150.0),
        ("diastolic_bp", 95.0),
    ]
    low, _ = criterion_requirement("Resting blood pressure < 130/80 mmHg", "inclusion")
    assert isinstance(low, AllOf), low


def test_weight_verb_names_body_weight() -> None:
    requirement, _ = criterion_requirement(
        "Individuals who weigh less than 120 pounds", "exclusion"
    )
    assert isinstance(requirement, Measurement), requirement
    assert requirement.analytes[0].code == "body_weight" and requirement.value == 120


def test_a_coded_lab_value_written_after_its_name() -> None:
    requirement, _ = criterion_requirement("Body weight: 60kg or higher", "inclusion")
    assert isinstance(requirement, Measurement), requirement
    assert (requirement.analytes[0].code, requirement.comparator, requirement.value) == (
        "body_weight",
        ">=",
        60.0,
    )


@pytest.mark.parametrize(
    "text",
    [
        "Stent implanted between 1 March 2010 and 1 May 2012",
        "Surgery from 1st of june 2015 to 30 june 2019",
    ],
)
def test_dates_are_not_thresholds(text: str) -> None:
    requirement, _ = criterion_requirement(text, "inclusion")
    assert "TEXT" not in (requirement.model_dump_json() if requirement else "")


def test_an_uncoded_value_does_not_hide_a_coded_requirement() -> None:
    requirement, _ = criterion_requirement("Asthma with a Zorblat index > 3", "inclusion")
    assert isinstance(requirement, Condition), requirement


def test_an_uncoded_analyte_evaluates_to_unknown() -> None:
    requirement, _ = criterion_requirement("Zorblat score (ZS) ≥ 3", "inclusion")
    assert requirement is not None
    context = PatientContext("P", "F", dt.date(1980, 1, 1), dt.date(2025, 1, 1))
    assert Evaluator(context, []).evaluate(requirement).label == "unknown"


# -- inflected terms and consent ------------------------------------------------------------------


@pytest.mark.parametrize(("text", "code"), [("Diabetics.", "E11"), ("psychiatric diseases", "F")])
def test_plural_of_a_lexicon_term_is_found(text: str, code: str) -> None:
    requirement, _ = criterion_requirement(text, "exclusion")
    assert isinstance(requirement, Condition), requirement
    assert code in _codes(requirement)


def test_consent_given_or_denied_is_the_documented_consent() -> None:
    given, category = criterion_requirement("Written consent given by the parents", "inclusion")
    assert isinstance(given, Condition) and _codes(given) == {"informed_consent_signed"}
    assert category == "consent"
    denied, _ = criterion_requirement("Refusal to give consent", "exclusion")
    assert isinstance(denied, Not) and _codes(denied.item) == {"informed_consent_signed"}


def test_capacity_to_consent_is_its_own_concept() -> None:
    # the capacity to consent is a clinician's documented assessment, or shown by a signed
    # consent; a willingness alone is not a capacity
    able, category = criterion_requirement("Able to give consent", "inclusion")
    # a signed consent shows the capacity: either concept answers
    assert isinstance(able, Condition)
    assert _codes(able) == {"consent_capacity", "informed_consent_signed"}
    assert category == "consent"
    unable, _ = criterion_requirement("Unable to give informed consent", "inclusion")
    assert isinstance(unable, Not) and "consent_capacity" in _codes(unable.item)
    # a willingness without an ability is the consent to come
    unwilling, _ = criterion_requirement("Participants unwilling to consent", "exclusion")
    assert isinstance(unwilling, Not) and _codes(unwilling.item) == {"informed_consent_signed"}


def test_adults_with_children_is_no_age_limit() -> None:
    requirement, _ = criterion_requirement("Adults as well as children", "inclusion")
    assert requirement is None


@pytest.mark.parametrize(
    ("text", "kind", "sexes"),
    [
        ("Male or female", "inclusion", ["F", "M"]),
        ("Patients of both genders", "inclusion", ["F", "M"]),
        ("Patient must be female", "inclusion", ["F"]),
        ("Men", "exclusion", ["M"]),
    ],
)
def test_sex_only_criteria(text: str, kind: str, sexes: list[str]) -> None:
    requirement, category = criterion_requirement(text, kind)
    leaves = requirement.items if isinstance(requirement, AnyOf) else [requirement]
    assert [getattr(leaf, "value", None) for leaf in leaves] == sexes, requirement
    assert category == "demographic"


def test_roman_grade_threshold() -> None:
    requirement, _ = criterion_requirement("NYHA class ≥ III", "exclusion")
    assert isinstance(requirement, Measurement), requirement
    assert (requirement.analytes[0].code, requirement.comparator, requirement.value) == (
        "nyha_class",
        ">=",
        3.0,
    )


def test_a_graded_range_of_an_unknown_scale() -> None:
    requirement, _ = criterion_requirement("Zorblat stage 1-3", "inclusion")
    assert isinstance(requirement, AllOf), requirement
    assert [(m.comparator, m.value) for m in requirement.items] == [(">=", 1.0), ("<=", 3.0)]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "unit"),
    [
        ("Internet gaming for over 20 hours per week", "hours/week"),
        ("Sleep duration less than 6 hours a night", "hours/night"),
        ("Door-to-needle time > 60 minutes", "minutes"),
    ],
)
def test_rates_and_time_quantities_are_measurements(text: str, unit: str) -> None:
    requirement, _ = criterion_requirement(text, "inclusion")
    assert isinstance(requirement, Measurement), requirement
    assert requirement.unit == unit and requirement.analytes[0].system == "TEXT"


def test_a_size_in_weeks_is_not_a_time_quantity() -> None:
    requirement, _ = criterion_requirement("Uterine size > 20 weeks", "exclusion")
    assert requirement is None


def test_modifiers_sharing_a_head_noun_name_one_concept_each() -> None:
    requirement, _ = criterion_requirement("Renal or hepatic impairment", "exclusion")
    assert isinstance(requirement, AnyOf), requirement
    assert _codes(requirement.items[0]) == {"N19"}
    assert "K7" in _codes(requirement.items[1])  # liver disease: the group K70-K77


def test_allergic_names_allergy() -> None:
    requirement, _ = criterion_requirement("Allergic to latex", "exclusion")
    assert isinstance(requirement, Condition) and _codes(requirement) == {"T78.40"}


@pytest.mark.parametrize(
    ("text", "kind", "negated"),
    [
        ("Currently enrolled in another interventional trial", "exclusion", False),
        ("Must not be participating in a concurrent therapeutic study", "inclusion", True),
    ],
)
def test_taking_part_in_another_study(text: str, kind: str, negated: bool) -> None:
    requirement, category = criterion_requirement(text, kind)
    node = requirement.item if isinstance(requirement, Not) else requirement
    assert isinstance(requirement, Not) == negated, requirement
    assert isinstance(node, Condition) and _codes(node) == {"investigational_product"}
    assert category == "study_participation"


@pytest.mark.parametrize(
    ("text", "kind", "negated"),
    [
        ("Parents who agree to participate in the study", "inclusion", False),
        ("Patient refusal", "exclusion", True),
        ("No refusal of the parents", "inclusion", False),
    ],
)
def test_agreeing_or_refusing_is_consent(text: str, kind: str, negated: bool) -> None:
    requirement, category = criterion_requirement(text, kind)
    node = requirement.item if isinstance(requirement, Not) else requirement
    assert isinstance(requirement, Not) == negated, requirement
    assert isinstance(node, Condition) and _codes(node) == {"informed_consent_signed"}
    assert category == "consent"


def test_healthy_volunteers_have_no_other_medical_history() -> None:
    requirement, _ = criterion_requirement("Healthy volunteers", "inclusion")
    assert isinstance(requirement, Condition) and _codes(requirement) == {"no_other_comorbidity"}
