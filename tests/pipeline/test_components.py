"""Pipeline components: each with a case that fails without it, plus a two-process run."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from typing import Any

import pytest
import spacy
from spacy.language import Language

import pipeline.components.concept_matcher
import pipeline.components.sentences
from pipeline.components.context_scope import (
    TargetSentenceMatcher,
    scope_context_to_target_sentences,
    target_sentence_runs,
)
from pipeline.facts import extract_note_facts, extract_note_facts_parallel
from pipeline.nlp import build_nlp, context_rules, get_nlp

_ = pipeline.components.concept_matcher


def sentences(text: str) -> list[str]:
    nlp = spacy.blank("en")
    nlp.add_pipe("elig_sentences")
    return [s.text for s in nlp(text).sents]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Fever\nCough", ["Fever", "Cough"]),
        ("No fever; cough present", ["No fever;", "cough present"]),
        ("Seen today. He is well.", ["Seen today.", "He is well."]),
        ("Seen by Dr. Smith today.", ["Seen by Dr. Smith today."]),
        ("Drugs, e.g. Methotrexate.", ["Drugs, e.g. Methotrexate."]),
        ("QTc 424 ms. HIV negative", ["QTc 424 ms.", "HIV negative"]),
        ("Stool neg. Will repeat", ["Stool neg.", "Will repeat"]),
        ("Seen today. no change", ["Seen today. no change"]),
        # lab names written in mixed case start a sentence like title case does
        ("Denies chest pain. eGFR 25", ["Denies chest pain.", "eGFR 25"]),
        ("No h/o DVT. HbA1c 8.1%", ["No h/o DVT.", "HbA1c 8.1%"]),
        ("Plan:\n- MTX\n- folate", ["Plan:", "- MTX", "- folate"]),
        ("", []),
    ],
)
def test_sentence_boundaries(text: str, expected: list[str]) -> None:
    assert [s.strip() for s in sentences(text)] == expected


def test_sentence_splitter_is_consistent_across_calls() -> None:
    # Word flags are cached per word type; a second doc must not see stale state.
    nlp = spacy.blank("en")
    nlp.add_pipe("elig_sentences")
    texts = ["Dr. Smith saw him.", "Stop. Dr. Smith saw him.", "A. B. C."]
    first = [[t.is_sent_start for t in nlp(x)] for x in texts]
    assert [[t.is_sent_start for t in nlp(x)] for x in texts] == first


def test_concept_matcher_links_codes_and_keeps_longest() -> None:
    nlp = spacy.blank("en")
    nlp.add_pipe("elig_concepts")
    doc = nlp("History of rheumatoid arthritis.")
    assert [e.text.lower() for e in doc.ents] == ["rheumatoid arthritis"]
    assert doc.ents[0].kb_id_


def test_target_sentence_runs_merge_consecutive_sentences() -> None:
    doc = get_nlp()("Walks daily.\nRheumatoid arthritis.\nOn methotrexate.\nWalks daily.\nAsthma.")
    runs = target_sentence_runs(doc)
    covered = [doc[s:e].text.strip() for s, e in runs]
    assert covered == ["Rheumatoid arthritis.\nOn methotrexate.", "Asthma."]
    assert target_sentence_runs(doc, targets=()) == []


@lru_cache(maxsize=1)
def _plain_context_nlp() -> Language:
    """Our pipeline without the target-sentence scoping, to compare against (built once)."""
    nlp = build_nlp()
    context: Any = nlp.get_pipe("medspacy_context")
    context._ConText__matcher = context._ConText__matcher._inner
    return nlp


def test_scoped_matcher_skips_sentences_without_targets() -> None:
    nlp = get_nlp()
    matcher = nlp.get_pipe("medspacy_context")._ConText__matcher
    assert isinstance(matcher, TargetSentenceMatcher)
    doc = nlp.make_doc("Patient denies chest pain.")
    for name, proc in nlp.pipeline:
        if name == "elig_sentences":
            doc = proc(doc)
    # "denies" is a token-pattern rule: the unscoped matcher finds it, the scoped one has no target.
    assert matcher._inner(doc)
    assert matcher(doc) == []


@pytest.mark.parametrize(
    "text",
    [
        "Denies rheumatoid arthritis. Patient denies chest pain.\nNo history of asthma.",
        "Mother has asthma.\nHe was not on methotrexate, which was ruled out.",
        "PAST MEDICAL HISTORY: hypertension. Possible tuberculosis, may be ruled out.",
    ],
)
def test_scoped_context_gives_the_same_assertions(text: str) -> None:
    def flags(nlp: Language) -> list[tuple[str, bool, bool, bool, bool, tuple[str, ...]]]:
        doc = nlp(text)
        return [
            (
                e.text,
                e._.is_negated,
                e._.is_uncertain,
                e._.is_family,
                e._.is_hypothetical,
                tuple(sorted(m.category for m in e._.modifiers)),
            )
            for e in doc.ents
        ]

    scoped = flags(get_nlp())
    assert scoped == flags(_plain_context_nlp())
    assert any(row[1] or row[2] for row in scoped)  # the texts do exercise ConText


def test_scoping_is_installed_once() -> None:
    context: Any = get_nlp().get_pipe("medspacy_context")
    scope_context_to_target_sentences(context)
    assert not isinstance(context._ConText__matcher._inner, TargetSentenceMatcher)
    assert len(context_rules()) == len(context._ConText__matcher.rules)


def test_two_processes_give_the_same_facts_in_order() -> None:
    notes = [
        ("P1", f"N{i}", dt.date(2024, 5, 1), text)
        for i, text in enumerate(
            [
                "Rheumatoid arthritis since 2019. On methotrexate 15 mg weekly.",
                "No history of tuberculosis. HBsAg negative.",
                "Crohn's disease; failed infliximab 2018-2020 (loss of response).",
                "Denies asthma.",
            ]
        )
    ]
    serial = list(extract_note_facts(get_nlp(), notes))
    parallel = list(extract_note_facts_parallel(notes, n_process=2, chunk_size=1))
    assert serial and parallel == serial


def test_pattern_maker_tokenizes_like_the_tokenizer() -> None:
    import spacy

    from pipeline.components.concept_matcher import PatternMaker

    nlp = spacy.blank("en")
    terms = ["heart failure", "cannot walk", "anti-TNF", "Crohn's disease", "HIV 1", "B/C"]
    made = [[t.text for t in d] for d in PatternMaker(nlp).docs(terms)]
    assert made == [[t.text for t in nlp.tokenizer(term)] for term in terms]


def test_entity_sectionizer_sets_sections_on_entities() -> None:
    from pipeline.nlp import get_nlp

    doc = get_nlp()("HPI: Crohn disease since 2016.\nFH: Mother has epilepsy.\nPMH: asthma.")
    by_text = {e.text: e for e in doc.ents}
    assert by_text["Crohn disease"]._.section_category == "history_of_present_illness"
    assert by_text["epilepsy"]._.section_category == "family_history"
    assert by_text["epilepsy"]._.is_family
    assert by_text["asthma"]._.is_historical
    assert [s.category for s in doc._.sections] == [
        "history_of_present_illness",
        "family_history",
        "past_medical_history",
    ]
