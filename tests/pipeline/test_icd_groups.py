"""A criterion's ICD-10-CM concept covers the group or category it names."""

from __future__ import annotations

import pytest

from pipeline.icd_groups import concept_groups, covering_prefixes, criterion_refs
from pipeline.judge import judge


def _codes(system: str, code: str) -> list[str]:
    return [r.code for r in criterion_refs(system, code, "name")]


@pytest.mark.parametrize(
    ("code", "general"),
    [
        ("I50.9", "I50"),  # Heart failure, unspecified -> heart failure
        ("C50.919", "C50"),  # unspecified site and side of the breast -> breast cancer
        ("E11.9", "E11"),  # without complications -> type 2 diabetes
        ("K50.90", "K50"),  # bracketed synonym in the parent title is not an extra word
        ("C44.91", "C44.91"),  # the parent "Other and unspecified ..." is a residual class
        ("D12.6", "D12.6"),  # the parent adds rectum and anus: a wider concept
        ("I10", "I10"),  # nothing unspecified: the code itself
    ],
)
def test_unspecified_codes_stand_for_their_concept(code: str, general: str) -> None:
    assert _codes("ICD10CM", code) == [general]


def test_group_names_cover_their_blocks_with_the_fewest_prefixes() -> None:
    assert covering_prefixes(["C00-C96"]) == ["C"]
    assert covering_prefixes(["5"]) == ["F"]
    assert covering_prefixes(["I60-I69", "G45"]) == ["G45", "I6"]
    assert covering_prefixes(["N39.0", "N30-N39"]) == ["N3"]  # a subcategory under a prefix
    assert _codes("ICD10CM", "C80.1") == ["C"]  # "malignancy"


def test_every_group_names_a_lexicon_concept_and_valid_items() -> None:
    from pipeline.concepts import concept_index

    records = concept_index().records
    groups = concept_groups()
    assert len(groups) >= 20
    assert all(key in records for key in groups)


def test_other_systems_match_exactly() -> None:
    (ref,) = criterion_refs("ELIG", "ibd", "inflammatory bowel disease")
    assert ref.code == "ibd" and not ref.include_descendants


PATIENT = "0. A 50-year-old man presents for follow-up.\n1. He has {}.\n2. Exam is unremarkable."


@pytest.mark.parametrize(
    ("criterion", "condition"),
    [
        ("Malignancy", "lung adenocarcinoma"),
        ("Liver disease", "alcoholic cirrhosis"),
        ("Psychiatric illness", "schizophrenia"),
        ("Heart failure", "systolic heart failure"),
    ],
)
def test_a_specific_disease_meets_the_group_a_criterion_names(
    criterion: str, condition: str
) -> None:
    assert judge(PATIENT.format(condition), criterion, "exclusion").label == "met"
    assert judge(PATIENT.format("a sprained ankle"), criterion, "exclusion").label == "not_met"


def test_group_match_still_needs_the_criterion_qualifiers() -> None:
    text = PATIENT.format("shortness of breath")
    assert judge(text, "Traumatic cause of dyspnea", "exclusion").label == "not_met"


def test_the_evaluator_knows_every_group_head() -> None:
    # A denial of a group's own concept ("no other infections") denies the whole group in the
    # evaluator, which cannot read pipeline resources: its list must follow the groups file.
    from criteria_models.evaluate import GROUP_HEADS

    assert {g.concept for g in concept_groups().values()} <= GROUP_HEADS


@pytest.mark.parametrize(
    ("criterion", "note"),
    [
        ("Cognitive impairment", "He has Alzheimer's dementia."),
        ("History of malignancy", "Prostate cancer was diagnosed in 2023."),
        ("History of stroke", "She had an ischemic stroke in 2019."),
        ("History of fracture", "He had a hip fracture in 2021."),
    ],
)
def test_a_general_or_history_concept_covers_the_specific_disease(
    criterion: str, note: str
) -> None:
    text = f"0. A 70-year-old patient. 1. {note}"
    assert judge(text, criterion, "exclusion").label == "met"
