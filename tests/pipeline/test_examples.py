"""End to end on fictional protocols in other areas and styles (corpora/examples/): parse the
protocol, extract the notes, match, and compare the overall label a reviewer wrote beforehand."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.match import extract_facts, match_patients
from pipeline.parse_criteria import parse_protocol
from pipeline.patients_io import read_patients_jsonl

EXAMPLES = Path(__file__).resolve().parents[2] / "corpora" / "examples"
EXPECTED = json.loads((EXAMPLES / "expected_overall.json").read_text(encoding="utf-8"))["overall"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_overall_labels_on_example_protocols(name: str) -> None:
    protocol = parse_protocol((EXAMPLES / f"{name}.txt").read_text(encoding="utf-8"), trial_id=name)
    patients = read_patients_jsonl(EXAMPLES / f"{name}_patients.jsonl").patients
    results = match_patients(protocol, patients, extract_facts(patients))
    assert {r.patient_id: r.overall for r in results} == EXPECTED[name]
