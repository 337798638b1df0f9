"""Static HTML evidence report: ranked candidates, per-criterion verdicts, evidence in context.

One self-contained file, no scripts loaded from anywhere; every piece of note text is escaped so a
note containing markup is shown as text. Filters (overall label, criterion, criterion label) can be
preset from the URL fragment, e.g. ``report.html#crit=EXC-ORGAN&label=met``, so a filtered view
can be linked.
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
const c=document.getElementById('f-crit').value;const l=document.getElementById('f-label').value;
const want=c?('|'+c+'='+(l||'')):(l?('='+l+'|'):'');
const keep=el=>(!o||el.dataset.overall===o)&&(!want||(l&&c?el.dataset.crit.includes(want+'|'):el.dataset.crit.includes(want)));
let n=0;document.querySelectorAll('tr.cand').forEach(r=>{const k=keep(r);r.style.display=k?'':'none';if(k)n++;});
document.getElementById('f-count').textContent=n+' shown';
document.querySelectorAll('details.patient').forEach(d=>{d.style.display=keep(d)?'':'none'});
document.querySelectorAll('tr.crit').forEach(r=>{r.style.display=(!c||r.dataset.cid===c)&&(!l||r.dataset.label===l)?'':'none'});}
function init(){const h=new URLSearchParams(location.hash.slice(1));
[['overall','f-overall'],['crit','f-crit'],['label','f-label']].forEach(([k,id])=>{if(h.has(k))document.getElementById(id).value=h.get(k);});filt();}
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


def _crit_tokens(result: PatientResult) -> str:
    """``|CID=label|CID=label|`` for the criterion filter (escaped for an attribute)."""
    return html.escape("|" + "".join(f"{cid}={v.label}|" for cid, v in result.criteria.items()))


def render_report(
    protocol: Protocol, patients: Sequence[Patient], results: Sequence[PatientResult]
) -> str:
    notes = {n.note_id: n.text for p in patients for n in p.notes}
    ranked = sorted(results, key=lambda r: -r.score)
    e = html.escape
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>Eligibility report: {e(protocol.trial_id)}</title><style>{_CSS}</style>",
        f"<script>{_FILTER_JS}</script></head><body onload='init()'>",
        f"<h1>{e(protocol.title or protocol.trial_id)}</h1>",
        f"<p>{len(results)} patients screened against {len(protocol.criteria)} criteria.</p>",
        "<label>Overall: <select id='f-overall' onchange='filt()'><option value=''>all</option>",
        *[
            f"<option>{o}</option>"
            for o in ("eligible", "needs_review", "not_eligible", "excluded")
        ],
        "</select></label> ",
        "<label>Criterion: <select id='f-crit' onchange='filt()'><option value=''>any</option>",
        *[f"<option value='{e(c.id)}'>{e(c.id)} ({e(c.kind)})</option>" for c in protocol.criteria],
        "</select></label> ",
        "<label>Label: <select id='f-label' onchange='filt()'><option value=''>any</option>",
        *[f"<option>{x}</option>" for x in ("met", "not_met", "unknown", "not_applicable")],
        "</select></label> <span id='f-count'></span>",
        "<h2>Candidates</h2><table><tr><th>rank</th><th>patient</th><th>overall</th><th>cohort</th><th>score</th></tr>",
    ]
    crit = {r.patient_id: _crit_tokens(r) for r in ranked}
    for i, r in enumerate(ranked, 1):
        parts.append(
            f"<tr class='cand' data-overall='{e(r.overall)}' data-crit='{crit[r.patient_id]}'><td>{i}</td><td><a href='#p-{e(r.patient_id)}'>{e(r.patient_id)}</a></td>"
            f"<td class='{e(r.overall)}'>{e(r.overall)}</td><td>{e(r.cohort)}</td><td>{r.score:.2f}</td></tr>"
        )
    parts.append("</table><h2>Verdicts and evidence</h2>")
    texts = {c.id: c.text for c in protocol.criteria}
    for r in ranked:
        parts.append(
            f"<details class='patient' data-overall='{e(r.overall)}' data-crit='{crit[r.patient_id]}' id='p-{e(r.patient_id)}'>"
            f"<summary>{e(r.patient_id)}: <span class='{e(r.overall)}'>{e(r.overall)}</span> ({e(r.cohort)})</summary>"
            "<table><tr><th>criterion</th><th>label</th><th>reason</th><th>evidence</th></tr>"
        )
        for cid, v in r.criteria.items():
            ev = "<br>".join(
                f"<span class='ctx'>[{e(x.note_id)}] {_context(notes.get(x.note_id, ''), x.start, x.end)}</span>"
                for x in v.evidence
            )
            parts.append(
                f"<tr class='crit {e(v.label)}' data-cid='{e(cid)}' data-label='{e(v.label)}'><td title='{e(texts.get(cid, ''))}'>{e(cid)}</td>"
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
