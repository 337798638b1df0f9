"""The criteria-side Human Phenotype Ontology vocabulary (vocab_hpo.json): the generated file, the
text lookup of its terms and abbreviations, and how the parser and the coverage count see them.
Sentences are made up."""

from __future__ import annotations

from importlib import resources

import pytest

from pipeline.cli_review import _coverage
from pipeline.concepts import concept_index
from pipeline.criterion_entities import Entity, entities_of
from pipeline.lexicon import load_concepts, load_vocab_hpo, load_vocab_icd10cm
from pipeline.linker import hpo_matches
from pipeline.parse_criteria import _criterion_entities, parse_protocol


def _coded(text: str) -> list[tuple[str, str]]:
    """(entity text, key) of the coded entities of ``text``."""
    return [(e.text, e.kb_id) for e in entities_of(text) if e.kb_id]


def test_generated_file_is_small_valid_and_cites_the_release() -> None:
    path = resources.files("pipeline.resources").joinpath("vocab_hpo.json")
    assert len(path.read_bytes()) < 3_000_000
    vocab = load_vocab_hpo()
    assert vocab.version in vocab.source and vocab.version in vocab.licence
    assert "attribution" in vocab.licence
    assert len(vocab.terms) > 1000
    ids = [t.id for t in vocab.terms]
    assert ids == sorted(ids) and len(ids) == len(set(ids))


def test_no_hpo_term_is_a_curated_or_icd_term() -> None:
    """Curated and ICD-10-CM terms keep their phrases: HPO only adds what they do not name."""
    owned = {t.lower() for c in load_concepts().concepts for t in [c.preferred_name, *c.terms]}
    owned |= {t for c in load_vocab_icd10cm().concepts for t in c.terms}
    hpo = {t for entry in load_vocab_hpo().terms for t in entry.terms}
    assert not hpo & owned
    assert not {k for k in concept_index().records if k.startswith("HPO:")}  # not in the notes


def test_generic_and_everyday_words_are_not_hpo_terms() -> None:
    hpo = {t for entry in load_vocab_hpo().terms for t in entry.terms}
    assert "back pain" in hpo and "spasticity" in hpo
    assert not {"pain", "abnormality", "irritable", "squint", "hives"} & hpo
    abbreviations = {a for entry in load_vocab_hpo().terms for a in entry.abbreviations}
    assert "IUGR" in abbreviations
    assert not {"ODD", "MI", "LFT"} & abbreviations  # a word; two letters; liver function test


@pytest.mark.parametrize(
    ("text", "mention", "code"),
    [
        ("Pregnancy with intrauterine growth restriction", "intrauterine growth restriction", "HP:0001511"),
        ("Known IUGR at inclusion", "IUGR", "HP:0001511"),
        ("History of irregular menses", "irregular menses", "HP:0000858"),
    ],
)  # fmt: skip
def test_multi_word_terms_and_abbreviations_are_found_in_the_text(
    text: str, mention: str, code: str
) -> None:
    assert (mention, f"HPO:{code}") in _coded(text)


def test_linked_mentions_get_an_hpo_code_where_icd_has_none() -> None:
    assert ("spasticity", "HPO:HP:0001257") in _coded("Severe spasticity of the legs")
    # "pain" is an observation mention: its phrase "neck pain" is read.
    assert ("pain", "HPO:HP:0030833") in _coded("Chronic neck pain")


def test_everyday_words_and_generic_words_stay_uncoded() -> None:
    assert _coded("Irritable or squinting patients") == []
    assert _coded("Patients with ODD") == []  # "ODD" is an ordinary word, not an abbreviation here
    assert not [k for _, k in _coded("Any other serious disease") if k.startswith("HPO:")]


def test_curated_and_icd_codes_are_never_overridden() -> None:
    # "low back pain" is a curated ICD-10-CM term: HPO's "Low back pain" never replaces it.
    assert _coded("Low back pain for 3 months") == [("Low back pain", "ICD10CM:M54.50")]


def test_a_contained_uncoded_mention_gives_way_to_the_longer_coded_term() -> None:
    # "impaired" alone is an uncoded condition mention; HPO names the whole phrase.
    text = "Severely impaired vision at screening"
    conditions = [e for e in entities_of(text) if e.type == "Condition"]
    assert [(e.text, e.kb_id) for e in conditions] == [
        ("Severely impaired vision", "HPO:HP:0001141")
    ]


def test_a_term_modifying_the_next_noun_is_not_a_phenotype() -> None:
    assert hpo_matches("Neck pain scale above 5") == []  # a scale, not the symptom
    # "ST-segment elevation" is part of the myocardial infarction named after it.
    keys = [k for _, k in _coded("ST-segment elevation myocardial infarction")]
    assert not [k for k in keys if k.startswith("HPO:")]
    text = "ST segment elevation on ECG"
    found = [(text[start:end], link.key) for start, end, link in hpo_matches(text)]
    assert found == [("ST segment elevation", "HPO:HP:0012251")]


def test_parser_writes_hpo_concepts_and_coverage_counts_them() -> None:
    text = "Known xyz"
    found = [Entity("Condition", 6, 9, "xyz", "HPO:HP:0001511", "Intrauterine growth retardation")]
    (ent,) = _criterion_entities(found, text, text, text, 0, len(text))
    assert ent.concept is not None
    assert (ent.concept.system, ent.concept.code) == ("HPO", "HP:0001511")
    assert not ent.concept.include_descendants
    protocol = "Exclusion Criteria:\n- Intrauterine growth restriction\n"
    (criterion,) = parse_protocol(protocol).criteria
    assert any(e.concept is not None and e.concept.system == "HPO" for e in criterion.entities)
    assert _coverage(criterion)[0]
