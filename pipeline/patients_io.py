"""Reading patients (JSONL contract of DESIGN.md) with quarantine instead of crashes.

A bad record never stops a batch: it is set aside with the file, the record (line number and id)
and the reason, and the rest proceeds. Note text is never logged.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from criteria_models.facts import PatientContext

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Note:
    note_id: str
    date: dt.date | None
    type: str
    text: str


@dataclass(frozen=True, slots=True)
class Patient:
    patient_id: str
    sex: str | None
    birth_date: dt.date | None
    screening_date: dt.date | None
    notes: tuple[Note, ...]

    @property
    def context(self) -> PatientContext:
        return PatientContext(self.patient_id, self.sex, self.birth_date, self.screening_date)


@dataclass(frozen=True, slots=True)
class QuarantineRecord:
    source: str
    record: str
    reason: str
    patient_id: str | None = None
    note_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ReadResult:
    patients: list[Patient] = field(default_factory=list)
    quarantine: list[QuarantineRecord] = field(default_factory=list)


class InputError(Exception):
    """E-IO-001: the input as a whole cannot be read (missing file, directory, empty)."""


def parse_date(value: Any) -> dt.date | None:
    """ISO ``YYYY-MM-DD`` (time part ignored); None for empty; ValueError otherwise."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        raise ValueError(f"unknown date format {text[:40]!r} (expected YYYY-MM-DD)") from None


def _patient_from_obj(obj: Any, source: str, record: str, out: ReadResult) -> None:
    if not isinstance(obj, dict):
        out.quarantine.append(QuarantineRecord(source, record, "record is not a JSON object"))
        return
    pid = obj.get("patient_id")
    if not isinstance(pid, str) or not pid.strip():
        out.quarantine.append(QuarantineRecord(source, record, "missing patient_id"))
        return
    try:
        birth = parse_date(obj.get("birth_date"))
        screening = parse_date(obj.get("screening_date"))
    except ValueError as e:
        out.quarantine.append(QuarantineRecord(source, record, f"patient date: {e}", pid))
        return
    raw_notes = obj.get("notes")
    if not isinstance(raw_notes, list) or not raw_notes:
        out.quarantine.append(QuarantineRecord(source, record, "patient has no notes", pid))
        return
    notes: list[Note] = []
    seen: set[str] = set()
    for i, n in enumerate(raw_notes):
        nrec = f"{record} note {i + 1}"
        if not isinstance(n, dict):
            out.quarantine.append(QuarantineRecord(source, nrec, "note is not a JSON object", pid))
            continue
        nid = str(n.get("note_id") or f"{pid}-note{i + 1}")
        text = n.get("text")
        if not isinstance(text, str) or not text.strip():
            out.quarantine.append(QuarantineRecord(source, nrec, "note has no text", pid, nid))
            continue
        if nid in seen:
            out.quarantine.append(QuarantineRecord(source, nrec, "duplicate note_id", pid, nid))
            continue
        try:
            date = parse_date(n.get("date"))
        except ValueError as e:
            out.quarantine.append(QuarantineRecord(source, nrec, f"note date: {e}", pid, nid))
            continue
        seen.add(nid)
        notes.append(Note(nid, date, str(n.get("type") or ""), text))
    if not notes:
        out.quarantine.append(QuarantineRecord(source, record, "patient has no usable notes", pid))
        return
    sex = obj.get("sex")
    out.patients.append(Patient(pid, str(sex) if sex else None, birth, screening, tuple(notes)))


def read_patients_jsonl(path: str | Path) -> ReadResult:
    """Read a patients JSONL file; bad lines and records go to ``quarantine``."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"E-IO-001 {p}: file not found")
    if p.is_dir():
        raise InputError(f"E-IO-001 {p}: is a directory, expected a patients .jsonl file")
    out = ReadResult()
    seen_ids: set[str] = set()
    with p.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            record = f"line {lineno}"
            if not raw.strip():
                continue
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                out.quarantine.append(QuarantineRecord(str(p), record, f"not UTF-8 ({e.reason})"))
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                out.quarantine.append(QuarantineRecord(str(p), record, f"malformed JSON: {e.msg}"))
                continue
            before = len(out.patients)
            _patient_from_obj(obj, str(p), record, out)
            if len(out.patients) > before:
                pid = out.patients[-1].patient_id
                if pid in seen_ids:
                    out.patients.pop()
                    out.quarantine.append(
                        QuarantineRecord(str(p), record, "duplicate patient_id", pid)
                    )
                seen_ids.add(pid)
    log.info("read %d patients from %s, %d quarantined", len(out.patients), p, len(out.quarantine))
    return out


def write_quarantine(records: list[QuarantineRecord], path: str | Path) -> None:
    with Path(path).open("w", encoding="utf-8") as fh:
        for r in records:
            fh.write(json.dumps(r.to_dict()) + "\n")
