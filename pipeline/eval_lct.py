"""Entity precision / recall / F1 of the criteria concept layer against LCT brat annotations.

The Leaf Clinical Trials corpus annotates eligibility text with typed spans (brat standoff ``T``
lines). We compare what the parser's concept layer finds in the same text: each concept mention
is mapped to an LCT type by its lexicon category (diagnosis/finding -> Condition, drug -> Drug,
procedure -> Procedure, lab -> Observation; a drug class named as a therapy, "chemotherapy", is a
Procedure as in LCT; a condition named as an allergy is LCT's Allergy, one whose head is a symptom,
injury or behaviour, "low back pain", is an Observation), uncoded mentions of pipeline/mentions.py
(unspecified mentions "other medications", clinical word shapes "-ectomy", "-itis", INN stems,
abbreviations the text defines) keep their type, and each value comparison ("> 470 ms", "0-1",
">= 18 years") or time anchor ("history of", "current", "within the past year") is an
Eq-Comparison.

Matching rule (stated in every report): a predicted span matches a gold span when both have the
same type and their character ranges overlap; each gold and each predicted span is used at most
once (greedy, in text order). Micro-F1 is pooled over Condition, Drug and Procedure.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pipeline import metrics
from pipeline.mentions import abbreviation_mentions, clinical_mentions, head_type

log = logging.getLogger(__name__)

TYPES = ("Condition", "Drug", "Procedure", "Observation", "Eq-Comparison")
MICRO_TYPES = ("Condition", "Drug", "Procedure")
MATCHING_RULE = "overlapping character spans with the same type, one-to-one, greedy in text order"

CATEGORY_TO_TYPE = {
    "diagnosis": "Condition",
    "finding": "Condition",
    "drug": "Drug",
    "procedure": "Procedure",
    "lab": "Observation",
}

_NUMBER_WORDS = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|eighteen|"
    r"twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred)"
)
_VALUE = re.compile(
    r"(?P<op>(?:≥|≤|>=|<=|=>|=<|>|<|=|\bat\s+least|\bno\s+(?:more|less|greater)\s+than|"
    r"\bmore\s+than|\bless\s+than|\bgreater\s+than|\bolder\s+than|\byounger\s+than|\bover|"
    r"\bunder|\bup\s+to|\bwithin|\bbetween|\bminimum\s+of|\bmaximum\s+of|\bexceeding)\s*)?"
    r"(?P<num>\d+(?:[.,]\d+)?|\b" + _NUMBER_WORDS + r"\b)"
    r"(?P<range>\s*(?:-|–|~|to|and|or)\s*(?:\d+(?:[.,]\d+)?|\b" + _NUMBER_WORDS + r"\b))?"
    r"(?P<unit>\s*(?:%|mg/d[lL]|g/d[lL]|g/[lL]|mmol/[lL]|µmol/[lL]|umol/[lL]|msec|ms|kg/m2|kg/m²|"
    r"kg|mm\s*hg|mmhg|(?:x|×)\s*10\^?\d+\s*/\s*[lL]|/mm3|/µ[lL]|/u[lL]|cells/mm3|u/[lL]|iu/[lL]|"
    r"ml/min(?:/1\.73\s*m2)?|years?|yrs?|months?|weeks?|days?|hours?|times|x\s*uln|uln)\b)?",
    re.IGNORECASE,
)


# Time anchors of a criterion: LCT marks "history of", "current", "previous", "within the last
# year" as comparisons on time (Eq-Comparison with a temporal value).
_TEMPORAL = re.compile(
    r"\b(?:(?:prior|previous|past|medical|family)\s+)?history\b|\bcurrent(?:ly)?\b|"
    r"\bprevious(?:ly)?\b|\bprior\b(?!\s+to\b)|\bactive\b|\bongoing\b|\brecent(?:ly)?\b|"
    r"\bpast\b|\bformer\b|\bpre-?\s?existing\b|\bnewly\b|\bundergo(?:ing|ne)\b|"
    r"\b(?:taking|receiving|scheduled|planned)\b|\b(?:within|in|during)\s+the\s+(?:last|past|previous|"
    r"preceding|prior)\b(?:\s+(?:\d+|"
    + _NUMBER_WORDS
    + r"))?(?:\s+(?:years?|months?|weeks?|days?|hours?))?|"
    r"\bone\s+or\s+more\b",
    re.IGNORECASE,
)

_GAP = re.compile(r"[ \t]*-?[ \t]*")

_MODALITY = re.compile(r"therap(?:y|ies)\b|radiation", re.IGNORECASE)


# LCT types a few kinds of condition-like mentions apart: allergies are "Allergy", symptoms,
# injuries and behaviours ("low back pain", "head injury", "current smoker") are "Observation".
_ALLERGY = re.compile(r"\ballerg(?:y|ies|ic)\b", re.IGNORECASE)
_MODIFIER_ONLY = re.compile(
    r"(?:uncontrolled|refractory|severe|active|chronic|acute|progressive|stable)", re.IGNORECASE
)


# Vaccines and vaccination are LCT's Immunization type, neither Drug nor Procedure.
_VACCINE = re.compile(r"\bvaccin\w*|\bimmuni[sz](?:ation|ed)\b", re.IGNORECASE)
# The ASA physical status score, written "ASA" like aspirin's abbreviation.
_ASA_SCORE = re.compile(
    r"\s*(?:physical\s+status|class|grade|score|status|PS)?\s*(?:[1-6]|I{1,3}|IV|VI?)\b(?!\s*mg)|"
    r"\s*(?:physical\s+status|class|grade|score|status|PS)?\s*[<>≤≥=]",
    re.IGNORECASE,
)


def _lct_condition_type(text: str) -> str:
    """LCT type of a coded condition mention: Condition, or Allergy / Observation by its head."""
    if _ALLERGY.search(text):
        return "Allergy"
    if _MODIFIER_ONLY.fullmatch(text.strip()):
        return "Modifier"
    return "Observation" if head_type(text) == "Observation" else "Condition"


@dataclass(frozen=True)
class Entity:
    type: str
    start: int
    end: int
    text: str


@dataclass
class TypeScore:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return metrics.precision(self.tp, self.fp)

    @property
    def recall(self) -> float:
        return metrics.recall(self.tp, self.fn)

    @property
    def f1(self) -> float:
        return metrics.f1(self.tp, self.fp, self.fn)


@dataclass
class LctReport:
    n_documents: int = 0
    per_type: dict[str, TypeScore] = field(default_factory=lambda: {t: TypeScore() for t in TYPES})
    failures: list[str] = field(default_factory=list)

    def micro(self, types: Iterable[str] = MICRO_TYPES) -> TypeScore:
        total = TypeScore()
        for t in types:
            s = self.per_type[t]
            total.tp, total.fp, total.fn = total.tp + s.tp, total.fp + s.fp, total.fn + s.fn
        return total

    def to_json(self) -> dict[str, object]:
        micro = self.micro()
        return {
            "documents": self.n_documents,
            "matching_rule": MATCHING_RULE,
            "micro_types": list(MICRO_TYPES),
            "micro_precision": round(micro.precision, 4),
            "micro_recall": round(micro.recall, 4),
            "micro_f1": round(micro.f1, 4),
            "per_type": {
                t: {
                    "precision": round(s.precision, 4),
                    "recall": round(s.recall, 4),
                    "f1": round(s.f1, 4),
                    "tp": s.tp,
                    "fp": s.fp,
                    "fn": s.fn,
                }
                for t, s in self.per_type.items()
            },
            "failures": self.failures,
        }


def read_ann(text: str) -> list[Entity]:
    """Gold entities of the compared types from brat standoff text (discontinuous spans joined)."""
    out: list[Entity] = []
    for line in text.splitlines():
        if not line.startswith("T"):
            continue
        parts = line.split("\t")
        if len(parts) < 2:
            continue
        type_and_spans = parts[1].split(" ", 1)
        if len(type_and_spans) != 2 or type_and_spans[0] not in TYPES:
            continue
        try:
            offsets = [
                tuple(int(x) for x in piece.split()) for piece in type_and_spans[1].split(";")
            ]
            start = min(o[0] for o in offsets)
            end = max(o[1] for o in offsets)
        except (ValueError, IndexError):
            continue
        out.append(Entity(type_and_spans[0], start, end, parts[2] if len(parts) > 2 else ""))
    return out


def value_spans(text: str) -> Iterator[tuple[int, int]]:
    """Value comparisons: an operator, a range or a unit with a number ("≥ 18", "0-1", "470 ms").

    A bare number (a list number, a year) is not a comparison.
    """
    spans = [m.span() for m in _VALUE.finditer(text) if m["op"] or m["range"] or m["unit"]]
    spans += [m.span() for m in _TEMPORAL.finditer(text)]
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1] + 1 and not text[merged[-1][1] : start].strip():
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    yield from merged


def predicted_entities(text: str) -> list[Entity]:
    """Concept mentions of the shared concept layer plus value comparisons, typed as LCT types."""
    from pipeline.concepts import concept_index
    from pipeline.nlp import get_nlp

    index = concept_index()
    doc = get_nlp()(text)
    out: list[Entity] = []
    for ent in doc.ents:
        record = index.records.get(ent.kb_id_)
        if record is None:
            continue
        etype = CATEGORY_TO_TYPE.get(record.category)
        if etype is None:
            continue
        if record.code_system == "DRUGCLASS" and _MODALITY.search(ent.text):
            etype = "Procedure"  # "chemotherapy", "immunotherapy": a treatment modality
        if etype == "Condition":
            etype = _lct_condition_type(ent.text)
        if _VACCINE.search(ent.text):
            etype = "Immunization"
        elif etype == "Drug" and _ASA_SCORE.match(text, ent.end_char) and ent.text == "ASA":
            etype = "Observation"  # "ASA 1-3", "ASA class II": the anaesthesia risk score
        out.append(Entity(etype, ent.start_char, ent.end_char, ent.text))
    coded = [(e.type, e.start, e.end) for e in out]
    for etype, start, end in clinical_mentions(text):
        if _VACCINE.search(text, start, end):
            continue  # LCT's own Immunization type
        if not any(t == etype and s < end and start < e for t, s, e in coded):
            out.append(Entity(etype, start, end, text[start:end]))
    typed = [(e.type, e.start, e.end) for e in out]
    for etype, start, end in abbreviation_mentions(text, typed):
        if not any(t == etype and s < end and start < e for t, s, e in typed):
            out.append(Entity(etype, start, end, text[start:end]))
    for start, end in value_spans(text):
        out.append(Entity("Eq-Comparison", start, end, text[start:end]))
    return _join_touching(out, text)


def _join_touching(entities: list[Entity], text: str) -> list[Entity]:
    """One entity for same-type mentions separated only by spaces or a hyphen.

    "bypass" (coded) next to "surgery" (uncoded) names one procedure, not two.
    """
    out: list[Entity] = []
    for ent in sorted(entities, key=lambda e: (e.type, e.start, -e.end)):
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.type == ent.type
            and ent.start >= prev.end
            and _GAP.fullmatch(text[prev.end : ent.start])
        ):
            end = max(prev.end, ent.end)
            out[-1] = Entity(prev.type, prev.start, end, text[prev.start : end])
            continue
        out.append(ent)
    return sorted(out, key=lambda e: (e.start, e.end, e.type))


def score_document(gold: list[Entity], predicted: list[Entity], report: LctReport) -> None:
    """Add one document's matches to ``report`` under the overlapping-span, same-type rule."""
    for etype in TYPES:
        golds = sorted((g for g in gold if g.type == etype), key=lambda e: (e.start, e.end))
        preds = sorted((p for p in predicted if p.type == etype), key=lambda e: (e.start, e.end))
        used: set[int] = set()
        tp = 0
        for p in preds:
            for i, g in enumerate(golds):
                if i not in used and g.start < p.end and p.start < g.end:
                    used.add(i)
                    tp += 1
                    break
        score = report.per_type[etype]
        score.tp += tp
        score.fp += len(preds) - tp
        score.fn += len(golds) - len(used)


def lct_pairs(root: Path) -> list[tuple[Path, Path]]:
    """(text, annotation) pairs under ``root``, recursively, sorted by path."""
    pairs = []
    for txt in sorted(root.rglob("*.txt")):
        ann = txt.with_suffix(".ann")
        if ann.is_file():
            pairs.append((txt, ann))
    return pairs


def evaluate_lct(root: Path) -> LctReport:
    """Score every .txt/.ann pair under ``root``; an unreadable pair is listed, not fatal."""
    report = LctReport()
    for txt, ann in lct_pairs(root):
        try:
            text = txt.read_text(encoding="utf-8")
            gold = read_ann(ann.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as e:
            report.failures.append(f"{txt.name}: {type(e).__name__}")
            continue
        score_document(gold, predicted_entities(text), report)
        report.n_documents += 1
    return report
