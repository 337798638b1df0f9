"""Matching: patients' facts joined with a criteria model into verdict records (DESIGN.md contract).

This is the only module that joins facts and criteria models; extraction and evaluation stay in
their own packages.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from criteria_models.evaluate import PatientResult, evaluate_protocol
from criteria_models.facts import PatientFact
from criteria_models.model import Protocol
from pipeline.patients_io import Patient

log = logging.getLogger(__name__)

VERDICT_SCHEMA_VERSION = "1.0.0"


def load_protocol(path: str | Path) -> Protocol:
    p = Path(path)
    try:
        return Protocol.model_validate_json(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"E-IO-002 {p}: criteria file not found") from None


def extract_facts(
    patients: Sequence[Patient], batch_size: int = 32, n_process: int = 1
) -> list[PatientFact]:
    """Run the note pipeline over every note of every patient (``n_process`` worker processes)."""
    from pipeline.facts import extract_note_facts, extract_note_facts_parallel
    from pipeline.nlp import get_nlp

    notes = [(p.patient_id, n.note_id, n.date, n.text) for p in patients for n in p.notes]
    if n_process > 1:
        return list(extract_note_facts_parallel(notes, n_process=n_process, chunk_size=batch_size))
    return list(extract_note_facts(get_nlp(), notes, batch_size=batch_size))


def facts_by_patient(facts: Iterable[PatientFact]) -> dict[str, list[PatientFact]]:
    grouped: dict[str, list[PatientFact]] = defaultdict(list)
    for f in facts:
        grouped[f.patient_id].append(f)
    return grouped


def match_patients(
    protocol: Protocol, patients: Sequence[Patient], facts: Iterable[PatientFact]
) -> Iterator[PatientResult]:
    from pipeline.judge import chronic_is_current

    grouped = facts_by_patient(chronic_is_current(f) for f in facts)
    for patient in patients:
        yield evaluate_protocol(protocol, patient.context, grouped.get(patient.patient_id, []))


def result_to_json(result: PatientResult) -> dict[str, Any]:
    """The verdict JSON of DESIGN.md, plus the schema version."""
    return {
        "schema_version": VERDICT_SCHEMA_VERSION,
        "patient_id": result.patient_id,
        "trial_id": result.trial_id,
        "overall": result.overall,
        "cohort": result.cohort,
        "score": result.score,
        "criteria": {
            cid: {
                "label": v.label,
                "evidence": [
                    {"note_id": e.note_id, "start": e.start, "end": e.end, "text": e.text}
                    for e in v.evidence
                ],
                "reason": v.reason,
            }
            for cid, v in result.criteria.items()
        },
    }


def write_results(results: Iterable[PatientResult], path: str | Path) -> int:
    n = 0
    with Path(path).open("w", encoding="utf-8") as fh:
        for r in results:
            fh.write(json.dumps(result_to_json(r)) + "\n")
            n += 1
    return n
