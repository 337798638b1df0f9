"""`elig explain`: one patient's verdict per criterion, with each evidence span shown in its note.

Uses the same data as the HTML report (``pipeline.match`` results over a criteria model and a
patients file), rendered as plain text for a terminal: the span is marked ``[[...]]`` inside a
window of the note text around it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from criteria_models.evaluate import PatientResult
from criteria_models.model import Protocol
from pipeline.patients_io import Patient

WINDOW = 80


@dataclass(frozen=True)
class ExplainedCriterion:
    criterion_id: str
    kind: str
    text: str
    label: str
    reason: str
    evidence: tuple[str, ...]


def in_context(note_text: str, start: int, end: int, width: int = WINDOW) -> str:
    """``…before [[span]] after…`` on one line: the span marked, a window of text either side."""
    a, b = max(0, start - width), min(len(note_text), end + width)
    text = (
        ("…" if a > 0 else "")
        + note_text[a:start]
        + "[["
        + note_text[start:end]
        + "]]"
        + note_text[end:b]
        + ("…" if b < len(note_text) else "")
    )
    return " ".join(text.split())


def explain_patient(
    protocol: Protocol, patient: Patient, result: PatientResult, width: int = WINDOW
) -> list[ExplainedCriterion]:
    notes = {n.note_id: n.text for n in patient.notes}
    out = []
    for c in protocol.criteria:
        v = result.criteria.get(c.id)
        if v is None:
            continue
        shown = []
        for e in v.evidence:
            note = notes.get(e.note_id)
            if note is not None and 0 <= e.start <= e.end <= len(note):
                shown.append(f"{e.note_id}: {in_context(note, e.start, e.end, width)}")
            else:
                shown.append(f"{e.note_id}: [[{e.text}]]")
        out.append(ExplainedCriterion(c.id, c.kind, c.text, v.label, v.reason, tuple(shown)))
    return out


def render_text(result: PatientResult, rows: Sequence[ExplainedCriterion]) -> str:
    lines = [
        f"{result.patient_id} x {result.trial_id}: {result.overall} (cohort {result.cohort}, score {result.score:.2f})"
    ]
    for r in rows:
        lines.append(f"- {r.criterion_id} [{r.kind}] {r.label}: {r.reason}")
        lines.append(f"    criterion: {' '.join(r.text.split())[:160]}")
        for ev in r.evidence:
            lines.append(f"    evidence  {ev}")
    return "\n".join(lines)
