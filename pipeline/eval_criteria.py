"""`elig eval criteria`: criterion-level accuracy on TrialGPT-style annotated pairs.

Reports our accuracy, per-label precision and recall, the confusion table and evidence overlap
with the experts' sentences, next to two baselines computed from the same file in the same run:
GPT-4 (the stored ``gpt4_label``) and the majority rule (unknown for inclusion, not_met for
exclusion).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.judge import LABELS, judge, sentence_index


@dataclass
class CriteriaReport:
    n: int
    accuracy: float
    gpt4_accuracy: float | None
    majority_accuracy: float
    per_label: dict[str, dict[str, float]]
    confusion: dict[str, dict[str, int]]
    per_type: dict[str, float]
    evidence: dict[str, float]
    errors: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "accuracy": round(self.accuracy, 4),
            "gpt4_accuracy": None if self.gpt4_accuracy is None else round(self.gpt4_accuracy, 4),
            "majority_accuracy": round(self.majority_accuracy, 4),
            "per_label": self.per_label,
            "per_type": self.per_type,
            "confusion": self.confusion,
            "evidence": self.evidence,
        }


def patient_halves(rows: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Split rows into two halves by patient: sorted patient ids alternate between "A" and "B".

    A rule developed while looking at half A and checked on half B shows whether a gain
    carries over to patients it was not written for (the hidden test split has other patients).
    """
    ids = sorted({str(r.get("patient_id", "")) for r in rows})
    half = {pid: "AB"[i % 2] for i, pid in enumerate(ids)}
    out: dict[str, list[dict[str, Any]]] = {"A": [], "B": []}
    for r in rows:
        out[half[str(r.get("patient_id", ""))]].append(r)
    return out


def majority_label(kind: str) -> str:
    return "not_met" if kind.lower().startswith("exc") else "unknown"


def read_pairs(path: Path) -> list[dict[str, Any]]:
    rows = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                raise ValueError(f"E-EVAL-001 {path}:{n}: not JSON ({e.msg})") from None
    return rows


def score_criteria(rows: Sequence[dict[str, Any]]) -> CriteriaReport:
    confusion: dict[str, dict[str, int]] = {g: dict.fromkeys(LABELS, 0) for g in LABELS}
    correct = gpt4 = majority = 0
    have_gpt4 = 0
    by_type: dict[str, list[int]] = {}
    ev_rows = ev_hit = ev_pred = ev_prec = 0
    errors: list[dict[str, Any]] = []
    for r in rows:
        j = judge(r["patient_text"], r["criterion_text"], r["criterion_type"])
        gold = r["label"]
        confusion.setdefault(gold, dict.fromkeys(LABELS, 0))[j.label] += 1
        ok = j.label == gold
        correct += ok
        by_type.setdefault(r["criterion_type"], [0, 0])
        by_type[r["criterion_type"]][0] += ok
        by_type[r["criterion_type"]][1] += 1
        if r.get("gpt4_label") is not None:
            have_gpt4 += 1
            gpt4 += r["gpt4_label"] == gold
        majority += majority_label(r["criterion_type"]) == gold
        if not ok:
            errors.append({"id": r["id"], "gold": gold, "predicted": j.label, "reason": j.reason})
        expert = set(r.get("expert_sentences") or [])
        ours = {sentence_index(r["patient_text"], e.start) for e in j.evidence} - {None}
        if expert:
            ev_rows += 1
            ev_hit += bool(ours & expert)
        if ours:
            ev_pred += 1
            ev_prec += bool(ours & expert)
    n = len(rows)
    per_label: dict[str, dict[str, float]] = {}
    for lab in LABELS:
        tp = confusion[lab][lab]
        predicted = sum(confusion[g][lab] for g in confusion)
        actual = sum(confusion[lab].values())
        per_label[lab] = {
            "precision": round(tp / predicted, 4) if predicted else 0.0,
            "recall": round(tp / actual, 4) if actual else 0.0,
            "support": actual,
        }
    return CriteriaReport(
        n=n,
        accuracy=correct / n if n else 0.0,
        gpt4_accuracy=gpt4 / have_gpt4 if have_gpt4 else None,
        majority_accuracy=majority / n if n else 0.0,
        per_label=per_label,
        confusion=confusion,
        per_type={k: round(v[0] / v[1], 4) for k, v in by_type.items()},
        evidence={
            "rows_with_expert_sentences": ev_rows,
            "overlap_rate": round(ev_hit / ev_rows, 4) if ev_rows else 0.0,
            "rows_with_our_evidence": ev_pred,
            "our_evidence_in_expert_sentences": round(ev_prec / ev_pred, 4) if ev_pred else 0.0,
        },
        errors=errors,
    )
