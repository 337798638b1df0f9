"""Languages as coded concepts: criteria that ask for one and notes that state one meet."""

from __future__ import annotations

import pytest

from pipeline.concepts import concept_index, language_concepts
from pipeline.judge import judge


def test_every_language_phrase_is_indexed_to_its_concept() -> None:
    index = concept_index()
    concepts = language_concepts()
    assert len(concepts) > 30
    for code, _, phrases in concepts:
        owners = {index.terms[p.lower()] for p in phrases}
        assert owners == {f"ELIG:{code}"}, (code, owners)


@pytest.mark.parametrize(
    ("patient", "criterion", "label"),
    [
        ("A 60-year-old man. He does not speak English.", "Able to understand English", "not_met"),
        ("A 45-year-old Spanish-speaking woman with cough.", "Speaks Spanish", "met"),
        ("A 60-year-old man with hypertension.", "Speaks English", "unknown"),
    ],
)
def test_language_statements_in_notes_decide_language_criteria(
    patient: str, criterion: str, label: str
) -> None:
    assert judge(patient, criterion, "inclusion").label == label
