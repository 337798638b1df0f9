"""Offline ICD-10-CM linker for uncoded condition mentions in criteria text.

Why: the concept layer codes what its lexicons name word for word. Criteria also name conditions
in words the lexicons do not list: a plural ("thyroid disorders"), a British spelling, an
adjective for an organ ("renal disease" for "kidney disease"), another head noun ("psychiatric
illness" for "mental disorder"), or a severity word in front ("severe chronic obstructive
pulmonary disease"). ``pipeline/mentions.py`` finds such mentions by their head word, without a
code; this module gives them an ICD-10-CM code when one title fits them unambiguously.

How:

* The index holds the ICD-10-CM diagnoses and findings of the curated lexicon (concepts.json,
  with all their terms) and of the generated vocabulary (vocab_icd10cm.json, by official title
  only: its derived short aliases are too loose to stand for a phrase). Each name becomes a set
  of normalised words: lower case, accents, possessives and plurals removed, British spellings,
  organ adjectives and head-noun synonyms mapped to one form, filler words ("other",
  "unspecified", "of") dropped; a term starting with a filler word ("with child") is skipped.
  The maps are in ``resources/linker_synonyms.json``. The index is built lazily once per
  process (about 0.1 s CPU) and a lookup intersects short posting lists.
* A mention is read with up to four words in front of it in the same noun phrase ("chronic
  renal" + "disease"; punctuation and function words end it), and with the complement after a
  generic head ("disease" + "of the liver"). A word set of generic words only ("disease",
  "infection", "chronic disease") never links.
* A link needs a name with exactly the phrase's word set. All such names must fall in one
  ICD-10-CM category (else the mention is ambiguous and left uncoded); the most general one
  wins: the shortest code, then an "unspecified" title or a .9 code.
* When the whole phrase has no match, severity and history words ("severe", "known") are
  dropped, then the leading words one at a time (a more general concept: "acute ankle sprain"
  -> "Sprain of ankle"), but never a specifier that moves the concept to another chapter
  ("congenital", "neonatal", "malignant", "inflammatory").
* No link when the mention modifies the noun after it ("hepatitis B virus", "kidney disease
  risk", "pain scale") or follows a good state ("in good physical and mental condition").

Judged precision on 103 linked mentions of LCT, SIGIR and TrialGPT criteria: about 0.95.

Limits: exact word sets only (no fuzzy spelling, no abbreviations of its own); no
word-sense disambiguation beyond the single-category rule; coordinated adjectives that share a
head ("cerebrovascular and hemorrhagic diseases") are read from the nearest one only; only
ICD-10-CM diagnoses and findings the concept index lists (no procedures: ICD-10-CM has no
procedure codes). Criteria side only: the note pipeline does not call it.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

from pydantic import BaseModel, ConfigDict, Field


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Spelling(_Strict):
    from_: str = Field(alias="from", description="Word part in British (or variant) spelling")
    to: str = Field(description="The US spelling ICD-10-CM titles use")


class Synonym(_Strict):
    word: str = Field(description="A normalised word (singular, US spelling)")
    as_: str = Field(alias="as", description="The word(s) ICD-10-CM titles use for it")


class LinkerRules(_Strict):
    source: str
    licence: str
    version: str = "1"
    spellings: list[Spelling]
    synonyms: list[Synonym]
    generic: list[str] = Field(description="Words that alone never make a link")
    modifiers: list[str] = Field(description="Severity/history words dropped when needed")
    specifiers: list[str] = Field(
        description="Words that change the ICD-10-CM chapter: never dropped from a phrase"
    )
    stopwords: list[str] = Field(description="Filler words ignored on both sides")


@dataclass(frozen=True)
class Link:
    system: str
    code: str
    name: str

    @property
    def key(self) -> str:
        return f"{self.system}:{self.code}"


@cache
def linker_rules() -> LinkerRules:
    raw = resources.files("pipeline.resources").joinpath("linker_synonyms.json").read_text("utf-8")
    return LinkerRules.model_validate(json.loads(raw))


_TOKEN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
_PAREN = re.compile(r"\([^)]*\)|\[[^\]]*\]")
# A term that starts with a filler word ("with child") means something its other words do not.
_FILLER_START = re.compile(r"(?:with|without|of|in|on|due|for|by|and|or|not)\b", re.I)
# ICD-10-CM residual categories ("Other diseases of liver", "Other specified ..."): with "other"
# a filler word they would read as the generic name of the whole block.
_RESIDUAL = re.compile(r"other\b", re.I)
_POSSESSIVE = re.compile(r"(?<=[a-z])'s?\b")
_KEEP_S = ("ss", "us", "is", "ous", "sis", "itis", "ies")


def _plain(text: str) -> str:
    """Lower case without accents and possessives: "Ménière's" -> "meniere"."""
    plain = unicodedata.normalize("NFKD", text.lower().replace("’", "'"))
    plain = "".join(c for c in plain if not unicodedata.combining(c))
    return _POSSESSIVE.sub("", plain)


def _singular(word: str) -> str:
    if len(word) <= 3 or not word.endswith("s") or word.endswith(_KEEP_S[:5]):
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("oses") and len(word) > 6:
        return word[:-4] + "osis"
    if word.endswith("sses"):
        return word[:-2]
    return word[:-1]


class _Normaliser:
    def __init__(self, rules: LinkerRules) -> None:
        self.spellings = [(s.from_, s.to) for s in rules.spellings]
        self.synonyms = {s.word: tuple(s.as_.split()) for s in rules.synonyms}
        self.stop = set(rules.stopwords)
        self.generic = set(rules.generic)
        self.modifiers = set(rules.modifiers)
        self.specifiers = set(rules.specifiers)
        self._cache: dict[str, tuple[str, ...]] = {}

    def word(self, raw: str) -> tuple[str, ...]:
        """Normalised form(s) of one lower-case word; () for a filler word."""
        cached = self._cache.get(raw)
        if cached is not None:
            return cached
        w = _plain(raw)
        whole = _singular(w)
        known = whole in self.synonyms or whole in self.stop or whole in self.modifiers
        if "-" in w.strip("-") and not known and whole not in self.generic:
            # "post-traumatic" = "post traumatic"; "co-morbidity", "pre-existing" stay whole
            parts = tuple(x for part in w.split("-") if part for x in self.word(part))
            self._cache[raw] = parts
            return parts
        for old, new in self.spellings:
            if old in w:
                w = w.replace(old, new)
        w = _singular(w)
        out: tuple[str, ...] = () if w in self.stop else self.synonyms.get(w, (w,))
        self._cache[raw] = out
        return out

    def words(self, text: str) -> list[str]:
        out: list[str] = []
        plain = _plain(text)
        for tok in _TOKEN.findall(_PAREN.sub(" ", plain)):
            out.extend(self.word(tok))
        return out


@dataclass
class _Index:
    norm: _Normaliser
    entries: list[tuple[frozenset[str], Link]]
    postings: dict[str, list[int]]


@cache
def _index() -> _Index:
    from pipeline.lexicon import load_concepts, load_vocab_icd10cm

    norm = _Normaliser(linker_rules())
    names: dict[str, tuple[str, set[str]]] = {}  # code -> (title, names)
    # Curated ICD-10-CM concepts with all their terms; generated entries by their official
    # title only (their derived short aliases are too loose to stand for a whole phrase).
    for c in load_concepts().concepts:
        if c.code_system == "ICD10CM" and c.category in ("diagnosis", "finding"):
            names.setdefault(c.code, (c.preferred_name, set()))[1].update(
                [c.preferred_name, *c.terms]
            )
    for v in load_vocab_icd10cm().concepts:
        if v.code not in names and v.category in ("diagnosis", "finding"):
            if _RESIDUAL.match(v.preferred_name):
                continue  # "Other diseases of liver" is what is left of a block, not liver disease
            names[v.code] = (v.preferred_name, {v.preferred_name})
    entries: list[tuple[frozenset[str], Link]] = []
    postings: dict[str, list[int]] = {}
    for code in sorted(names):
        title, all_names = names[code]
        link = Link("ICD10CM", code, title)
        seen: set[frozenset[str]] = set()
        for name in sorted(all_names):
            if _FILLER_START.match(name):
                continue
            words = frozenset(norm.words(name))
            if not words or words in seen:
                continue
            seen.add(words)
            for w in words:
                postings.setdefault(w, []).append(len(entries))
            entries.append((words, link))
    return _Index(norm, entries, postings)


MAX_EXTRA_WORDS = 0


def link_words(words: list[str]) -> Link | None:
    """The ICD-10-CM concept whose name covers all ``words`` (normalised) most closely, or None.

    None when only generic words are given, when no name covers them, when the closest names
    fall in different ICD-10-CM categories, or when the closest name has more than
    ``MAX_EXTRA_WORDS`` words the mention does not say.
    """
    idx = _index()
    query = frozenset(words)
    if not query or query <= idx.norm.generic:
        return None
    lists = [idx.postings.get(w) for w in query]
    if any(p is None for p in lists):
        return None
    shortest = min(lists, key=len)  # type: ignore[arg-type]
    best: list[Link] = []
    best_extra = MAX_EXTRA_WORDS + 1
    for i in shortest:  # type: ignore[union-attr]
        names, link = idx.entries[i]
        if not query <= names:
            continue
        extra = len(names - query)
        if extra > MAX_EXTRA_WORDS:
            continue
        if extra < best_extra:
            best, best_extra = [link], extra
        elif extra == best_extra:
            best.append(link)
    if not best:
        return None
    if len({link.code[:3] for link in best}) > 1:
        return None  # ambiguous: closest names in different categories
    return min(best, key=_generality)


def _generality(link: Link) -> tuple[int, bool, bool, str]:
    """Sort key: the category first, then an "unspecified" title or a .9 code."""
    unspecified = "unspecified" in link.name.lower()
    return (len(link.code), not unspecified, not link.code.endswith("9"), link.code)


# Words that end a noun phrase when reading left from a mention.
_PHRASE_BREAK = frozenset(
    "of with or and no not without for in to by as has have had is are was were be been being "
    "who which that from on at including such than nor any patient patients subject subjects "
    "participant participants individual individuals people person e.g i.e etc either".split()
)
_LEFT = re.compile(r"(?<![\w'’-])([^\W\d_][\w'’]*(?:-\w+)*)[ \t]+$")
_OF_RIGHT = re.compile(
    r"[ \t]+(?:of|affecting|involving)[ \t]+(?:(?:the|an?|his|her|their)[ \t]+)?"
    r"([^\W\d_][\w'’-]*(?:[ \t]+[^\W\d_][\w'’-]*)?)"
)
MAX_LEFT_WORDS = 4


def phrase_start(text: str, start: int) -> int:
    """Where the noun phrase a mention heads starts: before the words :func:`phrase_parts` reads
    in front of the mention."""
    pos = start
    for _ in range(MAX_LEFT_WORDS):
        m = _LEFT.search(text, 0, pos)
        if m is None or m.group(1).lower() in _PHRASE_BREAK:
            break
        pos = m.start()
    return pos


def phrase_parts(text: str, start: int, end: int) -> tuple[list[str], list[str]]:
    """Raw lower-case words of the noun phrase a mention heads: the words in front of it (up to
    four, stopping at punctuation and function words), and the mention itself with the
    complement after a generic head ("disease" + "of the liver")."""
    left: list[str] = []
    pos = start
    while len(left) < MAX_LEFT_WORDS:
        m = _LEFT.search(text, 0, pos)
        if m is None or m.group(1).lower() in _PHRASE_BREAK:
            break
        left.insert(0, m.group(1).lower())
        pos = m.start()
    core = _TOKEN.findall(text[start:end].lower())
    norm = _index().norm
    content = [w for raw in [*left, *core] for w in norm.word(raw) if w not in norm.modifiers]
    if all(w in norm.generic for w in content):
        m = _OF_RIGHT.match(text, end)
        if m is not None:
            for word in m.group(1).lower().split():
                if word in _PHRASE_BREAK:
                    break
                core.append(word)
    return left, core


def phrase_words(text: str, start: int, end: int) -> list[str]:
    """All raw words of :func:`phrase_parts`, in text order."""
    left, core = phrase_parts(text, start, end)
    return [*left, *core]


# The mention is a modifier of the noun after it, not the patient's condition: "hepatitis B
# virus", "human immunodeficiency virus", "cervical cancer screening", "pain scale".
_CONTINUES = re.compile(
    r"[ \t-]+(?:(?-i:[A-Z]{1,2}|[0-9]{1,2}|I{1,3}V?|VI{0,3})\b|type\b|virus\w*|antibod\w*|antigens?\b|"
    r"serolog\w*|tests?\b|testing\b|screen\w*|scales?\b|scores?\b|ratings?\b|questionnaires?\b|"
    r"vaccin\w*|medications?\b|drugs?\b|therap\w*|treatments?\b|prophylaxis\b|prevention\b|"
    r"clinics?\b|centers?\b|centres?\b|programs?\b|programmes?\b|units?\b|services?\b|"
    r"specialists?\b|surgery\b|risk\b|symptoms?\b|signs?\b|severity\b|activity\b|index\b|"
    r"registry\b|trials?\b|studies\b|study\b|research\b|education\b|awareness\b)",
    re.IGNORECASE,
)


# A state, not a disease: "in good physical and mental condition", "normal cardiac function".
_GOOD_STATE = re.compile(
    r"\b(?:good|excellent|normal|healthy|satisfactory|adequate|sound)\b[^.;:,()]{0,40}$", re.I
)


def link_mention(text: str, start: int, end: int) -> Link | None:
    """An ICD-10-CM concept for the condition mention ``text[start:end]`` read in its phrase.

    The whole phrase is tried first, then without severity/history words.
    """
    if _CONTINUES.match(text, end) or _GOOD_STATE.search(text, 0, start):
        return None
    idx = _index()
    norm = idx.norm
    left, core = phrase_parts(text, start, end)
    raw = [*left, *core]
    words = [w for r in raw for w in norm.word(r)]
    tried: set[tuple[str, ...]] = set()
    plain = [w for w in words if w not in norm.modifiers]
    candidates = [words, plain]
    for k in range(1, len(left) + 1):  # fewer leading words: a more general concept
        if any(w in norm.specifiers for w in norm.word(left[k - 1])):
            break  # "congenital heart disease" is not a kind of "heart disease" (I51.9)
        candidates.append([w for r in raw[k:] for w in norm.word(r) if w not in norm.modifiers])
    for candidate in candidates:
        if tuple(candidate) in tried:
            continue
        tried.add(tuple(candidate))
        link = link_words(candidate)
        if link is not None:
            return link
    return None


def condition_links(text: str) -> list[tuple[int, int, Link]]:
    """(start, end, link) of the uncoded condition mentions of ``text`` that link to a code; the
    span covers the words in front that the link read ("psychological problems")."""
    from pipeline.mentions import clinical_mentions

    out: list[tuple[int, int, Link]] = []
    for etype, start, end in clinical_mentions(text):
        if etype == "Condition":
            link = link_mention(text, start, end)
            if link is not None:
                out.append((phrase_start(text, start), end, link))
    return out
