"""Criteria read the way clinical-trial language means them: "non-" prefixes, second bounds,
headings without a colon, clauses that limit a criterion, counts, tests that rule a condition
out (minimal criteria written for these rules, not copied from a protocol)."""

from __future__ import annotations

import pytest

from criteria_models.model import AllOf, AnyOf, Condition, Measurement, Medication, Requirement
from pipeline.parse_criteria import criterion_requirement, parse_protocol


def _leaves(node: Requirement | None) -> list[Requirement]:
    if node is None:
        return []
    items = getattr(node, "items", None)
    if items is not None:
        return [leaf for item in items for leaf in _leaves(item)]
    inner = getattr(node, "item", None)
    return _leaves(inner) if inner is not None else [node]


def _codes(node: Requirement | None) -> set[str]:
    return {c.code for leaf in _leaves(node) if isinstance(leaf, Condition) for c in leaf.concepts}


def _bounds(node: Requirement | None, analyte: str) -> set[tuple[str, float | None]]:
    return {
        (leaf.comparator, leaf.value)
        for leaf in _leaves(node)
        if isinstance(leaf, Measurement) and any(a.code == analyte for a in leaf.analytes)
    }


# --- a second bound ---------------------------------------------------------------------------


def test_range_with_and_keeps_both_bounds() -> None:
    req, _ = criterion_requirement("eGFR >= 30 and < 60 mL/min/1.73 m2 at screening.", "inclusion")
    assert _bounds(req, "egfr") == {(">=", 30.0), ("<", 60.0)}
    assert not isinstance(req, AnyOf)


def test_range_in_exclusion_is_both_bounds() -> None:
    req, _ = criterion_requirement("Serum potassium > 3.0 and < 3.5 mmol/L.", "exclusion")
    assert isinstance(req, AllOf)
    assert _bounds(req, "potassium") == {(">", 3.0), ("<", 3.5)}


def test_second_bound_after_alternative_unit() -> None:
    req, _ = criterion_requirement("UACR >= 30 mg/g (3.4 mg/mmol) and <= 3000 mg/g.", "inclusion")
    assert _bounds(req, "uacr") == {(">=", 30.0), ("<=", 3000.0)}


def test_either_bound_with_or() -> None:
    req, _ = criterion_requirement("Blood glucose < 60 mg/dL or > 300 mg/dL.", "inclusion")
    assert isinstance(req, AnyOf)
    assert _bounds(req, "glucose") == {("<", 60.0), (">", 300.0)}


# --- a heading without a colon ---------------------------------------------------------------


def test_heading_without_colon_before_dash_bullets() -> None:
    text = "Title\n\nINCLUSION CRITERIA\n- Age 18 to 65 years.\n- Type 2 diabetes.\n\n"
    text += "EXCLUSION CRITERIA\n- Pregnancy.\n- Active hepatitis B.\n"
    model = parse_protocol(text)
    assert [(c.id, c.text) for c in model.criteria] == [
        ("INC-01", "Age 18 to 65 years."),
        ("INC-02", "Type 2 diabetes."),
        ("EXC-01", "Pregnancy."),
        ("EXC-02", "Active hepatitis B."),
    ]


# --- "non-" ----------------------------------------------------------------------------------


def test_non_melanoma_skin_cancer_exception_is_c44_not_melanoma() -> None:
    req, _ = criterion_requirement(
        "Malignancy within 3 years, except non-melanoma skin cancer.", "exclusion"
    )
    exceptions = {
        e.code for leaf in _leaves(req) if isinstance(leaf, Condition) for e in leaf.exceptions
    }
    assert exceptions == {"C44"}


def test_concept_glued_to_non_is_not_that_concept() -> None:
    req, _ = criterion_requirement(
        "Non-diabetic kidney disease (e.g., lupus nephritis) or polycystic kidney disease.",
        "exclusion",
    )
    codes = _codes(req)
    assert not any(c.startswith(("E10", "E11")) for c in codes)
    assert not any(c.startswith("N28") for c in codes)  # the narrowed head is not kept whole
    assert any(c.startswith("Q61") for c in codes) and any(c.startswith("M32") for c in codes)


def test_non_kind_of_head_is_not_the_whole_disease() -> None:
    req, _ = criterion_requirement("Non-plaque forms of psoriasis.", "exclusion")
    assert not any(c.startswith("L40") for c in _codes(req))


def test_non_biologic_therapy_is_not_the_biologic_class() -> None:
    req, _ = criterion_requirement(
        "Systemic non-biologic therapy (methotrexate or cyclosporine) within 4 weeks.", "exclusion"
    )
    meds = [leaf for leaf in _leaves(req) if isinstance(leaf, Medication)]
    assert meds and all("biologic" not in m.drug_classes for m in meds)
    assert {d.code for m in meds for d in m.drugs} == {"methotrexate", "cyclosporine"}


def test_non_state_still_asks_for_absence() -> None:
    req, _ = criterion_requirement("Non-pregnant women.", "inclusion")
    assert req is not None and req.type == "not"


# --- clauses that limit or explain a criterion -----------------------------------------------


def test_bracketed_bound_for_a_group_does_not_require_the_group() -> None:
    req, _ = criterion_requirement(
        "FEV1 < 70% predicted (< 80% predicted for participants aged 12 to 17 years).", "inclusion"
    )
    assert not any(leaf.type == "demographic" for leaf in _leaves(req))
    assert _bounds(req, "fev1") == {("<", 70.0)}


def test_bracketed_bound_for_a_disease_does_not_exclude_by_the_disease() -> None:
    req, _ = criterion_requirement(
        "AST > 2.5 x ULN (> 5 x ULN in patients with liver metastases).", "exclusion"
    )
    assert _codes(req) == set()


def test_disease_named_as_drug_indication_is_not_required() -> None:
    req, _ = criterion_requirement(
        "Prior use of biologic agents for rheumatoid arthritis.", "exclusion"
    )
    assert _codes(req) == set()
    assert any(isinstance(leaf, Medication) for leaf in _leaves(req))


def test_drug_the_condition_resists_does_not_exclude_alone() -> None:
    req, _ = criterion_requirement(
        "Hypertension not responsive to antihypertensive treatment.", "exclusion"
    )
    assert not any(isinstance(leaf, Medication) for leaf in _leaves(req))
    assert any(c.startswith("I10") for c in _codes(req))


def test_imaging_named_as_means_is_not_required() -> None:
    req, _ = criterion_requirement(
        "Subarachnoid or intracranial hemorrhage on baseline CT or MRI.", "exclusion"
    )
    codes = _codes(req)
    assert "ct_scan" not in codes and "mri" not in codes
    assert any(c.startswith("I6") for c in codes)


def test_condition_named_as_time_point_is_not_required() -> None:
    req, _ = criterion_requirement("Seizure at stroke onset.", "exclusion")
    assert not any(c.startswith("I6") for c in _codes(req))
    assert any(c.startswith("R56") for c in _codes(req))
    req, _ = criterion_requirement("Pre-stroke disability.", "inclusion")
    assert not any(c.startswith("I6") for c in _codes(req))


# --- tests that show or rule out a condition --------------------------------------------------


def _tests(node: Requirement | None, code_prefix: str) -> tuple[set[str], set[str]]:
    for leaf in _leaves(node):
        if isinstance(leaf, Condition) and any(
            c.code.startswith(code_prefix) for c in leaf.concepts
        ):
            return {t.code for t in leaf.positive_tests}, {t.code for t in leaf.negative_tests}
    return set(), set()


def test_condition_tests_filled_for_common_screening_pairs() -> None:
    req, _ = criterion_requirement("Pregnancy.", "exclusion")
    assert "hcg" in _tests(req, "Z33")[0]
    req, _ = criterion_requirement("Known HIV infection.", "exclusion")
    assert "hiv_ag_ab" in _tests(req, "B20")[0]
    req, _ = criterion_requirement("Active tuberculosis.", "exclusion")
    positive, negative = _tests(req, "A15")
    assert "tb_igra" in negative and not positive  # a positive IGRA does not prove active TB
    req, _ = criterion_requirement("Latent tuberculosis.", "exclusion")
    assert "tb_igra" in _tests(req, "Z22")[0]


# --- counts ------------------------------------------------------------------------------------


def _medications(node: Requirement | None) -> list[Medication]:
    return [leaf for leaf in _leaves(node) if isinstance(leaf, Medication)]


def test_n_or_more_agents_of_a_class() -> None:
    req, _ = criterion_requirement("Prior treatment with 3 or more TNF inhibitors.", "exclusion")
    assert [m.min_distinct_agents for m in _medications(req)] == [3]
    req, _ = criterion_requirement("Exposure to more than 2 TNF inhibitors.", "exclusion")
    assert [m.min_distinct_agents for m in _medications(req)] == [3]


def test_event_count_is_not_met_by_one_event() -> None:
    for text, kind in (
        ("At least 2 COPD exacerbations in the previous 12 months.", "inclusion"),
        ("Two or more episodes of pancreatitis.", "exclusion"),
    ):
        req, category = criterion_requirement(text, kind)
        assert req is None and category == "free_text"
    model = parse_protocol(
        "Inclusion Criteria:\n- At least 2 COPD exacerbations in the past year\n"
    )
    assert any("count of events" in w for w in model.warnings)


# --- medications -----------------------------------------------------------------------------


def test_maintenance_therapy_is_current_use() -> None:
    req, _ = criterion_requirement("Maintenance oral corticosteroid therapy.", "exclusion")
    assert [m.current for m in _medications(req)] == [True]


def test_class_named_as_what_is_blocked_is_not_that_class() -> None:
    req, _ = criterion_requirement(
        "Use of a mineralocorticoid receptor antagonist (spironolactone or eplerenone).",
        "exclusion",
    )
    meds = _medications(req)
    assert meds and all("mineralocorticoid" not in m.drug_classes for m in meds)
    assert {d.code for m in meds for d in m.drugs} == {"spironolactone", "eplerenone"}
    req, _ = criterion_requirement("Potassium-sparing diuretic use.", "exclusion")
    assert all("diuretic" not in m.drug_classes for m in _medications(req))


def test_both_agents_are_required() -> None:
    req, _ = criterion_requirement(
        "Treatment with both an ACE inhibitor and an ARB, or with aliskiren.", "exclusion"
    )
    assert isinstance(req, AnyOf)
    pair = next(i for i in req.items if isinstance(i, AllOf))
    assert sorted(c for m in _medications(pair) for c in m.drug_classes) == ["ace_inhibitor", "arb"]


# --- a condition defined by its values ----------------------------------------------------------


def test_exclusion_condition_defined_by_values_needs_both() -> None:
    req, _ = criterion_requirement(
        "Severe hypertension (systolic blood pressure > 180 mmHg or diastolic > 110 mmHg).",
        "exclusion",
    )
    assert isinstance(req, AllOf)
    assert any(c.startswith("I10") for c in _codes(req))
    assert _bounds(req, "systolic_bp") == {(">", 180.0)}


# --- exceptions --------------------------------------------------------------------------------


def _exceptions(node: Requirement | None) -> set[str]:
    return {
        e.code for leaf in _leaves(node) if isinstance(leaf, Condition) for e in leaf.exceptions
    }


def test_coordinated_modifiers_each_name_an_exception() -> None:
    req, _ = criterion_requirement(
        "Malignancy within 5 years, except basal cell or squamous cell carcinoma of the skin.",
        "exclusion",
    )
    assert {"C44.91", "C44.92"} <= _exceptions(req)


def test_carcinoma_in_situ_is_not_the_invasive_cancer() -> None:
    req, _ = criterion_requirement(
        "Malignancy within 5 years, except cervical carcinoma in situ.", "exclusion"
    )
    exceptions = _exceptions(req)
    assert any(c.startswith("D06") for c in exceptions)
    assert not any(c.startswith("C53") for c in exceptions)


def test_systemic_use_leaves_out_inhaled_and_topical_routes() -> None:
    req, _ = criterion_requirement("Systemic corticosteroids within 4 weeks.", "exclusion")
    assert [sorted(m.exclude_routes) for m in _medications(req)] == [["inhaled", "topical"]]


def test_prefixed_mention_keeps_its_head() -> None:
    req, _ = criterion_requirement("Non-cardiac surgery patients.", "inclusion")
    assert _codes(req) == {"surgery"}
    req, _ = criterion_requirement("Pre-gestational diabetes mellitus.", "exclusion")
    codes = _codes(req)
    assert codes and all(c.startswith(("E10", "E11", "E13", "E08", "E14")) for c in codes)


@pytest.mark.parametrize(
    "text",
    [
        "Post-bronchodilator FEV1 reversibility of >= 12%",
        "Decline in eGFR of at least 40% from baseline",
        "HbA1c reduction of more than 1% in the past 3 months",
        "Increase in serum creatinine > 0.3 mg/dL within 48 hours",
    ],
)
def test_a_threshold_on_a_change_is_not_a_level(text: str) -> None:
    requirement, _ = criterion_requirement(text, "inclusion")
    assert isinstance(requirement, Measurement)
    assert [a.system for a in requirement.analytes] == ["TEXT"]


def test_a_level_stays_a_level() -> None:
    requirement, _ = criterion_requirement("Increased ALT > 3 x ULN", "exclusion")
    assert isinstance(requirement, Measurement) and requirement.analytes[0].code == "alt"


def test_a_chronic_increase_without_a_reference_is_a_raised_level() -> None:
    requirement, _ = criterion_requirement(
        "Chronic increase of serum creatinine > 2 mg/dl", "exclusion"
    )
    assert isinstance(requirement, Measurement) and requirement.analytes[0].code == "creatinine"
