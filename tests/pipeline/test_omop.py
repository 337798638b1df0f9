"""OMOP CDM in (NOTE + PERSON from CSV, Parquet, DuckDB) and out (NOTE_NLP, CDM v5.4 types)."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.omop import NOTE_NLP_COLUMNS, note_id_to_int, to_note_nlp
from pipeline.omop_io import birth_date, read_omop_notes
from pipeline.patients_io import InputError, read_patients_jsonl

REPO = Path(__file__).resolve().parents[2]
SAMPLE_PATIENTS = REPO / "corpora" / "sample" / "patients.jsonl"
REFERENCE_MODEL = REPO / "corpora" / "protocols" / "cd7_cart_autoimmune.criteria.json"
CDM = json.loads((REPO / "tests" / "fixtures" / "omop_cdm54_note_nlp.json").read_text())


def _omop_tables(n_patients: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    """NOTE and PERSON tables made from the bundled sample patients (integer OMOP ids)."""
    patients = read_patients_jsonl(SAMPLE_PATIENTS).patients[:n_patients]
    notes, persons = [], []
    for i, p in enumerate(patients, start=1):
        assert p.birth_date is not None
        persons.append(
            {
                "person_id": i,
                "gender_concept_id": {"F": 8532, "M": 8507}.get(p.sex or "", 0),
                "year_of_birth": p.birth_date.year,
                "month_of_birth": p.birth_date.month,
                "day_of_birth": p.birth_date.day,
                "birth_datetime": None,
            }
        )
        for j, n in enumerate(p.notes, start=1):
            notes.append(
                {
                    "note_id": i * 100 + j,
                    "person_id": i,
                    "note_date": n.date,
                    "note_title": n.type,
                    "note_text": n.text,
                    "note_type_concept_id": 32817,
                }
            )
    return pd.DataFrame(notes), pd.DataFrame(persons)


def test_note_and_person_from_csv_parquet_and_duckdb_agree(tmp_path: Path) -> None:
    notes, persons = _omop_tables()
    notes.to_csv(tmp_path / "note.csv", index=False)
    persons.to_csv(tmp_path / "person.csv", index=False)
    notes.to_parquet(tmp_path / "note.parquet", index=False)
    persons.to_parquet(tmp_path / "person.parquet", index=False)
    con = duckdb.connect(str(tmp_path / "cdm.duckdb"))
    con.execute("CREATE TABLE NOTE AS SELECT * FROM notes")
    con.execute("CREATE TABLE PERSON AS SELECT * FROM persons")
    con.close()

    reads = [
        read_omop_notes(tmp_path / "note.csv", tmp_path / "person.csv"),
        read_omop_notes(tmp_path / "note.parquet", tmp_path / "person.parquet"),
        read_omop_notes(tmp_path / "cdm.duckdb"),
    ]
    sample = read_patients_jsonl(SAMPLE_PATIENTS).patients[:3]
    for read in reads:
        assert not read.quarantine
        assert [p.patient_id for p in read.patients] == ["1", "2", "3"]
        for got, want in zip(read.patients, sample, strict=True):
            assert got.sex == want.sex and got.birth_date == want.birth_date
            assert [n.text for n in got.notes] == [n.text for n in want.notes]
            assert got.screening_date == max(n.date for n in want.notes if n.date)
    fixed = read_omop_notes(tmp_path / "note.parquet", screening_date=dt.date(2025, 6, 1))
    assert {p.screening_date for p in fixed.patients} == {dt.date(2025, 6, 1)}
    assert {p.sex for p in fixed.patients} == {None}  # no PERSON given


def test_bad_note_rows_are_quarantined_with_reasons(tmp_path: Path) -> None:
    rows = [
        {
            "note_id": "1",
            "person_id": "7",
            "note_date": "2025-01-02",
            "note_text": "Crohn disease.",
        },
        {"note_id": "", "person_id": "7", "note_date": "2025-01-02", "note_text": "x"},
        {"note_id": "3", "person_id": "", "note_date": "2025-01-02", "note_text": "x"},
        {"note_id": "4", "person_id": "7", "note_date": "02/30/2025", "note_text": "x"},
        {"note_id": "5", "person_id": "7", "note_date": "2025-01-03", "note_text": "  "},
        {"note_id": "1", "person_id": "7", "note_date": "2025-01-03", "note_text": "again"},
    ]
    pd.DataFrame(rows).to_csv(tmp_path / "note.csv", index=False)
    read = read_omop_notes(tmp_path / "note.csv")
    assert [len(p.notes) for p in read.patients] == [1]
    reasons = [q.reason for q in read.quarantine]
    assert reasons[0] == "missing note_id" and reasons[1] == "missing person_id"
    assert "date" in reasons[2] and reasons[3] == "note has no text"
    assert reasons[4] == "duplicate note_id"
    assert [q.record for q in read.quarantine] == ["row 2", "row 3", "row 4", "row 5", "row 6"]


def test_missing_columns_and_files_are_clear_errors(tmp_path: Path) -> None:
    pd.DataFrame({"note_id": [1], "text": ["x"]}).to_csv(tmp_path / "note.csv", index=False)
    with pytest.raises(InputError, match=r"E-OMOP-002 .*note.csv.*person_id, note_text"):
        read_omop_notes(tmp_path / "note.csv")
    with pytest.raises(InputError, match="E-IO-001"):
        read_omop_notes(tmp_path / "absent.parquet")
    duckdb.connect(str(tmp_path / "empty.duckdb")).close()
    with pytest.raises(InputError, match=r"E-OMOP-001 .*no table named 'note'"):
        read_omop_notes(tmp_path / "empty.duckdb")


def test_birth_date_from_person_fields() -> None:
    assert birth_date({"birth_datetime": "1980-02-03T00:00:00"}) == dt.date(1980, 2, 3)
    assert birth_date({"year_of_birth": 1980, "month_of_birth": 2, "day_of_birth": 3}) == dt.date(
        1980, 2, 3
    )
    assert birth_date({"year_of_birth": 1980}) == dt.date(1980, 7, 1)
    assert birth_date({"year_of_birth": None}) is None


def _arrow_matches(cdm_type: str, arrow_type: str) -> bool:
    if cdm_type == "integer":
        return arrow_type in ("int32", "int64")
    if cdm_type == "date":
        return arrow_type == "date32[day]"
    if cdm_type == "datetime":
        return arrow_type.startswith("timestamp")
    return arrow_type in ("string", "large_string")


def test_note_nlp_output_matches_cdm54(tmp_path: Path) -> None:
    """Load written NOTE_NLP back (Parquet and DuckDB) and check names, types, nullability, lengths."""
    import pyarrow.parquet as pq

    from pipeline.match import extract_facts
    from pipeline.store import facts_frame

    patients = read_patients_jsonl(SAMPLE_PATIENTS).patients[:2]
    frame = to_note_nlp(facts_frame(extract_facts(patients)), nlp_date=dt.date(2025, 5, 1))
    assert list(frame.columns) == [c["name"] for c in CDM["columns"]] == NOTE_NLP_COLUMNS
    frame.to_parquet(tmp_path / "note_nlp.parquet", index=False)
    schema = pq.read_schema(tmp_path / "note_nlp.parquet")
    back = pd.read_parquet(tmp_path / "note_nlp.parquet")
    assert len(back) > 20
    for col in CDM["columns"]:
        name, cdm_type = col["name"], col["type"]
        assert _arrow_matches(cdm_type, str(schema.field(name).type)), (name, schema.field(name))
        if col["required"]:
            assert back[name].notna().all(), name
        m = re.fullmatch(r"varchar\((\d+)\)", cdm_type)
        if m:
            assert back[name].dropna().str.len().max() <= int(m.group(1)), name
    assert set(back["term_exists"]) <= {"Y", "N"} and "N" in set(back["term_exists"])
    assert back["note_nlp_id"].is_unique
    assert back["term_modifiers"].str.contains("source_note_id=SAMPLE-").all()
    assert back["term_modifiers"].str.contains(r"code=ICD10CM:").any()
    # the same file loads into DuckDB with CDM types
    con = duckdb.connect()
    types = dict(
        con.execute(
            f"DESCRIBE SELECT * FROM read_parquet('{tmp_path / 'note_nlp.parquet'}')"
        ).fetchall()[i][:2]
        for i in range(len(CDM["columns"]))
    )
    con.close()
    assert types["note_id"] == "BIGINT" and types["nlp_date"] == "DATE"


def test_note_ids_map_to_cdm_integers() -> None:
    assert note_id_to_int("12345") == (12345, False)
    hashed, flag = note_id_to_int("SAMPLE-001-N1")
    assert flag and 0 < hashed < 2**63 and note_id_to_int("SAMPLE-001-N1")[0] == hashed
    assert note_id_to_int("SAMPLE-001-N2")[0] != hashed


def _invoke(args: list[str]) -> Any:
    return CliRunner().invoke(app, args, catch_exceptions=False)


def test_match_and_extract_accept_omop_note_input(tmp_path: Path) -> None:
    notes, persons = _omop_tables(2)
    notes.to_parquet(tmp_path / "note.parquet", index=False)
    persons.to_parquet(tmp_path / "person.parquet", index=False)
    out = tmp_path / "results.jsonl"
    res = _invoke(
        ["match", "--criteria", str(REFERENCE_MODEL), "--patients", str(tmp_path / "note.parquet"),
         "-o", str(out)]
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    assert [x["patient_id"] for x in lines] == ["1", "2"]
    jsonl = tmp_path / "ref.jsonl"
    first_two = [ln for ln in SAMPLE_PATIENTS.read_text().splitlines() if ln.strip()][:2]
    jsonl.write_text("\n".join(first_two) + "\n")
    ref = tmp_path / "ref_results.jsonl"
    assert _invoke(["match", "--criteria", str(REFERENCE_MODEL), "--patients", str(jsonl),
                    "-o", str(ref)]).exit_code == 0  # fmt: skip
    want = [json.loads(x) for x in ref.read_text().splitlines()]
    # same notes, sex, birth date; screening date = latest note date instead of the JSONL's
    for got, exp in zip(lines, want, strict=True):
        assert set(got["criteria"]) == set(exp["criteria"])
    nlp = tmp_path / "note_nlp.parquet"
    res = _invoke(
        ["extract", str(tmp_path / "note.parquet"), "-o", str(nlp), "--format", "note_nlp"]
    )
    assert res.exit_code == 0, res.output
    back = pd.read_parquet(nlp)
    assert set(back["note_id"]) <= set(notes["note_id"]) and len(back) > 0
    bad = _invoke(["match", "--patients", str(tmp_path / "nothere.csv"), "-o", str(out)])
    assert bad.exit_code != 0 and "E-IO-001" in bad.output
