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
  answers "able to give consent"-type criteria in both directions, and "ability to undergo /
  take / tolerate" criteria (fitness and willingness, not having the procedure).

Clinical rules kept as data in ``pipeline/resources/judge_rules.json`` (sources there):

- **Vital signs** are read from values ("HR: 140/min", "fever up to 39 C", "BP 80/60") or from
  words that state a bound ("tachycardic" = HR > 100, "tachypneic" = RR > 20, "obese" =
  BMI >= 30, "excruciating pain" = pain >= 7/10). An *exclusion* on an abnormal vital sign
  the summary does not report is ``not_met``: vital signs are taken at every presentation and
  a summary reports the abnormal ones.
- **Implications**: a finding that a clinician reads as a diagnosis (exertional calf pain ->
  claudication, anti-dsDNA -> lupus, owl's-eye inclusions -> CMV, immunosuppressive therapy
  -> immunocompromised, a fall or accident -> injury; hypotension with tachycardia -> shock).
  An inference answers the bare concept, not a graded or staged version of it; a relative's
  finding is family history. A test having been done ("physical examination", "CT") does not
  answer a criterion about its result being normal or the patient healthy.
- **Lifelong conditions** ("history of bipolar disorder") are current.
- **Normal panels** ("CBC and biochemical profile are normal") decide bounds outside the
  reference range ("hematocrit < 25" is not met), never bounds inside it.
- **Times**: "2 years earlier" dates a mention; a criterion's single "within N months" window
  applies to its condition; a stated duration ("for 2 days") is compared with a required one.

Further conventions:

- **Conditional criteria** ("If X, ...", "Recipients who have had X must ...", "Y if X") are
  ``not_applicable`` when X does not hold; criteria about the study's data, samples or sites
  are ``not_applicable`` to any patient.
- **Interventions** an inclusion requires ("undergoing carotid endarterectomy", "mechanically
  ventilated") are closed world: a summary would mention them.
- **Long inclusions** (a definition of ten or more key terms) are not met by one matching
  concept whose sentences hold under a fifth of the terms, unless they list alternatives.
- **Washouts** ("minimum of two weeks since any major surgery", "must discontinue NSAIDs")
  hold vacuously when the exposure is absent; when it is present, its timing decides.
- **Childbearing potential** stays open below 60 (NCCN definition of menopause: age >= 60, or
  stated menopause or sterilising surgery), so a pregnancy exclusion for a 58-year-old woman
  whose summary is silent is ``unknown``. Only the patient's own, done sterilisation counts
  (not a relative's, not a planned one; perimenopause is not menopause), and a criterion that
  asks for non-childbearing status ("postmenopausal", "surgically sterile") is met by it.
- **Acute care**: a patient brought to emergency or hospital care has an acute illness ("acute
  disease at enrolment" is met) and is not a healthy subject ("in good health" is not met).
  "ER-positive", "ED" (erectile), "admitted to using" and a stay years ago are no acute care.
- **Anatomy by sex**: a woman has a cervix, a uterus and ovaries unless their removal is stated
  (a supracervical hysterectomy keeps the cervix; ovaries go only with a bilateral removal).
- **Open judgements**: an absence is not affirmed when the concept is documented and only its
  qualifiers are not ("absence of other causes of stroke" in a stroke patient); candidacy or
  suitability for a treatment is a clinician's judgement; the site of care ("seen at X Medical
  Center") is not part of a clinical summary; an inferred diagnosis does not state a severity.
- **Scopes**: a negation ends at a semicolon that opens a new requirement ("; and need for"),
  not inside a list ("No history of: X; Y; or Z"); an age bound inside the criterion's age range
  names a sub-group; a met vital-sign bound joined by "and" to a part that is no vital sign
  does not decide its alternative; an empty exclusion excludes no one.
- **Vital-sign words**: "fever" names the sign; it does not meet a bound on the temperature
  ("fever > 38.5 C") that the summary does not state. The Glasgow coma scale is read as a
  stated score ("GCS was 6/15"), and "GCS = 3" is an exact bound ("BMI = 30-40" is a range);
  a component ("GCS motor score") is not the total.
- **Exclusions unknown vs not_met**: silence stays ``not_met`` (closed world) except for
  measurements and a bare prognosis ("moribund", "not expected to survive 24 hours"), a bedside
  judgement a summary does not state. On the TrialGPT dev set no other criterion feature
  (category, parsed concepts, term overlap with the summary or the trial title, time windows,
  medications, allergies, trial participation, whether the summary has a history section)
  separated the experts' "unknown" from "not_met" on both patient halves: in every group
  "not_met" stays the majority, so no rule was added for it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from criteria_models.doses import PREDNISONE_MG_PER_MG
from criteria_models.evaluate import Evaluator, EvidenceRef, Verdict
from criteria_models.facts import PatientContext, PatientFact
from criteria_models.model import (
    AllOf,
    AnyOf,
    AtLeast,
    Comparator,
    Condition,
    Demographic,
    Label,
    Measurement,
    Medication,
    Not,
    Requirement,
    TimeWindow,
)

SCREENING = dt.date(2000, 1, 1)  # a fixed "present": summaries carry no calendar dates

LABELS: tuple[Label, ...] = ("met", "not_met", "unknown", "not_applicable")


# -- rules resource (pipeline/resources/judge_rules.json) -----------------------------------------


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ImpliedBound(_Rule):
    """A word that states a vital sign as a bound ("tachycardic" = heart rate > 100/min)."""

    pattern: str
    comparator: Comparator
    value: float


class VitalRule(_Rule):
    """How a vital sign is named in a criterion and stated in a summary (value or word)."""

    name: str
    unit: str
    criterion: str = Field(description="Regex naming the vital sign in a criterion")
    patient_value: str = Field(description="Regex whose group 1 is the stated value")
    implied: list[ImpliedBound] = Field(default_factory=list)
    reported_when_abnormal: bool = Field(
        description="Measured at every presentation: a summary would report an abnormal value"
    )


class Implication(_Rule):
    """A finding that implies a diagnosis ("calf pain when walking" -> claudication)."""

    patient: str = Field(description="Regex over the summary text")
    system: str
    code: str
    name: str
    why: str


class VitalBound(_Rule):
    """One vital-sign bound of a vital implication ("systolic blood pressure < 90")."""

    vital: str = Field(description="The name of a rule in ``vitals``")
    comparator: Comparator
    value: float


class VitalImplication(_Rule):
    """Vital signs that together imply a diagnosis (hypotension with tachycardia -> shock)."""

    name: str
    system: str
    code: str
    bounds: list[VitalBound] = Field(min_length=1)
    why: str


class NormalStatement(_Rule):
    """A panel whose results a summary may report globally as normal ("CBC is normal")."""

    pattern: str = Field(description="Regex naming the panel or examination")
    labs: list[str] = Field(description="labs.json codes the statement covers")


class JudgeRules(_Rule):
    source: str
    licence: str
    version: str
    vitals: list[VitalRule]
    implications: list[Implication]
    vital_implications: list[VitalImplication] = Field(default_factory=list)
    study_logistics: str = Field(
        description="Regex of criteria about the study's data, samples or sites, not the patient"
    )
    normal_statements: list[NormalStatement] = Field(default_factory=list)
    normal_words: str = Field(description="Regex that must follow the panel name: 'are normal'")
    chronic_prefixes: list[str] = Field(
        description="ICD-10-CM prefixes of lifelong conditions: 'history of' them means 'has'"
    )
    diagnostic_tests: list[str] = Field(
        default_factory=list,
        description="Concept codes of examinations and tests: having one says nothing of its result",
    )
    normality: str = Field(
        default=r"(?!)",
        description="Regex of criteria about a normal or healthy result ('without significant findings')",
    )


@lru_cache(maxsize=1)
def judge_rules() -> JudgeRules:
    """The judge's clinical rules, validated (unknown keys are errors)."""
    from importlib import resources

    text = resources.files("pipeline.resources").joinpath("judge_rules.json").read_text("utf-8")
    try:
        return JudgeRules.model_validate_json(text)
    except ValueError as e:
        raise ValueError(f"E-JUDGE-010 judge_rules.json: {e}") from None


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
    presumed: bool = False  # decided by a convention (closed world), not by what is stated

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
    normal: tuple[tuple[str, int, int], ...] = field(default_factory=tuple)

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
    spans = _sentence_spans(text)
    facts = [chronic_is_current(f) for f in facts]
    facts += implied_facts(text, spans)
    # A summary describes the present: undated, non-historical mentions happen now.
    dated = tuple(
        f
        if (f.event_date and f.event_date != SCREENING) or f.historical
        else replace(f, event_date=_relative_date(text, f))
        for f in facts
    )
    return PatientProfile(
        patient_age(text), patient_sex(text), dated, text, spans, normal_results(text)
    )


def normal_results(text: str) -> tuple[tuple[str, int, int], ...]:
    """(lab code, start, end) for each result the summary reports as normal in bulk ("The
    complete blood count and biochemical profile are normal", "Physical examination is
    normal"): each lab of the panel lies within its reference range."""
    rules = judge_rules()
    out: list[tuple[str, int, int]] = []
    for st in rules.normal_statements:
        for m in re.finditer(st.pattern, text, re.I):
            tail = re.match(rules.normal_words, text[m.end() :], re.I)
            if tail is None or _negated_before(text, _sentence_spans(text), m.start()):
                continue
            out += [(code, m.start(), m.end() + tail.end()) for code in st.labs]
    return tuple(out)


class SummaryEvaluator(Evaluator):
    """The Evaluator, plus results the summary reports as normal without a value: a bound
    outside the reference range is decided (``hematocrit < 25`` is not met by a normal CBC),
    a bound inside it stays unknown."""

    def __init__(self, profile: PatientProfile) -> None:
        super().__init__(profile.context(), profile.facts)
        self.normal = {code: (s, e) for code, s, e in profile.normal}

    def _measurement(self, node: Measurement) -> Verdict:
        verdict = super()._measurement(node)
        if verdict.label != "unknown" or node.value is None or node.result is not None:
            return verdict
        for ref in node.analytes:
            if ref.system != "LAB" or ref.code not in self.normal:
                continue
            if any(f.code == ref.code and f.value_as_number is not None for f in self.facts):
                continue
            label = _range_label(ref.code, node)
            if label is not None:
                s, e = self.normal[ref.code]
                evidence = (EvidenceRef("summary", s, e, ""),)
                return Verdict(label, f"{ref.name or ref.code} reported normal", evidence)
        return verdict


def _range_label(code: str, node: Measurement) -> Label | None:
    """Is "comparator value" met by every (met) or no (not_met) value of the reference range?"""
    from criteria_models.units import convert
    from pipeline.lexicon import load_labs

    lab = next((x for x in load_labs().labs if x.code == code), None)
    if lab is None or lab.default_ref_low is None or lab.default_ref_high is None:
        return None
    assert node.value is not None
    unit = lab.units[0] if lab.units else None
    low = convert(lab.default_ref_low, unit, node.unit, f"LAB:{code}")
    high = convert(lab.default_ref_high, unit, node.unit, f"LAB:{code}")
    if low is None or high is None:
        return None
    ops: dict[str, Callable[[float], bool]] = {
        ">": lambda x: x > node.value,  # type: ignore[operator]
        ">=": lambda x: x >= node.value,  # type: ignore[operator]
        "<": lambda x: x < node.value,  # type: ignore[operator]
        "<=": lambda x: x <= node.value,  # type: ignore[operator]
    }
    test = ops.get(node.comparator)
    if test is None:
        return None
    if test(low) and test(high):
        return "met"
    if not test(low) and not test(high):
        return "not_met"
    return None


_EARLIER = re.compile(
    r"[^.;,]{0,25}?\b(?P<n>\d+|one|two|three|four|five|six|seven|eight|nine|ten|a|an|several)\s+"
    r"(?P<unit>day|week|month|year)s?\s+(?:earlier|before|previously|prior)\b",
    re.I,
)


def _relative_date(text: str, fact: PatientFact) -> dt.date:
    """The date of an undated mention: "a myocardial infarction 2 years earlier" is 2 years
    before the summary's present (the note pipeline reads "ago"); otherwise the present."""
    m = _EARLIER.match(text, fact.end)
    if m is None:
        return SCREENING
    return SCREENING - dt.timedelta(days=round(_days(m["n"], m["unit"])))


def chronic_is_current(fact: PatientFact) -> PatientFact:
    """ "History of bipolar disorder" in a case summary means the patient has it: a lifelong
    condition (``chronic_prefixes``) does not end, so its history is its present."""
    if (
        fact.historical
        and not fact.negated
        and fact.code_system == "ICD10CM"
        and fact.code.startswith(tuple(judge_rules().chronic_prefixes))
    ):
        return replace(fact, historical=False)
    return fact


_SENT_NEGATION = re.compile(
    r"\b(?:no|not|denies|denied|without|negative\s+for|absence\s+of)\b", re.I
)


def _sentence_of(spans: Sequence[tuple[int, int]], offset: int) -> tuple[int, int]:
    for s, e in spans:
        if s <= offset <= e:
            return s, e
    return offset, offset


_CLAUSE_BREAK = re.compile(r",|;|:|\b(?:but|presents?|presented|with|and\s+(?:is|has|was))\b", re.I)


def _negated_before(text: str, spans: Sequence[tuple[int, int]], start: int) -> bool:
    """A negation cue in the same clause, at most 40 characters before the mention
    ("denies calf pain", not "with no past history presents with severe pain")."""
    s, _ = _sentence_of(spans, start)
    before = text[max(s, start - 40) : start]
    breaks = list(_CLAUSE_BREAK.finditer(before))
    if breaks:
        before = before[breaks[-1].end() :]
    return bool(_SENT_NEGATION.search(before))


IMPLIED = "implied"  # term modifier of a fact inferred by a rule, not stated
_RELATIVE = re.compile(
    r"\b(?:family|brothers?|sisters?|siblings?|mother|father|parents?|sons?|daughters?|"
    r"aunts?|uncles?|cousins?|grand(?:mother|father|parents?)|relatives?)\b",
    re.I,
)  # the finding belongs to a relative named earlier in its sentence


def implied_facts(text: str, spans: Sequence[tuple[int, int]]) -> list[PatientFact]:
    """Facts a clinician infers from what the summary states (``judge_rules.json``
    implications), plus BMI bounds from "obese": the summary states the finding, the criterion
    asks for the diagnosis or the value."""
    out: list[PatientFact] = []
    for rule in judge_rules().implications:
        for m in re.finditer(rule.patient, text, re.I):
            s, e = _sentence_of(spans, m.start())
            out.append(
                PatientFact(
                    "patient", "summary", SCREENING, "diagnosis", rule.system, rule.code,
                    rule.name, start=m.start(), end=m.end(), snippet=m.group(0),
                    lexical_variant=m.group(0), sentence=text[s:e],
                    negated=_negated_before(text, spans, m.start()),
                    family=bool(_RELATIVE.search(text[s : m.start()])),
                    term_modifiers=(IMPLIED,),
                )
            )  # fmt: skip
    vitals = patient_vitals(text)
    for vrule in judge_rules().vital_implications:
        span = _vital_implication_span(vrule, vitals, spans)
        if span is not None:
            s, e = _sentence_of(spans, span[0])
            out.append(
                PatientFact(
                    "patient", "summary", SCREENING, "diagnosis", vrule.system, vrule.code,
                    vrule.name, start=span[0], end=span[1], snippet=text[span[0] : span[1]],
                    lexical_variant=text[span[0] : span[1]], sentence=text[s:e],
                    term_modifiers=(IMPLIED,),
                )
            )  # fmt: skip
    for value in vitals.get("body mass index", []):
        if value.implied:
            out.append(
                PatientFact(
                    "patient", "summary", SCREENING, "lab", "LAB", "bmi", "body mass index",
                    start=value.start, end=value.end, snippet=text[value.start : value.end],
                    value_as_number=value.value, value_comparator=value.comparator,
                    term_modifiers=(IMPLIED,),
                )
            )  # fmt: skip
    return out


def _vital_implication_span(
    rule: VitalImplication,
    vitals: dict[str, list[VitalValue]],
    spans: Sequence[tuple[int, int]],
) -> tuple[int, int] | None:
    """Where the summary states every bound of a vital implication (the last value of each
    vital sign, as the judge reads vitals), or None when one is missing or not met. The span
    runs from the first to the last value when they share a sentence."""
    found: list[VitalValue] = []
    for bound in rule.bounds:
        values = vitals.get(bound.vital, [])
        if not values or _vital_label(bound.comparator, bound.value, values[-1]) != "met":
            return None
        found.append(values[-1])
    start = min(v.start for v in found)
    end = max(v.end for v in found)
    if _sentence_of(spans, start) != _sentence_of(spans, end - 1):
        first = min(found, key=lambda v: v.start)
        end = first.end
    return start, end


@dataclass(frozen=True, slots=True)
class VitalValue:
    """One stated (comparator "==") or implied ("tachycardic": > 100) vital-sign value."""

    comparator: str
    value: float
    start: int
    end: int
    implied: bool


def patient_vitals(text: str) -> dict[str, list[VitalValue]]:
    """Vital signs stated in the summary, by name; a stated number wins over a word."""
    out: dict[str, list[VitalValue]] = {}
    for rule in judge_rules().vitals:
        found = [
            VitalValue("==", float(next(g for g in m.groups() if g)), m.start(), m.end(), False)
            for m in re.finditer(rule.patient_value, text, re.I)
            if any(m.groups())
        ]
        if not found:
            spans = _sentence_spans(text)
            for b in rule.implied:
                for m in re.finditer(b.pattern, text, re.I):
                    if not _negated_before(text, spans, m.start()):
                        found.append(VitalValue(b.comparator, b.value, m.start(), m.end(), True))
                if found:
                    break
        if found:
            out[rule.name] = found
    return out


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


# "<n> years of education / since diagnosis / after surgery": a duration, not an age.
_DURATION_AFTER = re.compile(
    r"[^0-9]{0,25}?\d+(?:\.\d+)?\s*(?:years?|yrs?|months?)\s+(?:of(?!\s+age\b)|since|after|from|"
    r"before|post|prior|duration|history|experience|follow)\b",
    re.I,
)
_AGE_WORD_NEAR = re.compile(r"\b(?:of\s+age|years?\s+old|aged?)\b", re.I)


def _is_age_number(text: str, m: re.Match[str]) -> bool:
    """A number is an age when a years/months unit follows it or "age" stands just before.

    A duration is not: "2 years of education", "1 year since the diagnosis".
    """
    if _DURATION_AFTER.match(text, m.start()) and not _AGE_WORD_NEAR.search(
        text, m.start(), m.end() + 30
    ):
        return False
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
    span: tuple[float, float] | None = None  # the criterion's age range, once read
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
                span = (lo, hi)
                # "18-65 years" admits a 65-year-old until the 66th birthday.
                items.append(Demographic(attribute="age", comparator=">=", value=lo))
                items.append(Demographic(attribute="age", comparator="<", value=hi + scale))
            else:
                value = float(m[1]) * scale
                if value > 120 or (span is not None and span[0] <= value <= span[1]):
                    # A bound inside the criterion's range ("2-18 months, studied by age
                    # group ... < 6 months") names a sub-group, not a further requirement.
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
    r"\b(?:pregnan\w*|lactat(?:ion|ing)|breast[- ]?feed\w*|nursing\s+(?:women|mothers?)|nursing|"
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


# NCCN definition of menopause (Breast Cancer guidelines): age >= 60, or a bilateral
# oophorectomy, or 12 months of amenorrhoea. Below 60 a woman's childbearing potential is open
# unless the summary states menopause or a sterilising surgery.
CHILDBEARING_MAX_AGE = 60
_NON_CHILDBEARING = re.compile(
    r"\b(?:post-?menopaus\w*|(?:after|since)\s+(?:the\s+|her\s+)?menopause|"
    r"(?:gone|went|been)\s+through\s+(?:the\s+|her\s+)?menopause|"
    r"hysterectom\w*|bilateral\s+(?:salpingo-?)?oophorectom\w*|(?-i:BSO)|tubal\s+ligation|"
    r"surgically\s+steril\w*|(?:she\s+(?:is|was|has\s+been)\s+)sterili[sz]ed)\b",
    re.I,
)  # stated menopause or sterilisation; "going through menopause" (perimenopause) is not
# A criterion that asks for non-childbearing status ("postmenopausal", "surgically sterile",
# "not of childbearing potential"): stated menopause or sterilisation meets it.
_ASKS_NON_CHILDBEARING = re.compile(
    r"\b(?:post-?menopaus\w*|surgically\s+steril\w*|steril(?:e|i[sz]ed)|"
    r"(?:not|non)[- ]?(?:of\s+)?(?:child[- ]?bearing|reproductive)\b)",
    re.I,
)
_ASKS_CHILDBEARING = re.compile(
    r"\b(?:pregnan\w*|lactat\w*|breast[- ]?feed\w*|nursing|contracept\w*|birth[- ]control|"
    r"premenopaus\w*|(?<!non)(?<!non-)(?<!not\s)(?<!not\sof\s)child[- ]?bearing)",
    re.I,
)  # a criterion about pregnancy or fertility itself
_PLANNED = re.compile(
    r"\b(?:scheduled|planned|planning|plans?|awaiting|await\w*|candidate\s+for|considering|"
    r"considered\s+for|referred|recommended|offered|pending|upcoming|elective|will|would|"
    r"to\s+undergo|before|prior\s+to|wish\w*|desires?|request\w*)\b",
    re.I,
)  # a procedure yet to come is not one that was done


def _stated_of_patient(text: str, spans: Sequence[tuple[int, int]], start: int) -> bool:
    """Whether a mention states the patient's own, done or present condition: not negated,
    not a relative's ("her mother had a hysterectomy"), not planned ("scheduled for")."""
    if _negated_before(text, spans, start):
        return False
    s, _ = _sentence_of(spans, start)
    clause = re.split(r";|\bbut\b", text[s:start], flags=re.I)[-1]
    planned_after = re.match(
        r"[^.;\n]{0,20}?\b(?:is|was|are|were|has\s+been|had\s+been)\s+(?:now\s+)?"
        r"(?:planned|scheduled|proposed|recommended|pending|being\s+considered)\b",
        text[start:],
        re.I,
    )  # "a hysterectomy is planned for next spring"
    return not (_RELATIVE.search(clause) or _PLANNED.search(clause[-40:]) or planned_after)


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
_WASHOUT = re.compile(
    r"^\s*(?:\d+[.)]\s*)?(?:(?:patients?|subjects?|participants?)\s+)?"
    r"(?:(?:must|should|will|agrees?\s+to)\s+(?:discontinue|stop|withhold)(?:\s+(?:taking|using))?|"
    r"(?:a\s+)?(?:minimum|at\s+least)\s+(?:of\s+)?\S+\s+(?:days?|weeks?|months?|years?)\s+"
    r"(?:since|after|from)(?:\s+(?:the\s+)?(?:last|end\s+of))?)\s+(?:any\s+|all\s+)?",
    re.I,
)  # a washout: "Minimum of two weeks since any major surgery", "must discontinue NSAIDs"
# What follows "at least N months since/after" when it is an event to have had, not an exposure
# to have stopped: a diagnosis, an onset, a transplant, a birth, an injury.
_EVENT_ANCHOR = re.compile(
    r"(?:the\s+|his\s+|her\s+|their\s+)?(?:[\w-]+\s+){0,3}?(?:diagnos\w*|onset|symptoms?|"
    r"transplant\w*|birth|deliver\w*|injur\w*|trauma|stroke|infarction|fracture|"
    r"pregnan\w*|first\s+(?:episode|presentation))\b",
    re.I,
)


_SITE = re.compile(
    r"\b(?:seen|treated|admitted|hospitali[sz]ed|enrolled|recruited|registered|presenting|"
    r"attending|followed)\s+(?:at|to|in|by)\s+(?:the\s+|(?:either|one|any)\s+of\s+the\s+)?"
    r"(?P<site>(?-i:(?:[A-Z][\w'.&-]*\s+){1,6}?)(?:Medical\s+Cent(?:er|re)|Hospitals?|Clinics?|"
    r"University|Health\s+(?:System|Cent(?:er|re))|Cent(?:er|re))|"
    r"study\s+(?:hospitals?|sites?|cent(?:er|re)s?|clinics?))\b",
    re.I,
)  # an inclusion that names the institution or study site where the patient is seen

_ACUTE_CRIT = re.compile(
    r"\bacute\s+(?:medical\s+)?(?:diseases?|illness(?:es)?|conditions?)\b"
    r"(?!\s+(?:of|affecting|involving)\s+(?:the\s+)?(?!any\b|an?\b)\w)|\bacutely\s+ill\b",
    re.I,
)  # a general acute illness, not "acute conditions of the eye" (one organ's diseases)
_HEALTHY_CRIT = re.compile(
    r"\bhealthy\s+(?:adult\s+|male\s+|female\s+)?(?:volunteers?|subjects?|participants?|"
    r"individuals?|persons?|people|adults?|men|women|males?|females?|controls?)\b|"
    r"\b(?:otherwise|medically|generally|clinically)\s+healthy\b|"
    r"\b(?:good|general)\s+(?:general\s+|physical\s+|medical\s+)?health\b",
    re.I,
)  # a healthy subject or good general health, not "a healthy diet" or "healthy skin"
_OTHER_THAN = re.compile(
    r"\b(?:other|except|unrelated|not\s+related|apart\s+from|besides)\b", re.I
)  # "acute illness other than ...": the patient's own presenting illness may be exempt
_ACUTE_CARE = re.compile(
    r"\bemergency\s+(?:room|department|unit|ward)|"
    r"\b(?-i:ER|ED)\s+(?:room|department|visit|admission|triage)|"
    r"\b(?:present\w*|brought|came|comes|coming|arriv\w*|rushed|taken|seen|evaluated)\s+"
    r"(?:back\s+)?(?:to|at|in)\s+(?:the\s+|an?\s+|our\s+|his\s+|her\s+)?(?-i:ER|ED)\b|"
    r"\bhospitali[sz]ed\b|"
    r"\badmitted\s+(?:\w+\s+){0,2}?(?:to|in|into)\s+(?:the\s+|an?\s+|our\s+)?(?:\w+\s+){0,2}?"
    r"(?:hospital|(?-i:ICU|CCU|PICU|NICU)|ward|unit|floor)\b|"
    r"\b(?:was|is|were|been|being)\s+(?:\w+\s+)?admitted\b(?!\s+to\s+\w+ing\b)|"
    r"\bintensive\s+care\b|\b(?-i:ICU)\b",
    re.I,
)  # emergency or hospital care; not "ER-positive", "ED" (erectile), "admitted to using"
_CLAUSE_END = re.compile(
    r"[,;:]|\b(?:but|and|who|which|where|now|currently|presents?|presented|today)\b", re.I
)
_PAST_BEFORE = re.compile(
    r"\b(?:history\s+of|previous(?:ly)?|formerly|once|in\s+the\s+past|in\s+(?:19|20)\d\d|"
    r"as\s+an?\s+(?:child|teenager|infant|adolescent)|at\s+(?:the\s+)?age\s+(?:of\s+)?\d+)\b",
    re.I,
)  # "history of ICU admission", "in 2010 she was hospitalized"
_PAST_AFTER = re.compile(
    r"\b(?:\w+\s+)?(?:years?|months?|decades?)\s+(?:ago|earlier|before|previously)\b|"
    r"\b(?:in|during)\s+(?:19|20)\d\d\b|\blast\s+year\b|\bin\s+the\s+past\b|"
    r"\bas\s+an?\s+(?:child|teenager|infant|adolescent)\b|\bat\s+(?:the\s+)?age\s+(?:of\s+)?\d+",
    re.I,
)  # "hospitalized 10 years ago", "admitted to hospital in 2012"


def _in_past_clause(text: str, spans: Sequence[tuple[int, int]], start: int, end: int) -> bool:
    """Whether the clause around a mention dates it to the past."""
    s, e = _sentence_of(spans, start)
    before = text[s:start]
    breaks = list(_CLAUSE_END.finditer(before))
    lo = s + breaks[-1].end() if breaks else s
    after = _CLAUSE_END.search(text, end, e) if e > end else None
    hi = after.start() if after else e
    return bool(_PAST_BEFORE.search(text[lo:start]) or _PAST_AFTER.search(text[end:hi]))


def _health_judgement(crit: str, kind: str, profile: PatientProfile) -> Judgement | None:
    """A patient brought to emergency or hospital care for a presenting problem has an acute
    illness and is not a healthy subject: "acute disease at the time of enrolment" (exclusion)
    is met and "in good health" (inclusion) is not met. None when the criterion is neither,
    exempts some illness ("other than ..."), or the summary shows no acute care."""
    acute_crit = _ACUTE_CRIT.search(crit) if kind == "exclusion" else None
    healthy_crit = _HEALTHY_CRIT.search(crit) if kind == "inclusion" else None
    if not (acute_crit or healthy_crit) or _OTHER_THAN.search(crit) or _NEGATIVE.match(crit):
        return None
    care = next(
        (
            m
            for m in _ACUTE_CARE.finditer(profile.text)
            if not _negated_before(profile.text, profile.sentences, m.start())
            and not _in_past_clause(profile.text, profile.sentences, m.start(), m.end())
        ),
        None,
    )
    if care is None:
        return None
    s, e = _sentence_of(profile.sentences, care.start())
    evidence = (Span(s, e, profile.text[s:e]),)
    if acute_crit:
        return Judgement(
            "met", "presenting to emergency or hospital care: an acute illness", evidence
        )
    return Judgement(
        "not_met", "presenting to emergency or hospital care: not a healthy subject", evidence
    )


_FEMALE_ORGAN = re.compile(
    r"^\s*(?:\d+[.)]\s*)?(?:(?:patients?|subjects?|women|participants?)\s+(?:who\s+)?)?"
    r"(?:must\s+)?(?:have|has|having|with)\s+(?:an?\s+|the\s+|their\s+|her\s+)?(?:intact\s+)?"
    r"(?:at\s+least\s+one\s+)?(?P<organ>cervix|uterus|ovaries|ovary)\s*\.?\s*$",
    re.I,
)  # an inclusion that only asks for a female organ ("have a cervix")
_ORGAN_REMOVAL = {
    # a supracervical (subtotal) hysterectomy leaves the cervix; one oophorectomy, one ovary
    "cerv": re.compile(
        r"\b(?<!supracervical\s)(?<!supra-cervical\s)(?<!subtotal\s)(?<!partial\s)"
        r"hysterectom\w*|\btrachelectom\w*|\b(?-i:TAH)\b",
        re.I,
    ),
    "uter": re.compile(r"\bhysterectom\w*|\b(?-i:TAH)\b", re.I),
    "ovar": re.compile(
        r"\bbilateral\s+(?:salpingo-?)?oophorectom\w*|\b(?-i:BSO)\b|"
        r"\b(?:both|two)\s+ovaries\s+(?:were\s+|had\s+been\s+)?removed",
        re.I,
    ),
}


def _non_childbearing_stated(profile: PatientProfile) -> re.Match[str] | None:
    """The summary's statement of menopause or a sterilising surgery of the patient herself."""
    return next(
        (
            m
            for m in _NON_CHILDBEARING.finditer(profile.text)
            if _stated_of_patient(profile.text, profile.sentences, m.start())
        ),
        None,
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

_ABILITY = re.compile(
    r"\b(?:(?:physically\s+)?ab(?:le|ility)|capable|fit|willing(?:ness)?)\s+(?:and\s+\w+\s+)?"
    r"to\s+(?:undergo|take|tolerate|swallow|perform|travel|return)\b|\bvoluntar\w*|"
    r"\bvolunteers?\s+to\b",
    re.I,
)  # ability to undergo a procedure: a question of fitness and consent, not of having it
_MEASURE_WORDS = re.compile(r"(?:≥|≤|<|>|=)\s*\d", re.I)

_STOP = set(
    """a an the of in on at to for with without and or not no nor by from as is are was were be
    been being have has had having who whom which that this these those any all other than such
    patient patients subject subjects participant participants individual individuals person
    people study trial criteria criterion inclusion exclusion must should will would may can could
    known history documented diagnosis diagnosed evidence presence current currently clinical
    suspicion suspected state
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


# Words that name no condition: with sex terms, all a sex-only or status-only criterion holds.
_GENERIC_TERMS = content_terms(
    "surgical surgically patient patients subject subjects participant participants status "
    "potential gender genders sex sexes older younger between eligible study only either both"
)


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


_WORD_NUM = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
             "eight": 8, "nine": 9, "ten": 10, "a": 1, "an": 1, "several": 3}  # fmt: skip
_UNIT_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}
_N = r"(\d+|one|two|three|four|five|six|seven|eight|nine|ten)"
_REQUIRED = re.compile(
    r"(?P<op>more\s+than|longer\s+than|over|at\s+least|≥|>=|>|less\s+than|shorter\s+than|"
    r"under|<|≤|<=)\s*" + _N + r"\s*(?P<unit>day|week|month|year)s?\b",
    re.I,
)
_STATED = re.compile(
    r"\bfor\s+(?:the\s+(?:past|last)\s+)?(?:about\s+|over\s+)?(?P<n>\d+|one|two|three|four|"
    r"five|six|seven|eight|nine|ten|a|an|several)\s+(?P<unit>day|week|month|year)s?\b|"
    r"\b(?P<n2>\d+|one|two|three|four|five|six|seven|eight|nine|ten)[- ](?P<unit2>day|week|month|year)"
    r"\s+history\b",
    re.I,
)


def _days(n: str, unit: str) -> float:
    value = float(n) if n.isdigit() else float(_WORD_NUM[n.lower()])
    return value * _UNIT_DAYS[unit.lower()]


def duration_label(
    crit: str, profile: PatientProfile, spans: Sequence[Span]
) -> tuple[Label, str] | None:
    """Compare a required duration ("fever more than one week") with the duration the
    evidence sentence states ("fever ... for 2 days", "a 3-week history"); None when either
    is missing."""
    req = _REQUIRED.search(crit)
    if req is None:
        return None
    need = _days(req[2], req["unit"])
    for s, e in profile.sentences:
        if not any(s <= sp.start < e for sp in spans):
            continue
        m = _STATED.search(profile.text, s, e)
        if m is None:
            continue
        have = _days(m["n"] or m["n2"], m["unit"] or m["unit2"])
        op = re.sub(r"\s+", " ", req["op"].lower())
        longer = op in ("more than", "longer than", "over", ">")
        at_least = op in ("at least", "≥", ">=")
        if longer or at_least:
            ok = have > need if longer else have >= need
        else:
            ok = have < need if op in ("less than", "shorter than", "under", "<") else have <= need
        label: Label = "met" if ok else "not_met"
        return label, f"stated duration {m[0]!r} vs required {req[0]!r}"
    return None


_WITHIN = re.compile(
    r"\bwithin\s+(?:the\s+)?(?:last\s+|past\s+|previous\s+|preceding\s+)?" + _N
    + r"\s+(?P<unit>day|week|month|year)s?\b",
    re.I,
)  # fmt: skip


def with_window(node: Requirement | None, crit: str) -> Requirement | None:
    """Give a condition without a time window the criterion's one "within N months" window
    ("Recent myocardial infarction within 3 months prior to screening"), which the parser
    may leave out: a dated mention ("2 years earlier") then decides it."""
    windows = list(_WITHIN.finditer(crit))
    if len(windows) != 1 or node is None:
        return node
    days = round(_days(windows[0][1], windows[0]["unit"]))
    window = TimeWindow(max_days_before=days, text=windows[0][0])
    if isinstance(node, Condition) and node.window is None:
        return node.model_copy(update={"window": window, "status": "ever"})
    return node


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


def evidence_coverage(
    crit: str,
    profile: PatientProfile,
    spans: Sequence[Span],
    names: Sequence[str] = (),
    broadened: Sequence[str] = (),
    decided: frozenset[str] = frozenset(),
) -> float:
    """Share of the criterion's key terms found in the sentences holding the evidence. When the
    evidence is an inference ("anti-dsDNA positive" -> lupus), the inferred concept is not
    written in the sentence: its names (``names``, the criterion's concepts) count as found."""
    terms = content_terms(crit) - decided
    if not terms:
        return 1.0
    found: set[str] = set()
    for s, e in profile.sentences:
        if any(s <= sp.start < e for sp in spans):
            found |= content_terms(profile.text[s:e])
    if _inferred_only(spans, profile):
        for f in profile.facts:
            if IMPLIED in f.term_modifiers and any(sp.start == f.start for sp in spans):
                found |= content_terms(f.preferred_name)
        for name in names:
            found |= content_terms(name)
    if broadened:
        # A concept matched through its group or category ("malignancy" by "breast cancer")
        # is documented whatever the note calls it: what is left to document are the
        # criterion's qualifiers ("traumatic cause of"); time words are the window's to decide.
        naming: set[str] = set(_TIME_TERMS) | _CLASSIFICATION_TERMS
        for name in broadened:
            naming |= _synonym_terms().get(name.lower(), frozenset())
        qualifiers = terms - naming
        if not qualifiers:
            return 1.0
        return len(qualifiers & found) / len(qualifiers)
    return len(terms & found) / len(terms)


_DOSE_TERMS = frozenset(
    content_terms(
        "dose doses dosage dosing daily day days week weekly mg milligram milligrams kg per more "
        "less than greater higher lower least most exceeding above below equivalent equivalents "
        "equivalence"
    )
    | content_terms(" ".join(PREDNISONE_MG_PER_MG))
)


def dose_terms(requirement: Requirement | None) -> frozenset[str]:
    """The words of a dose bound the evaluator compared ("> 10 mg/day prednisone or
    equivalent"): a verdict on the dose has documented them, whatever the note's words."""
    for node in _leaves(requirement):
        if isinstance(node, Medication) and node.dose is not None:
            return _DOSE_TERMS
    return frozenset()


# Words that say by which classification a diagnosis is made ("DSM-IV defined Axis I
# disorders", "according to ICD-10 criteria"): they name how, not what.
_CLASSIFICATION_TERMS = content_terms(
    "DSM DSM-IV DSM-IV-TR DSM-5 DSM-V ICD ICD-10 ICD-11 axis defined definition according "
    "criteria criterion diagnosed diagnosis diagnostic"
)


_TIME_TERMS = content_terms(
    "recent recently within prior previous previously past history current currently ongoing "
    "active before after since during last months month weeks week days day years year screening "
    "enrollment enrolment randomization baseline"
)


@lru_cache(maxsize=1)
def _synonym_terms() -> dict[str, frozenset[str]]:
    """Content words of every term of a lexicon concept, by its preferred name."""
    from pipeline.lexicon import load_concepts, load_drugs

    out: dict[str, set[str]] = {}
    for c in load_concepts().concepts:
        words = " ".join([c.preferred_name, *c.terms, *c.case_sensitive_terms])
        out.setdefault(c.preferred_name.lower(), set()).update(content_terms(words))
    drugs = load_drugs()
    for cls, terms in drugs.class_terms.items():
        out.setdefault(f"class:{cls}", set()).update(content_terms(" ".join([cls, *terms])))
    return {k: frozenset(v) for k, v in out.items()}


@lru_cache(maxsize=1)
def _lexicon_terms() -> dict[tuple[str, str], frozenset[str]]:
    from pipeline.lexicon import load_concepts

    out: dict[tuple[str, str], set[str]] = {}
    for c in load_concepts().concepts:
        words = " ".join([c.preferred_name, *c.terms, *c.case_sensitive_terms])
        out.setdefault((c.code_system, c.code), set()).update(content_terms(words))
    return {k: frozenset(v) for k, v in out.items()}


def synonym_terms(requirement: Requirement | None) -> set[str]:
    """Content words of every lexicon synonym of the requirement's concepts ("FAP",
    "attenuated FAP" for familial adenomatous polyposis): words that name the concept."""
    table = _lexicon_terms()
    out: set[str] = set()
    for leaf in _leaves(requirement):
        if isinstance(leaf, Condition):
            for c in leaf.concepts:
                out |= table.get((c.system, c.code), frozenset())
    return out


def broadened_names(requirement: Requirement | None) -> list[str]:
    """Names of the concepts a requirement asks for by a group or category code that no lexicon
    entry carries ("C" for malignancy, "I50" for heart failure): see ``pipeline.icd_groups``."""
    from pipeline.concepts import concept_index

    records = concept_index().records
    names = [
        c.name
        for leaf in _leaves(requirement)
        if isinstance(leaf, Condition)
        for c in leaf.concepts
        if c.name and f"{c.system}:{c.code}" not in records
    ]
    # A drug class is matched by its member drugs ("SSRIs" by sertraline): the note never
    # writes the class's own words.
    names += [
        f"class:{cls}"
        for leaf in _leaves(requirement)
        if isinstance(leaf, Medication)
        for cls in leaf.drug_classes
    ]
    return names


def concept_names(requirement: Requirement | None) -> list[str]:
    """Names of the concepts a parsed requirement refers to."""
    names: list[str] = []
    for leaf in _leaves(requirement):
        if isinstance(leaf, Condition):
            names += [c.name for c in leaf.concepts if c.name]
        elif isinstance(leaf, Measurement):
            names += [c.name for c in leaf.analytes if c.name]
    return names


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


_THRESHOLD = re.compile(
    r"[^\d<>≤≥;,.]{0,30}?"
    r"(?P<op>≥|>=|=>|≤|<=|=<|>|<|=|at\s+least|at\s+most|no\s+more\s+than|no\s+less\s+than|"
    r"(?:greater|more|higher|less|lower)\s+than\s+or\s+equal\s+to|"
    r"(?:more|greater|higher|less|lower)\s+than|above|over|below|under|exceeding)?\s*"
    r"(?P<num>\d{1,3}(?:\.\d+)?)(?P<tail>\s*(?:°\s*C|℃|C\b|/\s*min\w*|mm\s*Hg|kg/m2|bpm|"
    r"breaths|beats)?[^,;.\d]{0,25}?\b(?:or\s+(?:more|higher|greater|above|less|lower|below)|"
    r"and\s+(?:above|over|below|under))\b)?",
    re.I,
)
_OPS: dict[str, str] = {
    "≥": ">=", ">=": ">=", "=>": ">=", "at least": ">=", "no less than": ">=",
    "≤": "<=", "<=": "<=", "=<": "<=", "at most": "<=", "no more than": "<=",
    "greater than or equal to": ">=", "more than or equal to": ">=",
    "higher than or equal to": ">=", "less than or equal to": "<=",
    "lower than or equal to": "<=",
    ">": ">", "more than": ">", "greater than": ">", "higher than": ">", "above": ">",
    "over": ">", "exceeding": ">", "<": "<", "less than": "<", "lower than": "<",
    "below": "<", "under": "<", "=": "==",
}  # fmt: skip
_TARGET = re.compile(r"\b(?:maintain\w*|keep|target\w*|goal)\b", re.I)


def vital_thresholds(crit: str) -> list[tuple[VitalRule, str, float]]:
    """(vital, comparator, value) for each vital sign a criterion bounds ("Heart rate of at
    least 90/min", "temperature higher than 38 C", "a PaCO2 of 32 mmHg or lower")."""
    out: list[tuple[VitalRule, str, float]] = []
    for rule in judge_rules().vitals:
        for m in re.finditer(rule.criterion, crit, re.I):
            t = _THRESHOLD.match(crit, m.end())
            if t is None or re.match(
                r"\s*(?:%|percent|days?|weeks?|months?|years?|hours?|hrs?|h\b|times|x\b|standard|SD\b|fold)",
                crit[t.end("num") :],
                re.I,
            ):
                continue  # a duration or a share, not the vital sign's value
            op = re.sub(r"\s+", " ", (t["op"] or "").lower())
            if op == "=" and re.match(r"\s*(?:[-–—]|to\b|or\b|and\b)", crit[t.end("num") :], re.I):
                continue  # "BMI = 30-40", "GCS = 3 or 4": a range or a choice, not one value
            tail = (t["tail"] or "").lower()
            if any(w in tail for w in ("more", "higher", "greater", "above", "over")):
                comparator = ">="
            elif any(w in tail for w in ("less", "lower", "below", "under")):
                comparator = "<="
            elif op in _OPS:
                comparator = _OPS[op]
            else:
                continue
            out.append((rule, comparator, float(t["num"])))
            break
    return out


def _vital_label(comparator: str, bound: float, v: VitalValue) -> Label:
    """Does the patient's value (or implied bound) satisfy "comparator bound"?"""
    ops: dict[str, Callable[[float, float], bool]] = {
        ">": lambda a, b: a > b,
        ">=": lambda a, b: a >= b,
        "<": lambda a, b: a < b,
        "<=": lambda a, b: a <= b,
    }
    if comparator == "==":
        # "GCS = 3": only a stated value decides an exact score.
        if v.comparator != "==":
            return "unknown"
        return "met" if v.value == bound else "not_met"
    if v.comparator == "==":
        return "met" if ops[comparator](v.value, bound) else "not_met"
    patient_high = v.comparator in (">", ">=")
    wants_high = comparator in (">", ">=")
    if patient_high == wants_high:
        # "HR > 100" satisfies "HR >= 90"; it says nothing about "HR >= 120".
        return "met" if (v.value >= bound if wants_high else v.value <= bound) else "unknown"
    return "not_met" if (v.value <= bound if wants_high else v.value >= bound) else "unknown"


def _joined_to_other_parts(crit: str) -> bool:
    """Whether a vital-sign bound of the criterion is joined by "and" to a part that is not a
    vital sign, within one alternative (the text between "or"s and semicolons). A list of
    alternatives ("one or more of ..., obesity (BMI > 25), and ECG abnormality") is not."""
    if _ALTERNATIVES.search(crit):
        return False
    for segment in re.split(r"\bor\b|;", crit, flags=re.I):
        parts = re.split(r"\band\b", segment, flags=re.I)
        if len(parts) > 1 and vital_thresholds(segment):
            if any(not vital_thresholds(p) for p in parts if content_terms(p)):
                return True
    return False


def _bound_vital_named_only(crit: str, profile: PatientProfile, spans: Sequence[Span]) -> bool:
    """Whether every evidence span only names a vital sign ("fever") whose value the criterion
    bounds ("fever > 38.5 C") and the summary does not state."""
    vitals = patient_vitals(profile.text)
    unstated = [rule for rule, _, _ in vital_thresholds(crit) if rule.name not in vitals]
    return bool(unstated) and all(
        any(re.fullmatch(rule.criterion, s.text.strip(), re.I) for rule in unstated) for s in spans
    )


def vital_judgement(
    crit: str, profile: PatientProfile, kind: str = "inclusion"
) -> Judgement | None:
    """Judge a criterion bounding vital signs against the values (or the words: tachycardic,
    tachypneic, febrile, hypotensive, obese) of the summary. Alternatives joined by "or" need
    one met bound; otherwise every bound must be met. None when it cannot decide."""
    thresholds = vital_thresholds(crit)
    if not thresholds or _TARGET.search(crit):
        return None
    vitals = patient_vitals(profile.text)
    labels: list[Label] = []
    evidence: list[Span] = []
    reasons: list[str] = []
    for rule, comparator, bound in thresholds:
        values = vitals.get(rule.name, [])
        if not values:
            labels.append("unknown")
            continue
        v = values[-1]
        label = _vital_label(comparator, bound, v)
        labels.append(label)
        evidence.append(Span(v.start, v.end, profile.text[v.start : v.end]))
        stated = f"{'implied ' if v.implied else ''}{v.comparator} {v.value:g}"
        reasons.append(f"{rule.name} {stated} vs {comparator} {bound:g} {rule.unit}: {label}")
    alternatives = bool(re.search(r"\bor\b", crit, re.I))
    if (
        kind == "exclusion"
        and not evidence
        and all(r.reported_when_abnormal for r, _, _ in thresholds)
    ):
        # Vital signs are taken at every presentation; a summary reports the abnormal ones.
        return Judgement(
            "not_met", "no abnormal vital sign reported in a complete summary", presumed=True
        )
    if "met" in labels and _joined_to_other_parts(crit):
        # "either a GCS <= 8 and an abnormal CT scan, or ...": the met bound is one part of
        # an alternative whose other part is no vital sign; the vital sign does not decide it.
        return None
    if "met" in labels and (alternatives or all(x == "met" for x in labels)):
        return Judgement("met", "; ".join(reasons), tuple(evidence))
    if labels and all(x == "not_met" for x in labels) and not alternatives:
        # With "or", the other alternatives may be no vital sign ("... or ventilation").
        return Judgement("not_met", "; ".join(reasons), tuple(evidence))
    return None


INFERRED_MAX_TERMS = 2
LONG_CRITERION_TERMS = 10
LONG_CRITERION_COVERAGE = 0.2
_ALTERNATIVES = re.compile(
    r"\b(?:(?:at\s+least\s+)?one\s+of|any\s+of|one\s+or\s+more|such\s+as|e\.\s?g\b|"
    r"for\s+example|including)",
    re.I,
)


def _partly_verified(crit: str, profile: PatientProfile, spans: Sequence[Span]) -> bool:
    """A long inclusion (a definition with several parts: setting, severity, cause, test
    results) is not met by one matching concept whose sentences hold under a fifth of its terms,
    unless the criterion lists alternatives ("at least one of", "such as"), where one suffices."""
    if len(content_terms(crit)) < LONG_CRITERION_TERMS or _ALTERNATIVES.search(crit):
        return False
    return evidence_coverage(crit, profile, spans) < LONG_CRITERION_COVERAGE


_CLINICAL_JUDGEMENT = re.compile(
    r"\b(?:considered|deemed|judged|candidates?|suitable|eligible|appropriate)\s+(?:for|to)\b|"
    r"\bcandidates?\b",
    re.I,
)  # candidacy or suitability for a treatment: a clinician's judgement, not a condition

_SEVERITY = re.compile(
    r"\b(?:mild(?:ly)?|moderate(?:ly)?|severe(?:ly)?|advanced|end[- ]stage|grade|stage|class)\b",
    re.I,
)  # a severity or grade: an inference from a finding names the disease, not how severe it is


def _only_tests(spans: Sequence[Span], profile: PatientProfile) -> bool:
    """Whether all evidence is an examination or test having been done ("physical
    examination", "CT scan"): that answers "underwent a CT", not "a normal CT" or "in good
    health based on physical examination"."""
    tests = set(judge_rules().diagnostic_tests)
    at = {(s.start, s.end) for s in spans}
    matched = [f for f in profile.facts if (f.start, f.end) in at]
    return bool(matched) and all(f.code in tests for f in matched)


def _inferred_only(spans: Sequence[Span], profile: PatientProfile) -> bool:
    """Whether all evidence comes from an implication rule (a finding read as a diagnosis):
    such an inference answers a bare concept ("Claudication"), not its grading or staging
    ("claudication with Rutherford stage 2")."""
    implied = {(f.start, f.end) for f in profile.facts if IMPLIED in f.term_modifiers}
    return all((s.start, s.end) in implied for s in spans)


_CONDITIONAL = (
    # "If an eligible patient is dead on arrival, the family will not be invited ..."
    re.compile(r"^\s*(?:\d+[.)]\s*)?(?:if|in\s+case)\s+(?P<c>[^,;]{3,120}?)(?:,|\s+then\b)", re.I),
    # "Recipients who have had a stem cell transplant must be at least 21 days after ..."
    re.compile(
        r"^\s*(?:\d+[.)]\s*)?(?:recipients|patients|subjects|participants|those|individuals)\s+"
        r"who\s+(?P<c>(?:have\s+had|have\s+received|have\s+undergone|underwent|received)\s+"
        r"[^,;]{3,80}?)\s+(?:must|should|shall|need\s+to|are\s+required\s+to)\b",
        re.I,
    ),
    # "Recurrent hematoma if the first surgery was performed before study start"
    re.compile(r"^[^,;]{3,40}?\s+if\s+(?P<c>[^,;]{3,80})$", re.I),
)
_NOT_A_CONDITION = re.compile(r"\b(?:included|eligible|enrolled|excluded)\s+if\b", re.I)


def conditional_clause(crit: str) -> str | None:
    """The condition of a criterion that binds only some patients ("If X, ...", "Patients
    who have had X must ...", "Y if X"), or None. When the condition does not hold, the
    criterion does not apply: ``not_applicable``, the TrialGPT label for criteria about a
    situation the patient is not in."""
    if _NOT_A_CONDITION.search(crit):
        return None
    for pattern in _CONDITIONAL:
        m = pattern.search(crit.strip())
        if m:
            return m["c"].strip()
    return None


_INTERVENTION = re.compile(
    r"^\s*(?:\d+[.)]\s*)?(?:(?:adult\s+)?(?:patients?|subjects?|participants?|those|people)\s+)?"
    r"(?:who\s+)?(?:(?:are|is|were|was|have\s+been|has\s+been|being)\s+)?"
    r"(?:undergoing|scheduled\s+for|treated\s+with|mechanically\s+ventilated|on\s+mechanical\s+"
    r"ventilation|intubated|(?:the\s+)?use\s+of\s+vasopressors|"
    r"(?:on|maintenance|chronic)\s+(?:hemo|haemo|peritoneal\s+)?dialysis)\b",
    re.I,
)


_PROGNOSIS = re.compile(
    r"\bmoribund\b|\b(?:will|would|could|may)\s+not\s+survive\b|"
    r"\b(?:(?:not|un)\s*)?(?:expected|likely)\s+to\s+(?:survive|recover|die)\b|"
    r"\bimminent(?:ly)?\s+(?:death|dying)\b",
    re.I,
)


_SCALE_COMPONENT = re.compile(
    r"\b(?:(?-i:GCS)|Glasgow\s+coma\s+(?:scale|score))\b[\s(),-]*(?:(?-i:GCS)[\s)]*)?"
    r"(?:best\s+)?(?:motor|verbal|eyes?)\b|"
    r"\b(?:best\s+)?(?:motor|verbal|eye)\s+(?:(?-i:GCS)|(?:sub-?score|component|response)\s+"
    r"(?:of|on)\s+the\s+(?:(?-i:GCS)|Glasgow))\b",
    re.I,
)  # a component (motor, verbal, eye) of the Glasgow coma scale, not its total


_NEW_REQUIREMENT = re.compile(
    r"\s*(?:(?:and|but)\s+)?(?:(?:the\s+)?(?:patients?|subjects?|participants?)\s+)?"
    r"(?:must|should|shall|will|able|willing|agree\w*|requir\w*|need\w*|capable|consent\w*|"
    r"provid\w*|sign\w*|undergo\w*|receiv\w*|(?:is|are|be)\s+(?:able|willing|expected))\b",
    re.I,
)  # what opens a new requirement after a semicolon, not a further item of a list


def _silent_default(kind: str, crit: str, category: str) -> tuple[Label, str]:
    """What silence means: closed world for exclusions (a complete summary would mention a
    serious excluding condition), except for values a summary rarely reports; open world for
    inclusions, except an inclusion whose subject is an intervention the patient undergoes
    (surgery, ventilation, vasopressors, dialysis, a named therapy): a summary would mention it.
    A bare prognosis ("moribund", "not expected to survive") is a judgement, not a condition:
    silence leaves it open."""
    if kind == "inclusion" and _INTERVENTION.search(crit):
        return "not_met", "the required intervention is not mentioned in a complete summary"
    if kind == "inclusion":
        return "unknown", "not mentioned in the summary"
    if category == "measurement":
        return "unknown", "value not reported in the summary"
    if _PROGNOSIS.search(crit):
        # "Moribund", "will not survive 24 hours", "expected to recover rapidly": a bedside
        # forecast a summary of findings does not state (a disease that shortens life would be).
        return "unknown", "a clinician's prognosis, not stated in the summary"
    return "not_met", "not mentioned in a complete summary: taken as absent"


def _fertility_judgement(crit: str, kind: str, profile: PatientProfile) -> Judgement | None:
    """Pregnancy and childbearing criteria for a woman whose summary states no pregnancy.
    Childbearing potential is open below 60 unless menopause or sterilisation is stated. A
    criterion that asks for non-childbearing status ("postmenopausal", "surgically sterile")
    is met by it; one about pregnancy or fertility itself is not."""
    negation = _NEGATIVE.match(crit)
    if kind == "inclusion" and not negation and _PREGNANT_STATE.search(crit):
        # An inclusion that requires a pregnancy: a summary would say the patient is pregnant.
        return Judgement("not_met", "no pregnancy stated in the summary")
    stated = _non_childbearing_stated(profile)
    aged = profile.age is not None and profile.age >= CHILDBEARING_MAX_AGE
    open_ = not stated and not aged
    why = (
        "menopause or sterilisation stated"
        if stated
        else f"age {profile.age:.0f}: beyond childbearing age"
        if aged and profile.age is not None
        else "childbearing potential not settled for a woman under 60"
    )
    evidence = (Span(stated.start(), stated.end(), stated.group(0)),) if stated else ()
    body = crit[negation.end() :] if negation else crit
    if negation and re.match(r"\s*(?:of\s+)?(?:child[- ]?bearing|reproductive)\b", body, re.I):
        # "Non-childbearing potential", "not of childbearing potential": asks for the status.
        negation, body = None, "non-childbearing"
    asked = _ASKS_NON_CHILDBEARING.search(body)
    if asked and not _ASKS_CHILDBEARING.search(body):
        # "Women who are not postmenopausal": a negation inside the criterion
        denied = re.search(
            r"\b(?:not|never)\s+(?:yet\s+)?(?:been\s+|be\s+)?$", body[: asked.start()]
        )
        rest = _ASKS_NON_CHILDBEARING.sub(" ", body)
        if not (negation or denied) and content_terms(rest) - _SEX_TERMS - _GENERIC_TERMS:
            # "Postmenopausal women with osteoporosis": the status is one part of the criterion.
            other = judge(profile.text, rest, kind)
            if other.label == "not_met" or open_:
                part: Label = "not_met" if other.label == "not_met" else "unknown"
                return Judgement(part, f"{why}; {other.reason}", other.evidence)
            both: Label = "met" if other.label == "met" else "unknown"
            return Judgement(
                both,
                f"non-childbearing status asked; {why}; {other.reason}",
                evidence + other.evidence,
            )
        if open_:
            return Judgement("unknown", why)
        label: Label = "not_met" if bool(negation) != bool(denied) else "met"
        return Judgement(label, f"non-childbearing status asked; {why}", evidence)
    if open_:
        label = "met" if kind == "inclusion" and negation else "unknown"
        return Judgement(label, "pregnancy status not stated for a woman of childbearing age")
    label = "met" if kind == "inclusion" and negation else "not_met"
    return Judgement(label, why, evidence)


def judge(patient_text: str, criterion_text: str, kind: str) -> Judgement:
    """Judge one criterion (inclusion: met = patient meets it; exclusion: met = the excluding
    condition holds) against one patient summary."""
    kind = "exclusion" if kind.lower().startswith("exc") else "inclusion"
    profile = patient_profile(patient_text)
    crit = (criterion_text or "").strip()
    if not crit:
        if kind == "exclusion":
            # An exclusion without text names no excluding condition: it excludes no one.
            return Judgement("not_met", "empty exclusion criterion: excludes no one")
        return Judgement("unknown", "empty criterion")

    why_not = applicability(crit, profile)
    if why_not:
        return Judgement("not_applicable", why_not)
    logistics = re.search(judge_rules().study_logistics, crit, re.I)
    if logistics:
        # "MRI images unable to be processed", "the sample was randomly selected": about the
        # study's data or sites, which no patient summary can meet or fail.
        return Judgement("not_applicable", f"about the study, not the patient: '{logistics[0]}'")

    # Before the pregnancy and sex rules, which "uterus", "ovaries" and "women" would trigger.
    organ = _FEMALE_ORGAN.match(crit) if kind == "inclusion" and profile.sex == "F" else None
    if organ:
        # Women have a cervix, a uterus and ovaries unless a summary says they were removed.
        removals = _ORGAN_REMOVAL[organ["organ"].lower()[:4]].finditer(patient_text)
        removal = next(
            (m for m in removals if _stated_of_patient(patient_text, profile.sentences, m.start())),
            None,
        )
        if removal:
            span = Span(removal.start(), removal.end(), removal.group(0))
            return Judgement("not_met", f"{organ['organ']} removed", (span,))
        stated_sex = demographic_span(patient_text)
        return Judgement(
            "met",
            f"female patient: {organ['organ']} present unless removal is stated",
            (stated_sex,) if stated_sex else (),
            presumed=True,
        )

    evaluator = SummaryEvaluator(profile)

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
        and not content_terms(crit) - _SEX_TERMS - _GENERIC_TERMS
    ):
        if sex == "both":
            return Judgement("met", "criterion admits both sexes", demo_ev)
        if profile.sex:
            return Judgement(
                "met" if profile.sex == sex else "not_met",
                f"sex {profile.sex}, criterion {sex}",
                demo_ev,
            )

    if (_CONSENT_CRIT.search(crit) and not _medical_leaves(crit, kind)) or _ABILITY.search(crit):
        consent = _CONSENT_PATIENT.search(patient_text)
        if consent:
            # The patient will consent and comply: an inability or refusal does not hold.
            span = Span(consent.start(), consent.end(), consent.group(0))
            unable = bool(_INABILITY.search(crit))
            agreed: Label = "met" if kind == "inclusion" and not unable else "not_met"
            return Judgement(agreed, "patient will consent and comply", (span,))

    if (
        (_PREGNANCY.search(crit) or _ASKS_NON_CHILDBEARING.search(crit))
        and profile.sex == "F"
        and not _pregnancy_stated(patient_text)
    ):
        fertility = _fertility_judgement(crit, kind, profile)
        if fertility is not None:
            return fertility

    site = _SITE.search(crit) if kind == "inclusion" else None
    if site and site["site"].lower() not in patient_text.lower():
        # "Seen at UCSF Medical Center for stroke": where the patient is seen is not part of a
        # clinical summary; the trial team checks it.
        return Judgement(
            "unknown", f"requires care at '{site['site']}', which the summary does not name"
        )

    health = _health_judgement(crit, kind, profile)
    if health is not None:
        return health

    condition = conditional_clause(crit)
    if condition is not None:
        holds = judge(patient_text, condition, "exclusion")
        if holds.label == "not_met":
            return Judgement(
                "not_applicable",
                f"the criterion applies only if '{condition}'; {holds.reason}",
                holds.evidence,
            )

    component = _SCALE_COMPONENT.search(crit)
    if component and not _SCALE_COMPONENT.search(patient_text):
        # "GCS motor score < 6": a component of the scale; a stated total does not give it.
        return Judgement("unknown", f"'{component[0]}' is a component the summary does not state")

    vital = vital_judgement(crit, profile, kind)
    if vital is not None:
        return vital

    negation = _NEGATIVE.match(crit)
    if negation and kind == "inclusion":
        head, sep, tail = crit.partition(";")
        if sep and ":" not in head and _NEW_REQUIREMENT.match(tail) and content_terms(tail):
            # A negation's scope ends at a semicolon that opens a new requirement: "no evidence
            # of X; and requirement for Y" asks for X's absence and for Y, each judged on its
            # own. "No history of: X; Y; or Z" is one list under one negation.
            parts = (judge(patient_text, head, kind), judge(patient_text, tail, kind))
            labels = {p.label for p in parts}
            both: Label = (
                "not_met" if "not_met" in labels else "met" if labels == {"met"} else "unknown"
            )
            reason = "; ".join(p.reason for p in parts)
            return Judgement(both, reason, parts[0].evidence + parts[1].evidence)
    if negation:
        positive_text = crit[negation.end() :]
        inner = judge(patient_text, positive_text, "exclusion")
        if kind == "inclusion" and inner.presumed and _CLINICAL_JUDGEMENT.search(positive_text):
            # "Patients not considered candidates for revascularization": candidacy is a
            # clinician's judgement, which a summary's silence does not settle either way.
            return Judgement("unknown", f"absence of a clinician's judgement; {inner.reason}")
        if kind == "inclusion" and inner.label == "not_met" and inner.presumed and inner.evidence:
            # "Absence of other causes of stroke" for a patient whose stroke is documented: the
            # concept is there and only its qualifiers are undocumented, so its absence is open.
            return Judgement(
                "unknown", f"absence required; {inner.reason}", inner.evidence, presumed=True
            )
        if kind == "inclusion" and inner.label in ("met", "not_met"):
            flipped: Label = "not_met" if inner.label == "met" else "met"
            return Judgement(flipped, f"absence required; {inner.reason}", inner.evidence)
        if kind == "exclusion" and not inner.evidence:
            return Judgement("unknown", "an exclusion about an absence: silence does not decide it")
        if kind == "exclusion" and inner.presumed:
            # "Without X": when X's absence is only presumed, the exclusion cannot be affirmed.
            return Judgement("unknown", f"an exclusion about an absence; {inner.reason}")
        if kind == "exclusion" and inner.label in ("met", "not_met"):
            flipped = "not_met" if inner.label == "met" else "met"
            return Judgement(flipped, f"excluded when absent; {inner.reason}", inner.evidence)

    washout = _WASHOUT.match(crit) if kind == "inclusion" else None
    if washout and _EVENT_ANCHOR.match(crit, washout.end()):
        washout = None  # "at least 6 months since diagnosis": an event the patient must have had
    if washout:
        # A washout inclusion holds vacuously for a patient who never had the exposure; when
        # the exposure is present, only its timing or a planned stop would decide it.
        inner = judge(patient_text, crit[washout.end() :], "exclusion")
        if inner.label == "not_met" and not inner.evidence:
            return Judgement("met", f"washout: no exposure; {inner.reason}", presumed=True)
        return Judgement("unknown", f"washout: timing of the exposure not stated; {inner.reason}")

    if _FAMILY.search(crit):
        return _family_history(crit, kind, profile)

    requirement, category = criterion_requirement(crit, kind)
    requirement = with_window(without_age(requirement), crit)
    if requirement is not None:
        v = evaluator.evaluate(requirement)
        spans = _spans(v, patient_text)
        names = concept_names(requirement)
        if v.label == "met" and kind == "inclusion" and spans and _inferred_only(spans, profile):
            named = {t for n in names for t in content_terms(n)} | synonym_terms(requirement)
            inferred = {
                t
                for f in profile.facts
                if IMPLIED in f.term_modifiers
                for t in content_terms(f.preferred_name)
            }
            if len(content_terms(crit) - named - inferred) > INFERRED_MAX_TERMS or (
                _SEVERITY.search(crit)
            ):
                return Judgement(
                    "unknown", f"{v.reason} (inferred); the criterion asks more", spans
                )
        if (
            v.label == "met"
            and kind == "inclusion"
            and spans
            and re.search(judge_rules().normality, crit, re.I)
            and _only_tests(spans, profile)
        ):
            return Judgement(
                "unknown", f"{v.reason}, but not that its result is normal or healthy", spans
            )
        if (
            v.label == "met"
            and kind == "inclusion"
            and spans
            and _partly_verified(crit, profile, spans)
        ):
            return Judgement(
                "unknown",
                f"{v.reason}, but most of this long criterion is not documented "
                f"({evidence_coverage(crit, profile, spans):.0%} of its terms)",
                spans,
            )
        if (
            v.label == "met"
            and kind == "inclusion"
            and spans
            and _bound_vital_named_only(crit, profile, spans)
        ):
            # "fever (> 38.5 C)" met by the word "fever": the word names the sign, the
            # criterion bounds its value, which the summary does not state.
            return Judgement(
                "unknown", f"{v.reason}, but not the value the criterion bounds", spans
            )
        if v.label == "met" and spans and _DURATION.search(crit):
            decided = duration_label(crit, profile, spans)
            if decided is not None:
                label, why = decided
                return Judgement(label, f"{v.reason}; {why}", spans)
            return Judgement("unknown", f"{v.reason}; required duration not stated", spans)
        if v.label == "met" and spans and kind == "exclusion":
            covered = evidence_coverage(
                crit,
                profile,
                spans,
                names,
                broadened=broadened_names(requirement),
                decided=dose_terms(requirement),
            )
            if covered < EXCLUSION_COVERAGE:
                return Judgement(
                    "not_met",
                    presumed=True,
                    reason=f"{v.reason}, but the criterion's qualifiers are not documented "
                    f"({covered:.0%} of its terms in the evidence sentences)",
                    evidence=spans,
                )
        if v.label in ("met", "not_met") and spans:
            return Judgement(v.label, v.reason, spans)
        if v.label == "unknown" and spans and dose_terms(requirement):
            # The agent is taken but at a dose the summary does not state.
            return Judgement("unknown", v.reason, spans)
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
    return Judgement(label, reason, presumed=True)
