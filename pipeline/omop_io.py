"""OMOP CDM input: NOTE (and optional PERSON) tables into the project's Patient records.

Why: sites hold notes in an OMOP CDM database, not in our JSONL. NOTE rows are grouped by
person_id into patients; PERSON gives sex (gender_concept_id 8507 male, 8532 female) and birth
date. Tables may be CSV, Parquet or tables of an existing DuckDB database. A bad row is
quarantined with its reason (missing ids, no text, duplicate note_id, bad date), never fatal.
Note text is never logged.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections import defaultdict
from pathlib import Path
from typing import Any

import pandas as pd

from pipeline.patients_io import InputError, Note, Patient, QuarantineRecord, ReadResult, parse_date

log = logging.getLogger(__name__)

GENDER_CONCEPTS = {8507: "M", 8532: "F"}
NOTE_REQUIRED = ("note_id", "person_id", "note_text")
OMOP_SUFFIXES = (".csv", ".parquet", ".pq", ".duckdb", ".db")


def is_omop_input(path: str | Path) -> bool:
    """True for inputs read as OMOP tables (by extension); patients JSONL otherwise."""
    return Path(path).suffix.lower() in OMOP_SUFFIXES


def _duckdb_table(path: Path, table: str) -> pd.DataFrame | None:
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE lower(table_name) = ? ORDER BY table_schema = 'main' DESC",
            [table],
        ).fetchall()
        if not rows:
            return None
        schema, name = rows[0]
        return con.execute(f'SELECT * FROM "{schema}"."{name}"').df()
    finally:
        con.close()


def read_table(path: str | Path, table: str = "note") -> pd.DataFrame:
    """One OMOP table as a DataFrame with lower-case column names (E-IO-001/E-OMOP-001 on failure)."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"E-IO-001 {p}: file not found")
    suffix = p.suffix.lower()
    try:
        if suffix == ".csv":
            frame = pd.read_csv(p, dtype=str, keep_default_na=False, encoding_errors="replace")
        elif suffix in (".parquet", ".pq"):
            frame = pd.read_parquet(p)
        elif suffix in (".duckdb", ".db"):
            found = _duckdb_table(p, table)
            if found is None:
                raise InputError(f"E-OMOP-001 {p}: no table named {table!r} in the database")
            frame = found
        else:
            raise InputError(f"E-OMOP-001 {p}: unknown table format (use .csv, .parquet, .duckdb)")
    except InputError:
        raise
    except Exception as e:  # pandas/pyarrow/duckdb raise many types on a corrupt file
        raise InputError(f"E-OMOP-001 {p}: cannot read {table} table: {type(e).__name__}") from None
    frame.columns = [str(c).lower() for c in frame.columns]
    return frame


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    try:
        if pd.isna(value):
            return True
    except (TypeError, ValueError):
        pass
    return str(value).strip() == ""


def clean_id(value: Any) -> str | None:
    """An OMOP id as text (``12.0`` from a float column becomes ``12``); None when blank."""
    if _blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def note_text(value: Any) -> str | None:
    """Note text as str; bytes must be UTF-8 (ValueError otherwise); None when empty."""
    if isinstance(value, bytes | bytearray):
        try:
            value = bytes(value).decode("utf-8")
        except UnicodeDecodeError as e:
            raise ValueError(f"note_text is not UTF-8 ({e.reason})") from None
    if _blank(value) or not isinstance(value, str):
        return None
    return value


def birth_date(row: dict[str, Any]) -> dt.date | None:
    """PERSON birth date: birth_datetime, else year/month/day of birth.

    A missing month or day takes the middle of the year or month (July 1st, 15th) so that an
    age computed from a year alone is off by at most six months either way.
    """
    if not _blank(row.get("birth_datetime")):
        try:
            return parse_date(row.get("birth_datetime"))
        except ValueError:
            pass
    year = row.get("year_of_birth")
    if _blank(year):
        return None
    try:
        y = int(float(str(year)))
        m = int(float(row["month_of_birth"])) if not _blank(row.get("month_of_birth")) else None
        d = int(float(row["day_of_birth"])) if not _blank(row.get("day_of_birth")) else None
        if m is None:
            return dt.date(y, 7, 1)
        return dt.date(y, m, d if d is not None else 15)
    except (ValueError, TypeError):
        return None


def _sex(value: Any) -> str | None:
    if _blank(value):
        return None
    try:
        return GENDER_CONCEPTS.get(int(float(value)))
    except (TypeError, ValueError):
        return None


def read_person(path: str | Path) -> dict[str, tuple[str | None, dt.date | None]]:
    """person_id -> (sex, birth date)."""
    frame = read_table(path, "person")
    if "person_id" not in frame.columns:
        raise InputError(f"E-OMOP-002 {path}: PERSON table has no person_id column")
    out: dict[str, tuple[str | None, dt.date | None]] = {}
    for row in frame.to_dict("records"):
        pid = clean_id(row.get("person_id"))
        if pid is not None:
            out[pid] = (_sex(row.get("gender_concept_id")), birth_date(row))
    return out


def read_omop_notes(
    note_path: str | Path,
    person_path: str | Path | None = None,
    screening_date: dt.date | None = None,
) -> ReadResult:
    """Patients from a NOTE table (+ PERSON). ``person_path`` defaults to the same DuckDB file.

    The screening date is ``screening_date`` if given, else each patient's latest note date.
    """
    p = Path(note_path)
    frame = read_table(p, "note")
    missing = [c for c in NOTE_REQUIRED if c not in frame.columns]
    if missing:
        raise InputError(f"E-OMOP-002 {p}: NOTE table lacks column(s) {', '.join(missing)}")
    persons: dict[str, tuple[str | None, dt.date | None]] = {}
    if person_path is not None:
        persons = read_person(person_path)
    elif p.suffix.lower() in (".duckdb", ".db") and _duckdb_table(p, "person") is not None:
        persons = read_person(p)
    out = ReadResult()
    source = str(p)
    by_person: dict[str, list[Note]] = defaultdict(list)
    seen: set[str] = set()
    for i, row in enumerate(frame.to_dict("records"), start=1):
        record = f"row {i}"
        nid, pid = clean_id(row.get("note_id")), clean_id(row.get("person_id"))
        if nid is None:
            out.quarantine.append(QuarantineRecord(source, record, "missing note_id", pid))
            continue
        if pid is None:
            out.quarantine.append(QuarantineRecord(source, record, "missing person_id", None, nid))
            continue
        try:
            text = note_text(row.get("note_text"))
            date = parse_date(None if _blank(row.get("note_date")) else row.get("note_date"))
        except ValueError as e:
            out.quarantine.append(QuarantineRecord(source, record, str(e), pid, nid))
            continue
        if text is None or not text.strip():
            out.quarantine.append(QuarantineRecord(source, record, "note has no text", pid, nid))
            continue
        if nid in seen:
            out.quarantine.append(QuarantineRecord(source, record, "duplicate note_id", pid, nid))
            continue
        seen.add(nid)
        title = row.get("note_title")
        by_person[pid].append(Note(nid, date, "" if _blank(title) else str(title), text))
    for pid, notes in by_person.items():
        sex, birth = persons.get(pid, (None, None))
        dates = [n.date for n in notes if n.date is not None]
        screening = screening_date or (max(dates) if dates else None)
        notes.sort(key=lambda n: (n.date or dt.date.min, n.note_id))
        out.patients.append(Patient(pid, sex, birth, screening, tuple(notes)))
    log.info(
        "read %d patients (%d notes) from %s, %d quarantined",
        len(out.patients),
        len(seen),
        p,
        len(out.quarantine),
    )
    return out
