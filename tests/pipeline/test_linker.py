"""The ICD-10-CM linker for uncoded condition mentions in criteria text (made-up sentences)."""

from __future__ import annotations

import pytest

from criteria_models.model import Condition, Not
from pipeline.criterion_entities import Entity, entities_of
from pipeline.linker import (
    Link,
    condition_links,
    link_mention,
    link_words,
    link_words_hpo,
    linker_rules,
    phrase_words,
)
from pipeline.parse_criteria import _criterion_entities, criterion_requirement, parse_protocol


def _link(text: str, mention: str) -> Link | None:
    start = text.index(mention)
    return link_mention(text, start, start + len(mention))


def _code(text: str, mention: str) -> str | None:
    link = _link(text, mention)
    return link.code if link is not None else None


def test_rule_file_loads_and_every_synonym_is_lower_case() -> None:
    rules = linker_rules()
    assert rules.synonyms and rules.spellings and rules.generic
    for syn in rules.synonyms:
        assert syn.word == syn.word.lower() and syn.as_ == syn.as_.lower()
    assert not set(rules.modifiers) & set(rules.specifiers)


@pytest.mark.parametrize(
    ("text", "mention", "code"),
    [
        ("Patient has known kidney disease", "disease", "N28.9"),  # the title's own words
        ("Patient has known renal disease", "disease", "N28.9"),  # organ adjective
        ("Patient with renal disorders", "disorders", "N28.9"),  # plural, disorder = disease
        ("Any psychiatric illness", "illness", "F99"),  # psychiatric -> mental
        ("Longstanding cardiac problems", "problems", "I51.9"),  # problem = disease
        ("Known Ménière's disease", "disease", "H81.0"),  # accents, possessive
        ("Severe haemorrhagic disorders", "disorders", "D69.9"),  # British spelling
        ("Known post traumatic stress disorders", "disorders", "F43.1"),  # title "Post-traumatic"
    ],
)
def test_synonyms_spellings_and_plurals_reach_the_title(text: str, mention: str, code: str) -> None:
    assert _code(text, mention) == code


def test_hyphenated_words_split_unless_the_whole_word_is_listed() -> None:
    from pipeline.linker import _index

    norm = _index().norm
    assert norm.words("post-traumatic") == ["post", "traumatic"]
    assert norm.words("pre-existing co-morbidities") == ["pre-existing", "disease"]


def test_severity_words_are_dropped_when_the_phrase_has_no_match() -> None:
    assert _code("History of severe renal disease", "disease") == "N28.9"
    assert "severe" in phrase_words("severe renal disease", 13, 20)


def test_leading_words_are_dropped_for_a_more_general_title() -> None:
    # No title names an acute ankle sprain; "Sprain of ankle" covers it.
    assert _code("Acute ankle sprain within 3 weeks", "sprain") == "S93.4"


def test_specifier_words_are_never_dropped() -> None:
    # "congenital kidney disease" is not "kidney disease" (N28.9): declined instead.
    assert _code("Known congenital renal disease", "disease") is None


def test_generic_words_alone_do_not_link() -> None:
    assert _code("Any other serious disease", "disease") is None
    assert _code("Chronic disease requiring treatment", "disease") is None
    assert link_words(["disease"]) is None and link_words([]) is None


def test_a_term_starting_with_a_filler_word_is_not_indexed() -> None:
    # "with child" (pregnant) must not make the word "child" a pregnancy.
    assert link_words(["child"]) is None


def test_complement_after_a_generic_head_is_read() -> None:
    assert (
        _code("Known diseases of the liver", "diseases") == "K76.9"
    )  # not "Other diseases of liver"


def test_titles_in_different_categories_are_ambiguous() -> None:
    # Nasal, colonic, uterine ... polyps: several categories, no single one.
    assert _code("History of polyps", "polyps") is None


def test_a_modifier_of_a_following_noun_is_not_linked() -> None:
    assert _code("Screening for cardiac disease risk", "disease") is None
    assert _code("Positive for kidney disease antibodies", "disease") is None
    assert _code("Known kidney disease.", "disease") == "N28.9"


def test_a_good_state_is_not_a_disease() -> None:
    assert _code("In good physical and mental condition", "condition") is None
    assert _code("Mental condition that prevents consent", "condition") == "F99"


def test_condition_links_span_the_phrase_read() -> None:
    text = "No psychological problems"
    ((start, end, link),) = condition_links(text)
    assert text[start:end] == "psychological problems" and link.code == "F99"


def test_entities_carry_the_linked_code_and_name() -> None:
    ents = [e for e in entities_of("Known psychological problems") if e.type == "Condition"]
    assert [(e.text, e.kb_id) for e in ents] == [("problems", "ICD10CM:F99")]
    assert ents[0].name


def test_parser_fills_a_concept_for_a_linked_code_outside_the_index() -> None:
    text = "Known xyz disorder"
    found = [Entity("Condition", 6, 18, "xyz disorder", "ICD10CM:Z99.89", "made-up name")]
    (ent,) = _criterion_entities(found, text, text, text, 0, len(text))
    assert ent.concept is not None and ent.concept.code == "Z99.89"
    assert ent.concept.name == "made-up name"


def test_free_text_criteria_become_condition_requirements() -> None:
    requirement, category = criterion_requirement("Known psychological problems", "exclusion")
    assert isinstance(requirement, Condition) and category == "condition"
    # the linked F99 names a group: every mental and behavioural disorder (chapter F)
    assert [c.code for c in requirement.concepts] == ["F"]
    negated, _ = criterion_requirement("No psychological problems", "inclusion")
    assert isinstance(negated, Not) and isinstance(negated.item, Condition)
    unlinked, category = criterion_requirement("Any other serious disease", "exclusion")
    assert unlinked is None


def test_parsed_protocol_has_linked_entity_and_requirement() -> None:
    text = "Inclusion Criteria:\n- Age 18 or older\nExclusion Criteria:\n- Known renal disorders\n"
    model = parse_protocol(text)
    exc = next(c for c in model.criteria if c.kind == "exclusion")
    assert exc.computable and exc.requirement is not None
    assert any(e.concept is not None and e.concept.code == "N28.9" for e in exc.entities)


# --- HPO where ICD-10-CM has no name (criteria side) ----------------------------------------
_BOTH = ("ICD10CM", "HPO")


def _key(text: str, mention: str, systems: tuple[str, ...] = _BOTH) -> str | None:
    start = text.index(mention)
    link = link_mention(text, start, start + len(mention), systems)
    return link.key if link is not None else None


def test_hpo_links_a_phrase_icd_10_cm_does_not_name() -> None:
    text = "Severe spasticity of the legs"
    assert _key(text, "spasticity", ("ICD10CM",)) is None  # the default: ICD-10-CM only
    assert _key(text, "spasticity") == "HPO:HP:0001257"
    # Same normalisation as ICD-10-CM: plural, severity word dropped, organ words.
    assert _key("Known intrauterine growth restrictions", "restrictions") == "HPO:HP:0001511"
    assert _key("Chronic neck pain", "pain") == "HPO:HP:0030833"


def test_icd_10_cm_wins_over_hpo() -> None:
    assert _key("Known renal disorders", "disorders") == "ICD10CM:N28.9"


def test_hpo_declines_generic_and_everyday_words() -> None:
    assert _key("Any other serious disease", "disease") is None
    assert _key("Pain of any kind", "Pain", ("HPO",)) is None  # HPO's "Pain" is generic
    assert _key("Any abnormality of the spleen", "abnormality", ("HPO",)) is None  # vague class
    assert link_words_hpo(["irritable"]) is None and link_words_hpo([]) is None
    assert _key("Neck pain scale above 5", "pain") is None  # modifies "scale"


def test_requirements_stay_icd_10_cm_only() -> None:
    """The parser's requirements read condition_links: notes never carry HPO codes."""
    text = "Severe spasticity of the legs"
    assert condition_links(text) == []
    assert [e.kb_id for e in entities_of(text) if e.kb_id] == ["HPO:HP:0001257"]  # entity only


@pytest.mark.parametrize(
    ("text", "mention", "code"),
    [
        ("Lumbar pain since last year", "pain", "M54.50"),  # lumbar = low back (lumbago)
        ("Vasculo-cerebral disease", "disease", "I67.9"),  # = cerebrovascular
        ("Known ophthalmological disorders", "disorders", "H57.9"),  # "eye and adnexa"
        ("Known phenylketonuria", "phenylketonuria", "E70.0"),  # "Classical phenylketonuria"
        ("Known vestibular disorder", "disorder", "H81"),  # "Disorders of vestibular function"
    ],
)
def test_organ_adjectives_compounds_and_default_qualifiers(
    text: str, mention: str, code: str
) -> None:
    assert _code(text, mention) == code


def test_a_symptom_lasting_three_months_or_more_is_chronic() -> None:
    assert _code("Pain persisting for at least 3 months", "Pain") == "G89.29"
    assert _code("Diffuse pain for more than twelve weeks", "pain") == "G89.29"
    # a site with a title of its own is kept: "chronic shoulder pain" has none
    assert _code("Shoulder pain for more than twelve weeks", "pain") == "M25.51"
    assert _code("Pain present for more than 1 year", "Pain") == "G89.29"
    assert _code("Pain for more than 2 weeks", "Pain") == "R52"  # too short to be chronic
    assert _code("Pain for less than 6 months", "Pain") == "R52"  # an upper bound
    assert _code("Pain, the last 6 months", "Pain") == "R52"  # no duration of the pain


def test_observations_link_to_icd_10_cm_as_well() -> None:
    entities = entities_of("Lumbar pain for more than 6 months")
    assert [e.kb_id for e in entities if e.type == "Observation"] == ["ICD10CM:M54.50"]


def test_hpo_text_lookup_reads_a_plural_head() -> None:
    from pipeline.linker import hpo_matches

    found = hpo_matches("History of heterotopic ossifications")
    assert [link.key for _, _, link in found] == ["HPO:HP:0011986"]


def test_an_unspecified_title_is_not_reached_by_dropping_a_kind_or_site() -> None:
    # "Pain, unspecified" (R52) says no kind or site is given: not for "radicular pain"
    assert _code("Radicular pain in the leg", "pain") is None
    assert _code("Chronic head pain", "pain") is None
    assert _code("Severe pain", "pain") == "R52"  # a severity word specifies neither
    assert _code("Unable to quantify pain", "pain") == "R52"  # nor a verb read on the left
    # an adjective right before the head names a kind even when no ICD-10-CM title uses it
    assert _code("Clinically suspected referred pain", "pain") is None


def test_non_glued_to_a_concept_negates_it() -> None:
    entities = entities_of("Prior non-melanoma skin cancer; non-smokers")
    assert {e.kb_id for e in entities if e.kb_id} == {"ICD10CM:C44"}  # no melanoma, no smoking
    assert any(e.text == "smokers" and not e.kb_id for e in entities)  # the mention stays
