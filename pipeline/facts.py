"""Notes to facts: one PatientFact per concept mention, with assertion, time, value and evidence span.

The spaCy pipeline finds concepts, sections and ConText modifiers; this module reads the text
around each concept for what rules do better on characters than on tokens: values and units,
dates, drug route, treatment outcome and counts ("two anti-TNF agents").
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import replace
from functools import cache
from typing import Any

import numpy
from medspacy.context import ConTextModifier
from spacy.attrs import IDX, LENGTH, SENT_START
from spacy.language import Language
from spacy.tokens import Doc, Span
from spacy.tokens.underscore import Underscore

from criteria_models.facts import PatientFact
from criteria_models.units import convert, normalise_unit
from pipeline.concepts import LANGUAGE_DENIED, ConceptRecord, concept_index, lab_entries
from pipeline.dates import DateMention, find_dates
from pipeline.doses import dose_near
from pipeline.lexicon import LabEntry, load_statement_rules
from pipeline.numbers import NUMBER_WORDS
from pipeline.values import read_quantity, read_result

_ROUTES: list[tuple[str, re.Pattern[str]]] = [
    (
        "inhaled",
        re.compile(
            r"\b(inhaled|inhaler|inhalation|inh|nebuli[sz]ed|puffs?|MDI|pulmicort|symbicort|flexhaler|respules)\b",
            re.I,
        ),
    ),
    ("intranasal", re.compile(r"\b(intranasal|nasal\s+spray|nasal)\b", re.I)),
    (
        "topical",
        re.compile(r"\b(topical|cream|ointment|gel|lotion|foam|enema|suppositor(y|ies))\b", re.I),
    ),
    (
        "intra_articular",
        re.compile(
            r"\b(intra-?articular|joint\s+injection|(knee|hip|shoulder|joint)\s+injection|injected\s+into)\b",
            re.I,
        ),
    ),
    ("iv", re.compile(r"\b(IV|intravenous(ly)?|infusions?|pulses?)\b")),
    ("im", re.compile(r"\b(IM|intramuscular(ly)?)\b")),
    ("oral", re.compile(r"\b(oral(ly)?|PO|p\.o\.|tablets?|by\s+mouth)\b", re.I)),
]
_OUTCOMES: list[tuple[str, re.Pattern[str]]] = [
    (
        "intolerance",
        re.compile(
            r"\b(intoleran\w*|not\s+tolerated|allerg\w*|infusion\s+reaction|adverse\s+(reaction|event)|side[-\s]effects?|rash|stopped\s+for|discontinued\s+(for|due|because))\b",
            re.I,
        ),
    ),
    (
        "toxicity",
        re.compile(
            r"\b(toxicit\w*|hepatotoxic\w*|leukopeni\w*|neutropeni\w*|cytopeni\w*|myopathy|pancreatitis|transaminitis)\b",
            re.I,
        ),
    ),
    (
        "response",
        re.compile(
            r"\b(in\s+(?:sustained\s+|clinical\s+|deep\s+)?remission|responded|responding\s+well|good\s+response|excellent\s+response|complete\s+response|well\s+controlled\s+on|controlled\s+on|effective(?!ness)|works\s+well)\b",
            re.I,
        ),
    ),
    (
        "inadequate_response",
        re.compile(
            r"\b(fail(ed|ure)?|no\s+(clinical\s+)?response|non-?respon\w*|inadequate(\s+response)?|ineffective|loss\s+of\s+response|lost\s+response|refractory|partial\s+response|minimal\s+response|primary\s+non-?response|no\s+(meaningful\s+)?improvement|without\s+(benefit|improvement|remission)|no\s+steroid-free\s+remission|still\s+active|steroid[-\s]dependent|dependent)\b",
            re.I,
        ),
    ),
]
# The course of a treatment when no response or tolerance is stated (a weaker outcome: any
# outcome of _OUTCOMES wins). "stopped" is checked first: "was on X, stopped" ends the course.
_COURSE: list[tuple[str, re.Pattern[str]]] = [
    (
        "stopped",
        re.compile(
            r"\b(stopped|discontinued|ceased|tapered\s+off|weaned\s+off|held|withdrawn|"
            r"no\s+longer\s+(?:on|taking))\b",
            re.I,
        ),
    ),
    (
        "ongoing",
        re.compile(
            r"\b(ongoing|continues|continuing|continued|remains\s+on|still\s+on|still\s+taking|"
            r"currently\s+on|currently\s+taking)\b",
            re.I,
        ),
    ),
]
_COURSE_NEEDLES = {
    "stopped": (
        "stopped",
        "discontinued",
        "ceased",
        "tapered",
        "weaned",
        "held",
        "withdrawn",
        "longer",
    ),
    "ongoing": ("ongoing", "continu", "remains", "still", "currently"),
}
_ANY_OUTCOME = re.compile("|".join(f"(?:{p.pattern})" for _, p in _OUTCOMES), re.IGNORECASE)


class _Prefiltered:
    """A case-insensitive regex, searched only in text holding one of its needles.

    Every string the pattern matches contains one of ``needles`` (lower case; a test checks the
    pattern against them), so plain ASCII text holding none of them cannot match: a few substring
    tests replace a regex scan over long, mostly irrelevant sentences. On lower-cased ASCII the
    pattern runs without IGNORECASE (about 3x faster), valid while it has no upper-case letters
    (\\S, \\W, \\B, [A-Z] would change meaning). Non-ASCII text always goes to the pattern itself:
    case folding there is not plain ``lower()``.
    """

    def __init__(self, pattern: re.Pattern[str], needles: tuple[str, ...]) -> None:
        self.pattern = pattern
        self.needles = needles
        plain = pattern.flags & re.IGNORECASE and pattern.pattern.islower()
        self.lower = re.compile(pattern.pattern) if plain else pattern

    def found(self, text: str) -> bool:
        """``bool(self.pattern.search(text))``."""
        if not text.isascii():
            return self.pattern.search(text) is not None
        low = text.lower()
        for needle in self.needles:
            if needle in low:
                return self.lower.search(low) is not None
        return False


_OUTCOME_PREFILTER = _Prefiltered(
    _ANY_OUTCOME,
    (
        "intoleran",
        "tolerated",
        "allerg",
        "reaction",
        "adverse",
        "effect",
        "rash",
        "stopped",
        "discontinued",
        "toxic",
        "peni",
        "myopathy",
        "pancreatitis",
        "transaminitis",
        "remission",
        "respon",
        "controlled",
        "works",
        "fail",
        "inadequate",
        "refractory",
        "improvement",
        "without",
        "still",
        "dependent",
    ),
)

_COURSE_PREFILTERS = [
    (name, _Prefiltered(pattern, _COURSE_NEEDLES[name])) for name, pattern in _COURSE
]

_COUNT_WORDS = {**NUMBER_WORDS, "both": 2, "multiple": 2}
_COUNT_BEFORE = re.compile(
    r"\b(\d|one|two|three|four|five|six|both|multiple)\s+(?:different\s+|prior\s+|previous\s+)?$",
    re.I,
)
_CURRENT_SECTIONS = {"medications"}
_PRESENT = re.compile(r"\b(?:currently|presently|at\s+present|now|still|ongoing)\b", re.I)
_TEST_TOPIC = re.compile(
    r"\s+(?:serology|serologies|screen|screening|work-?up|testing|tests?|panel|antibod(?:y|ies))\b",
    re.I,
)
# "No asthma exacerbation", "no psoriasis flare", "no sickle cell crisis": the denial is of the
# event; naming a disease's flare presupposes the disease, which stays affirmed.
_DISEASE_EVENT = re.compile(
    r"[\s-]{0,3}(?:acute\s+)?(?:exacerbations?|flares?|flare-?ups?|attacks?|cris[ie]s|relapses?|"
    r"decompensations?)\b",
    re.I,
)
# A negation written with a verb ("never required", "not on", "did not receive") governs that
# verb's object; a comma after the object starts a new item unless the run closes as a list
# ("never received methotrexate, azathioprine or mycophenolate").
_VERBAL_NEGATION = re.compile(r"\b(?:never|not|n't)\b", re.I)
_LIST_JOIN = re.compile(r"\b(?:or|nor|and)\b|/|&", re.I)
_DISEASE_TREATMENT = re.compile(
    r"[\s-]{0,3}(?:treatments?|therap(?:y|ies)|medications?|meds|drugs|agents|regimens?)\b", re.I
)
_TRIAL_SENTENCE = re.compile(
    r"\s*(?:protocol|study|trial|study\s+title|cohorts?|sponsor)\s*:", re.I
)
# Modifier of a drug fact dated by its note ("Current meds: X"): the date is when the drug was
# in use, not when it started, so it cannot show use "for at least 3 months".
DATED_BY_NOTE = "date=in_use_at_note"
# Modifier of a drug fact dated by a start ("since 2022"): in use from that date on.
DATED_SINCE = "date=since"
_SINCE_AFTER = re.compile(r"[^.;,\n]{0,30}?\bsince\s+(?!the\b)", re.I)
_CURRENT_WORDS = re.compile(
    r"\b(currently|current|ongoing|continues|continuing|remains\s+on|still\s+on|on\s+\w+\s+daily|"
    r"takes|(?:is|are) (?:taking|using)|is on|are on|stable on)\b",
    re.I,
)
_CURRENT_PREFILTER = _Prefiltered(
    _CURRENT_WORDS,
    (
        "current",
        "ongoing",
        "continu",
        "remains",
        "still",
        "daily",
        "takes",
        "taking",
        "using",
        "is on",
        "are on",
        "stable on",
    ),
)


def _lab(code: str) -> LabEntry | None:
    return lab_entries().get(code)


def _default_range(lab: LabEntry, key: str, unit: str | None) -> tuple[float | None, float | None]:
    """The lab's default reference range in the value's unit (it is kept in the first unit listed).

    "Creatinine 168 umol/L" against the default 0.6-1.3 mg/dL must compare like with like; a unit
    that cannot be related to the default's gets no default range at all.
    """
    low, high = lab.default_ref_low, lab.default_ref_high
    default_unit = lab.units[0] if lab.units else None
    if unit is None or default_unit is None or normalise_unit(unit) == normalise_unit(default_unit):
        return low, high
    high_c = convert(high, default_unit, unit, key) if high is not None else None
    if high_c is None:
        return None, None
    low_c = convert(low, default_unit, unit, key) if low is not None else None
    return (round(low_c, 3) if low_c is not None else None), round(high_c, 3)


# Spellings of thousands per microlitre, i.e. 10^9 per litre (lower case, no spaces, "u" for micro).
_PER_NANOLITRE = frozenset(
    {"x10^9/l", "10^9/l", "x10e9/l", "10e9/l", "g/l", "x10^3/ul", "10^3/ul", "x10e3/ul", "k/ul"}
    | {"x10^3/mm3", "10^3/mm3", "k/mm3", "thou/ul", "x1000/ul"}
)


def _count_unit(lab: LabEntry, value: float, unit: str | None) -> str | None:
    """One spelling for a blood count's unit. A count written without one is in the unit its
    size says ("Plt 188" is thousands per uL, x10^9/L; "Plt 188000" per uL: ``bare_units``); one
    written in thousands per uL (K/uL, 10^3/uL, G/L) is given the first, 10^9/L spelling."""
    if unit is None:
        for bound, bare in lab.bare_units:
            if bound is None or value < bound:
                return bare
        return None
    flat = unit.lower().replace(" ", "").replace("×", "x").replace("µ", "u").replace("μ", "u")
    flat = flat.replace("mcl", "ul")
    return lab.bare_units[0][1] if flat in _PER_NANOLITRE else unit


def _flag(value: float | None, low: float | None, high: float | None) -> str | None:
    """H or L from a stated reference range, as a lab report would flag the value."""
    if value is None:
        return None
    if high is not None and value > high:
        return "H"
    if low is not None and value < low:
        return "L"
    return None


@cache
def _statement_rules() -> dict[str, tuple[re.Pattern[str], re.Pattern[str]]]:
    return {
        rule.concept: (re.compile(rule.affirm, re.I), re.compile(rule.deny, re.I))
        for rule in load_statement_rules().rules
    }


def _statement(key: str) -> tuple[re.Pattern[str], re.Pattern[str]] | None:
    return _statement_rules().get(key)


def _first(patterns: list[tuple[str, re.Pattern[str]]], text: str) -> str | None:
    best: tuple[int, str] | None = None
    for name, pattern in patterns:
        m = pattern.search(text)
        if m and (best is None or m.start() < best[0]):
            best = (m.start(), name)
    return best[1] if best else None


# All routes in one pattern, each a named alternative with its own flags, in _ROUTES order: the
# leftmost match, and at that position the first route in order, is what _first(_ROUTES, text)
# returns, in one scan instead of seven.
def _scoped(pattern: re.Pattern[str]) -> str:
    if pattern.flags & ~(re.IGNORECASE | re.UNICODE):
        raise ValueError(f"E-FACT-001 route pattern {pattern.pattern!r}: unsupported flags")
    return f"(?{'i' if pattern.flags & re.IGNORECASE else ''}:{pattern.pattern})"


_ANY_ROUTE = re.compile("|".join(f"(?P<r{i}>{_scoped(p)})" for i, (_, p) in enumerate(_ROUTES)))


# Every route match holds one of these (lower-cased text; a test checks each route pattern), or,
# for the case-sensitive "IV" and "IM", one of _ROUTE_EXACT in the text as written: most drug
# windows name no route, and substring tests are cheaper than the combined scan.
_ROUTE_NEEDLES = (
    "inh",
    "nebuli",
    "puff",
    "mdi",
    "pulmicort",
    "symbicort",
    "flexhaler",
    "respules",
    "nasal",
    "topical",
    "cream",
    "ointment",
    "gel",
    "lotion",
    "foam",
    "enema",
    "suppositor",
    "intra",
    "injection",
    "injected",
    "infusion",
    "pulse",
    "oral",
    "po",
    "p.o.",
    "tablet",
    "mouth",
)
_ROUTE_EXACT = ("IV", "IM")


def _may_name_route(text: str) -> bool:
    """False only when no route pattern can match ``text`` (non-ASCII text always may)."""
    if not text.isascii():
        return True  # case folding beyond ASCII ("\u017f" matches "s"): the regex decides
    low = text.lower()
    for needle in _ROUTE_NEEDLES:
        if needle in low:
            return True
    return any(needle in text for needle in _ROUTE_EXACT)


def _first_route(text: str) -> str | None:
    """``_first(_ROUTES, text)`` in one scan."""
    if not _may_name_route(text):
        return None
    m = _ANY_ROUTE.search(text)
    if m is None:
        return None
    for i, (name, _) in enumerate(_ROUTES):
        if m.group(f"r{i}") is not None:
            return name
    return None


def sentence_char_bounds(doc: Doc) -> list[tuple[int, int]]:
    """(start_char, end_char) of each of ``doc.sents``, read from the token arrays.

    Same boundaries as iterating ``doc.sents`` (a sentence starts at token 0 and at every token
    whose SENT_START is 1), without building a Span per sentence.
    """
    n = len(doc)
    if n == 0:
        return []
    attrs = doc.to_array([SENT_START, IDX, LENGTH]).astype("int64")
    if not attrs[:, 0].any():  # no sentence annotation (doc.has_annotation walks every token)
        return [(s.start_char, s.end_char) for s in doc.sents]
    starts = [0, *(numpy.flatnonzero(attrs[1:, 0] == 1) + 1).tolist()]
    ends = [*starts[1:], n]
    idx = attrs[:, 1].tolist()
    token_end = (attrs[:, 1] + attrs[:, 2]).tolist()
    return [(idx[a], token_end[b - 1]) for a, b in zip(starts, ends, strict=True)]


class _NoteContext:
    """Per-note lookups shared by all mentions of one doc.

    Entity neighbours are found by bisection over start/end offsets (doc.ents are sorted and never
    overlap), per label where the question is about one label: scanning every entity for every
    mention made long notes quadratic.
    """

    def __init__(self, doc: Doc, note_date: dt.date | None, text: str | None = None) -> None:
        self.doc = doc
        # doc.text is rebuilt from the tokens on each access; the source text is identical.
        same = (
            text is not None
            and len(doc) > 0
            and doc[-1].idx + len(doc[-1].text_with_ws) == len(text)
        )
        self.text = text if same and text is not None else doc.text
        self.note_date = note_date
        self.dates: list[DateMention] = find_dates(self.text, note_date)
        self.date_starts = [d.start for d in self.dates]
        self.ents = list(doc.ents)
        # (entity start, limit) -> end of the coordinated list from there (see _chain_end)
        self.chain_ends: dict[tuple[int, int], int] = {}
        self.sent_bounds = sentence_char_bounds(doc)
        self.sent_starts = [start for start, _ in self.sent_bounds]
        self.ent_starts = [e.start_char for e in self.ents]
        self.ent_ends = [e.end_char for e in self.ents]
        self.ent_labels = [e.label_ for e in self.ents]
        self.ent_keys = [e.kb_id_ for e in self.ents]
        self.ent_by_start = dict(zip(self.ent_starts, self.ents, strict=True))
        self.label_starts: dict[str, list[int]] = {}
        self.label_ends: dict[str, list[int]] = {}
        self.label_ents: dict[str, list[Span]] = {}
        for e, label in zip(self.ents, self.ent_labels, strict=True):
            self.label_starts.setdefault(label, []).append(e.start_char)
            self.label_ends.setdefault(label, []).append(e.end_char)
            self.label_ents.setdefault(label, []).append(e)
        self._present: dict[int, bool] = {}
        self._current: dict[int, bool] = {}
        self._trial: dict[int, bool] = {}
        self._snippets: dict[int, str] = {}
        self._modifier_labels: dict[tuple[str, int, int], str] = {}

    def modifier_label(self, modifier: ConTextModifier) -> str:
        """``category=text`` of a ConText modifier, built once per doc (mentions share them)."""
        start, end = modifier.modifier_span
        key = (modifier.category, start, end)
        label = self._modifier_labels.get(key)
        if label is None:
            if end > start:
                last = self.doc[end - 1]
                words = self.text[self.doc[start].idx : last.idx + len(last)]
            else:
                words = self.doc[start:end].text
            label = self._modifier_labels[key] = f"{key[0].lower()}={words.lower()}"
        return label

    def sentence_says_present(self, sent: tuple[int, int, int]) -> bool:
        """``_PRESENT`` in the sentence, searched once per sentence (mentions share sentences)."""
        found = self._present.get(sent[0])
        if found is None:
            found = self._present[sent[0]] = bool(_PRESENT.search(self.text, sent[1], sent[2]))
        return found

    def trial_sentence(self, sent: tuple[int, int, int]) -> bool:
        """``_TRIAL_SENTENCE`` at the sentence start, tested once per sentence."""
        found = self._trial.get(sent[0])
        if found is None:
            found = self._trial[sent[0]] = bool(_TRIAL_SENTENCE.match(self.text, sent[1], sent[2]))
        return found

    def snippet(self, sent: tuple[int, int, int]) -> str:
        """The sentence text, stripped and capped at 400 characters, built once per sentence."""
        snippet = self._snippets.get(sent[0])
        if snippet is None:
            snippet = self._snippets[sent[0]] = self.text[sent[1] : sent[2]].strip()[:400]
        return snippet

    def sentence_says_current(self, sent: tuple[int, int, int]) -> bool:
        """``_CURRENT_WORDS`` in the sentence, searched once per sentence."""
        found = self._current.get(sent[0])
        if found is None:
            found = _CURRENT_PREFILTER.found(self.text[sent[1] : sent[2]])
            self._current[sent[0]] = found
        return found

    def sentence_of(self, char: int) -> tuple[int, int, int]:
        i = max(0, bisect.bisect_right(self.sent_starts, char) - 1)
        start, end = self.sent_bounds[i]
        return i, start, end

    def dates_between(self, start: int, end: int) -> list[DateMention]:
        i = bisect.bisect_left(self.date_starts, start)
        out = []
        while i < len(self.dates) and self.dates[i].start < end:
            out.append(self.dates[i])
            i += 1
        return out

    def next_ent_start(
        self, ent: Span, same_label: bool, limit: int, skip_key: str | None = None
    ) -> int:
        """Start of the first entity starting at or after ``ent``'s end (capped at ``limit``)."""
        if same_label and not skip_key:
            starts = self.label_starts.get(ent.label_, [])
            i = bisect.bisect_left(starts, ent.end_char)
            return min(starts[i], limit) if i < len(starts) else limit
        label = ent.label_
        for i in range(bisect.bisect_left(self.ent_starts, ent.end_char), len(self.ents)):
            if skip_key and self.ent_keys[i] == skip_key:
                continue
            if not same_label or self.ent_labels[i] == label:
                return min(self.ent_starts[i], limit)
        return limit

    def prev_ent_end(self, ent: Span, same_label: bool, floor: int) -> int:
        """End of the last entity ending at or before ``ent``'s start (at least ``floor``)."""
        ends = self.label_ends.get(ent.label_, []) if same_label else self.ent_ends
        i = bisect.bisect_right(ends, ent.start_char)
        return max(floor, ends[i - 1]) if i else floor

    def ents_ending_between(self, label: str, low: int, high: int) -> list[Span]:
        """Entities of ``label`` with ``low <= end_char <= high``, in doc order."""
        ends = self.label_ends.get(label, [])
        i, j = bisect.bisect_left(ends, low), bisect.bisect_right(ends, high)
        return self.label_ents[label][i:j] if i < j else []


_CHAIN_SEP = re.compile(r"\s*(?:/|,|&|\band\b|\bor\b)\s*", re.I)
_CHAIN_SHORT = re.compile(r"[A-Za-z0-9]{1,3}\b")
_RESULT_FILLER = re.compile(
    r"\s*(?:\(\d{4}\)\s*)?(?:\b(?:all|both|serolog(?:y|ies)|screen(?:ing)?|tests?|antibod(?:y|ies)|ag/ab|were|was|are|is|results?)\b\s*)*",
    re.I,
)


def _chain_end(ctx: _NoteContext, ent: Span, limit: int) -> int:
    """End of a coordinated list starting at ``ent`` ("HBsAg/anti-HBc/HCV Ab/HIV negative").

    The answer is remembered for every member of the list: each later member would walk the same
    rest of the list to the same end, which made long lists quadratic.
    """
    known = ctx.chain_ends.get((ent.start_char, limit))
    if known is not None:
        return known
    pos = ent.end_char
    starts = ctx.ent_by_start
    members = [ent.start_char]  # each member's own list ends where this one does
    while pos < limit:
        sep = _CHAIN_SEP.match(ctx.text, pos, limit)
        if not sep or sep.end() == pos:
            break
        nxt = starts.get(sep.end())
        if nxt is not None and nxt.label_ in ("lab", "diagnosis", "finding"):
            members.append(nxt.start_char)
            pos = nxt.end_char
            continue
        short = _CHAIN_SHORT.match(ctx.text, sep.end(), limit)
        if short and ctx.text[sep.start() : sep.end()].strip() == "/":
            pos = short.end()
            continue
        break
    filler = _RESULT_FILLER.match(ctx.text, pos, limit)
    end = filler.end() if filler else pos
    for start in members:
        ctx.chain_ends[(start, limit)] = end
    return end


def _event_date(
    ctx: _NoteContext, ent: Span, record: ConceptRecord, sent: tuple[int, int, int]
) -> dt.date | None:
    if not ctx.dates:
        return None  # no date anywhere in the note
    _, s_start, s_end = sent
    seg_end = ctx.next_ent_start(ent, same_label=True, limit=s_end)
    forward = ctx.dates_between(ent.end_char, seg_end)
    if forward:
        # A drug's exposure is dated by its latest stated date, a condition by its earliest;
        # exact dates win over partial ones ("2018-2025, last taper 2025-06-20").
        rank = {"day": 0, "month": 1, "year": 2}
        finest = min(rank[d.precision] for d in forward)
        candidates = [d.date for d in forward if rank[d.precision] == finest]
        return max(candidates) if record.category == "drug" else min(candidates)
    seg_start = ctx.prev_ent_end(ent, same_label=True, floor=s_start)
    backward = ctx.dates_between(seg_start, ent.start_char)
    if backward:
        last = backward[-1]
        if (
            seg_start > s_start
            and _TRAILING_DATE_LEAD.match(ctx.text, seg_start, last.start)
            and _LIST_SEPARATOR.search(ctx.text, last.end, ent.start_char)
        ):
            # "empagliflozin (since 05/2024), insulin glargine": the date closes the item before.
            return None
        return last.date
    return None


# Between a mention and a date that is its own: no list separator ("(since ", " 100 mg daily
# (since ", " started in "); a list separator after that date closes the item.
_TRAILING_DATE_LEAD = re.compile(r"[^,;\n]{0,40}$")
_LIST_SEPARATOR = re.compile(r"[,;]")


_COORDINATION = re.compile(r"^[\s,/&()]*(?:and|or)?[\s,/&()]*$", re.I)


_DENIAL_BEFORE = re.compile(
    r"\b(?:never|not|no|without|failed\s+to\s+(?:achieve|reach)|lost)\s+(?:\w+\s+)?$", re.I
)


def _denied(text: str, start: int) -> bool:
    """ "never in remission", "failed to achieve remission": the outcome phrase is denied."""
    return bool(_DENIAL_BEFORE.search(text[max(0, start - 25) : start]))


def _outcome(ctx: _NoteContext, ent: Span, s_start: int, s_end: int) -> str | None:
    """The treatment outcome nearest to a drug mention in its sentence.

    After the mention up to the next drug ("IFX 2018-2020 (loss of response)"), or before it when
    only coordinated drugs stand between ("in remission on MTX/HCQ", "responded to prednisone and
    MTX").
    """
    after_end = ctx.next_ent_start(ent, same_label=True, limit=s_end)
    after = ctx.text[ent.end_char : after_end]
    best: tuple[float, str] | None = None
    # One scan for any outcome word first: most drug mentions (medication lists) have none.
    for name, pattern in _OUTCOMES if _OUTCOME_PREFILTER.found(after) else ():
        for m in pattern.finditer(after):
            if _denied(after, m.start()):
                continue
            if best is None or m.start() < best[0]:
                best = (float(m.start()), name)
            break
    # Walk back over coordinated drug mentions to the clause that governs them.
    floor = s_start
    cursor = ent.start_char
    drugs_before = ctx.ents_ending_between("drug", s_start, ent.start_char)
    for other in reversed(drugs_before):
        if _COORDINATION.match(ctx.text[other.end_char : cursor]):
            cursor = other.start_char
        else:
            floor = other.end_char
            break
    before = ctx.text[floor:cursor]
    for name, pattern in _OUTCOMES if _OUTCOME_PREFILTER.found(before) else ():
        for m in pattern.finditer(before):
            if _denied(before, m.start()):
                continue
            distance = (len(before) - m.end()) * 1.2 + (ent.start_char - cursor)
            if best is None or distance < best[0]:
                best = (distance, name)
    if best is not None:
        return best[1]
    # No response or tolerance stated: say at least whether it was stopped or goes on.
    for name, prefiltered in _COURSE_PREFILTERS:
        if prefiltered.found(after) or prefiltered.found(before[-40:]):
            return name
    return None


def _is_heading_label(ctx: _NoteContext, ent: Span, s_start: int, record: ConceptRecord) -> bool:
    """ "Infection: no fever": the concept names a topic and the words after the colon say what
    is true, so the label itself is dropped, unless ConText denies it ("Gene therapy: none").
    Labs keep their values and documentation statements their sentence."""
    if record.category == "lab" or _statement(record.key) is not None:
        return False
    if ctx.text[s_start : ent.start_char].strip(" \t-*#"):
        return False
    return bool(
        re.match(
            r"(?:\s+[A-Za-z]+){0,2}\s*(?:\([^)]{0,20}\)\s*)?:",
            ctx.text[ent.end_char : ent.end_char + 30],
        )
    )


_FLAG_EXTENSIONS = (
    ("negated", "is_negated"),
    ("historical", "is_historical"),
    ("hypothetical", "is_hypothetical"),
    ("family", "is_family"),
    ("uncertain", "is_uncertain"),
)


class _Extensions:
    """Span and token ``._`` attributes of one doc, read from ``doc.user_data`` directly.

    ``span._.name`` builds an Underscore object and looks the extension up on every access (five
    flags, the modifiers and the section per mention). A plain attribute extension (no getter, no
    method, an immutable default) is stored under ``("._.", name, start_char, end_char)`` for
    spans and ``("._.", name, token.idx, None)`` for tokens, with the registered default when
    unset; any other extension is read through ``._`` as before.
    """

    def __init__(self, doc: Doc) -> None:
        self.doc = doc
        self.user_data: dict[Any, Any] = doc.user_data
        self.flags = [
            (flag, name, *self._mode(Underscore.span_extensions, name))
            for flag, name in _FLAG_EXTENSIONS
        ]
        self.has_modifiers = Span.has_extension("modifiers")
        self.modifiers = self._mode(Underscore.span_extensions, "modifiers")
        self.section = self._mode(Underscore.token_extensions, "section")

    @staticmethod
    def _mode(table: dict[str, Any], name: str) -> tuple[bool, Any]:
        """(stored plainly in user_data, default)."""
        entry = table.get(name)
        if entry is None:
            return False, None
        default, method, getter, _ = entry
        plain = method is None and getter is None
        return plain and not isinstance(default, Underscore.mutable_types), default

    def assertion(self, ent: Span, start: int, end: int) -> dict[str, bool]:
        get = self.user_data.get
        return {
            flag: bool(get(("._.", name, start, end), default) if plain else getattr(ent._, name))
            for flag, name, plain, default in self.flags
        }

    def span_modifiers(self, ent: Span, start: int, end: int) -> Any:
        if not self.has_modifiers:
            return None
        plain, default = self.modifiers
        if plain:
            return self.user_data.get(("._.", "modifiers", start, end), default)
        return ent._.modifiers

    def token_section(self, i: int, idx: int) -> Any:
        plain, default = self.section
        if plain:
            return self.user_data.get(("._.", "section", idx, None), default)
        return self.doc[i]._.section


def _modifiers(
    ctx: _NoteContext, ext: _Extensions, ent: Span, start: int, end: int
) -> tuple[str, ...]:
    mods = ext.span_modifiers(ent, start, end)
    if not mods:
        return ()
    return tuple(sorted({ctx.modifier_label(m) for m in mods}))


def _past_verbal_negation(
    ctx: _NoteContext, ext: _Extensions, ent: Span, start: int, end: int, s_end: int
) -> bool:
    """True when every negation of ``ent`` is a verbal one whose object, of another kind than
    ``ent``, ended at a comma before it and no conjunction makes the comma run a list: "never
    required immunosuppression, CKD G3a A3" denies the immunosuppression, not the CKD."""
    negations = [
        m for m in ext.span_modifiers(ent, start, end) or () if m.category == "NEGATED_EXISTENCE"
    ]
    if not negations:
        return False
    for m in negations:
        m_start, m_end = m.modifier_span
        if m_end <= m_start or m_end > ent.start:
            return False
        cue_start = ctx.doc[m_start].idx
        cue_end = ctx.doc[m_end - 1].idx + len(ctx.doc[m_end - 1])
        if not _VERBAL_NEGATION.search(ctx.text, cue_start, cue_end):
            return False
        between = ctx.text[cue_end:start]
        if "," not in between or _LIST_JOIN.search(between):
            return False
        # An unjoined list keeps to one kind ("not on warfarin, apixaban"); a new kind is a new item.
        first = ctx.ents[bisect.bisect_left(ctx.ent_starts, cue_end)]
        if first is ent:
            # the object was no concept of ours ("never smoked, HTN")
            if not re.search(r"\w", between.split(",", 1)[0]):
                return False
        elif first.label_ == ent.label_:
            return False
        rest = ctx.text[end:s_end]
        stop = re.search(r"[;.]", rest)
        if _LIST_JOIN.search(rest[: stop.start() if stop else len(rest)]):
            return False
    return True


def facts_from_doc(
    doc: Doc,
    patient_id: str,
    note_id: str,
    note_date: dt.date | None,
    text: str | None = None,
) -> list[PatientFact]:
    """Facts of one processed note. ``text`` is the note text the doc was made from, if at hand:
    spaCy rebuilds ``doc.text`` token by token on every access."""
    index = concept_index()
    ctx = _NoteContext(doc, note_date, text)
    ext = _Extensions(doc)
    out: list[PatientFact] = []
    for ent, e_start, e_end, kb_id in zip(
        ctx.ents, ctx.ent_starts, ctx.ent_ends, ctx.ent_keys, strict=True
    ):
        record = index.records.get(kb_id)
        if record is None:
            continue
        sent = ctx.sentence_of(e_start)
        sent_index, s_start, s_end = sent
        flags = ext.assertion(ent, e_start, e_end)
        modifiers = _modifiers(ctx, ext, ent, e_start, e_end)
        if flags["negated"] and _past_verbal_negation(ctx, ext, ent, e_start, e_end, s_end):
            flags["negated"] = False
            modifiers = tuple(m for m in modifiers if not m.startswith("negated_existence="))
        ent_text = ctx.text[e_start:e_end]
        if (
            flags["historical"]
            and ctx.sentence_says_present(sent)
            and not any(m.startswith("historical=") for m in modifiers)
        ):
            # Past-history sections hold current facts too ("Currently exclusively breastfeeding").
            flags["historical"] = False
        if record.historical:
            flags["historical"] = True
        if record.self_asserting:
            flags["negated"] = flags["uncertain"] = flags["hypothetical"] = False
        # token._.section_category, without its getter reading token._.section twice
        token_section = ext.token_section(ent.start, e_start)
        section = (token_section.category if token_section is not None else None) or ""
        if _is_heading_label(ctx, ent, s_start, record) and not flags["negated"]:
            continue
        if ctx.trial_sentence(sent):
            flags["hypothetical"] = True
        extra: dict[str, object] = {}
        extra_mods: list[str] = []
        undated = False
        before = ctx.text[max(s_start, ent.start_char - 30) : ent.start_char]
        if record.category == "lab":
            lab = _lab(record.code)
            if lab is not None and lab.qualitative:
                chain = _chain_end(ctx, ent, s_end)
                result = read_result(before, ctx.text[chain : min(s_end, chain + 40)])
                if result is None and chain != ent.end_char:
                    result = read_result("", ctx.text[ent.end_char : min(s_end, ent.end_char + 40)])
                if result is not None:
                    extra["result"] = result
                    flags["negated"] = False
            elif lab is not None:
                same_code_end = ctx.next_ent_start(
                    ent, same_label=False, limit=s_end, skip_key=ent.kb_id_
                )
                q = read_quantity(
                    ctx.text[ent.end_char : same_code_end], lab.units, lab.unitless, lab.scale_max
                )
                if q is not None and q.value is not None and lab.bare_units:
                    q = q._replace(unit=_count_unit(lab, q.value, q.unit))
                if q is not None:
                    ref_high = q.ref_high
                    ref_low = q.ref_low
                    stated_range = ref_high is not None
                    if ref_high is None and lab.default_ref_high is not None:
                        ref_low, ref_high = _default_range(lab, record.key, q.unit)
                        if ref_high is not None:
                            extra_mods.append("reference_range=default")
                    uln = q.uln_multiple
                    if uln is None and ref_high and q.value is not None:
                        uln = round(q.value / ref_high, 3)
                    # A stated range decides; a written flag counts where no range is stated.
                    flag = _flag(q.value, ref_low, ref_high) if stated_range else q.flag
                    if flag:
                        extra_mods.append(f"flag={flag}")
                    extra.update(
                        value_as_number=q.value,
                        value_comparator=q.comparator,
                        unit=q.unit,
                        ref_low=ref_low,
                        ref_high=ref_high,
                        uln_multiple=uln,
                    )
        elif record.category in ("diagnosis", "finding"):
            # "HIV negative", "HBV/HCV serologies negative": a condition named with a test result.
            chain = _chain_end(ctx, ent, s_end)
            result = (
                read_result("", ctx.text[chain : min(s_end, chain + 25)]) if chain < s_end else None
            )
            if result is None and _TEST_TOPIC.match(ctx.text, ent.end_char, s_end):
                flags["hypothetical"] = True
            if flags["negated"] and _DISEASE_TREATMENT.match(ctx.text, ent.end_char, s_end):
                # "no systemic psoriasis treatment", "not taking HIV medications": the disease
                # names the kind of treatment denied; nothing is said of the disease itself.
                continue
            if (
                flags["negated"]
                and record.category == "diagnosis"
                and _DISEASE_EVENT.match(ctx.text, ent.end_char, s_end)
            ):
                flags["negated"] = False
                modifiers = tuple(m for m in modifiers if not m.startswith("negated_existence="))
                undated = True  # "no asthma exacerbation since 10/2025" dates the flare
            if result is not None and re.match(
                r"\W{0,3}(?:\(?\d{4}\)?\W*)?(negative|neg\b|non-?reactive|positive|reactive|not\s+detected|undetectable)",
                ctx.text[chain : chain + 25],
                re.I,
            ):
                flags["negated"] = result == "negative"
                if result == "positive":
                    flags["uncertain"] = False
        if record.category == "drug":
            window = ctx.text[max(s_start, ent.start_char - 25) : min(s_end, ent.end_char + 40)]
            route = _first_route(ent_text) or _first_route(window) or record.default_route
            extra["route"] = route
            extra["outcome"] = _outcome(ctx, ent, s_start, s_end)
            if record.code_system != "DRUGCLASS":
                # "prednisone 20 mg daily", "> 10 mg/day of prednisone" (criteria read the same)
                sentence = ctx.text[s_start:s_end]
                dose = dose_near(sentence, ent.start_char - s_start, ent.end_char - s_start)
                if dose is not None:
                    extra.update(
                        value_as_number=dose.value, value_comparator=dose.comparator, unit=dose.unit
                    )
            if record.code_system == "DRUGCLASS":
                m = _COUNT_BEFORE.search(
                    ctx.text[max(s_start, ent.start_char - 20) : ent.start_char]
                )
                if m:
                    word = m[1].lower()
                    extra["value_as_number"] = float(
                        _COUNT_WORDS.get(word, word if word.isdigit() else 1)
                    )
        if record.code_system == "ELIG" and record.code.startswith("language_"):
            # "non-English speaking", "unable to speak English": the cue is inside the
            # phrase's own words, where ConText does not look.
            if LANGUAGE_DENIED.search(ctx.text[s_start : ent.start_char]):
                flags["negated"] = True
        statement = _statement(record.key)
        if statement is not None:
            # Documentation statements count only when the sentence affirms them.
            affirm, deny = statement
            sentence_text = ctx.text[s_start:s_end]
            flags["hypothetical"] = False  # the statement's own words decide, not trial context
            if deny.search(sentence_text):
                flags["negated"], flags["uncertain"] = True, False
            elif affirm.search(sentence_text):
                flags["negated"] = flags["uncertain"] = False
            else:
                flags["uncertain"] = True
        event_date = None if undated else _event_date(ctx, ent, record, sent)
        if (
            event_date is not None
            and record.category == "drug"
            and not flags["negated"]
            and _SINCE_AFTER.match(ctx.text, ent.end_char, min(sent[2], ent.end_char + 40))
        ):
            # "losartan 100 mg daily (since 2022)": use began then and goes on
            extra_mods.append(DATED_SINCE)
        if (
            event_date is None
            and record.category == "drug"
            and not flags["historical"]
            and not flags["negated"]
        ):
            if section in _CURRENT_SECTIONS or ctx.sentence_says_current(sent):
                event_date = note_date
                if event_date is not None:
                    # in use at the note's date: says nothing of when use began
                    extra_mods.append(DATED_BY_NOTE)
        all_mods = modifiers + tuple(extra_mods)
        snippet = ctx.snippet(sent)
        out.append(
            PatientFact(
                patient_id=patient_id,
                note_id=note_id,
                note_date=note_date,
                category=record.category,
                code_system=record.code_system,
                code=record.code,
                preferred_name=record.preferred_name,
                start=ent.start_char,
                end=ent.end_char,
                snippet=snippet,
                lexical_variant=ent_text,
                section=section,
                sentence=str(sent_index),
                drug_classes=record.drug_classes,
                event_date=event_date,
                term_modifiers=all_mods,
                **flags,  # type: ignore[arg-type]
                **extra,  # type: ignore[arg-type]
            )
        )
    implied = _contraception_in_use(out)  # may settle a statement in ``out``
    return out + _blood_pressure_parts(out, ctx.text) + implied


# "BP 144/86", "BP (mean of 3): 144/86", "BP was 130/80": a short parenthesis may qualify the reading.
_CONTRACEPTION = "contraception_agreement"
_CONTRACEPTIVE_DEVICES = frozenset({"Z97.5"})  # intrauterine device in place


def _contraception_in_use(facts: list[PatientFact]) -> list[PatientFact]:
    """A contraceptive method in current use ("copper IUD since 2019", "Nexplanon implant",
    "combined OCP") says the patient uses contraception, which is what criteria ask
    ("must use highly effective contraception"). One fact per sentence naming such a method;
    a "Contraception:" heading left uncertain by its own words is settled by the method."""
    out: list[PatientFact] = []
    methods = [
        f
        for f in facts
        if (f.code in _CONTRACEPTIVE_DEVICES or "hormonal_contraceptive" in f.drug_classes)
        and not (f.negated or f.hypothetical or f.historical or f.family or f.uncertain)
        and f.outcome != "stopped"
    ]
    if not methods:
        return out
    stated = {f.sentence: i for i, f in enumerate(facts) if f.code == _CONTRACEPTION}
    done: set[str] = set()
    for method in methods:
        if method.sentence in done:
            continue
        done.add(method.sentence)
        i = stated.get(method.sentence)
        if i is not None:
            statement = facts[i]
            if statement.uncertain and not statement.negated:
                facts[i] = replace(statement, uncertain=False)
            continue
        out.append(
            replace(
                method,
                category="other",
                code_system="ELIG",
                code=_CONTRACEPTION,
                preferred_name=concept_index().records[f"ELIG:{_CONTRACEPTION}"].preferred_name,
                drug_classes=(),
                route=None,
                outcome=None,
                value_as_number=None,
                value_comparator=None,
                unit=None,
                term_modifiers=(*method.term_modifiers, f"implied_by={method.code}"),
            )
        )
    return out


_BP_PAIR = re.compile(
    r"\s*(?:\([^()/]{0,30}\))?[\s:=]*(?:(?:of|is|was|were|at)\s+)?(\d{2,3})\s*/\s*(\d{2,3})(?![\d/])",
    re.IGNORECASE,
)


def _blood_pressure_parts(facts: list[PatientFact], text: str) -> list[PatientFact]:
    """'BP 92/60 mmHg' is a systolic and a diastolic value: criteria bound them one by one
    ("SBP < 95", "blood pressure > 140/90" read as either part above)."""
    out: list[PatientFact] = []
    for f in facts:
        if f.code != "blood_pressure" or f.value_as_number is not None:
            continue
        m = _BP_PAIR.match(text, f.end)
        if m is None:
            continue
        for code, name, value in (
            ("systolic_bp", "systolic blood pressure", m[1]),
            ("diastolic_bp", "diastolic blood pressure", m[2]),
        ):
            out.append(
                replace(
                    f, code=code, preferred_name=name, value_as_number=float(value), unit="mmHg"
                )
            )
    return out


NoteTuple = tuple[str, str, dt.date | None, str]


def extract_note_facts(
    nlp: Language,
    notes: Iterable[NoteTuple],
    batch_size: int = 64,
) -> Iterator[PatientFact]:
    """Facts for (patient_id, note_id, note_date, text) tuples, streamed with ``nlp.pipe``."""
    items = list(notes)
    texts = (text for _, _, _, text in items)
    for (patient_id, note_id, note_date, text), doc in zip(
        items, nlp.pipe(texts, batch_size=batch_size), strict=True
    ):
        yield from facts_from_doc(doc, patient_id, note_id, note_date, text)


def _worker_facts(chunk: list[NoteTuple]) -> list[PatientFact]:
    from pipeline.nlp import get_nlp

    return list(extract_note_facts(get_nlp(), chunk))


def extract_note_facts_parallel(
    notes: Iterable[NoteTuple], n_process: int = 2, chunk_size: int = 64
) -> Iterator[PatientFact]:
    """Facts from ``n_process`` worker processes, each with its own pipeline.

    Docs never cross process boundaries (medspaCy's ConText keeps Span objects in extensions,
    which do not pickle); only plain PatientFact records come back, in input order.
    """
    import multiprocessing as mp

    items = list(notes)
    chunks = [items[i : i + chunk_size] for i in range(0, len(items), chunk_size)]
    ctx = mp.get_context("spawn" if hasattr(mp, "get_context") else None)
    with ctx.Pool(processes=n_process) as pool:
        for facts in pool.imap(_worker_facts, chunks):
            yield from facts
