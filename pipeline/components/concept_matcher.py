"""Concept matching: lexicon phrases to entities carrying their code (span.kb_id_ = SYSTEM:CODE).

Phrase matching on lower-cased tokens catches case variants; short abbreviations (CD, UC, RA) are
matched only in their exact case to avoid "cd" in "cd /tmp"-like noise. Overlaps keep the longest
span, so "rheumatoid arthritis" wins over "arthritis".
"""

import re
from typing import Any

from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc, Span

from pipeline.components.batching import BatchedPipe
from pipeline.concepts import ConceptIndex, concept_index

_PLAIN = re.compile(r"[A-Za-z0-9]+(?: [A-Za-z0-9]+)*")


class PatternMaker:
    """Pattern docs for lexicon terms, built without the tokenizer where that gives the same tokens.

    Loading tens of thousands of terms is dominated by tokenizing them. A term of plain words
    separated by single spaces tokenizes to exactly those words unless one of them is a tokenizer
    special case ("cannot" -> "can", "not"), so such terms become Docs from their words directly;
    every other term goes through the tokenizer.
    """

    def __init__(self, nlp: Language) -> None:
        self.vocab = nlp.vocab
        self.tokenizer: Any = nlp.tokenizer
        self.special = {k.lower() for k in getattr(nlp.tokenizer, "rules", {}) or {}}

    def docs(self, terms: list[str]) -> list[Doc]:
        out: list[Doc | None] = []
        slow: list[tuple[int, str]] = []
        for term in terms:
            words = term.split(" ")
            if _PLAIN.fullmatch(term) and not any(w.lower() in self.special for w in words):
                out.append(Doc(self.vocab, words=words))
            else:
                slow.append((len(out), term))
                out.append(None)
        for (i, _), doc in zip(slow, self.tokenizer.pipe([t for _, t in slow]), strict=True):
            out[i] = doc
        return [d for d in out if d is not None]


class ConceptMatcher(BatchedPipe):
    def __init__(self, nlp: Language, index: ConceptIndex, name: str = "elig_concepts") -> None:
        self.name = name
        self.index = index
        maker = PatternMaker(nlp)
        self.lower = PhraseMatcher(nlp.vocab, attr="LOWER")
        self.exact = PhraseMatcher(nlp.vocab, attr="ORTH")
        by_key: dict[str, list[str]] = {}
        for term, key in index.terms.items():
            by_key.setdefault(key, []).append(term)
        for key, names in by_key.items():
            self.lower.add(key, maker.docs(names))
        by_key_exact: dict[str, list[str]] = {}
        for term, key in index.exact_terms.items():
            by_key_exact.setdefault(key, []).append(term)
        for key, names in by_key_exact.items():
            self.exact.add(key, maker.docs(names))

    def __call__(self, doc: Doc) -> Doc:
        # spaCy's filter_spans over (start, end) tuples: a Span is built only for the survivors.
        candidates: list[tuple[int, int, Span | tuple[str, str]]] = [
            (e.start, e.end, e) for e in doc.ents
        ]
        strings = doc.vocab.strings
        records = self.index.records
        for matcher in (self.lower, self.exact):
            for match_id, start, end in matcher(doc):
                key = strings[match_id]
                candidates.append((start, end, (records[key].category, key)))
        doc.ents = [
            span if isinstance(span, Span) else Span(doc, start, end, label=span[0], kb_id=span[1])
            for start, end, span in filter_span_tuples(candidates)
        ]
        return doc


def filter_span_tuples(
    spans: list[tuple[int, int, Any]],
) -> list[tuple[int, int, Any]]:
    """``spacy.util.filter_spans`` on (start, end, payload) tuples, same order and tie-breaks.

    Longest first (then later start first, input order among equals), each kept unless its first
    or last token is taken; the survivors sorted by start.
    """
    ordered = sorted(spans, key=lambda s: (s[1] - s[0], -s[0]), reverse=True)
    result = []
    seen: set[int] = set()
    for span in ordered:
        start, end = span[0], span[1]
        if start not in seen and end - 1 not in seen:
            result.append(span)
            seen.update(range(start, end))
    return sorted(result, key=lambda s: s[0])


@Language.factory(
    "elig_concepts",
    assigns=["doc.ents"],
    default_config={"lexicon": "elig_lexicon.v1"},
)
def make_concept_matcher(nlp: Language, name: str, lexicon: str) -> ConceptMatcher:
    if lexicon != "elig_lexicon.v1":
        raise ValueError(f"E-LEX-001 unknown lexicon {lexicon!r}; known: elig_lexicon.v1")
    return ConceptMatcher(nlp, concept_index(), name)
