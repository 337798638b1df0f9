"""The matching benchmark: replicated patients keep their source's facts and verdicts."""

import datetime as dt
import json

from typer.testing import CliRunner

from criteria_models.facts import PatientFact
from pipeline.bench_match import replicate
from pipeline.cli import app
from pipeline.patients_io import Patient


def _patient(pid: str) -> Patient:
    return Patient(pid, "F", dt.date(1980, 1, 1), dt.date(2025, 3, 1), ())


def _fact(pid: str, code: str) -> PatientFact:
    return PatientFact(
        patient_id=pid,
        note_id="N1",
        note_date=dt.date(2025, 1, 1),
        category="diagnosis",
        code_system="ICD10CM",
        code=code,
        preferred_name=code,
    )


def test_replicate_cycles_patients_and_copies_their_facts() -> None:
    patients = [_patient("A"), _patient("B")]
    facts = [_fact("A", "K50"), _fact("A", "I10"), _fact("B", "K51")]
    out_patients, out_facts = replicate(patients, facts, 5)
    assert len({p.patient_id for p in out_patients}) == 5
    by_pid: dict[str, list[str]] = {}
    for f in out_facts:
        by_pid.setdefault(f.patient_id, []).append(f.code)
    codes = [by_pid.get(p.patient_id, []) for p in out_patients]
    assert codes == [["K50", "I10"], ["K51"], ["K50", "I10"], ["K51"], ["K50", "I10"]]


def test_bench_match_cli_reports_every_patient_labelled() -> None:
    result = CliRunner().invoke(app, ["bench", "--match", "48", "--json"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output.strip().splitlines()[-1])
    assert figures["patients"] == 48
    assert sum(figures["labels"].values()) == 48
    # The bundled sample has eligible and excluded patients; copies keep that mix.
    assert figures["labels"].get("eligible", 0) > 0 and figures["labels"].get("excluded", 0) > 0
