"""Bad input is quarantined with a reason; the rest of the batch proceeds."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.patients_io import InputError, read_patients_jsonl


def _patient(pid: str, **over: object) -> dict[str, object]:
    base: dict[str, object] = {
        "patient_id": pid,
        "sex": "F",
        "birth_date": "1980-01-01",
        "screening_date": "2025-01-01",
        "notes": [
            {
                "note_id": f"{pid}-N1",
                "date": "2024-12-01",
                "type": "progress_note",
                "text": "Crohn disease.",
            }
        ],
    }
    base.update(over)
    return base


def _write(tmp_path: Path, lines: list[str | bytes]) -> Path:
    p = tmp_path / "patients.jsonl"
    with p.open("wb") as fh:
        for line in lines:
            fh.write(line if isinstance(line, bytes) else line.encode())
            fh.write(b"\n")
    return p


def test_good_records_are_read(tmp_path: Path) -> None:
    path = _write(tmp_path, [json.dumps(_patient("A")), json.dumps(_patient("B"))])
    read = read_patients_jsonl(path)
    assert [p.patient_id for p in read.patients] == ["A", "B"]
    assert read.quarantine == []


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("{not json", "malformed JSON"),
        (json.dumps(_patient("X", notes=[])), "no notes"),
        (
            json.dumps(_patient("X", notes=[{"note_id": "n", "date": "2024-01-01", "text": "  "}])),
            "no text",
        ),
        (json.dumps(_patient("X", screening_date="03/04/2025")), "unknown date format"),
        (json.dumps({"sex": "F", "notes": []}), "missing patient_id"),
        (b"\xff\xfe bad bytes", "not UTF-8"),
        (json.dumps(["a", "list"]), "not a JSON object"),
    ],
)
def test_bad_records_are_quarantined_and_the_rest_proceeds(
    tmp_path: Path, bad: str | bytes, reason: str
) -> None:
    path = _write(tmp_path, [json.dumps(_patient("A")), bad, json.dumps(_patient("B"))])
    read = read_patients_jsonl(path)
    assert [p.patient_id for p in read.patients] == ["A", "B"]
    assert read.quarantine, "the bad record must be listed"
    assert any(reason in q.reason for q in read.quarantine)
    for q in read.quarantine:
        assert q.record.startswith("line 2")
        assert q.source == str(path)


def test_bad_note_date_quarantines_only_that_note(tmp_path: Path) -> None:
    notes = [
        {"note_id": "A-N1", "date": "2024-12-01", "text": "RA."},
        {"note_id": "A-N2", "date": "yesterday", "text": "RA."},
    ]
    read = read_patients_jsonl(_write(tmp_path, [json.dumps(_patient("A", notes=notes))]))
    assert [n.note_id for n in read.patients[0].notes] == ["A-N1"]
    assert read.quarantine[0].note_id == "A-N2" and "date" in read.quarantine[0].reason


def test_duplicate_patient_is_quarantined(tmp_path: Path) -> None:
    read = read_patients_jsonl(
        _write(tmp_path, [json.dumps(_patient("A")), json.dumps(_patient("A"))])
    )
    assert len(read.patients) == 1
    assert "duplicate patient_id" in read.quarantine[0].reason


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not found"):
        read_patients_jsonl(tmp_path / "nope.jsonl")
