"""Embedded DuckDB store: patients, notes, facts, verdicts, evidence, quarantine, runs.

Writes are idempotent per run: rows of the patients in this batch are replaced, never duplicated.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

import pandas as pd

from criteria_models.evaluate import PatientResult
from criteria_models.facts import PatientFact
from pipeline.patients_io import Patient, QuarantineRecord

_TABLES = {
    "patients": "patient_id VARCHAR PRIMARY KEY, sex VARCHAR, birth_date DATE, screening_date DATE",
    "notes": "note_id VARCHAR, patient_id VARCHAR, note_date DATE, note_type VARCHAR, n_chars INTEGER",
    "verdicts": "run_id VARCHAR, patient_id VARCHAR, trial_id VARCHAR, criterion_id VARCHAR, "
    "label VARCHAR, reason VARCHAR",
    "evidence": "run_id VARCHAR, patient_id VARCHAR, trial_id VARCHAR, criterion_id VARCHAR, "
    "note_id VARCHAR, start_char INTEGER, end_char INTEGER, text VARCHAR",
    "overall": "run_id VARCHAR, patient_id VARCHAR, trial_id VARCHAR, overall VARCHAR, "
    "cohort VARCHAR, score DOUBLE",
    "quarantine": "run_id VARCHAR, source VARCHAR, record VARCHAR, patient_id VARCHAR, "
    "note_id VARCHAR, reason VARCHAR",
    "runs": "run_id VARCHAR, started_at TIMESTAMP, command VARCHAR, versions VARCHAR, "
    "parameters VARCHAR, counts VARCHAR, timings VARCHAR",
}


def _facts_ddl() -> str:
    """Typed columns of the facts table, from the PatientFact record (one source of truth)."""
    types = {
        "int": "INTEGER",
        "float | None": "DOUBLE",
        "bool": "BOOLEAN",
        "dt.date | None": "DATE",
    }
    columns = [f'"{f.name}" {types.get(str(f.type), "VARCHAR")}' for f in fields(PatientFact)]
    columns += ['"term_exists" BOOLEAN', '"term_temporal" VARCHAR']
    return ", ".join(columns)


def facts_frame(facts: Sequence[PatientFact]) -> pd.DataFrame:
    rows = [f.to_row() for f in facts]
    frame = pd.DataFrame(rows)
    if frame.empty:
        frame = pd.DataFrame(
            columns=[*PatientFact.__dataclass_fields__, "term_exists", "term_temporal"]
        )
    return frame


def write_store(
    db_path: str | Path,
    patients: Sequence[Patient],
    facts: Sequence[PatientFact],
    results: Sequence[PatientResult],
    quarantine: Sequence[QuarantineRecord],
    run_info: dict[str, Any],
) -> str:
    import duckdb

    run_id = run_info.get("run_id") or uuid.uuid4().hex[:12]
    con = duckdb.connect(str(db_path))
    try:
        for name, columns in _TABLES.items():
            con.execute(f"CREATE TABLE IF NOT EXISTS {name} ({columns})")
        ids = [p.patient_id for p in patients]
        trial_ids = sorted({r.trial_id for r in results})
        con.execute("CREATE TEMP TABLE batch_ids (patient_id VARCHAR)")
        con.executemany("INSERT INTO batch_ids VALUES (?)", [(i,) for i in ids])
        for table in ("patients", "notes"):
            con.execute(
                f"DELETE FROM {table} WHERE patient_id IN (SELECT patient_id FROM batch_ids)"
            )
        for table in ("verdicts", "evidence", "overall"):
            for trial in trial_ids:
                con.execute(
                    f"DELETE FROM {table} WHERE trial_id = ? AND patient_id IN (SELECT patient_id FROM batch_ids)",
                    [trial],
                )
        con.executemany(
            "INSERT INTO patients VALUES (?, ?, ?, ?)",
            [(p.patient_id, p.sex, p.birth_date, p.screening_date) for p in patients],
        )
        con.executemany(
            "INSERT INTO notes VALUES (?, ?, ?, ?, ?)",
            [
                (n.note_id, p.patient_id, n.date, n.type, len(n.text))
                for p in patients
                for n in p.notes
            ],
        )
        con.execute(f"CREATE TABLE IF NOT EXISTS facts ({_facts_ddl()})")
        con.execute("DELETE FROM facts WHERE patient_id IN (SELECT patient_id FROM batch_ids)")
        frame = facts_frame(facts)
        if not frame.empty:
            con.register("facts_frame", frame)
            con.execute("INSERT INTO facts BY NAME SELECT * FROM facts_frame")
            con.unregister("facts_frame")
        verdict_rows, evidence_rows, overall_rows = [], [], []
        for r in results:
            overall_rows.append((run_id, r.patient_id, r.trial_id, r.overall, r.cohort, r.score))
            for cid, v in r.criteria.items():
                verdict_rows.append((run_id, r.patient_id, r.trial_id, cid, v.label, v.reason))
                for e in v.evidence:
                    evidence_rows.append(
                        (run_id, r.patient_id, r.trial_id, cid, e.note_id, e.start, e.end, e.text)
                    )
        if verdict_rows:
            con.executemany("INSERT INTO verdicts VALUES (?, ?, ?, ?, ?, ?)", verdict_rows)
        if evidence_rows:
            con.executemany("INSERT INTO evidence VALUES (?, ?, ?, ?, ?, ?, ?, ?)", evidence_rows)
        if overall_rows:
            con.executemany("INSERT INTO overall VALUES (?, ?, ?, ?, ?, ?)", overall_rows)
        if quarantine:
            con.executemany(
                "INSERT INTO quarantine VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (run_id, q.source, q.record, q.patient_id, q.note_id, q.reason)
                    for q in quarantine
                ],
            )
        con.execute(
            "INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                run_id,
                dt.datetime.now(dt.UTC).replace(tzinfo=None),
                run_info.get("command", ""),
                json.dumps(run_info.get("versions", {})),
                json.dumps(run_info.get("parameters", {})),
                json.dumps(run_info.get("counts", {})),
                json.dumps(run_info.get("timings", {})),
            ],
        )
    finally:
        con.close()
    return run_id
