"""Review workflow: what a reviewer changed in a parsed criteria model, and the model as text/HTML.

A parsed model and its reviewed copy rarely keep the same ids (the parser numbers INC-01..,
reviewers name INC-RA-DX), so criteria are paired by id first, then by source span or text
overlap. The diff counts differing fields per pair and the structural differences of the rule.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from criteria_models.model import ConceptRef, Criterion, CriterionEntity, Protocol

_COMPARED_FIELDS = ("kind", "text", "group", "computable", "category", "scored")


@dataclass
class CriterionDiff:
    parsed_id: str | None
    reviewed_id: str | None
    matched_by: str  # id | span | text | unmatched
    fields: list[str] = field(default_factory=list)


@dataclass
class ProtocolDiff:
    pairs: list[CriterionDiff]
    structural: list[str]

    @property
    def changed_criteria(self) -> int:
        return sum(1 for p in self.pairs if p.fields or p.matched_by == "unmatched")

    @property
    def differing_fields(self) -> int:
        return sum(len(p.fields) for p in self.pairs)

    def to_json(self) -> dict[str, Any]:
        return {
            "criteria_pairs": len(self.pairs),
            "changed_criteria": self.changed_criteria,
            "differing_fields": self.differing_fields,
            "structural_differences": len(self.structural),
            "structural": self.structural,
            "pairs": [p.__dict__ for p in self.pairs],
        }


def _overlap(a: Criterion, b: Criterion) -> float:
    if a.span is not None and b.span is not None:
        inter = min(a.span.end, b.span.end) - max(a.span.start, b.span.start)
        union = max(a.span.end, b.span.end) - min(a.span.start, b.span.start)
        if inter > 0 and union > 0:
            return inter / union
    words_a, words_b = set(a.text.lower().split()), set(b.text.lower().split())
    if not words_a or not words_b:
        return 0.0
    return len(words_a & words_b) / len(words_a | words_b) * 0.99  # text ties lose to spans


def _requirement_types(c: Criterion) -> list[str]:
    out: list[str] = []

    def walk(node: Any) -> None:
        if node is None:
            return
        out.append(node.type)
        for child in getattr(node, "items", None) or []:
            walk(child)
        if getattr(node, "item", None) is not None:
            walk(node.item)

    walk(c.requirement)
    return out


def _field_diffs(a: Criterion, b: Criterion) -> list[str]:
    out = [f for f in _COMPARED_FIELDS if getattr(a, f) != getattr(b, f)]
    if (a.span is None) != (b.span is None) or (
        a.span is not None and b.span is not None and a.span != b.span
    ):
        out.append("span")
    if (a.applicability is None) != (b.applicability is None) or (
        a.applicability is not None
        and b.applicability is not None
        and a.applicability.model_dump() != b.applicability.model_dump()
    ):
        out.append("applicability")
    ra = a.requirement.model_dump() if a.requirement is not None else None
    rb = b.requirement.model_dump() if b.requirement is not None else None
    if ra != rb:
        out.append("requirement")
        if _requirement_types(a) != _requirement_types(b):
            out.append("requirement.type")
    return out


def diff_protocols(parsed: Protocol, reviewed: Protocol, threshold: float = 0.5) -> ProtocolDiff:
    """Pair criteria (id, then span/text overlap >= ``threshold``) and list what differs."""
    pairs: list[CriterionDiff] = []
    reviewed_by_id = {c.id: c for c in reviewed.criteria}
    used: set[str] = set()
    pending: list[Criterion] = []
    for c in parsed.criteria:
        other = reviewed_by_id.get(c.id)
        if other is not None:
            used.add(other.id)
            pairs.append(CriterionDiff(c.id, other.id, "id", _field_diffs(c, other)))
        else:
            pending.append(c)
    for c in pending:
        best: tuple[float, Criterion] | None = None
        for other in reviewed.criteria:
            if other.id in used:
                continue
            score = _overlap(c, other)
            if score >= threshold and (best is None or score > best[0]):
                best = (score, other)
        if best is None:
            pairs.append(CriterionDiff(c.id, None, "unmatched", ["removed"]))
            continue
        used.add(best[1].id)
        how = (
            "span" if c.span is not None and best[1].span is not None and best[0] >= 0.5 else "text"
        )
        pairs.append(CriterionDiff(c.id, best[1].id, how, _field_diffs(c, best[1])))
    for other in reviewed.criteria:
        if other.id not in used:
            pairs.append(CriterionDiff(None, other.id, "unmatched", ["added"]))
    return ProtocolDiff(pairs, _structural(parsed, reviewed, pairs))


def _structural(parsed: Protocol, reviewed: Protocol, pairs: list[CriterionDiff]) -> list[str]:
    out: list[str] = []
    a, b = parsed.rule, reviewed.rule
    if len(a.cohorts) != len(b.cohorts):
        out.append(f"cohorts: {len(a.cohorts)} parsed vs {len(b.cohorts)} reviewed")
    to_reviewed = {p.parsed_id: p.reviewed_id for p in pairs if p.parsed_id and p.reviewed_id}
    sizes_a = sorted(len(c.criteria) for c in a.cohorts)
    sizes_b = sorted(len(c.criteria) for c in b.cohorts)
    if sizes_a != sizes_b:
        out.append(f"cohort sizes: {sizes_a} parsed vs {sizes_b} reviewed")
    mapped = [sorted(to_reviewed.get(i) or f"?{i}" for i in c.criteria) for c in a.cohorts]
    wanted = [sorted(c.criteria) for c in b.cohorts]
    if sorted(mapped) != sorted(wanted) and sizes_a == sizes_b:
        out.append("cohort membership differs")
    if len(a.common_inclusions) != len(b.common_inclusions):
        out.append(
            f"common inclusions: {len(a.common_inclusions)} parsed vs {len(b.common_inclusions)} reviewed"
        )
    if len(a.exclusions) != len(b.exclusions):
        out.append(f"exclusions: {len(a.exclusions)} parsed vs {len(b.exclusions)} reviewed")
    by_parsed = {c.id: c for c in parsed.criteria}
    by_reviewed = {c.id: c for c in reviewed.criteria}
    for p in pairs:
        if p.parsed_id and p.reviewed_id:
            ta = by_parsed[p.parsed_id].requirement
            tb = by_reviewed[p.reviewed_id].requirement
            type_a = ta.type if ta is not None else None
            type_b = tb.type if tb is not None else None
            if type_a != type_b:
                out.append(f"requirement type {p.parsed_id}->{p.reviewed_id}: {type_a} vs {type_b}")
    return out


def format_diff(d: ProtocolDiff) -> str:
    lines = [
        f"{len(d.pairs)} criteria pairs, {d.changed_criteria} changed, "
        f"{d.differing_fields} differing fields, {len(d.structural)} structural differences"
    ]
    for p in d.pairs:
        if p.fields:
            lines.append(
                f"  {p.parsed_id or '-'} -> {p.reviewed_id or '-'} ({p.matched_by}): "
                + ", ".join(p.fields)
            )
    if d.structural:
        lines.append("structure:")
        lines.extend(f"  {s}" for s in d.structural)
    return "\n".join(lines)


def _concept_labels(refs: list[ConceptRef]) -> list[str]:
    """One label per concept name: a group's many code prefixes ("malignancy": C) show once,
    with their codes ("malignant neoplasm [C]", "liver disease [B15-B19, K7]")."""
    codes: dict[str, list[str]] = {}
    for ref in refs:
        codes.setdefault(ref.name or ref.code, []).append(ref.code)
    return [
        name if len(found) == 1 else f"{name} [{', '.join(found)}]" for name, found in codes.items()
    ]


def describe_requirement(node: Any, depth: int = 0) -> list[str]:
    """One readable line per requirement node, indented by depth."""
    if node is None:
        return []
    pad = "  " * depth
    t = node.type
    if t in ("all_of", "any_of", "at_least"):
        head = {"all_of": "all of", "any_of": "any of"}.get(
            t, f"at least {getattr(node, 'n', 1)} of"
        )
        out = [f"{pad}{head}:"]
        for item in node.items:
            out.extend(describe_requirement(item, depth + 1))
        return out
    if t == "not":
        return [f"{pad}not:", *describe_requirement(node.item, depth + 1)]
    if t == "condition":
        names = ", ".join(_concept_labels(node.concepts))
        text = f"{pad}condition ({node.status}): {names}"
        if node.qualifiers:
            text += f" [{', '.join(node.qualifiers)}]"
        if node.exceptions:
            text += " except " + ", ".join(c.name or c.code for c in node.exceptions)
        if node.window is not None:
            text += f" window {_window_text(node.window)}"
        return [text]
    if t == "medication":
        agents = [c.name or c.code for c in node.drugs] + list(node.drug_classes)
        text = f"{pad}medication: {', '.join(agents)}"
        if node.min_distinct_agents > 1:
            text += f" (>= {node.min_distinct_agents} agents)"
        if node.outcomes:
            text += f" outcome {'/'.join(node.outcomes)}"
        if node.exclude_routes:
            text += f" not {'/'.join(node.exclude_routes)}"
        if node.window is not None:
            text += f" window {_window_text(node.window)}"
        return [text]
    if t == "measurement":
        names = "/".join(a.name or a.code for a in node.analytes)
        if node.result is not None:
            threshold = node.result
        elif node.uln_multiple is not None:
            threshold = f"{node.comparator} {node.uln_multiple:g} x ULN"
        else:
            threshold = f"{node.comparator} {node.value:g}{' ' + node.unit if node.unit else ''}"
        return [f"{pad}measurement: {names} {threshold}"]
    if t == "demographic":
        return [f"{pad}{node.attribute} {node.comparator} {node.value}"]
    return [f"{pad}{t}"]


def _window_text(w: Any) -> str:
    parts = []
    if w.min_days_before is not None:
        parts.append(f">= {w.min_days_before} d before")
    if w.max_days_before is not None:
        parts.append(f"<= {w.max_days_before} d before")
    return " and ".join(parts) + f" {w.anchor}"


def render_text(model: Protocol) -> str:
    """The model as readable text: rule first, then each criterion with its logic."""
    lines = [f"{model.trial_id}: {model.title or ''}".rstrip()]
    rule = model.rule
    lines.append("Eligible when: any cohort met, all common inclusions met, no exclusion met")
    for cohort in rule.cohorts:
        lines.append(f"  cohort {cohort.id} ({cohort.name or ''}): {', '.join(cohort.criteria)}")
    if rule.common_inclusions:
        lines.append(f"  common inclusions: {', '.join(rule.common_inclusions)}")
    lines.append(f"  exclusions: {', '.join(rule.exclusions) or 'none'}")
    for c in model.criteria:
        flag = "" if c.computable else f" [not computable: {c.category}]"
        lines.append(f"\n{c.id} ({c.kind}){flag}: {c.text}")
        if c.group:
            lines.append(f"  under: {c.group}")
        if c.entities:
            lines.append("  names: " + "; ".join(_entity_label(x) for x in c.entities))
        if c.applicability is not None:
            lines.append("  applies to:")
            lines.extend(describe_requirement(c.applicability, 2))
        lines.extend(describe_requirement(c.requirement, 1))
    if model.warnings:
        lines.append("\nwarnings:")
        lines.extend(f"  {w}" for w in model.warnings)
    return "\n".join(lines) + "\n"


def _entity_label(entity: CriterionEntity) -> str:
    code = f" [{entity.concept.system}:{entity.concept.code}]" if entity.concept else ""
    return f"{entity.type} '{entity.text}'{code}"


def _highlighted(criterion: Criterion) -> str:
    """The criterion text, escaped, with each entity in a <mark> titled by its type and code."""
    text, base = criterion.text, criterion.span.start if criterion.span else 0
    out: list[str] = []
    pos = 0
    for ent in sorted(criterion.entities, key=lambda x: (x.span.start, -x.span.end)):
        start, end = ent.span.start - base, ent.span.end - base
        if start < pos or end > len(text) or text[start:end] != ent.text:
            continue  # overlapping or not from this text: shown in the list only
        title = html.escape(_entity_label(ent), quote=True)
        out.append(html.escape(text[pos:start]))
        out.append(
            f"<mark class='{html.escape(ent.type.lower(), quote=True)}' title=\"{title}\">"
            f"{html.escape(text[start:end])}</mark>"
        )
        pos = end
    out.append(html.escape(text[pos:]))
    return "".join(out)


def render_html(model: Protocol) -> str:
    """A standalone HTML page of the model; every text from the model is escaped."""
    e = html.escape
    rows = []
    for c in model.criteria:
        logic = "\n".join(describe_requirement(c.requirement))
        applies = "\n".join(describe_requirement(c.applicability))
        rows.append(
            "<tr>"
            f"<td>{e(c.id)}</td><td>{e(c.kind)}</td><td>{_highlighted(c)}</td>"
            f"<td>{e(c.group or '')}</td><td>{'yes' if c.computable else 'no'}</td>"
            f"<td>{e(c.category or '')}</td><td><pre>{e(applies)}</pre></td>"
            f"<td><pre>{e(logic)}</pre></td></tr>"
        )
    cohorts = "".join(
        f"<li>{e(c.id)} ({e(c.name or '')}): {e(', '.join(c.criteria))}</li>"
        for c in model.rule.cohorts
    )
    warnings = "".join(f"<li>{e(w)}</li>" for w in model.warnings)
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{e(model.trial_id)} criteria</title>"
        "<style>body{font-family:sans-serif}td{vertical-align:top;border-bottom:1px solid #ddd;"
        "padding:4px}pre{margin:0}mark{background:#fff3b0}mark.drug{background:#d7f0ff}"
        "mark.procedure{background:#e4f7d2}mark.observation,mark.eq-comparison{background:#eee}"
        "</style></head><body>"
        f"<h1>{e(model.trial_id)}</h1><p>{e(model.title or '')}</p>"
        f"<h2>Rule</h2><ul>{cohorts}</ul>"
        f"<p>common inclusions: {e(', '.join(model.rule.common_inclusions) or 'none')}; "
        f"exclusions: {e(', '.join(model.rule.exclusions) or 'none')}</p>"
        "<h2>Criteria</h2><table><tr><th>id</th><th>kind</th><th>text</th><th>group</th>"
        "<th>computable</th><th>category</th><th>applies to</th><th>logic</th></tr>"
        + "".join(rows)
        + "</table>"
        + (f"<h2>Warnings</h2><ul>{warnings}</ul>" if warnings else "")
        + "</body></html>\n"
    )
