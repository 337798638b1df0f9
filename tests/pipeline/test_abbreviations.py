"""Abbreviations defined in the note take the long form's concept (scispaCy's detector)."""

import pickle

import pytest
from spacy.language import Language

from pipeline.nlp import get_nlp


@pytest.fixture(scope="module")
def nlp() -> Language:
    return get_nlp()


def _ents(nlp: Language, text: str) -> list[tuple[str, str, bool]]:
    doc = nlp(text)
    return [(e.text, e.kb_id_, bool(e._.is_negated)) for e in doc.ents]


def test_short_form_defined_in_the_note_is_coded_like_its_long_form(nlp: Language) -> None:
    ents = _ents(nlp, "Known rheumatoid arthritis (RhA) since 2015. RhA flares on tapering.")
    coded = [(text, kb) for text, kb, _ in ents if text == "RhA"]
    # Only the later use: the definition itself is the long form's mention.
    assert coded == [("RhA", "ICD10CM:M06.9")]


def test_short_form_use_keeps_its_own_assertion(nlp: Language) -> None:
    ents = _ents(nlp, "History of Crohn disease (CrD). No CrD flare this year.")
    uses = [neg for text, kb, neg in ents if text == "CrD"]
    assert uses == [True]


def test_note_definition_overrides_the_lexicon_reading(nlp: Language) -> None:
    # "MS" is multiple sclerosis in the lexicon; this writer defines it as mitral stenosis.
    ents = _ents(nlp, "Severe mitral stenosis (MS). MS is unchanged on echo.")
    assert not any(kb == "ICD10CM:G35" for _, kb, _ in ents)


def test_lexicon_abbreviation_without_a_definition_is_kept(nlp: Language) -> None:
    ents = _ents(nlp, "MS diagnosed in 2010 (relapsing course).")
    assert ("MS", "ICD10CM:G35", False) in ents


def test_resolver_survives_pickling(nlp: Language) -> None:
    clone = pickle.loads(pickle.dumps(nlp.get_pipe("elig_abbreviations")))
    doc = nlp.make_doc("Known rheumatoid arthritis (RhA). RhA is active.")
    for name, proc in nlp.pipeline:
        if name == "elig_abbreviations":
            break
        doc = proc(doc)
    doc = clone(doc)
    assert [e.text for e in doc.ents if e.text == "RhA"] == ["RhA"]


def test_misspelt_long_form_of_the_same_thing_keeps_the_lexicon_reading(nlp: Language) -> None:
    ents = _ents(nlp, "Known abdominal aortic aneurism (AAA). AAA repair planned.")
    assert [kb for text, kb, _ in ents if text == "AAA"][-1] == "ICD10CM:I71.4"
