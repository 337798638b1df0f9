"""Static HTML evidence report: ranked candidates, per-criterion verdicts, evidence in context.

One self-contained file, no scripts loaded from anywhere; every piece of note text is escaped so a
note containing markup is shown as text.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from pathlib import Path

from criteria_models.evaluate import PatientResult
from criteria_models.model import Protocol
from pipeline.patients_io import Patient

_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem;color:#222}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top}
.met{background:#e3f5e1}.not_met{background:#fde2e1}.unknown{background:#f4f4f4}.not_applicable{background:#eef}
.eligible{color:#176b1c;font-weight:bold}.excluded{color:#a31515;font-weight:bold}.needs_review{color:#8a5a00;font-weight:bold}
mark{background:#ffe58a}details{margin:.5rem 0}.ctx{font-size:.9em;color:#444}
"""

_FILTER_JS = """
function filt(){const o=document.getElementById('f-overall').value;
document.querySelectorAll('tr.cand').forEach(r=>{r.style.display=(!o||r.dataset.overall===o)?'':'none'});
document.querySelectorAll('details.patient').forEach(d=>{d.style.display=(!o||d.dataset.overall===o)?'':'none'});}
"""


def _context(note_text: str, start: int, end: int, width: int = 120) -> str:
    a, b = max(0, start - width), min(len(note_text), end + width)
    return (
        html.escape(note_text[a:start])
        + "<mark>"
        + html.escape(note_text[start:end])
        + "</mark>"
        + html.escape(note_text[end:b])
    )


def render_report(
    protocol: Protocol, patients: Sequence[Patient], results: Sequence[PatientResult]
) -> str:
    notes = {n.note_id: n.text for p in patients for n in p.notes}
    ranked = sorted(results, key=lambda r: -r.score)
    e = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>Eligibility report: {e(protocol.trial_id)}</title><style>{_CSS}</style>",
        f"<script>{_FILTER_JS}</script></head><body>",
        f"<h1>{e(protocol.title or protocol.trial_id)}</h1>",
        f"<p>{len(results)} patients screened against {len(protocol.criteria)} criteria.</p>",
        "<label>Overall: <select id='f-overall' onchange='filt()'><option value=''>all</option>",
        *[
            f"<option>{o}</option>"
            for o in ("eligible", "needs_review", "not_eligible", "excluded")
        ],
        "</select></label>",
        "<h2>Candidates</h2><table><tr><th>rank</th><th>patient</th><th>overall</th><th>cohort</th><th>score</th></tr>",
    ]
    for i, r in enumerate(ranked, 1):
        parts.append(
            f"<tr class='cand' data-overall='{e(r.overall)}'><td>{i}</td><td><a href='#p-{e(r.patient_id)}'>{e(r.patient_id)}</a></td>"
            f"<td class='{e(r.overall)}'>{e(r.overall)}</td><td>{e(r.cohort)}</td><td>{r.score:.2f}</td></tr>"
        )
    parts.append("</table><h2>Verdicts and evidence</h2>")
    texts = {c.id: c.text for c in protocol.criteria}
    for r in ranked:
        parts.append(
            f"<details class='patient' data-overall='{e(r.overall)}' id='p-{e(r.patient_id)}'>"
            f"<summary>{e(r.patient_id)}: <span class='{e(r.overall)}'>{e(r.overall)}</span> ({e(r.cohort)})</summary>"
            "<table><tr><th>criterion</th><th>label</th><th>reason</th><th>evidence</th></tr>"
        )
        for cid, v in r.criteria.items():
            ev = "<br>".join(
                f"<span class='ctx'>[{e(x.note_id)}] {_context(notes.get(x.note_id, ''), x.start, x.end)}</span>"
                for x in v.evidence
            )
            parts.append(
                f"<tr class='{e(v.label)}'><td title='{e(texts.get(cid, ''))}'>{e(cid)}</td>"
                f"<td>{e(v.label)}</td><td>{e(v.reason)}</td><td>{ev}</td></tr>"
            )
        parts.append("</table></details>")
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(
    path: str | Path,
    protocol: Protocol,
    patients: Sequence[Patient],
    results: Sequence[PatientResult],
) -> None:
    Path(path).write_text(render_report(protocol, patients, results), encoding="utf-8")
