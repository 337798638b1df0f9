"""Judge one criterion text against one patient text: the generic matching core of `elig judge`.

The criterion goes through the criteria parser, the patient text through the note pipeline, and
the requirement is evaluated by ``criteria_models.evaluate.Evaluator``. Around that core sit the
conventions a physician applies when reading a *complete* patient summary against a criterion
(the TrialGPT setting), each a separate, tested rule:

- **Applicability** — a criterion about a group the patient is not in does not apply: pregnancy,
  lactation or contraception criteria for men and children; criteria written for children
  (infants, paediatric patients) for adults.
- **Demographics** are computed exactly from the age and sex stated in the summary ("a
  58-year-old woman", "45 yo M", "a 6-month-old infant").
- **Closed world for exclusions** — a case summary lists the patient's relevant conditions, so
  a serious condition it does not mention is taken as absent (``not_met``). Lab values and
  measurements are the exception: summaries often omit them, so silence stays ``unknown``.
- **Open world for inclusions** — an inclusion the summary is silent about stays ``unknown``
  (the patient might meet it; the trial team must check), unless the summary's words cover the
  criterion's key terms (fuzzy concept overlap, for concepts our lexicons do not know).
- **Consent and compliance** — a summary stating that the patient will consent and comply
  answers "able to give consent"-type criteria in both directions.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from criteria_models.evaluate import Evaluator, Verdict
from criteria_models.facts import PatientContext, PatientFact
from criteria_models.model import (
    AllOf,
    AnyOf,
    AtLeast,
    Condition,
    Demographic,
    Label,
    Not,
    Requirement,
)

SCREENING = dt.date(2000, 1, 1)  # a fixed "present": summaries carry no calendar dates

LABELS: tuple[Label, ...] = ("met", "not_met", "unknown", "not_applicable")


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Judgement:
    label: Label
    reason: str
    evidence: tuple[Span, ...] = ()

    def to_json(self, pair_id: str) -> dict[str, Any]:
        return {
            "id": pair_id,
            "label": self.label,
            "evidence": [{"start": e.start, "end": e.end, "text": e.text} for e in self.evidence],
            "reason": self.reason,
        }


# -- patient side -------------------------------------------------------------------------------

_AGE = re.compile(
    r"\b(\d{1,3})\s*(?:-|\s)?\s*(year|yr|y|month|mo|week|wk|day)s?\s*(?:-|\s)?\s*(?:old|o\b|of\s+age)",
    re.I,
)
_AGE_YO = re.compile(r"\b(\d{1,3})\s*(?:yo|y/o|y\.o\.|yrs?)\b", re.I)
_FEMALE = re.compile(
    r"\b(?:woman|women|female|girl|lady|mother|she|her|pregnant|F)\b|\b\d+\s*(?:yo|y/o)?\s*F\b"
)
_MALE = re.compile(
    r"\b(?:man|men|male|boy|gentleman|father|he|his|him|M)\b|\b\d+\s*(?:yo|y/o)?\s*M\b"
)


@dataclass(frozen=True, slots=True)
class PatientProfile:
    """Age and sex read from a free-text summary, plus its facts."""

    age: float | None
    sex: str | None
    facts: tuple[PatientFact, ...]
    text: str
    sentences: tuple[tuple[int, int], ...] = field(default_factory=tuple)

    def context(self, patient_id: str = "patient") -> PatientContext:
        birth = None
        if self.age is not None:
            birth = SCREENING - dt.timedelta(days=round(self.age * 365.25))
        return PatientContext(patient_id, self.sex, birth, SCREENING)


def patient_age(text: str) -> float | None:
    """Age in years from "58-year-old", "45 yo", "6-month-old", "3-week-old"."""
    m = _AGE.search(text)
    if m:
        n, unit = float(m[1]), m[2].lower()
        if unit.startswith("mo"):
            return n / 12
        if unit.startswith("w"):
            return n / 52
        if unit.startswith("d"):
            return n / 365.25
        return n
    m = _AGE_YO.search(text)
    return float(m[1]) if m else None


def demographic_span(text: str) -> Span | None:
    """Where the summary states the patient's age (the evidence for age and sex criteria)."""
    m = _AGE.search(text) or _AGE_YO.search(text)
    if m is None:
        return None
    end = m.end()
    sex = re.compile(r"\s+(?:[\w-]+\s+){0,3}?(?:woman|man|female|male|boy|girl|infant|F|M)\b")
    tail = sex.match(text, end)
    if tail:
        end = tail.end()
    return Span(m.start(), end, text[m.start() : end])


def patient_sex(text: str) -> str | None:
    """Sex from the first gendered word of the summary (the subject is introduced first)."""
    f = _FEMALE.search(text)
    m = _MALE.search(text)
    if f and (not m or f.start() < m.start()):
        return "F"
    if m:
        return "M"
    return None


def _sentence_spans(text: str) -> tuple[tuple[int, int], ...]:
    spans = []
    pos = 0
    for line in text.splitlines(keepends=True):
        if line.strip():
            spans.append((pos, pos + len(line.rstrip("\r\n"))))
        pos += len(line)
    return tuple(spans)


def sentence_index(text: str, offset: int) -> int | None:
    """The index of the "N. sentence" line holding offset (its stated N when present)."""
    for i, (s, e) in enumerate(_sentence_spans(text)):
        if s <= offset < e or (offset == e and s < e):
            m = re.match(r"\s*(\d+)\.\s", text[s:e])
            return int(m[1]) if m else i
    return None


@lru_cache(maxsize=4096)
def patient_profile(text: str) -> PatientProfile:
    from pipeline.facts import facts_from_doc
    from pipeline.nlp import get_nlp

    facts = facts_from_doc(get_nlp()(text), "patient", "summary", SCREENING)
    # A summary describes the present: undated, non-historical mentions happen now.
    dated = tuple(
        f if f.event_date or f.historical else replace(f, event_date=SCREENING) for f in facts
    )
    return PatientProfile(patient_age(text), patient_sex(text), dated, text, _sentence_spans(text))


# -- criterion side -----------------------------------------------------------------------------


def _parse(text: str, kind: str) -> tuple[Requirement | None, str]:
    """The criteria parser's public ``criterion_requirement`` (older checkouts: ``_meaning``)."""
    from pipeline import parse_criteria

    fn: Callable[..., Any] = (
        getattr(parse_criteria, "criterion_requirement", None) or parse_criteria._meaning
    )
    result = fn(text, kind)
    return result[0], str(result[1])


@lru_cache(maxsize=16384)
def criterion_requirement(text: str, kind: str) -> tuple[Requirement | None, str]:
    """The parsed requirement and category of one criterion (cached per distinct text)."""
    try:
        return _parse(text, kind)
    except Exception:  # an unparseable criterion is judged by the fallbacks
        return None, "free_text"


_NUM = r"(\d{1,3}(?:\.\d+)?)"
_UNIT = r"\s*(?:\+|years?|yrs?|y\b|months?)"
_AGE_CTX = re.compile(r"\b(?:age[sd]?|aged|adults?|years?\s+(?:of\s+age|old))\b", re.I)
_AGE_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(_NUM + r"\s*(?:-|–|to)\s*" + _NUM, re.I), "range"),
    (re.compile(r"between\s+" + _NUM + r"\s+and\s+" + _NUM, re.I), "range"),
    (re.compile(_NUM + r"\s*\+", re.I), ">="),
    (re.compile(r"(?:≥|>=|=>|at\s+least|minimum(?:\s+age)?(?:\s+of)?)\s*" + _NUM, re.I), ">="),
    (re.compile(r"(?:>|older\s+than|over|above|greater\s+than)\s*" + _NUM, re.I), ">"),
    (
        re.compile(r"(?:≤|<=|=<|at\s+most|maximum(?:\s+age)?(?:\s+of)?|up\s+to)\s*" + _NUM, re.I),
        "<=",
    ),
    (re.compile(r"(?:<|younger\s+than|under|below|less\s+than)\s*" + _NUM, re.I), "<"),
    (
        re.compile(
            _NUM
            + r"\s*(?:years?|yrs?)?(?:\s+of\s+age|\s+old)?\s+(?:or|and)\s+(?:older|over|above)",
            re.I,
        ),
        ">=",
    ),
    (
        re.compile(
            _NUM
            + r"\s*(?:years?|yrs?)?(?:\s+of\s+age|\s+old)?\s+(?:or|and)\s+(?:younger|under|below)",
            re.I,
        ),
        "<=",
    ),
]


def _is_age_number(text: str, m: re.Match[str]) -> bool:
    """A number is an age when a years/months unit follows it or "age" stands just before."""
    after = text[m.end() : m.end() + 14]
    before = text[max(0, m.start() - 25) : m.start()]
    return bool(
        re.match(_UNIT, after, re.I)
        or re.match(r"\s*(?:years?|yrs?)", text[m.end(1) if m.lastindex else m.end() :], re.I)
        or "+" in m.group(0)
        or re.search(r"\b(?:age[sd]?|aged)\b[^0-9;,.]{0,12}$", before, re.I)
        or re.search(r"\b(?:years?|yrs?|of\s+age|old)\b", m.group(0), re.I)
    )


def age_requirement(text: str) -> tuple[Requirement | None, str]:
    """Age bounds of an age criterion ("Age 18-65", "over 18 years", "Age 18+") and the text
    left once the age phrases are removed (what else the criterion asks)."""
    if not (_AGE_CTX.search(text) or re.search(r"\d\s*(?:\+|years?|yrs?)", text, re.I)):
        return None, text
    if re.search(r"\b(?:gestation\w*|post-?menstrual|percentile|weeks?)\b", text, re.I):
        return None, text
    items: list[Requirement] = []
    taken: list[tuple[int, int]] = []
    ranges = 0
    for pattern, op in _AGE_PATTERNS:
        for m in pattern.finditer(text):
            if any(s < m.end() and m.start() < e for s, e in taken) or not _is_age_number(text, m):
                continue
            months = re.match(r"\s*(?:years?\s*)?months?", text[m.end() :], re.I)
            scale = 1 / 12 if months else 1.0
            taken.append((m.start(), m.end()))
            if op == "range":
                lo, hi = float(m[1]) * scale, float(m[2]) * scale
                if lo >= hi or hi > 120 or ranges:
                    continue  # a second range is a sub-group of the first, not a further bound
                ranges += 1
                # "18-65 years" admits a 65-year-old until the 66th birthday.
                items.append(Demographic(attribute="age", comparator=">=", value=lo))
                items.append(Demographic(attribute="age", comparator="<", value=hi + scale))
            else:
                value = float(m[1]) * scale
                if value > 120:
                    continue
                if op == "<=":
                    items.append(Demographic(attribute="age", comparator="<", value=value + scale))
                else:
                    items.append(Demographic(attribute="age", comparator=op, value=value))  # type: ignore[arg-type]
    if not items:
        return None, text
    rest = text
    for s, e in sorted(taken, reverse=True):
        rest = rest[:s] + " " + rest[e:]
    rest = re.sub(
        r"\b(?:years?|yrs?|of\s+age|old|aged?|older|younger|inclusive)\b", " ", rest, flags=re.I
    )
    return (items[0] if len(items) == 1 else AllOf(items=items)), rest


# -- rules --------------------------------------------------------------------------------------

_PREGNANCY = re.compile(
    r"\b(?:pregnan\w*|lactat\w*|breast[- ]?feed\w*|nursing\s+(?:women|mothers?)|nursing|"
    r"child[- ]?bearing|contracept\w*|birth[- ]control|menarche|menopaus\w*|post-?menopaus\w*|"
    r"premenopaus\w*|cesarean|caesarean|uterine|uterus|ovar\w*)\b",
    re.I,
)
_MALE_ONLY = re.compile(r"\b(?:prostat\w*|testic\w*|erectile)\b", re.I)
CHILD_MAX_AGE = 12
_ADULT_ONLY = re.compile(
    r"\b(?:alcohol\w*|drunk|drinking|binge|smok\w*|tobacco|cigarettes?|army|military|recruits?|"
    r"employ\w*|occupation\w*|married|sexual\w*|intercourse|driv(?:er|ing)|illicit|drug\s+abuse|"
    r"substance\s+abuse)\b",
    re.I,
)
_CHILD = re.compile(
    r"\b(?:child(?:ren)?|infants?|neonat\w*|newborns?|paediatric|pediatric|toddlers?|"
    r"parents?|guardians?|schools?)\b",
    re.I,
)
_BOTH_SEXES = re.compile(
    r"\b(?:male\s+(?:and|or|&)\s+female|female\s+(?:and|or|&)\s+male|"
    r"men\s+(?:and|or)\s+women|women\s+(?:and|or)\s+men|both\s+sex|either\s+sex|"
    r"all\s+genders?|any\s+gender|both\s+genders?)\w*",
    re.I,
)


def applicability(crit: str, profile: PatientProfile) -> str | None:
    """Why the criterion does not apply to this patient, or None when it applies."""
    if _BOTH_SEXES.search(crit):
        return None
    female_topic = _PREGNANCY.search(crit)
    if female_topic and profile.sex == "M":
        return f"'{female_topic.group(0)}' concerns women; patient is male"
    if female_topic and profile.age is not None and profile.age < 12:
        return f"'{female_topic.group(0)}' does not concern a child"
    adult_topic = _ADULT_ONLY.search(crit)
    if adult_topic and profile.age is not None and profile.age < CHILD_MAX_AGE:
        return f"'{adult_topic.group(0)}' concerns adults; patient is {profile.age:.0f} years old"
    male_topic = _MALE_ONLY.search(crit)
    if male_topic and profile.sex == "F" and not female_topic:
        return f"'{male_topic.group(0)}' concerns men; patient is female"
    return None


def sex_requirement(crit: str) -> str | None:
    """'F' or 'M' for a criterion that only states sex ("Female", "Men aged ...")."""
    female = re.search(r"\b(?:females?|women|woman|girls?)\b", crit, re.I)
    male = re.search(r"\b(?:males?|men|boys?)\b", crit, re.I)
    if _BOTH_SEXES.search(crit) or (female and male):
        return "both"
    if re.search(r"\b(?:females?|women|woman|girls?)\b", crit, re.I) and not re.search(
        r"\b(?:males?|men|boys?)\b", crit, re.I
    ):
        return "F"
    if re.search(r"\b(?:males?|men|boys?)\b", crit, re.I):
        return "M"
    return None


CHILDBEARING_MAX_AGE = 50
_PREGNANT_STATE = re.compile(
    r"\b(?:pregnan\w*|gestation\w*|cesarean|caesarean|post-?partum|trimester|parturient\w*|"
    r"labou?r\s+and\s+delivery)\b",
    re.I,
)
_NEGATIVE = re.compile(
    r"^\s*(?:\d+[.)]\s*)?(?:(?:patients?|subjects?|participants?)\s+(?:who\s+)?)?"
    r"(?:(?:are|is|have|has|had|were|was|do|does|did)\s+)?"
    r"(?:no|not|never|without|absence\s+of|free\s+of|lack\s+of|non-?)\b"
    r"(?:\s+(?:been|be|have|having|a|any|known|previously|prior|history\s+of|medical\s+history\s+of))*",
    re.I,
)


def _pregnancy_stated(text: str) -> bool:
    return bool(
        re.search(
            r"\b(?:pregnan\w*|gravid\w*|lactat\w*|breast-?feed\w*|post-?partum)\b", text, re.I
        )
    )


_SEX_TERMS = {
    "male",
    "female",
    "femal",
    "women",
    "men",
    "woman",
    "boy",
    "girl",
    "adult",
    "non",
    "pregnant",
    "nonpregnant",
    "healthy",
    "volunteer",
    "volunteers",
}

_CONSENT_CRIT = re.compile(
    r"\b(?:consent|assent|comply|compliance|complian\w*|willing|able\s+to\s+(?:understand|"
    r"attend|complete|follow|read|participate)|cooperat\w*|follow[- ]up)\b",
    re.I,
)
_CONSENT_PATIENT = re.compile(
    r"\b(?:(?:will|would|agrees?\s+to)\s+(?:provide|give|sign)\s+(?:written\s+)?informed\s+consent|"
    r"(?:informed\s+)?consent\s+(?:was\s+)?(?:obtained|signed|given|provided)|"
    r"will\s+comply|willing\s+to\s+(?:participate|comply))",
    re.I,
)
_INABILITY = re.compile(
    r"\b(?:unable|inability|unwilling|not\s+able|refus\w*|incapable|lack\w*|cannot|can\s*not|"
    r"failure\s+to|not\s+willing|poor|non-?complian\w*|noncomplian\w*|impossib\w*)\b",
    re.I,
)

_MEASURE_WORDS = re.compile(r"(?:≥|≤|<|>|=)\s*\d", re.I)

_STOP = set(
    """a an the of in on at to for with without and or not no nor by from as is are was were be
    been being have has had having who whom which that this these those any all other than such
    patient patients subject subjects participant participants individual individuals person
    people study trial criteria criterion inclusion exclusion must should will would may can could
    known history documented diagnosis diagnosed evidence presence current currently clinical
    clinically significant severe mild moderate acute chronic active prior previous within
    least more less than years year months month weeks week days day age aged old eg e g ie i
    including include includes etc per using use used defined definition following due one two
    three four five six seven eight nine ten their his her its they he she it also either both
    case cases condition conditions disease diseases disorder disorders treatment treated therapy
    medical included include entry enrolment enrollment eligible time onward""".split()
)
_NEGATION_CUE = re.compile(
    r"\b(?:no|not|denies|denied|without|negative|absent|none|never|unremarkable|normal)\b", re.I
)


def _stem(token: str) -> str:
    for suffix in (
        "ations",
        "ation",
        "ities",
        "ity",
        "ness",
        "ing",
        "ies",
        "es",
        "ed",
        "s",
        "al",
        "ic",
    ):
        if token.endswith(suffix) and len(token) - len(suffix) >= 4:
            return token[: -len(suffix)]
    return token


def content_terms(text: str) -> set[str]:
    tokens = re.findall(r"[a-z][a-z0-9]+", text.lower())
    return {_stem(t) for t in tokens if t not in _STOP and len(t) > 2}


def overlap(crit: str, profile: PatientProfile) -> tuple[float, int | None, bool]:
    """Best share of the criterion's key terms found in one patient sentence, that sentence's
    index, and whether the sentence negates what it mentions."""
    terms = content_terms(crit)
    if not terms:
        return 0.0, None, False
    best, best_i, negated = 0.0, None, False
    for i, (s, e) in enumerate(profile.sentences):
        sentence = profile.text[s:e]
        sent_terms = content_terms(sentence)
        share = len(terms & sent_terms) / len(terms)
        if share > best:
            best, best_i, negated = share, i, bool(_NEGATION_CUE.search(sentence))
    return best, best_i, negated


def _spans(verdict: Verdict, text: str) -> tuple[Span, ...]:
    out = []
    for e in verdict.evidence:
        if 0 <= e.start < e.end <= len(text):
            out.append(Span(e.start, e.end, text[e.start : e.end]))
    return tuple(out)


def _sentence_span(profile: PatientProfile, i: int) -> Span:
    s, e = profile.sentences[i]
    return Span(s, e, profile.text[s:e])


EXCLUSION_COVERAGE = 0.5
_DURATION = re.compile(
    r"\b(?:for|lasting|duration\s+of|since)\s+(?:(?:≥|>=|>|more\s+than|at\s+least|over|longer\s+than)\s*)?"
    r"(?:\d+|one|two|three|four|five|six|several)\s+(?:days?|weeks?|months?|years?)\b|"
    r"\b(?:more|longer)\s+than\s+(?:\d+|one|two|three|four|five|six)\s+(?:days?|weeks?|months?)\b|"
    r"\bpersistent\b",
    re.I,
)
_FAMILY = re.compile(
    r"\bfamily\s+history\b|\b(?:first|second)[- ]degree\s+relatives?\b|\b(?:biological\s+)?"
    r"(?:parents?|siblings?|mother|father)\s+(?:with|diagnosed|of\s+patients)\b",
    re.I,
)


def without_age(node: Requirement | None) -> Requirement | None:
    """The parsed requirement without its age leaves: age is read by ``age_requirement``, which
    checks that a number really is an age ("> 95th percentile for age" is not)."""
    if node is None or (isinstance(node, Demographic) and node.attribute == "age"):
        return None
    if isinstance(node, (AllOf, AnyOf)):
        items = [x for x in (without_age(i) for i in node.items) if x is not None]
        if not items:
            return None
        return items[0] if len(items) == 1 else type(node)(items=items)
    return node


def evidence_coverage(crit: str, profile: PatientProfile, spans: Sequence[Span]) -> float:
    """Share of the criterion's key terms found in the sentences holding the evidence."""
    terms = content_terms(crit)
    if not terms:
        return 1.0
    found: set[str] = set()
    for s, e in profile.sentences:
        if any(s <= sp.start < e for sp in spans):
            found |= content_terms(profile.text[s:e])
    return len(terms & found) / len(terms)


def _family_history(crit: str, kind: str, profile: PatientProfile) -> Judgement:
    """A family-history criterion is about relatives: only family-flagged mentions count."""
    requirement, _ = criterion_requirement(crit, kind)
    codes = set()
    for node in _leaves(requirement):
        if isinstance(node, Condition):
            codes |= {(c.system, c.code) for c in node.concepts}
    hits = [
        f
        for f in profile.facts
        if f.family and any(f.code_system == s and f.code.startswith(c) for s, c in codes)
    ]
    if hits:
        ev = tuple(Span(f.start, f.end, profile.text[f.start : f.end]) for f in hits[:3])
        if all(f.negated for f in hits):
            return Judgement("not_met", "family history documented as negative", ev)
        return Judgement("met", "family history documented", ev)
    return Judgement("unknown", "family history not stated for these conditions")


def _medical_leaves(crit: str, kind: str) -> list[Requirement]:
    """Parsed leaves other than the consent statement: a criterion that names a condition, drug
    or lab is not a consent criterion even when it says "willing"."""
    requirement, _ = criterion_requirement(crit, kind)
    return [
        leaf
        for leaf in _leaves(requirement)
        if not (
            isinstance(leaf, Condition)
            and all(c.system == "ELIG" and "consent" in c.code for c in leaf.concepts)
        )
    ]


def _leaves(node: Requirement | None) -> list[Requirement]:
    if node is None:
        return []
    if isinstance(node, (AllOf, AnyOf, AtLeast)):
        return [leaf for i in node.items for leaf in _leaves(i)]
    if isinstance(node, Not):
        return _leaves(node.item)
    return [node]


def _silent_default(kind: str, crit: str, category: str) -> tuple[Label, str]:
    """What silence means: closed world for exclusions (a complete summary would mention a
    serious excluding condition), except for values a summary rarely reports; open world for
    inclusions."""
    if kind == "inclusion":
        return "unknown", "not mentioned in the summary"
    if category == "measurement":
        return "unknown", "value not reported in the summary"
    return "not_met", "not mentioned in a complete summary: taken as absent"


def judge(patient_text: str, criterion_text: str, kind: str) -> Judgement:
    """Judge one criterion (inclusion: met = patient meets it; exclusion: met = the excluding
    condition holds) against one patient summary."""
    kind = "exclusion" if kind.lower().startswith("exc") else "inclusion"
    profile = patient_profile(patient_text)
    crit = (criterion_text or "").strip()
    if not crit:
        return Judgement("unknown", "empty criterion")

    why_not = applicability(crit, profile)
    if why_not:
        return Judgement("not_applicable", why_not)

    evaluator = Evaluator(profile.context(), profile.facts)

    age_req, rest = age_requirement(crit)
    stated = demographic_span(patient_text)
    demo_ev = (stated,) if stated else ()
    if age_req is not None:
        v = evaluator.evaluate(age_req)
        sex = sex_requirement(crit)
        if v.label == "met" and sex in ("F", "M") and profile.sex and profile.sex != sex:
            return Judgement("not_met", f"{v.reason}; criterion for sex {sex}", demo_ev)
        if v.label == "not_met":
            return Judgement(v.label, v.reason, demo_ev)
        extra = content_terms(rest) - _SEX_TERMS
        if v.label == "met" and len(extra) <= 1:
            return Judgement(v.label, v.reason, demo_ev)
        if v.label == "met":
            other = judge(patient_text, rest, kind)
            if other.label == "met":
                return Judgement("met", f"{v.reason}; {other.reason}", demo_ev + other.evidence)
            return Judgement(
                "unknown" if other.label != "not_met" else "not_met",
                f"{v.reason}; {other.reason}",
                other.evidence,
            )

    sex = sex_requirement(crit)
    if (
        sex is not None
        and not _PREGNANCY.search(crit)
        and len(content_terms(crit) - _SEX_TERMS) <= 1
    ):
        if sex == "both":
            return Judgement("met", "criterion admits both sexes", demo_ev)
        if profile.sex:
            return Judgement(
                "met" if profile.sex == sex else "not_met",
                f"sex {profile.sex}, criterion {sex}",
                demo_ev,
            )

    if _CONSENT_CRIT.search(crit) and not _medical_leaves(crit, kind):
        consent = _CONSENT_PATIENT.search(patient_text)
        if consent:
            # The patient will consent and comply: an inability or refusal does not hold.
            span = Span(consent.start(), consent.end(), consent.group(0))
            unable = bool(_INABILITY.search(crit))
            agreed: Label = "met" if kind == "inclusion" and not unable else "not_met"
            return Judgement(agreed, "patient will consent and comply", (span,))

    if _PREGNANCY.search(crit) and profile.sex == "F" and not _pregnancy_stated(patient_text):
        if kind == "inclusion" and not _NEGATIVE.match(crit) and _PREGNANT_STATE.search(crit):
            # An inclusion that requires a pregnancy: a summary would say the patient is pregnant.
            return Judgement("not_met", "no pregnancy stated in the summary")
        if profile.age is None or 12 <= profile.age < CHILDBEARING_MAX_AGE:
            open_: Label = "met" if kind == "inclusion" and _NEGATIVE.match(crit) else "unknown"
            return Judgement(open_, "pregnancy status not stated for a woman of childbearing age")
        return Judgement(
            "met" if kind == "inclusion" and _NEGATIVE.match(crit) else "not_met",
            f"age {profile.age:.0f}: beyond childbearing age",
        )

    negation = _NEGATIVE.match(crit)
    if negation:
        positive_text = crit[negation.end() :]
        inner = judge(patient_text, positive_text, "exclusion")
        if kind == "inclusion" and inner.label in ("met", "not_met"):
            flipped: Label = "not_met" if inner.label == "met" else "met"
            return Judgement(flipped, f"absence required; {inner.reason}", inner.evidence)
        if kind == "exclusion" and not inner.evidence:
            return Judgement("unknown", "an exclusion about an absence: silence does not decide it")
        if kind == "exclusion" and inner.label in ("met", "not_met"):
            flipped = "not_met" if inner.label == "met" else "met"
            return Judgement(flipped, f"excluded when absent; {inner.reason}", inner.evidence)

    if _FAMILY.search(crit):
        return _family_history(crit, kind, profile)

    requirement, category = criterion_requirement(crit, kind)
    requirement = without_age(requirement)
    if requirement is not None:
        v = evaluator.evaluate(requirement)
        spans = _spans(v, patient_text)
        if v.label == "met" and spans and _DURATION.search(crit):
            return Judgement("unknown", f"{v.reason}; required duration not stated", spans)
        if v.label == "met" and spans and kind == "exclusion":
            covered = evidence_coverage(crit, profile, spans)
            if covered < EXCLUSION_COVERAGE:
                return Judgement(
                    "not_met",
                    f"{v.reason}, but the criterion's qualifiers are not documented "
                    f"({covered:.0%} of its terms in the evidence sentences)",
                    spans,
                )
        if v.label in ("met", "not_met") and spans:
            return Judgement(v.label, v.reason, spans)
        if v.label in ("met", "not_met"):
            if v.label == "not_met" or kind == "inclusion":
                return Judgement(v.label, v.reason, spans)

    share, i, negated = overlap(crit, profile)
    if i is not None and share >= 0.6 and not negated:
        span = _sentence_span(profile, i)
        if kind == "inclusion":
            return Judgement(
                "met", f"summary sentence covers {share:.0%} of the criterion's terms", (span,)
            )
    label, reason = _silent_default(kind, crit, category)
    return Judgement(label, reason)
