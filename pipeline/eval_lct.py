"""Entity precision / recall / F1 of the criteria parser's entities against LCT brat annotations.

The Leaf Clinical Trials corpus annotates eligibility text with typed spans (brat standoff ``T``
lines). We compare what ``pipeline.criterion_entities.entities_of`` (the function the parser uses
to write ``Criterion.entities``) finds in the whole document text, so heading lines count too:
each concept mention
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
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pipeline import metrics
from pipeline.criterion_entities import Entity, entities_of

log = logging.getLogger(__name__)

TYPES = ("Condition", "Drug", "Procedure", "Observation", "Eq-Comparison")
MICRO_TYPES = ("Condition", "Drug", "Procedure")
MATCHING_RULE = "overlapping character spans with the same type, one-to-one, greedy in text order"


@dataclass
class TypeScore(metrics.PrecisionRecall):
    tp: int = 0
    fp: int = 0
    fn: int = 0


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
        score_document(gold, entities_of(text), report)
        report.n_documents += 1
    return report
