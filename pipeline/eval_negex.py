"""`elig eval negex`: assertion metrics on the NegEx/ConText annotated sentences.

Each row names one target phrase in one sentence with gold negation, temporality and experiencer.
Our pipeline (pipeline/assertion.py) and medspaCy's default pipeline (its tokenizer, PyRuSH and
ConText with its default rules, as ``medspacy.load()`` builds it) judge the same rows with the
same target-span method, so the difference measured is the rules, not the span finding.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from spacy.language import Language

from pipeline import metrics
from pipeline.assertion import Assertion, TargetNotFoundError, assertion_of, judge_doc

log = logging.getLogger(__name__)

Judge = Callable[[str, str], Assertion]


class EvalInputError(ValueError):
    """The evaluation file cannot be read (E-NEGEX-00x, naming the file and line)."""


@dataclass(frozen=True, slots=True)
class GoldRow:
    id: str
    text: str
    target: str
    negated: bool
    historical: bool
    family: bool


@dataclass(frozen=True, slots=True)
class BinaryScore(metrics.PrecisionRecall):
    """Counts and metrics of one yes/no judgement against gold."""

    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def accuracy(self) -> float:
        total = self.tp + self.fp + self.fn + self.tn
        return (self.tp + self.tn) / total if total else 0.0


def binary_score(pairs: Iterable[tuple[bool, bool]]) -> BinaryScore:
    """Score (gold, predicted) pairs."""
    tp = fp = fn = tn = 0
    for gold, pred in pairs:
        if gold and pred:
            tp += 1
        elif pred:
            fp += 1
        elif gold:
            fn += 1
        else:
            tn += 1
    return BinaryScore(tp, fp, fn, tn)


@dataclass(frozen=True, slots=True)
class SystemReport:
    """Metrics of one system on the rows."""

    negation: BinaryScore
    historical: BinaryScore
    family: BinaryScore
    unlocated: int
    errors: tuple[dict[str, Any], ...] = ()

    def to_json(self, prefix: str = "") -> dict[str, Any]:
        n = self.negation
        return {
            f"{prefix}negation_precision": round(n.precision, 4),
            f"{prefix}negation_recall": round(n.recall, 4),
            f"{prefix}negation_f1": round(n.f1, 4),
            f"{prefix}negation_counts": {"tp": n.tp, "fp": n.fp, "fn": n.fn, "tn": n.tn},
            f"{prefix}historical_accuracy": round(self.historical.accuracy, 4),
            f"{prefix}historical_f1": round(self.historical.f1, 4),
            f"{prefix}family_accuracy": round(self.family.accuracy, 4),
            f"{prefix}unlocated": self.unlocated,
        }


def read_rows(path: Path) -> list[GoldRow]:
    """The annotated rows; an unreadable or incomplete line is an error naming file and line."""
    if not path.is_file():
        raise EvalInputError(f"E-NEGEX-001 {path}: file not found")
    rows: list[GoldRow] = []
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
                rows.append(
                    GoldRow(
                        id=str(obj["id"]),
                        text=str(obj["text"]),
                        target=str(obj["target"]),
                        negated=bool(obj["negated"]),
                        historical=obj.get("temporality") == "Historical",
                        family=obj.get("experiencer", "Patient") != "Patient",
                    )
                )
            except (json.JSONDecodeError, KeyError, TypeError) as e:
                raise EvalInputError(
                    f"E-NEGEX-002 {path} line {number}: not an annotated row ({type(e).__name__}: {e})"
                ) from None
    return rows


def evaluate(rows: list[GoldRow], judge: Judge) -> SystemReport:
    """Judge every row and score it. A row whose target cannot be located counts as all-false
    (affirmed, recent, patient): the same for every system, and it keeps the denominators whole."""
    predictions: list[Assertion] = []
    unlocated = 0
    for row in rows:
        try:
            predictions.append(judge(row.text, row.target))
        except TargetNotFoundError:
            unlocated += 1
            predictions.append(Assertion())
    errors = tuple(
        {"id": r.id, "gold_negated": r.negated, "predicted_negated": p.negated}
        for r, p in zip(rows, predictions, strict=True)
        if r.negated != p.negated
    )
    return SystemReport(
        negation=binary_score(
            (r.negated, p.negated) for r, p in zip(rows, predictions, strict=True)
        ),
        historical=binary_score(
            (r.historical, p.historical) for r, p in zip(rows, predictions, strict=True)
        ),
        family=binary_score((r.family, p.family) for r, p in zip(rows, predictions, strict=True)),
        unlocated=unlocated,
        errors=errors,
    )


def judge_with(nlp: Language, cues_inside_target: bool = False) -> Judge:
    """A judge running ``nlp``; ``cues_inside_target=True`` keeps medspaCy's own ConText behaviour."""

    def judge(text: str, target: str) -> Assertion:
        _, span = judge_doc(nlp, text, target, cues_inside_target=cues_inside_target)
        return assertion_of(span)

    return judge


def baseline_nlp() -> Language:
    """medspaCy's default pipeline: its tokenizer, PyRuSH sentences, ConText with default rules.

    Its target matcher has no rules here and is replaced by the target span anyway.
    """
    import medspacy

    try:  # PyRuSH logs every sentence at DEBUG through loguru, and would log note text.
        from loguru import logger

        logger.disable("PyRuSH")
    except ImportError:
        pass
    nlp: Language = medspacy.load()
    return nlp
