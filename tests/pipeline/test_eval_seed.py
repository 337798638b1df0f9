"""Seed scoring helpers: fact coverage of gold evidence quotes."""

from __future__ import annotations

import datetime as dt

from criteria_models.facts import PatientFact
from pipeline.eval_seed import fact_coverage


def _fact(start: int, end: int, **kw: object) -> PatientFact:
    base: dict[str, object] = {
        "patient_id": "P",
        "note_id": "N",
        "note_date": dt.date(2025, 1, 1),
        "category": "diagnosis",
        "code_system": "ICD10CM",
        "code": "G40",
        "preferred_name": "x",
        "start": start,
        "end": end,
    }
    base.update(kw)
    return PatientFact(**base)  # type: ignore[arg-type]


TEXT = "HPI: epilepsy since 2010. No stroke. Mother has asthma."
NOTES = {"N": ("P", TEXT)}
GOLD = {
    "P": {
        "criteria": {"EXC-CNS": "met", "EXC-CARDIAC": "not_met", "INC-CONSENT": "met"},
        "evidence": {
            "EXC-CNS": "epilepsy since 2010",
            "EXC-CARDIAC": "No stroke",
            "INC-CONSENT": "HPI",
        },
    }
}


def test_quotes_with_facts_inside_are_covered() -> None:
    epilepsy = _fact(5, 13)
    stroke = _fact(29, 35, negated=True)
    assert fact_coverage(NOTES, [epilepsy, stroke], GOLD) == (1.0, 1.0, 2)


def test_missing_or_wrongly_asserted_facts_are_not() -> None:
    negated_epilepsy = _fact(5, 13, negated=True)
    assert fact_coverage(NOTES, [negated_epilepsy], GOLD) == (0.5, 0.0, 2)
    assert fact_coverage(NOTES, [], GOLD) == (0.0, 0.0, 2)
