"""Abbreviations a note defines itself ("primary sclerosing cholangitis (PSC)") carry the long form's concept.

Clinicians define short forms that no lexicon can list (or that mean something else elsewhere:
"MS" is multiple sclerosis in one note and mitral stenosis in another). scispaCy's
``AbbreviationDetector`` (Schwartz & Hearst 2003) finds the definitions and every later use of
the short form; when the long form holds a coded concept, each short-form occurrence becomes an
entity with that concept. A definition in the note wins over the lexicon's reading of the same
letters, because it is the writer's own.

The detector's pieces are used directly rather than as a pipeline component: the component form
writes ``Span`` objects into ``doc._`` extensions, which do not cross ``nlp.pipe(n_process=...)``;
here only plain entities and a span group (``doc.spans["abbreviations"]``) are written.
"""

import re
from typing import Any

import numpy as np
from scispacy.abbreviation import filter_matches, find_abbreviation
from spacy.attrs import ORTH
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.util import filter_spans

from pipeline.components.batching import BatchedPipe
from pipeline.concepts import concept_index
from pipeline.lexicon import load_labs

SPAN_GROUP = "abbreviations"
# A value short form's number with no unit after it, and what says it stands in a list of labs:
# the next item a short name with a number ("K 3.9, Na 140"), or the item before a number.
_BARE_VALUE = r"(?!\d|\.\d)"
_LIST_NEXT = re.compile(r"[ \t]*[,;|][ \t]*[A-Za-z][A-Za-z0-9+-]{0,8}[ \t]*[:=]?[ \t]*\d")
_LIST_BEFORE = re.compile(r"\d(?:\.\d+)?[ \t]*[A-Za-z/%^0-9.]{0,12}[ \t]*[,;|][ \t]*$")
# Short forms with another sense right after a measurement: (text before, text after) that say so.
_OTHER_SENSES: dict[str, tuple[re.Pattern[str] | None, re.Pattern[str] | None]] = {
    # room air: "SpO2 97% RA", "sats 95% on RA", "SpO2 RA 96%"
    "RA": (
        re.compile(r"(?:\d\s*%|\bon|\bS[pa]O2|\bsats?|\bO2\s+sat\w*)\s*[:,]?\s*$", re.I),
        re.compile(r"\s*:?\s*\d{2,3}\s*%"),
    ),
    # predicted: "FEV1 1.71 L (62% pred)", "DLCO 55% of pred"
    "pred": (re.compile(r"%\s*(?:of\s+)?$"), None),
    "Pred": (re.compile(r"%\s*(?:of\s+)?$"), None),
    # the eGFR equation: "eGFR (CKD-EPI 2021) 38"
    "CKD": (None, re.compile(r"\s?-\s?EPI\b", re.I)),
}
# scispaCy ignores parenthesised text longer than 8 tokens; longer runs are never candidates.
_MAX_INNER = 8


class AbbreviationResolver(BatchedPipe):
    """Finds "long form (SHORT)" definitions and codes every occurrence of SHORT like the long form."""

    def __init__(self, nlp: Language) -> None:
        self.open_paren = nlp.vocab.strings.add("(")
        self.close_paren = nlp.vocab.strings.add(")")
        strings = nlp.vocab.strings
        self.other_senses = {strings.add(k): v for k, v in _OTHER_SENSES.items()}
        self.other_sense_orths = np.array(sorted(self.other_senses), dtype="uint64")
        self.value_terms: dict[int, tuple[str, re.Pattern[str]]] = {}
        for lab in load_labs().labs:
            if not lab.value_terms or not lab.units:
                continue
            units = "|".join(re.escape(u) for u in sorted(lab.units, key=len, reverse=True))
            # a value in the lab's unit, or a bare value in a list of labs ("K 3.9, Na 140")
            after = re.compile(
                rf"[ \t]*[:=]?[ \t]*\d+(?:\.\d+)?(?:[ \t]*(?:{units})(?![A-Za-z])|(?={_BARE_VALUE}))"
            )
            for term in lab.value_terms:
                self.value_terms[strings.add(term)] = (f"LAB:{lab.code}", after)
        self.value_term_orths = np.array(sorted(self.value_terms), dtype="uint64")

    def senses(self, doc: Doc, orths: Any) -> None:
        """Short forms read by what stands next to them rather than by the lexicon alone.

        "SpO2 97% RA" is room air, not rheumatoid arthritis; "FEV1 1.7 L (62% pred)" is
        predicted, not prednisone: such a reading of the lexicon is dropped. A lab short form
        too ambiguous for the lexicon ("K") names the lab right before a value in its units
        ("K 4.5 mmol/L") and becomes that lab's entity there.
        """
        odd = np.flatnonzero(np.isin(orths, self.other_sense_orths)).tolist()
        gated = np.flatnonzero(np.isin(orths, self.value_term_orths)).tolist()
        if not odd and not gated:
            return
        text = doc.text
        ents = list(doc.ents)
        by_start = {e.start: e for e in ents}
        drop: set[int] = set()
        for i in odd:
            ent = by_start.get(i)
            if ent is None or ent.end != i + 1:
                continue
            token = doc[i]
            before, after = self.other_senses[int(orths[i])]
            line_start = max(0, token.idx - 30)
            if (before is not None and before.search(text, line_start, token.idx)) or (
                after is not None and after.match(text, token.idx + len(token))
            ):
                drop.add(i)
        taken = {t for e in ents for t in range(e.start, e.end)}
        added: list[Span] = []
        for i in gated:
            if i in taken:
                continue
            key, after = self.value_terms[int(orths[i])]
            token = doc[i]
            end = token.idx + len(token)
            m = after.match(text, end)
            if m is None:
                continue
            bare = m.group().rstrip()[-1:].isdigit()
            if bare and not (
                _LIST_NEXT.match(text, m.end())
                or _LIST_BEFORE.search(text, max(0, token.idx - 25), token.idx)
            ):
                continue  # a bare value counts only inside a list of labs
            added.append(Span(doc, i, i + 1, label="lab", kb_id=key))
        if drop or added:
            doc.ents = sorted(
                [e for e in ents if e.start not in drop] + added, key=lambda e: e.start
            )

    def definitions(self, doc: Doc, orths: Any) -> list[tuple[Span, Span]]:
        """(long form, short form) pairs defined in the doc, the first definition of each kept.

        Candidates are the tokens between a "(" and the next ")" with no "(" between them, found
        on the ORTH array (much cheaper than scispaCy's token Matcher or ``doc.text`` on long
        notes), then filtered and checked by scispaCy's own Schwartz & Hearst functions.
        """
        opens = np.flatnonzero(orths == self.open_paren)
        closes = np.flatnonzero(orths == self.close_paren)
        matches: list[tuple[int, int, int]] = []
        for i in opens:
            j = np.searchsorted(closes, i)
            if j == len(closes):
                break
            end = int(closes[j])
            if end - i - 1 <= _MAX_INNER and not (opens[(opens > i) & (opens < end)]).size:
                matches.append((0, int(i) + 1, end))
        out: list[tuple[Span, Span]] = []
        seen_short: set[str] = set()
        seen_long: set[str] = set()
        for long_candidate, short_candidate in filter_matches(matches, doc):
            short, long = find_abbreviation(long_candidate, short_candidate)
            if long is None or short.text in seen_short or long.text in seen_long:
                continue
            seen_short.add(short.text)
            seen_long.add(long.text)
            out.append((long, short))
        return out

    def __call__(self, doc: Doc) -> Doc:
        # Doc.text is rebuilt on every access (costly on long notes): test the tokens first.
        orths = doc.to_array(ORTH)
        self.senses(doc, orths)
        if not (orths == self.open_paren).any():
            return doc
        definitions = self.definitions(doc, orths)
        if not definitions:
            return doc
        ents = list(doc.ents)
        # Short form -> the long form's coded entity, or None when the long form has no concept:
        # then the lexicon's reading of those letters is not what the writer meant and is dropped.
        meaning: dict[tuple[int, ...], Span | None] = {}
        long_words: dict[tuple[int, ...], set[str]] = {}
        defining: set[int] = set()  # the short form inside the definition's parentheses
        for long, short in definitions:
            key = tuple(t.orth for t in short)
            meaning[key] = _concept_of(long, ents)
            long_words[key] = _content_words(long.text)
            defining.add(short.start)
        uses: list[Span] = []
        dropped: list[tuple[int, int, set[str]]] = []
        taken: set[int] = set()
        # Longer short forms first, so "SLE" inside a defined "SLE-DAI" is not read twice.
        for key in sorted(meaning, key=len, reverse=True):
            concept = meaning[key]
            n = len(key)
            for i in np.flatnonzero(orths == key[0]).tolist():
                if i in taken or tuple(orths[i : i + n].tolist()) != key:
                    continue
                taken.update(range(i, i + n))
                if concept is None:
                    dropped.append((i, i + n, long_words[key]))
                elif i not in defining:
                    uses.append(Span(doc, i, i + n, label=concept.label_, kb_id=concept.kb_id_))
        if not uses and not dropped:
            return doc
        # A short form whose long form has no concept loses the lexicon's reading of exactly those
        # letters when that reading shares no word with the long form ("mitral stenosis (MS)" is
        # not multiple sclerosis); a misspelt or abbreviated long form of the same thing keeps it
        # ("abdominal aortic aneurism (AAA)", "chronic kidney dz (CKD)").
        names = concept_index().records
        exact = set()
        for start, end, words in dropped:
            for e in ents:
                record = names.get(e.kb_id_)
                if (e.start, e.end) == (start, end) and record is not None:
                    if not words & _content_words(record.preferred_name):
                        exact.add((start, end))
        covered = {t for span in uses for t in range(span.start, span.end)}
        # A use replaces any entity it overlaps (the note's own definition wins).
        kept = [
            e
            for e in ents
            if (e.start, e.end) not in exact
            and not any(t in covered for t in range(e.start, e.end))
        ]
        doc.ents = filter_spans(kept + uses)
        if uses:
            doc.spans[SPAN_GROUP] = uses
        return doc


_WORD = re.compile(r"[a-z]{3,}")
_FILLERS = frozenset({"the", "and", "with", "without", "of", "for", "disease", "disorder"})


def _content_words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _FILLERS}


def _concept_of(long: Span, ents: list[Span]) -> Span | None:
    """The coded entity spanning the whole long form, if any.

    The detector starts the long form at the word the short form's first letter begins
    ("history of ulcerative colitis (UC)" -> "ulcerative colitis"); an entity covering only part of
    it ("anesthesia" in "manipulation under anesthesia (MUA)") is not what the short form names.
    The lexicon may have matched more than the long form ("ulcerative colitis (UC)" as one term).
    """
    for ent in ents:
        if ent.kb_id_ and ent.start <= long.start and ent.end >= long.end:
            return ent
    return None


@Language.factory("elig_abbreviations", assigns=["doc.ents", "doc.spans"])
def make_abbreviation_resolver(nlp: Language, name: str) -> AbbreviationResolver:
    return AbbreviationResolver(nlp)
