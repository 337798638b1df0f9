"""Protocol text to a criteria model: structure, spans, meaning, and odd input never crashing."""

from __future__ import annotations

import json

import pytest

from criteria_models import Protocol
from criteria_models.model import AllOf, Condition, Demographic, Measurement, Medication
from pipeline.parse_criteria import parse_protocol

SIMPLE = """Eligibility Criteria
Inclusion Criteria:
1. Age 18-75 years
2. Diagnosed with rheumatoid arthritis at least 6 months before screening
3. Failed at least two biological agents
Exclusion Criteria:
- Serum creatinine > 2.5 mg/dL or ALT > 3 times ULN
- Active infection (excluding simple urinary tract infection)
- Systemic steroids within 4 weeks before screening
- Any condition that in the opinion of the investigator makes the subject unsuitable
"""


def _round_trip(model: Protocol) -> Protocol:
    return Protocol.model_validate(json.loads(model.model_dump_json()))


def test_structure_and_spans() -> None:
    model = parse_protocol(SIMPLE, trial_id="T1")
    assert [c.id for c in model.criteria] == [
        "INC-01",
        "INC-02",
        "INC-03",
        "EXC-01",
        "EXC-02",
        "EXC-03",
        "EXC-04",
    ]
    for c in model.criteria:
        assert c.span is not None and SIMPLE[c.span.start : c.span.end] == c.text
    assert model.rule.cohorts[0].criteria == ["INC-01", "INC-02", "INC-03"]
    assert model.rule.exclusions == ["EXC-01", "EXC-02", "EXC-03", "EXC-04"]
    assert _round_trip(model) == model


def test_ids_are_stable_between_runs() -> None:
    assert parse_protocol(SIMPLE) == parse_protocol(SIMPLE)


def test_meaning_age_window_count_threshold_exception() -> None:
    by_id = {c.id: c for c in parse_protocol(SIMPLE).criteria}
    age = by_id["INC-01"].requirement
    assert isinstance(age, AllOf) and all(isinstance(i, Demographic) for i in age.items)
    dx = by_id["INC-02"].requirement
    assert isinstance(dx, Condition) and dx.window is not None and dx.window.min_days_before == 180
    meds = by_id["INC-03"].requirement
    assert isinstance(meds, Medication) and meds.min_distinct_agents == 2
    organ = by_id["EXC-01"].requirement
    dumped = organ.model_dump_json() if organ is not None else ""
    assert '"uln_multiple":3.0' in dumped and '"value":2.5' in dumped
    infection = by_id["EXC-02"].requirement
    assert isinstance(infection, Condition)
    assert any(e.code.startswith("N39") for e in infection.exceptions)
    steroids = by_id["EXC-03"].requirement
    assert isinstance(steroids, Medication) and steroids.window is not None
    assert steroids.window.max_days_before == 28
    judgement = by_id["EXC-04"]
    assert not judgement.computable and judgement.category == "investigator_judgement"


def test_any_of_the_above_makes_cohorts() -> None:
    text = """Inclusion Criteria:
Crohn disease cohort:
- Crohn disease
- Failed two biologics
Rheumatoid arthritis
- Rheumatoid arthritis
- Failed methotrexate
Patients meeting any of the above 2 entry criteria must also meet:
- Life expectancy > 12 weeks
Exclusion Criteria:
- HIV infection
"""
    model = parse_protocol(text)
    assert [len(c.criteria) for c in model.rule.cohorts] == [2, 2]
    assert model.rule.common_inclusions == ["INC-05"]
    survival = model.criterion("INC-05").requirement
    assert isinstance(survival, Measurement) and survival.value == 12


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\n  ",
        "<p>Inclusion Criteria:</p><ul><li>Adults &gt;= 18 years</li></ul>",
        "Critères d'inclusion : patients âgés de plus de 18 ans atteints de polyarthrite",
        "no headers at all; just a sentence about diabetes mellitus",
        "\x00\x01 binary \xff junk",
        (
            "Inclusion Criteria:\n"
            + "- Diagnosed with type 2 diabetes mellitus and HbA1c > 7%\n" * 1500
        ),
    ],
)
def test_odd_input_gives_a_valid_model(text: str) -> None:
    model = parse_protocol(text)
    assert _round_trip(model) == model
    for c in model.criteria:
        assert c.span is not None and text[c.span.start : c.span.end] == c.text
