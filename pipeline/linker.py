"""Offline ICD-10-CM (then HPO) linker for uncoded condition mentions in criteria text.

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
  ("congenital", "neonatal", "malignant", "inflammatory"). A bare head left this way does not
  take an "unspecified" title when the dropped words named a kind or site (a word ICD-10-CM
  titles use, or an adjective right before the head): "radicular pain", "referred pain" are not
  "Pain, unspecified" (R52); "severe pain" is.
* A symptom the clause says has lasted 3 months or more ("pain for more than 12 weeks",
  "persisting for at least 3 months") is read as chronic first ("Chronic pain" G89.29), the
  usual clinical threshold (IASP for pain; chronic cough and diarrhoea need less); without such
  a title the plain reading stands.
* No link when the mention modifies the noun after it ("hepatitis B virus", "kidney disease
  risk", "pain scale") or follows a good state ("in good physical and mental condition").
* Human Phenotype Ontology (``resources/vocab_hpo.json``, see scripts/build_extended_vocab.py):
  with ``systems=("ICD10CM", "HPO")`` each reading of the phrase that has no ICD-10-CM name is
  looked up among HPO's names (same normalisation, exact word set, one HPO term only), keyed
  ``HPO:HP:nnnnnnn``: "spasticity", "intrauterine growth restriction", "neck pain".
  :func:`hpo_matches` finds HPO's multi-word terms (any case, the last word also as a plural:
  "heterotopic ossifications") and abbreviations (exact case, "IUGR") in the text itself. The HPO index is built lazily once per process (under 0.6 s
  CPU). ``link_mention`` defaults to ICD-10-CM only and :func:`condition_links` (the parser's
  requirements) stays ICD-10-CM only: notes never carry HPO codes, so an HPO requirement could
  never be met. Entities (``pipeline/criterion_entities.py``) use both.

Judged precision on 103 linked mentions of LCT, SIGIR and TrialGPT criteria: about 0.95. HPO
links (linked mentions and text lookup): 49 of 50 random ones of LCT and SIGIR criteria judged
right (the miss: "cervical hernia" read as "hernia" once "cervical" is dropped).

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
from collections.abc import Iterable
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
        _post(norm, sorted(all_names), Link("ICD10CM", code, title), entries, postings)
    return _Index(norm, entries, postings)


def _post(
    norm: _Normaliser,
    names: Iterable[str],
    link: Link,
    entries: list[tuple[frozenset[str], Link]],
    postings: dict[str, list[int]],
) -> None:
    """Index each distinct word set of a concept's names (a name starting with a filler word
    such as "with child" is skipped)."""
    seen: set[frozenset[str]] = set()
    for name in names:
        if _FILLER_START.match(name):
            continue
        words = frozenset(norm.words(name))
        if not words or words in seen:
            continue
        seen.add(words)
        for w in words:
            postings.setdefault(w, []).append(len(entries))
        entries.append((words, link))


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


# --- Human Phenotype Ontology (criteria side) ----------------------------------------------------
# Phenotypes ICD-10-CM titles do not name ("intrauterine growth restriction", "spasticity",
# "neck pain"): resources/vocab_hpo.json, generated by scripts/build_extended_vocab.py. Only
# consulted where ICD-10-CM has no name, and never by the note pipeline.


@dataclass
class _HpoIndex:
    entries: list[tuple[frozenset[str], Link]]
    postings: dict[str, list[int]]
    phrases: dict[tuple[str, ...], Link]  # multi-word terms by their lower-case tokens
    abbreviations: dict[str, Link]  # case-sensitive
    longest: int


_LOOKUP_TOKEN = re.compile(r"[^\W_]+")


@cache
def _hpo_index() -> _HpoIndex:
    from pipeline.lexicon import load_vocab_hpo

    norm = _index().norm
    entries: list[tuple[frozenset[str], Link]] = []
    postings: dict[str, list[int]] = {}
    phrases: dict[tuple[str, ...], Link] = {}
    abbreviations: dict[str, Link] = {}
    for term in load_vocab_hpo().terms:
        link = Link("HPO", term.id, term.name)
        for name in term.terms:
            tokens = tuple(_LOOKUP_TOKEN.findall(name))
            if len(tokens) > 1:
                phrases.setdefault(tokens, link)
        _post(norm, term.terms, link, entries, postings)
        for abbreviation in term.abbreviations:
            abbreviations.setdefault(abbreviation, link)
    longest = max((len(k) for k in phrases), default=0)
    return _HpoIndex(entries, postings, phrases, abbreviations, longest)


def link_words_hpo(words: list[str]) -> Link | None:
    """The HPO term one of whose names has exactly the word set ``words`` (normalised), or None
    when only generic words are given, nothing matches or several terms match."""
    idx = _hpo_index()
    query = frozenset(words)
    if not query or query <= _index().norm.generic:
        return None
    lists = [idx.postings.get(w) for w in query]
    if any(p is None for p in lists):
        return None
    shortest = min(lists, key=len)  # type: ignore[arg-type]
    found = {idx.entries[i][1] for i in shortest if idx.entries[i][0] == query}  # type: ignore[union-attr]
    return next(iter(found)) if len(found) == 1 else None


# Between the words of a multi-word term: spaces, or one hyphen or apostrophe.
_TERM_GAP = re.compile(r"[ \t]*[-'’]?[ \t]*")


def hpo_matches(text: str) -> list[tuple[int, int, Link]]:
    """(start, end, link) of the HPO multi-word terms (any case) and abbreviations (exact case)
    named in ``text``: the longest match from left to right, whole words only, not where the
    term modifies the noun after it ("neck pain scale") or follows a good state."""
    idx = _hpo_index()
    tokens = list(_LOOKUP_TOKEN.finditer(text))
    lowered = [t.group().lower() for t in tokens]
    out: list[tuple[int, int, Link]] = []
    i = 0
    while i < len(tokens):
        found: tuple[int, Link] | None = None
        for n in range(min(idx.longest, len(tokens) - i), 1, -1):
            key = tuple(lowered[i : i + n])
            # A plural head names the same phenotype ("heterotopic ossifications"); HPO lists
            # plurals of a few countable heads only.
            link = idx.phrases.get(key) or idx.phrases.get((*key[:-1], _singular(key[-1])))
            if link is not None and all(
                _TERM_GAP.fullmatch(text, tokens[k].end(), tokens[k + 1].start())
                for k in range(i, i + n - 1)
            ):
                found = (n, link)
                break
        if found is None and tokens[i].group() in idx.abbreviations:
            found = (1, idx.abbreviations[tokens[i].group()])
        if found is None:
            i += 1
            continue
        n, link = found
        start, end = tokens[i].start(), tokens[i + n - 1].end()
        if not _CONTINUES.match(text, end) and not _GOOD_STATE.search(text, 0, start):
            out.append((start, end, link))
        i += n
    return out


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


# "non-" glued to a mention negates it.
_NON_PREFIX = re.compile(r"\bnon-$", re.IGNORECASE)


# A state, not a disease: "in good physical and mental condition", "normal cardiac function".
_GOOD_STATE = re.compile(
    r"\b(?:good|excellent|normal|healthy|satisfactory|adequate|sound)\b[^.;:,()]{0,40}$", re.I
)


def link_mention(
    text: str, start: int, end: int, systems: tuple[str, ...] = ("ICD10CM",)
) -> Link | None:
    """A concept for the condition mention ``text[start:end]`` read in its phrase.

    The whole phrase is tried first, then without severity/history words, then with fewer
    leading words. ``systems`` are the vocabularies tried for each of these readings, in order:
    ICD-10-CM only by default (what the parser's requirements use); ``("ICD10CM", "HPO")`` adds
    the criteria-side phenotype vocabulary when ICD-10-CM has no name for the reading.
    """
    lookups = {"ICD10CM": link_words, "HPO": link_words_hpo}
    candidates = _candidates(text, start, end)
    # Words of the phrase that specify a kind or site: ones ICD-10-CM titles use ("radicular",
    # "head"), not generic, severity or history words, nor the verbs and pronouns a left reading
    # may take in ("unable to quantify pain", "express their pain").
    idx = _index()
    content = {w for c in candidates for w in c if w in idx.postings}
    content -= idx.norm.generic | idx.norm.modifiers | {"chronic"}
    for candidate in candidates:
        for system in systems:
            link = lookups[system](candidate)
            if link is None:
                continue
            specified = content - set(candidate) or _adjective_before(text, start)
            if len(candidate) == 1 and specified and _unspecified(link):
                # "radicular pain" is not "Pain, unspecified" (R52): the title says the text
                # gives no kind or site, and the text gives one
                continue
            return link
    return None


def _unspecified(link: Link) -> bool:
    return "unspecified" in link.name.lower()


# An adjective ending: the word right before a head that has one says what kind it is
# ("referred pain", "myofascial pain"), even when ICD-10-CM titles do not use the word.
_ADJECTIVE_END = re.compile(r"(?:al|ic|ar|ed|ous|ive|ary|oid)$")


def _adjective_before(text: str, start: int) -> bool:
    """Whether the word right before a mention (same phrase) is an adjective that is neither a
    severity/history word nor a generic one."""
    m = _LEFT.search(text, 0, start)
    if m is None or m.group(1).lower() in _PHRASE_BREAK:
        return False
    norm = _index().norm
    words = norm.word(m.group(1).lower())
    return any(
        _ADJECTIVE_END.search(w) and w not in norm.modifiers and w not in norm.generic
        for w in words
    )


# A lower bound on how long a symptom has lasted, right after it in the same clause: "pain for
# more than 12 weeks", "pain persisting for at least 3 months", "pain of at least 1 year".
_DURATION = re.compile(
    r"[^.;:()]{0,45}?\b(?:for|lasting|persisting|present|of|since|duration)\b[ \t]*"
    r"(?:(?:for|of)[ \t]+)?(?:more[ \t]+than|at[ \t]+least|over|longer[ \t]+than|a[ \t]+minimum[ \t]+of|"
    r"minimum[ \t]+of|>=?|≥)[ \t]*(?:an?[ \t]+)?"
    r"(?P<n>\d+|one|two|three|four|five|six|eight|nine|ten|twelve|twenty-four)[ \t-]*"
    r"(?P<unit>years?|months?|weeks?)\b",
    re.IGNORECASE,
)
_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "eight": 8, "nine": 9,
    "ten": 10, "twelve": 12, "twenty-four": 24,
}  # fmt: skip
_WEEKS = {"year": 52, "month": 4, "week": 1}


def _lasts_three_months(text: str, end: int) -> bool:
    """Whether the clause after a mention says it has lasted at least 3 months (12 weeks)."""
    m = _DURATION.match(text, end)
    if m is None:
        return False
    raw = m["n"].lower()
    n = int(raw) if raw.isdigit() else _NUMBERS[raw]
    return n * _WEEKS[m["unit"].lower().rstrip("s")] >= 12


def _candidates(text: str, start: int, end: int) -> list[list[str]]:
    """The normalised word lists :func:`link_mention` tries, most specific first ([] when the
    mention modifies the noun after it or follows a good state)."""
    if _CONTINUES.match(text, end) or _GOOD_STATE.search(text, 0, start):
        return []
    if _NON_PREFIX.search(text, 0, start):
        return []  # "non-smokers", "non-melanoma": the negation of the concept
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
    if _lasts_three_months(text, end) and "chronic" not in words:
        # a symptom present for 3 months or more is chronic by the usual clinical definition
        # (chronic pain: IASP; chronic cough: over 8 weeks): the chronic name first, if any
        candidates = [c for plain_c in candidates for c in (["chronic", *plain_c], plain_c)]
    out: list[list[str]] = []
    for candidate in candidates:
        if tuple(candidate) not in tried:
            tried.add(tuple(candidate))
            out.append(candidate)
    return out


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
