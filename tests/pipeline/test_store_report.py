"""DuckDB store idempotence and HTML report escaping."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import duckdb
import pytest

from criteria_models.evaluate import PatientResult
from criteria_models.facts import PatientFact
from criteria_models.model import Protocol
from pipeline.match import extract_facts, load_protocol, match_patients
from pipeline.patients_io import Note, Patient, read_patients_jsonl
from pipeline.report import render_report
from pipeline.store import write_store

REPO = Path(__file__).resolve().parents[2]
REFERENCE_MODEL = REPO / "corpora" / "protocols" / "cd7_cart_autoimmune.criteria.json"
SAMPLE_PATIENTS = REPO / "corpora" / "sample" / "patients.jsonl"

TABLES = ("patients", "notes", "facts", "verdicts", "evidence", "overall", "quarantine", "runs")


@pytest.fixture(scope="module")
def protocol() -> Protocol:
    return load_protocol(REFERENCE_MODEL)


@pytest.fixture(scope="module")
def batch(
    tmp_path_factory: pytest.TempPathFactory, protocol: Protocol
) -> tuple[list[Patient], list[PatientFact], list[PatientResult]]:
    all_lines = SAMPLE_PATIENTS.read_text(encoding="utf-8").splitlines()
    lines = [ln for ln in all_lines if ln.strip()][:2]
    path = tmp_path_factory.mktemp("store") / "two.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    read = read_patients_jsonl(path)
    assert len(read.patients) == 2 and not read.quarantine
    facts = extract_facts(read.patients)
    results = list(match_patients(protocol, read.patients, facts))
    return read.patients, facts, results


def _counts(db: Path) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        out: dict[str, int] = {}
        for t in TABLES:
            row = con.execute(f"SELECT count(*) FROM {t}").fetchone()
            assert row is not None
            out[t] = int(row[0])
        return out
    finally:
        con.close()


def test_write_store_is_idempotent(
    tmp_path: Path, batch: tuple[list[Patient], list[PatientFact], list[PatientResult]]
) -> None:
    patients, facts, results = batch
    db = tmp_path / "elig.duckdb"
    run_info: dict[str, Any] = {"command": "test", "counts": {"patients": len(patients)}}
    run1 = write_store(db, patients, facts, results, [], run_info)

    con = duckdb.connect(str(db), read_only=True)
    try:
        names = {
            r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
        }
    finally:
        con.close()
    assert set(TABLES) <= names, set(TABLES) - names

    first = _counts(db)
    assert first["patients"] == 2
    assert first["notes"] == sum(len(p.notes) for p in patients)
    assert first["facts"] == len(facts) > 0
    assert first["verdicts"] == sum(len(r.criteria) for r in results) > 0
    assert first["evidence"] == sum(len(v.evidence) for r in results for v in r.criteria.values())
    assert first["overall"] == 2
    assert first["runs"] == 1

    run2 = write_store(db, patients, facts, results, [], run_info)
    assert run2 != run1
    second = _counts(db)
    for t in ("patients", "notes", "facts", "verdicts", "evidence", "overall"):
        assert second[t] == first[t], (t, first[t], second[t])
    assert second["runs"] == 2

    con = duckdb.connect(str(db), read_only=True)
    try:
        run_ids = {r[0] for r in con.execute("SELECT DISTINCT run_id FROM overall").fetchall()}
        logged = {r[0] for r in con.execute("SELECT run_id FROM runs").fetchall()}
        counts_json = con.execute("SELECT counts FROM runs LIMIT 1").fetchone()
    finally:
        con.close()
    assert run_ids == {run2}  # the second write replaced the batch's verdicts
    assert logged == {run1, run2}
    assert counts_json is not None and json.loads(counts_json[0]) == {"patients": 2}


def test_write_store_after_a_batch_without_facts(
    tmp_path: Path,
    protocol: Protocol,
    batch: tuple[list[Patient], list[PatientFact], list[PatientResult]],
) -> None:
    patients, facts, results = batch
    db = tmp_path / "elig.duckdb"
    first = patients[:1]
    write_store(db, first, [], list(match_patients(protocol, first, [])), [], {"command": "a"})
    write_store(db, patients, facts, results, [], {"command": "b"})
    assert _counts(db)["facts"] == len(facts)


# --------------------------------------------------------------------------- report

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(2)>"


def _hostile_patient() -> Patient:
    text = (
        "RHEUMATOLOGY / GI CONSULT\n"
        f"HPI: 41 yo M. Crohn disease diagnosed 2016 {SCRIPT} {IMG} by ileocolonoscopy with biopsies.\n"
        "Failed prednisone, azathioprine, infliximab and adalimumab.\n"
    )
    note = Note("XSS-001-N1", dt.date(2025, 2, 1), "gi_consult", text)
    return Patient("XSS-001", "M", dt.date(1983, 5, 5), dt.date(2025, 2, 10), (note,))


def test_report_escapes_note_markup_and_highlights(protocol: Protocol) -> None:
    hostile = _hostile_patient()
    other = read_patients_jsonl(SAMPLE_PATIENTS).patients[0]
    patients = [hostile, other]
    facts = extract_facts(patients)
    results = list(match_patients(protocol, patients, facts))

    # the test is only meaningful if some evidence context (120 chars either side) covers the markup
    text = hostile.notes[0].text
    a, b = text.index(SCRIPT), text.index(IMG) + len(IMG)
    spans = [
        (e.start, e.end)
        for r in results
        if r.patient_id == hostile.patient_id
        for v in r.criteria.values()
        for e in v.evidence
        if e.note_id == hostile.notes[0].note_id
    ]
    assert any(s - 120 < b and e + 120 > a for s, e in spans), spans

    page = render_report(protocol, patients, results)
    assert "<script>alert(1)" not in page
    assert "onerror=alert(2)>" not in page
    assert "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page
    for p in patients:
        assert p.patient_id in page
    assert "<mark>" in page
