"""Sentence boundaries tuned for clinical notes: lines, list items, semicolons, full stops.

medspaCy's PyRuSH dominates its pipeline's cost; clinical notes are mostly line- and list-shaped,
so a character-level rule set is both faster and closer to how notes are written. A boundary is
set at a line break, at ';', and after '.', '?', '!' when the next token starts upper case or a
digit (not after a known abbreviation such as "Dr." or "e.g.").
"""

from spacy.language import Language
from spacy.tokens import Doc

# Titles are matched in their case ("Ms. Smith" but "424 ms. HIV"); Latin and others in any case.
_TITLES = frozenset({"Dr", "Mr", "Mrs", "Ms", "St", "Prof", "Drs"})
_ABBREVIATIONS = frozenset({"vs", "e.g", "i.e", "etc", "approx", "fig", "no", "pt", "inc", "cf"})


def _is_abbreviation(word: str) -> bool:
    word = word.rstrip(".")
    return word in _TITLES or word.lower() in _ABBREVIATIONS


class ClinicalSentenceSplitter:
    """Sets ``token.is_sent_start`` for every token of the doc."""

    def __call__(self, doc: Doc) -> Doc:
        for i, token in enumerate(doc):
            token.is_sent_start = i == 0 or (not token.is_space and _boundary_before(doc, i))
        return doc


def _boundary_before(doc: Doc, i: int) -> bool:
    prev = doc[i - 1]
    if "\n" in prev.whitespace_ or (prev.is_space and "\n" in prev.text) or prev.text == ";":
        return True
    token = doc[i]
    starts_like_sentence = (
        token.is_upper or token.is_title or token.like_num or token.text in {"-", "*"}
    )
    if prev.text in {".", "?", "!"} and starts_like_sentence:
        return not (i >= 2 and _is_abbreviation(doc[i - 2].text))
    # The tokenizer keeps some full stops on their word ("ms.", "neg.", "B."): split there too,
    # except after titles and Latin abbreviations.
    if len(prev.text) > 1 and prev.text.endswith(".") and starts_like_sentence:
        return not _is_abbreviation(prev.text) and "." not in prev.text[:-1]
    return False


@Language.factory("elig_sentences", default_config={})
def make_clinical_sentence_splitter(nlp: Language, name: str) -> ClinicalSentenceSplitter:
    return ClinicalSentenceSplitter()
