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


@pytest.mark.parametrize(
    "sentence",
    [
        "Patient is non-English speaking.",
        "He is unable to speak English.",
        "Limited English proficiency.",
    ],
)
def test_a_denied_language_in_a_note_is_a_negated_fact(sentence: str) -> None:
    from pipeline.facts import facts_from_doc
    from pipeline.nlp import get_nlp

    facts = [
        f
        for f in facts_from_doc(get_nlp()(sentence), "p", "n", None)
        if f.code == "language_english"
    ]
    assert facts and all(f.negated for f in facts)
    assert (
        judge(f"0. A 40-year-old man.\n1. {sentence}", "Able to speak English", "inclusion").label
        == "not_met"
    )


def test_words_between_a_negation_and_the_language_keep_it_affirmed() -> None:
    from pipeline.parse_criteria import criterion_requirement

    requirement, _ = criterion_requirement("Not currently enrolled and speaks English", "inclusion")
    assert type(requirement).__name__ != "Not", requirement


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        ("English or Spanish speaking", ["language_english", "language_spanish"]),
        (
            "Speaks English, French or German",
            ["language_english", "language_french", "language_german"],
        ),
    ],
)
def test_a_list_of_languages_sharing_one_phrase_gives_alternatives(
    text: str, codes: list[str]
) -> None:
    from criteria_models.model import AnyOf, Condition
    from pipeline.parse_criteria import criterion_requirement

    requirement, category = criterion_requirement(text, "inclusion")
    assert isinstance(requirement, AnyOf) and category == "language", requirement
    found = [
        c.code for item in requirement.items if isinstance(item, Condition) for c in item.concepts
    ]
    assert found == codes
