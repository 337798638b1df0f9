"""Uncoded clinical mentions in criteria text: unspecified mentions and clinical noun heads.

The concept layer finds what its lexicons name. Criteria also name clinical things the lexicons do
not know ("pheochromocytoma", "total pancreatectomy", "any anticoagulants", "preoperative ..."),
and these are still the subject of the criterion. Two cheap rule kinds find them without a code:

* unspecified mentions ("other serious illness", "any medication", "prior treatment");
* clinical word shapes (mention_rules.json): a head noun of a type ("cancer", "implant",
  "antibiotics") or a word ending that medical word formation reserves for a type (-itis, -osis,
  -oma for diseases; -ectomy, -plasty, -scopy for procedures; INN stems -mab, -nib, -pril for
  drugs), with an exclusion list for ordinary words of the same shape ("diagnosis", "diagram").

Mentions of the same type that touch (separated only by spaces or hyphens) are merged into one
span. This is regex work over the criteria text only; the note pipeline does not run it.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MentionType = Literal["Condition", "Drug", "Procedure", "Observation"]

# Unspecified mentions: criteria often name a kind of thing without a code ("other serious
# illness", "any investigational medication", "prior treatment"). They carry no code, but they
# are the head of the criterion and a reviewer needs them; entity evaluation counts them too.
_GENERIC_MENTIONS: list[tuple[str, re.Pattern[str]]] = [
    (
        "Condition",
        re.compile(
            r"\b(?:diseases?|conditions?|illness(?:es)?|disorders?|comorbidit(?:y|ies)|"
            r"co-morbidit(?:y|ies)|abnormalit(?:y|ies)|complications?|syndromes?|deficienc(?:y|ies)|"
            r"impairments?|dysfunction|insufficiency)\b",
            re.I,
        ),
    ),
    (
        "Drug",
        re.compile(
            r"\b(?:medications?|medicines?|drugs?|medicinal\s+products?|substances?|agents?)\b",
            re.I,
        ),
    ),
    (
        "Procedure",
        re.compile(
            r"\b(?:treatments?|treated|therap(?:y|ies)|procedures?|interventions?|operative|"
            r"operated|surgical(?:ly)?|examinations?|screening\s+tests?)\b",
            re.I,
        ),
    ),
]
_GENERIC_NOT_AFTER = re.compile(r"(?:study|investigational|trial|test|informed)\s+$", re.I)
_DISCIPLINE_BEFORE = re.compile(
    r"\b(?:internal|family|general|emergency|sports|nuclear|physical|rehabilitation|social|"
    r"preventive|occupational|tropical|intensive\s+care|critical\s+care|sleep|pain|in|of)\s+$",
    re.I,
)


def generic_mentions(text: str, study_products: bool = False) -> list[tuple[str, int, int]]:
    """(type, start, end) of unspecified Condition / Drug / Procedure mentions in criteria text.

    The study's own product or procedure ("study drug", "study treatment") is not a mention of
    the patient's history and is skipped unless ``study_products`` asks for every mention.
    """
    out: list[tuple[str, int, int]] = []
    for etype, pattern in _GENERIC_MENTIONS:
        for m in pattern.finditer(text):
            before = text[max(0, m.start() - 20) : m.start()]
            if not study_products and _GENERIC_NOT_AFTER.search(before):
                continue
            if m.group().lower() == "medicine" and _DISCIPLINE_BEFORE.search(before):
                continue  # "internal medicine", "studies in medicine": a discipline
            out.append((etype, m.start(), m.end()))
    return out


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class MentionTypeRules(_Strict):
    """Head words (or short phrases) and word endings that make a word a mention of one type."""

    type: MentionType
    words: list[str] = Field(description="Lower-case words or phrases, every inflection listed")
    suffixes: list[str] = Field(default_factory=list, description="Word endings (lower case)")
    exclude: list[str] = Field(
        default_factory=list, description="Ordinary words that have a listed ending"
    )


class MentionRuleFile(_Strict):
    source: str
    licence: str
    version: str = "1"
    rules: list[MentionTypeRules] = Field(description="One entry per type, checked in order")


# A word: letters with inner hyphens or apostrophes ("anti-coagulants", "x-ray", "Crohn's").
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*(?:['’-][A-Za-z0-9]+)*")
# Plural "anti-" class nouns name drug classes: antiseptics, anticholinergics, anti-emetics.
_DRUG_CLASS_PLURAL = re.compile(r"anti-?[a-z]{4,}(?:ics|ants|als|ives|ines|ents|ors|ids)")
# "anti-X" names an agent against X ("anti-inflammatory", "anti-TNF"): a drug class, never a
# mention of X itself; followed by a treatment noun it is part of that treatment.
_ANTI_WORD = re.compile(r"anti-[A-Za-z0-9]{2,}(?:-[A-Za-z0-9]+)*", re.IGNORECASE)
_TREATMENT_NEXT = re.compile(r"[ \t]+(?:treatments?|therap(?:y|ies)|regimens?)\b", re.IGNORECASE)
_ADJECTIVE = re.compile(r"(?:ory|ic|al|ive|ous|ant)$", re.IGNORECASE)
_MIN_SUFFIX_WORD = 6  # "coma"-length words are too often ordinary words
_JOIN = re.compile(r"[ \t-]*")
# A substance named as the object of misuse: the phrase is a condition ("drug abuse"); so is
# its bare "use" or "withdrawal" ("illicit drug use"), except for medications and study drugs.
_MISUSE = re.compile(
    r"(?<!study\s)(?<!investigational\s)\b(?:drugs?|substances?|alcohol|opioids?|opiates?|narcotics?|medications?)"
    r"(?:\s*(?:,|/|or|and|and/or)\s*(?:drugs?|substances?|alcohol|opioids?|opiates?|narcotics?))*"
    r"\s+(?:abuse|misuse|addiction|dependence|dependency|use\s+disorders?|withdrawal|"
    r"(?<!medications\s)(?<!medication\s)use)\b",
    re.IGNORECASE,
)


@cache
def mention_rules() -> MentionRuleFile:
    raw = resources.files("pipeline.resources").joinpath("mention_rules.json").read_text("utf-8")
    return MentionRuleFile.model_validate(json.loads(raw))


class _Compiled:
    """Per type: single words, a phrase regex and the ending rule, compiled once."""

    def __init__(self, rules: MentionTypeRules) -> None:
        self.drug_classes = rules.type == "Drug"
        self.words = {w for w in rules.words if " " not in w}
        phrases = sorted((w for w in rules.words if " " in w), key=len, reverse=True)
        self.phrases = (
            re.compile(r"\b(?:" + "|".join(re.escape(p) for p in phrases) + r")\b", re.I)
            if phrases
            else None
        )
        self.suffixes = tuple(sorted(rules.suffixes, key=len, reverse=True))
        self.exclude = set(rules.exclude)

    def word_matches(self, word: str) -> bool:
        w = word.lower()
        if w in self.exclude:
            return False
        if w in self.words or (self.drug_classes and _DRUG_CLASS_PLURAL.fullmatch(w)):
            return True
        return len(w) >= _MIN_SUFFIX_WORD and w.endswith(self.suffixes)


@cache
def _compiled() -> dict[str, _Compiled]:
    return {r.type: _Compiled(r) for r in mention_rules().rules}


def head_type(phrase: str) -> str | None:
    """The mention type of a phrase's last word or phrase ("low back pain" -> Observation)."""
    lowered = phrase.lower().strip()
    for etype, compiled in _compiled().items():
        if compiled.phrases is not None:
            for m in compiled.phrases.finditer(lowered):
                if m.end() == len(lowered):
                    return etype
    words = _WORD.findall(phrase)
    if not words:
        return None
    for etype, compiled in _compiled().items():
        if compiled.word_matches(words[-1]):
            return etype
    return None


def _word_parts(m: re.Match[str]) -> list[tuple[int, int]]:
    """The word itself, then each part of a hyphenated word ("anti-cancer" -> "anti", "cancer")."""
    parts = [(m.start(), m.end())]
    word = m.group()
    if "-" in word:
        pos = m.start()
        for piece in word.split("-"):
            parts.append((pos, pos + len(piece)))
            pos += len(piece) + 1
    return parts


def _merge(spans: list[tuple[str, int, int]], text: str) -> list[tuple[str, int, int]]:
    """Join same-type spans that overlap or are separated only by spaces or hyphens."""
    out: list[tuple[str, int, int]] = []
    for etype, start, end in sorted(spans, key=lambda s: (s[0], s[1], -s[2])):
        if out and out[-1][0] == etype:
            _, ps, pe = out[-1]
            if start <= pe or _JOIN.fullmatch(text[pe:start]):
                out[-1] = (etype, ps, max(pe, end))
                continue
        out.append((etype, start, end))
    return sorted(out, key=lambda s: (s[1], s[2], s[0]))


def _anti_agent(word: str, rules: dict[str, _Compiled]) -> bool:
    """An "anti-X" word naming an agent: X is no disease noun ("anti-inflammatory", "anti-TNF").

    A disease noun stays a mention of its own ("anti-cancer therapy": LCT marks the cancer).
    """
    if not _ANTI_WORD.fullmatch(word) or any(c.word_matches(word) for c in rules.values()):
        return False
    target = word.split("-", 1)[1]
    return _ADJECTIVE.search(target) is not None or not any(
        c.word_matches(target) for c in rules.values()
    )


def clinical_mentions(text: str) -> list[tuple[str, int, int]]:
    """(type, start, end) of clinical word-shape mentions and unspecified mentions, merged.

    Includes the study's own products ("study drug"): they are drug mentions too; a caller that
    wants only the patient's history uses :func:`generic_mentions` instead.
    """
    rules = _compiled()
    spans: list[tuple[str, int, int]] = list(generic_mentions(text, study_products=True))
    for etype, compiled in rules.items():
        if compiled.phrases is not None:
            spans.extend((etype, m.start(), m.end()) for m in compiled.phrases.finditer(text))
    for m in _WORD.finditer(text):
        if _anti_agent(m.group(), rules):
            after = "Procedure" if _TREATMENT_NEXT.match(text, m.end()) else "Drug"
            spans.append((after, m.start(), m.end()))
            continue
        for start, end in _word_parts(m):
            word = text[start:end]
            for etype, compiled in rules.items():
                if compiled.word_matches(word):
                    spans.append((etype, start, end))
                    break
            else:
                continue
            break  # a whole word that matched is not split into its parts
    for m in _MISUSE.finditer(text):
        # "drug abuse", "alcohol or substance dependence": a condition, not a drug mention
        spans = [
            sp for sp in spans if not (sp[0] == "Drug" and sp[1] < m.end() and m.start() < sp[2])
        ]
        spans.append(("Condition", m.start(), m.end()))
    return _merge(spans, text)


# "long form (ABBR)": an abbreviation defined right after a mention, in parentheses.
_ABBR_DEF = re.compile(r"\s*\(\s*([A-Z][A-Za-z0-9-]{0,8}[A-Z0-9])s?\s*[),;]")


def _abbreviates(abbr: str, long_form: str) -> bool:
    """Schwartz-Hearst style check: the abbreviation's letters occur in order in the long form,
    the first one starting a word ("intraventricular hemorrhage" -> "IVH")."""
    letters = [c.lower() for c in abbr if c.isalnum()]
    words = [w.lower() for w in re.findall(r"[A-Za-z0-9]+", long_form)]
    if not letters or not words or not any(w.startswith(letters[0]) for w in words):
        return False
    text = " ".join(words)
    pos = text.find(letters[0])
    for c in letters[1:]:
        pos = text.find(c, pos + 1)
        if pos < 0:
            return False
    return True


# "ABBR (long form)": the abbreviation first, its long form in parentheses.
_ABBR_FIRST = re.compile(
    r"(?<![A-Za-z0-9-])([A-Z][A-Za-z0-9-]{0,8}[A-Z0-9])s?[ \t]*\(([^()\n]{3,80})\)"
)
_WORD_BEFORE = re.compile(r"[A-Za-z0-9'’-]+[ \t]+$")


def _long_form(text: str, start: int, end: int, abbr: str) -> str:
    """The mention plus as many words before it (same line) as the abbreviation needs.

    A head-word mention "hemorrhage" defines "IVH" through its modifier: "intraventricular
    hemorrhage (IVH)". Schwartz-Hearst bound: at most as many extra words as letters.
    """
    form = text[start:end]
    for _ in range(sum(c.isalnum() for c in abbr)):
        if _abbreviates(abbr, form):
            return form
        m = _WORD_BEFORE.search(text, max(0, start - 60), start)
        if m is None:
            break
        start = m.start()
        form = text[start:end]
    return form


def abbreviation_mentions(
    text: str, typed_spans: list[tuple[str, int, int]]
) -> list[tuple[str, int, int]]:
    """(type, start, end) of abbreviations the text defines for a typed mention, everywhere used.

    "... intraventricular hemorrhage (IVH) ... no IVH" makes both "IVH" mentions of the type of
    "intraventricular hemorrhage". Only abbreviations that spell the long form's letters count.
    """
    types: dict[str, str] = {}
    for etype, start, end in sorted(typed_spans, key=lambda s: s[1]):
        m = _ABBR_DEF.match(text, end)
        if m and m[1] not in types and _abbreviates(m[1], _long_form(text, start, end, m[1])):
            types[m[1]] = etype
    for m in _ABBR_FIRST.finditer(text):
        inner = [t for t in typed_spans if m.start(2) <= t[1] and t[2] <= m.end(2)]
        first_letter = m[2].strip()[:1].lower() == m[1][0].lower()
        if inner and first_letter and m[1] not in types and _abbreviates(m[1], m[2]):
            types[m[1]] = max(inner, key=lambda t: t[2])[0]  # the head: the last mention
    out: list[tuple[str, int, int]] = []
    for abbr, etype in types.items():
        for m in re.finditer(rf"(?<![A-Za-z0-9-]){re.escape(abbr)}s?(?![A-Za-z0-9-])", text):
            out.append((etype, m.start(), m.end()))
    return out
