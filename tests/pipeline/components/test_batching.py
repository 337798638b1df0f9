"""Components process nlp.pipe batches; results match one-doc-at-a-time processing."""

from __future__ import annotations

import random

import pytest
import spacy
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from pipeline.components.concept_matcher import filter_span_tuples
from pipeline.nlp import get_nlp

TEXTS = [
    "No history of asthma.\nOn methotrexate 15 mg weekly.",
    "FAMILY HISTORY: mother with Crohn's disease.",
    "",
    "Denies tuberculosis. HBsAg negative.",
]


def _summary(doc: Doc) -> list[tuple[str, str, bool, str | None]]:
    return [
        (e.text, e.kb_id_, bool(e._.is_negated), doc[e.start]._.section_category) for e in doc.ents
    ]


@pytest.mark.parametrize("batch_size", [1, 3, 64])
def test_pipe_gives_the_docs_of_single_calls(batch_size: int) -> None:
    nlp = get_nlp()
    piped = [_summary(d) for d in nlp.pipe(TEXTS, batch_size=batch_size)]
    assert piped == [_summary(nlp(t)) for t in TEXTS]
    assert any(row for row in piped)


def test_pipe_errors_reach_the_error_handler() -> None:
    nlp = spacy.blank("en")
    splitter = nlp.add_pipe("elig_sentences")
    seen: list[str] = []

    def handler(name: str, proc: object, docs: list[Doc], e: Exception) -> None:
        seen.append(name)

    def boom(doc: Doc) -> Doc:
        raise ValueError("E-TEST-001 boom")

    splitter.__class__ = type("Broken", (type(splitter),), {"__call__": lambda s, d: boom(d)})
    with pytest.raises(ValueError, match="E-TEST-001"):
        list(nlp.pipe(["a b"]))
    nlp.set_error_handler(handler)  # type: ignore[arg-type]
    assert list(nlp.pipe(["a b", "c"])) == []
    assert seen == ["elig_sentences", "elig_sentences"]


def test_filter_span_tuples_is_spacy_filter_spans() -> None:
    nlp = spacy.blank("en")
    doc = nlp.make_doc(" ".join("w" for _ in range(12)))
    rng = random.Random(5)
    for _ in range(300):
        spans = []
        for i in range(rng.randint(0, 8)):
            start = rng.randint(0, 11)
            spans.append(Span(doc, start, rng.randint(start + 1, 12), label=f"L{i}"))
        expected = [(s.start, s.end, s.label_) for s in filter_spans(spans)]
        got = filter_span_tuples([(s.start, s.end, s.label_) for s in spans])
        assert got == expected
