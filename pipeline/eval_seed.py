"""`elig eval seed`: per-criterion and overall accuracy against the seed-trial gold labels."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from criteria_models.evaluate import PatientResult
from criteria_models.facts import PatientFact

LABELS = ("met", "not_met", "unknown", "not_applicable")


@dataclass
class SeedReport:
    criterion_acc: float
    overall_acc: float
    n_patients: int
    per_criterion: dict[str, float]
    confusion: dict[str, dict[str, int]]
    overall_confusion: dict[str, dict[str, int]]
    missed_exclusions: list[str]
    errors: list[dict[str, str]] = field(default_factory=list)
    evidence_hit_rate: float | None = None
    fact_coverage: float | None = None
    fact_coverage_asserted: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "criterion_acc": round(self.criterion_acc, 4),
            "overall_acc": round(self.overall_acc, 4),
            "n_patients": self.n_patients,
            "per_criterion": {k: round(v, 4) for k, v in self.per_criterion.items()},
            "confusion": self.confusion,
            "overall_confusion": self.overall_confusion,
            "missed_exclusions_as_eligible": self.missed_exclusions,
            "evidence_hit_rate": self.evidence_hit_rate,
            "fact_coverage": self.fact_coverage,
            "fact_coverage_asserted": self.fact_coverage_asserted,
        }


def read_gold(path: str | Path) -> dict[str, dict[str, Any]]:
    gold: dict[str, dict[str, Any]] = {}
    with Path(path).open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                gold[row["patient_id"]] = row
    return gold


def _overlaps(quote: str, texts: list[str]) -> bool:
    q = quote.lower()
    return any(q in t.lower() or t.lower() in q for t in texts if t)


def score_seed(results: list[PatientResult], gold: dict[str, dict[str, Any]]) -> SeedReport:
    per_total: Counter[str] = Counter()
    per_right: Counter[str] = Counter()
    confusion: dict[str, dict[str, int]] = {g: dict.fromkeys(LABELS, 0) for g in LABELS}
    overall_labels = ("eligible", "excluded", "not_eligible", "needs_review")
    overall_conf: dict[str, dict[str, int]] = {
        g: dict.fromkeys(overall_labels, 0) for g in overall_labels
    }
    right = total = overall_right = 0
    missed: list[str] = []
    errors: list[dict[str, str]] = []
    ev_total = ev_hit = 0
    for r in results:
        g = gold.get(r.patient_id)
        if g is None:
            continue
        for cid, glabel in g["criteria"].items():
            v = r.criteria.get(cid)
            plabel = v.label if v else "unknown"
            per_total[cid] += 1
            total += 1
            confusion[glabel][plabel] += 1
            if plabel == glabel:
                per_right[cid] += 1
                right += 1
            else:
                errors.append(
                    {
                        "patient_id": r.patient_id,
                        "criterion": cid,
                        "gold": glabel,
                        "predicted": plabel,
                        "reason": v.reason if v else "",
                    }
                )
            quote = g.get("evidence", {}).get(cid)
            if quote and v is not None and plabel == glabel and plabel in ("met", "not_met"):
                ev_total += 1
                ev_hit += _overlaps(quote, [e.text for e in v.evidence])
        overall_conf[g["overall"]][r.overall] += 1
        overall_right += g["overall"] == r.overall
        if r.overall == "eligible" and any(
            lab == "met" for cid, lab in g["criteria"].items() if cid.startswith("EXC")
        ):
            missed.append(r.patient_id)
    n = sum(1 for r in results if r.patient_id in gold)
    return SeedReport(
        criterion_acc=right / max(1, total),
        overall_acc=overall_right / max(1, n),
        n_patients=n,
        per_criterion={c: per_right[c] / per_total[c] for c in sorted(per_total)},
        confusion=confusion,
        overall_confusion=overall_conf,
        missed_exclusions=missed,
        errors=errors,
        evidence_hit_rate=round(ev_hit / ev_total, 4) if ev_total else None,
    )


# Criteria judged from documentation statements rather than clinical concepts.
_DOCUMENTATION = {"INC-CONSENT"}


def fact_coverage(
    notes: dict[str, tuple[str, str]],
    facts: list[PatientFact],
    gold: dict[str, dict[str, Any]],
) -> tuple[float | None, float | None, int]:
    """Share of gold evidence quotes (met/not_met, clinical criteria) that contain an extracted
    fact, and share whose fact also carries an assertion consistent with the gold label.

    ``notes`` maps note_id -> (patient_id, text). A quote is located by exact search in the
    patient's notes; a fact covers it when its span lies inside the quote. Consistent assertion:
    not family, not hypothetical; a lab needs a value or result; a condition must be affirmed for
    a met label (for not_met, absence shows as a negation or as a "controlled"/normal statement).
    """
    by_note: dict[str, list[PatientFact]] = {}
    for f in facts:
        by_note.setdefault(f.note_id, []).append(f)
    total = covered = asserted = 0
    for pid, row in gold.items():
        for cid, quote in row.get("evidence", {}).items():
            label = row["criteria"].get(cid)
            if cid in _DOCUMENTATION or label not in ("met", "not_met"):
                continue
            located = [
                (nid, text.find(quote))
                for nid, (owner, text) in notes.items()
                if owner == pid and quote in text
            ]
            if not located:
                continue
            total += 1
            nid, start = located[0]
            inside = [
                f for f in by_note.get(nid, []) if f.start >= start and f.end <= start + len(quote)
            ]
            if not inside:
                continue
            covered += 1
            if any(_consistent(f, label) for f in inside):
                asserted += 1
    if not total:
        return None, None, 0
    return round(covered / total, 4), round(asserted / total, 4), total


def _consistent(fact: PatientFact, label: str) -> bool:
    if fact.family or fact.hypothetical:
        return False
    if fact.category == "lab":
        return (
            fact.value_as_number is not None or fact.result is not None or bool(fact.uln_multiple)
        )
    if fact.category == "drug":
        return True
    return label == "not_met" or not fact.negated
