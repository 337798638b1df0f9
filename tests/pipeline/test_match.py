"""Matching facts against a model: what the match path adds to the evaluator."""

from __future__ import annotations

import datetime as dt

from criteria_models.facts import PatientFact
from criteria_models.model import (
    Cohort,
    ConceptRef,
    Condition,
    Criterion,
    Protocol,
    ProtocolRule,
    Span,
)
from pipeline.match import match_patients
from pipeline.patients_io import Note, Patient


def _protocol() -> Protocol:
    ra = ConceptRef(system="ICD10CM", code="M06", name="rheumatoid arthritis")
    exc = Criterion(
        id="EXC-01",
        kind="exclusion",
        text="Active rheumatoid arthritis",
        span=Span(start=0, end=27),
        requirement=Condition(concepts=[ra], status="current"),
    )
    return Protocol(
        trial_id="T",
        criteria=[exc],
        rule=ProtocolRule(cohorts=[Cohort(id="MAIN", criteria=[])], exclusions=["EXC-01"]),
    )


def test_a_lifelong_condition_in_the_history_is_current() -> None:
    """A PMH line ('rheumatoid arthritis on methotrexate') is marked historical by section;
    for a lifelong disease that history is its present, so 'active RA' is met."""
    note = Note(
        note_id="N1", date=dt.date(2025, 5, 1), type="clinic", text="PMH: rheumatoid arthritis"
    )
    patient = Patient(
        patient_id="P1",
        sex="F",
        birth_date=dt.date(1960, 1, 1),
        screening_date=dt.date(2025, 6, 1),
        notes=(note,),
    )

    def ra(**flags: bool) -> PatientFact:
        return PatientFact(
            "P1", "N1", note.date, "diagnosis", "ICD10CM", "M06.9", "rheumatoid arthritis", **flags
        )

    (result,) = match_patients(_protocol(), [patient], [ra(historical=True)])
    assert result.criteria["EXC-01"].label == "met"
    resolved = ra(historical=True, negated=True)
    (result,) = match_patients(_protocol(), [patient], [resolved])
    assert result.criteria["EXC-01"].label == "not_met"
