"""Protocol text (ClinicalTrials.gov "Eligibility Criteria" layout) to a criteria model.

Structure first: the inclusion and exclusion parts, their items (bullets, numbering, lines), and
headings that group items; a line such as "meeting any of the above 4 entry criteria" turns the
groups before it into alternative cohorts. Then meaning, through the same concept layer the note
pipeline uses: conditions, drugs and classes, lab thresholds, age. What cannot be computed is kept
with ``computable: false`` and a category, never dropped.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

from criteria_models.model import (
    AllOf,
    AnyOf,
    Cohort,
    Comparator,
    ConceptRef,
    Condition,
    Criterion,
    Demographic,
    Measurement,
    Medication,
    Protocol,
    ProtocolRule,
    Requirement,
    Span,
    TimeWindow,
)

log = logging.getLogger(__name__)

_INCLUSION_HEADER = re.compile(
    r"^\s*(?:key\s+|main\s+|general\s+)?inclusion(?:\s+criteria)?\s*:?\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_EXCLUSION_HEADER = re.compile(
    r"^\s*(?:key\s+|main\s+|general\s+)?exclusion(?:\s+criteria)?\s*:?\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_TRAILING_HEADER = re.compile(
    r"^\s*(?:sites?\s*/\s*locations|locations?|arms of the study|contacts?(?:\s+and\s+locations)?|"
    r"outcome measures|sponsors?|investigators?|study design|more information|collaborators|"
    r"publications|references)\s*:?\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_BULLET = re.compile(r"^(\s*)(?:[-*•·▪◦]|\(?\d{1,2}[.)]|\(?[a-zA-Z][.)]|\(?[ivxIVX]{1,4}[.)])\s+")
_ANY_OF_ABOVE = re.compile(r"\bany\s+(?:one\s+)?of\s+the\s+(?:above|preceding)\b", re.IGNORECASE)
_INTRO = re.compile(
    r"\b(?:any\s+of\s+the\s+following|all\s+of\s+the\s+following|must\s+meet|must\s+have|"
    r"will\s+be\s+excluded|were\s+not\s+eligible|are\s+not\s+eligible|eligible\s+if)\b",
    re.IGNORECASE,
)
_CONSENT = re.compile(
    r"\b(?:informed\s+consent|consent\s+form|sign(?:ed)?\s+(?:the\s+)?(?:icf|consent))\b", re.I
)
_JUDGEMENT = re.compile(
    r"\b(?:investigator|researcher|physician|doctor)s?\b.*\b(?:believe|opinion|judge?ment|consider|discretion)|"
    r"\bnot\s+suitable\b|\bin\s+the\s+opinion\s+of\b",
    re.IGNORECASE,
)
_COMPLIANCE = re.compile(
    r"\b(?:comply|compliance|willing|able\s+to\s+(?:understand|attend|complete))\b", re.I
)
_AGE_RANGE = re.compile(
    r"\b(?:age[d]?|aged\s+between)?\s*(\d{1,2})\s*(?:-|–|to|and)\s*(\d{2,3})\s*(?:years|yrs|y)\b",
    re.I,
)
_AGE_MIN = re.compile(
    r"(?:≥|>=|at\s+least|older\s+than|over|above|>)\s*(\d{1,3})\s*(?:years|yrs)(?:\s+(?:of\s+age|old))?",
    re.I,
)
_AGE_WORD = re.compile(r"\b(?:age|aged|years?\s+(?:of\s+age|old))\b", re.I)
_EXCEPTION = re.compile(
    r"\b(?:excluding|except(?:\s+for)?|other\s+than|with\s+the\s+exception\s+of|apart\s+from)\b",
    re.I,
)
_WITHIN = re.compile(
    r"\b(?:within|in\s+the(?:\s+last|\s+past)?|during\s+the(?:\s+last|\s+past)?)\s+(\d+|one|two|three|four|six|twelve)\s+(days?|weeks?|months?|years?)\b",
    re.I,
)
_AT_LEAST_BEFORE = re.compile(
    r"\bat\s+least\s+(\d+|one|two|three|four|six|twelve)\s+(days?|weeks?|months?|years?)\s+(?:before|prior)",
    re.I,
)
_SHARED = re.compile(r"\s*(?:/|,|or|and|&)\s*", re.I)
_ULN_AFTER = re.compile(
    r"[^0-9;]{0,20}?\d+(?:\.\d+)?\s*(?:x|×|times|-?fold)\s*(?:the\s+)?(?:ULN|upper\s+limit)", re.I
)
_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "six": 6, "twelve": 12}
_DAYS = {"d": 1, "w": 7, "m": 30, "y": 365}


@dataclass
class _Item:
    kind: str
    text: str
    start: int
    end: int
    group: str | None = None
    group_index: int | None = None
    common: bool = False


@dataclass
class _Section:
    kind: str
    start: int
    end: int
    items: list[_Item] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    any_of_above: bool = False


def _sections(text: str) -> list[_Section]:
    inc = _INCLUSION_HEADER.search(text)
    exc = _EXCLUSION_HEADER.search(text)
    trailing = [m.start() for m in _TRAILING_HEADER.finditer(text)]

    def end_after(pos: int, *others: int) -> int:
        cands = [t for t in (*trailing, *others) if t > pos]
        return min(cands) if cands else len(text)

    out: list[_Section] = []
    if inc:
        out.append(
            _Section("inclusion", inc.end(), end_after(inc.end(), exc.start() if exc else -1))
        )
    if exc:
        out.append(
            _Section("exclusion", exc.end(), end_after(exc.end(), inc.start() if inc else -1))
        )
    if not out:
        # No headers: everything is one inclusion list (a reviewer will sort it out).
        out.append(_Section("inclusion", 0, len(text)))
    return out


def _lines(text: str, start: int, end: int) -> list[tuple[int, int, str, bool]]:
    """(start, end, stripped text, is_bullet) for the non-empty lines of text[start:end]."""
    out = []
    pos = start
    for raw in text[start:end].splitlines(keepends=True):
        line_start, line_end = pos, pos + len(raw.rstrip("\r\n"))
        pos += len(raw)
        m = _BULLET.match(text[line_start:line_end])
        content_start = line_start + (m.end() if m else 0)
        seg = text[content_start:line_end]
        lead = len(seg) - len(seg.lstrip())
        trail = len(seg.rstrip())
        if not seg.strip():
            continue
        out.append((content_start + lead, content_start + trail, seg.strip(), bool(m)))
    return out


def _structure(text: str) -> list[_Section]:
    sections = _sections(text)
    for sec in sections:
        lines = _lines(text, sec.start, sec.end)
        has_bullets = any(b for *_, b in lines)
        group: str | None = None
        group_index: int | None = None
        common = False
        for i, (s, e, content, bullet) in enumerate(lines):
            next_is_bullet = i + 1 < len(lines) and lines[i + 1][3]
            is_heading = not bullet and has_bullets and (next_is_bullet or content.endswith(":"))
            if is_heading:
                if _ANY_OF_ABOVE.search(content):
                    sec.any_of_above = True
                    common = True
                    group, group_index = None, None
                elif _INTRO.search(content) and not sec.groups:
                    group, group_index = None, None
                else:
                    sec.groups.append(content.rstrip(":").strip())
                    group, group_index = sec.groups[-1], len(sec.groups) - 1
                continue
            sec.items.append(_Item(sec.kind, content, s, e, group, group_index, common))
    return sections


# -- meaning ------------------------------------------------------------------------------------


def _count(word: str) -> int:
    return int(word) if word.isdigit() else _NUMBER_WORDS.get(word.lower(), 1)


def _window(text: str) -> TimeWindow | None:
    m = _WITHIN.search(text)
    if m:
        days = _count(m[1]) * _DAYS[m[2][0].lower()]
        return TimeWindow(max_days_before=days, text=m.group(0))
    m = _AT_LEAST_BEFORE.search(text)
    if m:
        days = _count(m[1]) * _DAYS[m[2][0].lower()]
        return TimeWindow(min_days_before=days, text=m.group(0))
    return None


def _age(text: str) -> Requirement | None:
    if not _AGE_WORD.search(text):
        return None
    m = _AGE_RANGE.search(text)
    if m:
        return AllOf(
            items=[
                Demographic(attribute="age", comparator=">=", value=float(m[1])),
                Demographic(attribute="age", comparator="<=", value=float(m[2])),
            ]
        )
    m = _AGE_MIN.search(text)
    if m:
        return Demographic(attribute="age", comparator=">=", value=float(m[1]))
    return None


def _ref(system: str, code: str, name: str) -> ConceptRef:
    return ConceptRef(system=system, code=code, name=name, include_descendants=system == "ICD10CM")


def _meaning(text: str, kind: str) -> tuple[Requirement | None, str]:
    """Requirement and category for one criterion text, via the note pipeline's concept layer."""
    from pipeline.facts import facts_from_doc
    from pipeline.nlp import get_nlp

    facts = facts_from_doc(get_nlp()(text), "criterion", "criterion", None)
    exc = _EXCEPTION.search(text)
    cut = exc.start() if exc else len(text)
    parts: list[Requirement] = []
    window = _window(text)
    conditions = [
        f
        for f in facts
        if f.category in ("diagnosis", "finding", "procedure", "other") and f.start < cut
    ]
    exceptions = [
        f for f in facts if f.category in ("diagnosis", "finding", "procedure") and f.start >= cut
    ]
    drugs = [f for f in facts if f.category == "drug" and f.start < cut]
    labs = [f for f in facts if f.category == "lab"]
    pending: list[ConceptRef] = []  # analytes sharing the next threshold ("ALT / AST > 3 x ULN")
    for i, lab in enumerate(labs):
        ref = _ref("LAB", lab.code, lab.preferred_name)
        if lab.value_as_number is None or lab.value_comparator is None:
            nxt = labs[i + 1] if i + 1 < len(labs) else None
            if nxt is not None and _SHARED.fullmatch(text[lab.end : nxt.start]):
                pending.append(ref)
            continue
        comparator: Comparator = lab.value_comparator  # type: ignore[assignment]
        analytes = [*pending, ref]
        pending = []
        if _ULN_AFTER.match(text, lab.end):
            parts.append(
                Measurement(
                    analytes=analytes, comparator=comparator, uln_multiple=lab.value_as_number
                )
            )
        else:
            parts.append(
                Measurement(
                    analytes=analytes,
                    comparator=comparator,
                    value=lab.value_as_number,
                    unit=lab.unit,
                )
            )
    if conditions:
        seen: dict[str, ConceptRef] = {}
        for f in conditions:
            seen.setdefault(
                f"{f.code_system}:{f.code}", _ref(f.code_system, f.code, f.preferred_name)
            )
        status = (
            "ever" if re.search(r"\b(?:history|previous|prior|ever)\b", text, re.I) else "current"
        )
        parts.append(
            Condition(
                concepts=list(seen.values()),
                exceptions=[_ref(f.code_system, f.code, f.preferred_name) for f in exceptions],
                status=status,  # type: ignore[arg-type]
                window=window
                if status == "current" or (window and window.min_days_before)
                else None,
            )
        )
    if drugs:
        classes = sorted({f.code for f in drugs if f.code_system == "DRUGCLASS"})
        names = {
            f.code: _ref("DRUG", f.code, f.preferred_name) for f in drugs if f.code_system == "DRUG"
        }
        counts = [
            int(f.value_as_number)
            for f in drugs
            if f.code_system == "DRUGCLASS" and f.value_as_number
        ]
        parts.append(
            Medication(
                drugs=list(names.values()),
                drug_classes=classes,
                min_distinct_agents=max(counts) if counts else 1,
                exclude_routes=["inhaled", "topical"]
                if re.search(r"\binhaled\b", text[cut:], re.I)
                else [],
                window=window if window and window.max_days_before else None,
            )
        )
    age = _age(text)
    if age is not None:
        parts.append(age)
    if not parts:
        if _CONSENT.search(text):
            return None, "consent"
        if _JUDGEMENT.search(text):
            return None, "investigator_judgement"
        if _COMPLIANCE.search(text):
            return None, "compliance"
        return None, "free_text"
    category = parts[0].type if len(parts) == 1 else "composite"
    if len(parts) == 1:
        return parts[0], category
    if kind == "exclusion" or re.search(r"\bor\b", text, re.I):
        return AnyOf(items=parts), category
    return AllOf(items=parts), category


def parse_protocol(text: str, trial_id: str = "protocol", title: str | None = None) -> Protocol:
    """Parse protocol text into a schema-valid model; never raises on odd text (warnings instead)."""
    warnings: list[str] = []
    sections = _structure(text)
    criteria: list[Criterion] = []
    cohorts: dict[int, list[str]] = {}
    ungrouped_inclusions: list[str] = []
    common: list[str] = []
    exclusions: list[str] = []
    counters = {"inclusion": 0, "exclusion": 0}
    for sec in sections:
        for item in sec.items:
            counters[item.kind] += 1
            cid = f"{'INC' if item.kind == 'inclusion' else 'EXC'}-{counters[item.kind]:02d}"
            try:
                requirement, category = _meaning(item.text, item.kind)
            except Exception as e:  # keep the criterion, flag it for the reviewer
                log.warning(
                    "E-PARSE-001 criterion %s could not be structured: %s", cid, type(e).__name__
                )
                warnings.append(f"{cid}: could not be structured ({type(e).__name__})")
                requirement, category = None, "free_text"
            criteria.append(
                Criterion(
                    id=cid,
                    kind=item.kind,  # type: ignore[arg-type]
                    text=item.text,
                    span=Span(start=item.start, end=item.end),
                    group=item.group,
                    computable=requirement is not None,
                    category=category,
                    scored=category != "investigator_judgement",
                    requirement=requirement,
                )
            )
            if item.kind == "exclusion":
                exclusions.append(cid)
            elif sec.any_of_above and item.common:
                common.append(cid)
            elif sec.any_of_above and item.group_index is not None:
                cohorts.setdefault(item.group_index, []).append(cid)
            else:
                ungrouped_inclusions.append(cid)
    inclusion_section = next((s for s in sections if s.kind == "inclusion"), None)
    rule_cohorts: list[Cohort] = []
    if cohorts and inclusion_section is not None:
        for gi, ids in sorted(cohorts.items()):
            rule_cohorts.append(
                Cohort(id=f"COHORT-{gi + 1}", name=inclusion_section.groups[gi], criteria=ids)
            )
        common = ungrouped_inclusions + common
    else:
        rule_cohorts.append(
            Cohort(id="MAIN", name="all inclusion criteria", criteria=ungrouped_inclusions + common)
        )
        common = []
    if not criteria:
        warnings.append("no criteria found")
    return Protocol(
        trial_id=trial_id,
        title=title,
        source_text=text,
        criteria=criteria,
        rule=ProtocolRule(cohorts=rule_cohorts, common_inclusions=common, exclusions=exclusions),
        warnings=warnings,
    )
