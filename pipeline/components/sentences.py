"""Sentence boundaries tuned for clinical notes: lines, list items, semicolons, full stops.

medspaCy's PyRuSH dominates its pipeline's cost; clinical notes are mostly line- and list-shaped,
so a character-level rule set is both faster and closer to how notes are written. A boundary is
set at a line break, at ';', and after '.', '?', '!' when the next token starts upper case or a
digit (not after a known abbreviation such as "Dr." or "e.g.").

The rules only look at a token's own text and lexical flags, so they are computed once per word
type (cached by ORTH hash) and combined over the doc with numpy: creating a Python ``Token`` per
token and setting ``is_sent_start`` one by one cost more than tokenizing the note.
"""

from typing import cast

import numpy
from spacy.attrs import IS_SPACE, ORTH, SENT_START
from spacy.language import Language
from spacy.tokens import Doc
from spacy.vocab import Vocab
from thinc.types import Ints2d

from pipeline.components.batching import BatchedPipe

# Titles are matched in their case ("Ms. Smith" but "424 ms. HIV"); Latin and others in any case.
_TITLES = frozenset({"Dr", "Mr", "Mrs", "Ms", "St", "Prof", "Drs"})
_ABBREVIATIONS = frozenset({"vs", "e.g", "i.e", "etc", "approx", "fig", "no", "pt", "inc", "cf"})
_CACHE_LIMIT = 200_000


def _is_abbreviation(word: str) -> bool:
    word = word.rstrip(".")
    return word in _TITLES or word.lower() in _ABBREVIATIONS


def _mixed_case(text: str) -> bool:
    """Capitals mixed with lower case ("eGFR", "HbA1c", "QTcF", "hCG", "pH"): the way lab and
    test names are written, so such a word after a full stop starts a sentence."""
    return any(c.isupper() for c in text) and any(c.islower() for c in text)


# Bits of a word type's flags: what the boundary rules need to know about one word.
ENDS_LINE = 1  # a boundary follows it whatever comes next (line break, ';')
TERMINAL = 2  # '.', '?', '!': a boundary follows when the next word starts a sentence
DOTTED = 4  # a word keeping its full stop ("ms.", "neg."), not an abbreviation
ABBREVIATION = 8  # "Dr", "e.g.", "vs": a full stop after it ends no sentence
STARTS_LIKE_SENTENCE = 16  # upper case, title case, number, list dash or bullet


def word_flags(vocab: Vocab, text: str) -> int:
    """The flag bits of one word type (a token's text and its lexical attributes)."""
    lex = vocab[text]
    flags = 0
    if (lex.is_space and "\n" in text) or text == ";":
        flags |= ENDS_LINE
    if text in {".", "?", "!"}:
        flags |= TERMINAL
    if len(text) > 1 and text.endswith(".") and not _is_abbreviation(text) and "." not in text[:-1]:
        flags |= DOTTED
    if _is_abbreviation(text):
        flags |= ABBREVIATION
    if lex.is_upper or lex.is_title or lex.like_num or text in {"-", "*"} or _mixed_case(text):
        flags |= STARTS_LIKE_SENTENCE
    return flags


class ClinicalSentenceSplitter(BatchedPipe):
    """Sets ``token.is_sent_start`` for every token of the doc."""

    def __init__(self, name: str = "elig_sentences") -> None:
        self.name = name
        self._flags: dict[int, int] = {}

    def _word_flags(self, doc: Doc, orth: int) -> int:
        flags = self._flags.get(orth)
        if flags is None:
            if len(self._flags) >= _CACHE_LIMIT:
                self._flags.clear()
            flags = self._flags[orth] = word_flags(doc.vocab, doc.vocab.strings[orth])
        return flags

    def __call__(self, doc: Doc) -> Doc:
        n = len(doc)
        if n == 0:
            return doc
        attrs = doc.to_array([ORTH, IS_SPACE])
        orths = attrs[:, 0].tolist()
        # Most words have no flag (0): look them all up first, compute only the unseen ones.
        found = list(map(self._flags.get, orths))
        if None in found:
            found = [
                self._word_flags(doc, o) if f is None else f
                for o, f in zip(orths, found, strict=True)
            ]
        bits = numpy.array(found, dtype=numpy.int64)
        ends_line = (bits & ENDS_LINE) != 0
        terminal = (bits & TERMINAL) != 0
        dotted = (bits & DOTTED) != 0
        abbreviation = (bits & ABBREVIATION) != 0
        starts = (bits & STARTS_LIKE_SENTENCE) != 0
        boundary = numpy.zeros(n, dtype=bool)
        prev = slice(0, n - 1)
        cur = slice(1, n)
        boundary[cur] = ends_line[prev] | (dotted[prev] & starts[cur])
        after_terminal = terminal[prev] & starts[cur]
        # not after "Dr ." / "e.g ." (the abbreviation is two tokens back)
        after_terminal[1:] &= ~abbreviation[: n - 2]
        boundary[cur] |= after_terminal
        boundary &= attrs[:, 1] == 0
        boundary[0] = True
        sent_start = numpy.where(boundary, 1, -1).astype("int64").astype("uint64")
        doc.from_array([SENT_START], cast(Ints2d, sent_start.reshape(n, 1)))
        return doc


@Language.factory("elig_sentences", default_config={})
def make_clinical_sentence_splitter(nlp: Language, name: str) -> ClinicalSentenceSplitter:
    return ClinicalSentenceSplitter(name)
