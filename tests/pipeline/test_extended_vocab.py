"""The extended vocabulary (vocab_icd10cm.json, vocab_drugs.json) and its place in the index.

The generated files must validate and carry real ICD-10-CM codes; curated lexicon terms must keep
their owner; and the extended layer must actually add concepts the curated lexicons miss.
"""

from __future__ import annotations

import simple_icd_10_cm as cm
import spacy

from pipeline.components.concept_matcher import ConceptMatcher
from pipeline.concepts import build_concept_index, concept_index
from pipeline.lexicon import (
    load_concepts,
    load_drugs,
    load_labs,
    load_vocab_drugs,
    load_vocab_icd10cm,
)

# A condition no curated lexicon names (checked below), known to ICD-10-CM as B65.
EXTENDED_ONLY = "schistosomiasis"


def test_generated_files_validate_and_are_not_empty() -> None:
    icd = load_vocab_icd10cm()
    drugs = load_vocab_drugs()
    assert len(icd.concepts) > 1000
    assert len(drugs.drugs) > 1000
    assert drugs.drug_class not in load_drugs().drug_classes


def test_every_icd_code_is_valid() -> None:
    bad = [c.code for c in load_vocab_icd10cm().concepts if not cm.is_valid_item(c.code)]
    assert bad == []


def test_terms_are_concise_and_lower_case() -> None:
    for c in load_vocab_icd10cm().concepts:
        for t in c.terms:
            assert 1 <= len(t.split()) <= 5, t
            assert t == t.lower(), t
            assert "unspecified" not in t and "," not in t, t


def test_curated_terms_win_over_extended() -> None:
    index = concept_index()
    curated = build_concept_index(extended=False)
    for term, key in curated.terms.items():
        assert index.terms[term] == key
    assert index.records["DRUG:adalimumab"] == curated.records["DRUG:adalimumab"]
    curated_drug_names = {d.name for d in load_drugs().drugs}
    assert not curated_drug_names & {d.name for d in load_vocab_drugs().drugs}


def test_extended_drug_record_carries_declared_class() -> None:
    index = concept_index()
    vocab = load_vocab_drugs()
    first = vocab.drugs[0]
    record = index.records[f"DRUG:{first.name}"]
    assert record.category == "drug"
    assert record.drug_classes == (vocab.drug_class,)


def _keys_found(index_extended: bool, text: str) -> set[str]:
    nlp = spacy.blank("en")
    matcher = ConceptMatcher(nlp, build_concept_index(extended=index_extended))
    return {ent.kb_id_ for ent in matcher(nlp(text)).ents}


def test_extended_condition_is_found_only_with_extended_vocab() -> None:
    curated_terms = {t.lower() for c in load_concepts().concepts for t in c.terms}
    curated_terms |= {t.lower() for lab in load_labs().labs for t in lab.terms}
    assert EXTENDED_ONLY not in curated_terms
    text = f"Patients with a history of {EXTENDED_ONLY.capitalize()} are excluded."
    assert "ICD10CM:B65" not in _keys_found(False, text)
    assert "ICD10CM:B65" in _keys_found(True, text)


def test_organisms_are_not_diseases() -> None:
    import datetime as dt

    from pipeline.facts import facts_from_doc
    from pipeline.nlp import get_nlp

    text = "Uncomplicated E. coli UTI treated with nitrofurantoin."
    facts = facts_from_doc(get_nlp()(text), "P", "N", dt.date(2025, 1, 1))
    assert not [f for f in facts if f.code.startswith(("B95", "B96", "B97"))]
    assert any(f.code.startswith("N39") for f in facts)


def test_clinician_aliases_are_in_the_generated_vocabulary() -> None:
    owner = {t: c.code for c in load_vocab_icd10cm().concepts for t in c.terms}
    assert owner.get("shoulder pain") == "M25.51"  # "Pain in shoulder"
    assert owner.get("aortic insufficiency") == "I35.1"  # "Nonrheumatic aortic (valve) ..."
    assert owner.get("aortic valve insufficiency") == "I35.1"
    # ICD-10-CM sends bare "mitral (valve) stenosis" to rheumatic I05.0 (I34 Excludes1).
    assert owner.get("mitral stenosis") != "I34.2"
    assert owner.get("mitral valve stenosis") != "I34.2"


def test_every_extended_term_has_one_code() -> None:
    seen: dict[str, str] = {}
    for c in load_vocab_icd10cm().concepts:
        for t in c.terms:
            assert seen.setdefault(t, c.code) == c.code, (t, seen[t], c.code)


def test_clinician_alias_is_found_only_with_extended_vocab() -> None:
    text = "Chronic shoulder pain for 2 years."
    assert "ICD10CM:M25.51" not in _keys_found(False, text)
    assert "ICD10CM:M25.51" in _keys_found(True, text)
