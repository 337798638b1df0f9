"""Matching throughput: patients' facts (already extracted) evaluated against a criteria model.

Issue #6 asks that matching 10,000 patients against the reference protocol, after extraction, take
under 10 s. Extraction is measured by ``elig bench``; this measures only the second stage. The
bundled sample patients are read and their notes extracted once; their facts are then copied to
N patients (new patient ids, same dates and sex) so that the timed loop sees realistic fact
mixes (eligible, excluded, unknown) at any scale. Only counts and timings are reported.
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from criteria_models.facts import PatientFact
from pipeline.patients_io import Patient

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CRITERIA = ROOT / "corpora/protocols/cd7_cart_autoimmune.criteria.json"
DEFAULT_PATIENTS = ROOT / "corpora/sample/patients.jsonl"


@dataclass(frozen=True)
class MatchBench:
    patients: int
    facts: int
    criteria: int
    seconds: float
    cpu_seconds: float
    labels: dict[str, int]

    @property
    def patients_per_s(self) -> float:
        return self.patients / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["patients_per_s"] = round(self.patients_per_s, 1)
        return out


def replicate(
    patients: list[Patient], facts: list[PatientFact], n: int
) -> tuple[list[Patient], list[PatientFact]]:
    """``n`` patients cycling through ``patients``, each with a copy of its source's facts."""
    if not patients:
        raise ValueError("E-BENCH-010 no patients to replicate")
    by_patient: dict[str, list[PatientFact]] = {}
    for fact in facts:
        by_patient.setdefault(fact.patient_id, []).append(fact)
    out_patients: list[Patient] = []
    out_facts: list[PatientFact] = []
    for i in range(n):
        source = patients[i % len(patients)]
        pid = f"bench-{i:06d}"
        out_patients.append(dataclasses.replace(source, patient_id=pid, notes=()))
        out_facts.extend(
            dataclasses.replace(f, patient_id=pid) for f in by_patient.get(source.patient_id, [])
        )
    return out_patients, out_facts


def bench_match(
    n: int, criteria: Path = DEFAULT_CRITERIA, patients_path: Path = DEFAULT_PATIENTS
) -> MatchBench:
    """Times ``match_patients`` for ``n`` patients after extraction (extraction is not timed)."""
    from pipeline.match import extract_facts, load_protocol, match_patients
    from pipeline.patients_io import read_patients_jsonl

    protocol = load_protocol(criteria)
    read = read_patients_jsonl(patients_path)
    base_facts = extract_facts(read.patients)
    patients, facts = replicate(read.patients, base_facts, n)
    t0, c0 = time.perf_counter(), time.process_time()
    results = list(match_patients(protocol, patients, facts))
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    labels = Counter(str(r.overall) for r in results)
    return MatchBench(
        patients=len(results),
        facts=len(facts),
        criteria=len(protocol.criteria),
        seconds=seconds,
        cpu_seconds=cpu,
        labels=dict(labels),
    )
