"""Protocol text (ClinicalTrials.gov "Eligibility Criteria" layout) to a criteria model.

Structure first: the inclusion and exclusion parts, their items (bullets, numbering, lines), and
headings that group items; a line such as "meeting any of the above 4 entry criteria" turns the
groups before it into alternative cohorts. Then meaning, through the same concept layer the note
pipeline uses: conditions, drugs and classes, lab thresholds, age. What cannot be computed is kept
with ``computable: false`` and a category, never dropped.
"""

from __future__ import annotations

import html
import itertools
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Literal, cast

from criteria_models.facts import PatientFact
from criteria_models.model import (
    AllOf,
    AnyOf,
    AtLeast,
    Cohort,
    Comparator,
    ConceptRef,
    Condition,
    Criterion,
    CriterionEntity,
    Demographic,
    DoseBound,
    Measurement,
    Medication,
    Not,
    Protocol,
    ProtocolRule,
    Requirement,
    Span,
    TimeWindow,
)
from pipeline.concepts import LANGUAGE_DENIED
from pipeline.criterion_entities import ASA_GRADE
from pipeline.criterion_entities import Entity as TextEntity
from pipeline.icd_groups import criterion_refs
from pipeline.numbers import NUMBER_WORDS

log = logging.getLogger(__name__)

# A header names the part at the start of a line and ends the line or is followed by ":" (or " - "):
# "Inclusion Criteria:", "Key Exclusion Criteria", "INCLUSION: age > 18", "Exclusion criteria for
# mothers will be:". A sentence that merely mentions the word ("Exclusion criteria will include
# ...") is not a header.
_HEADER = re.compile(
    r"^[ \t]*(?:[-*•]\s*)?(?P<head>(?:(?:key|main|general|major|specific|principal|other|"
    r"additional|study|patient|subject)\s+)?(?P<kind>inclusion|exclusion|non-?inclusion)"
    r"(?:\s+criteri(?:a|on)|s)?(?:\s*\([^)\n]{0,40}\))?"
    r"(?:\s+(?:for|at|of|in)\s+[^:\n]{0,60}?)?(?:\s+(?:will\s+be|are|is|include))?)"
    r"[ \t]*\*?(?P<end>:|[ \t]+-(?:[ \t]|$)|[ \t]*$)",
    re.IGNORECASE | re.MULTILINE,
)
# Odd headers: a line ending with ":" that says who is excluded or who may enter.
_SOFT_EXCLUSION = re.compile(
    r"\b(?:exclu\w*|not\s+(?:be\s+)?eligible|ineligible|not\s+(?:be\s+)?(?:included|enrolled|"
    r"allowed|permitted)|must\s+not|should\s+not|may\s+not|cannot\s+participate)\b",
    re.IGNORECASE,
)
_SOFT_INCLUSION = re.compile(
    r"\b(?:inclu\w*|eligible|eligibility|must\s+(?:meet|have|be|fulfil+)|(?:are|is)\s+required)\b",
    re.IGNORECASE,
)
_NEGATIVE_WORD = re.compile(r"\b(?:no|not|none|neither|nor|without)\b", re.IGNORECASE)
_TRAILING_HEADER = re.compile(
    r"^\s*(?:sites?\s*/\s*locations|locations?|arms of the study|contacts?(?:\s+and\s+locations)?|"
    r"outcome measures|sponsors?|investigators?|study design|more information|collaborators|"
    r"publications|references)\s*:?\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_BULLET = re.compile(
    r"^(\s*)(?P<mark>[-*•·▪◦‣○●■□➢>]|\(?\d{1,2}[.)](?!\d)|\(?[a-zA-Z][.)]|\(?[ivxIVX]{1,4}[.)])\s+"
)
_INLINE_DASH = re.compile(r"(?:(?<=\s)|^)[-•·▪*]\s+(?=[^\d\s])")
_INLINE_NUMBER = re.compile(r"(?:(?<=\s)|^)\(?(\d{1,2})[.)]\s+(?=\S)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z(\"'])")
_NO_SPLIT_BEFORE = re.compile(
    r"(?:\b(?:e\.g|i\.e|vs|etc|approx|incl|Dr|Mr|Mrs|Ms|No|St|Fig|al|ca)\.|\b[A-Z]\.)$"
)
_ANY_OF_ABOVE = re.compile(r"\bany\s+(?:one\s+)?of\s+the\s+(?:above|preceding)\b", re.IGNORECASE)
_ALTERNATIVES = re.compile(
    r"\b(?:(?:at\s+least\s+)?one\s+of\s+the\s+following|any\s+of\s+the\s+following|either)\b",
    re.IGNORECASE,
)
_INTRO = re.compile(
    r"\b(?:any\s+of\s+the\s+following|all\s+of\s+the\s+following|must\s+meet|must\s+have|"
    r"will\s+be\s+excluded|were\s+not\s+eligible|are\s+not\s+eligible|eligible\s+if|"
    r"the\s+following\s+(?:criteria|conditions))\b",
    re.IGNORECASE,
)
_HTML_TAG = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)\b[^<>]{0,200}>")
_HTML_BLOCK = {"li", "p", "br", "div", "ul", "ol", "tr", "td", "h1", "h2", "h3", "h4", "h5", "h6"}
_MAX_MEANING_CHARS = 2000


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
    alternative_groups: set[int] = field(default_factory=set)


@dataclass(frozen=True)
class _Line:
    start: int
    end: int
    text: str
    bullet: str | None  # the marker's style: "-", "1", "a", "i", or None
    indent: int


def _view(text: str) -> str:
    """Same-length copy of ``text`` that structure rules read: HTML tags and control characters
    become blanks (block tags a line break), so spans found in it are spans of the source."""

    def blank(m: re.Match[str]) -> str:
        width = len(m.group(0))
        if m.group(2).lower() in _HTML_BLOCK:
            return "\n" + " " * (width - 1)
        return " " * width

    out = _HTML_TAG.sub(blank, text) if "<" in text else text
    return "".join(
        ch if ch in "\n\t" or ch.isprintable() else (" " if ch not in "\r\v\f" else "\n")
        for ch in out
    )


def _headers(view: str) -> list[tuple[int, int, str]]:
    """(header start, content start, kind) for every part header, in text order."""
    found: list[tuple[int, int, str]] = []
    for m in _HEADER.finditer(view):
        kind = "inclusion" if m["kind"].lower() == "inclusion" else "exclusion"
        content = m.end() if m["end"].strip() else m.end("head")
        found.append((m.start("head"), content, kind))
    if found:
        return found
    # No usual header: odd ones, a line ending with ":" that names who is in or out.
    current: str | None = None
    pos = 0
    for raw in view.splitlines(keepends=True):
        line = raw.strip()
        if line.endswith(":") and len(line) < 300:
            soft: str | None = None
            if _SOFT_EXCLUSION.search(line):
                soft = "exclusion"
            elif _SOFT_INCLUSION.search(line) and not _NEGATIVE_WORD.search(line):
                soft = "inclusion"
            if soft is not None and soft != current:
                found.append((pos + raw.index(line[0]), pos + len(raw.rstrip("\r\n")), soft))
                current = soft
        pos += len(raw)
    return found


def _sections(view: str) -> list[_Section]:
    headers = _headers(view)
    trailing = [m.start() for m in _TRAILING_HEADER.finditer(view)]
    out: list[_Section] = []
    for i, (_, content_start, kind) in enumerate(headers):
        stops = [t for t in trailing if t > content_start]
        if i + 1 < len(headers):
            stops.append(headers[i + 1][0])
        out.append(_Section(kind, content_start, min(stops) if stops else len(view)))
    if not out:
        # No headers: everything is one inclusion list (a reviewer will sort it out).
        out.append(_Section("inclusion", 0, len(view)))
    return out


def _marker_style(mark: str) -> str:
    core = mark.strip("().")
    core = core.rstrip(")")
    if core.isdigit():
        return "1"
    if re.fullmatch(r"[ivxIVX]{1,4}", core) and core.lower() not in {"v", "x"}:
        return "i"
    if re.fullmatch(r"[a-zA-Z]", core):
        return "a"
    return "-"


def _trimmed(view: str, start: int, end: int) -> tuple[int, int] | None:
    seg = view[start:end]
    if not seg.strip():
        return None
    lead = len(seg) - len(seg.lstrip())
    return start + lead, start + len(seg.rstrip())


def _split_inline(
    view: str, start: int, end: int, bullet: str | None, marker_number: int | None = None
) -> list[tuple[int, int]]:
    """Pieces of one line that holds several items: "- a - b", "1. a 2. b"."""
    seg = view[start:end]
    cuts: list[int] = []
    if bullet == "-" or bullet is None:
        dashes = [m for m in _INLINE_DASH.finditer(seg) if m.start() > 0]
        # Only a line that itself starts as a list ("- a - b") or holds two or more dash items.
        if dashes and (bullet == "-" or len(dashes) >= 2 or _INLINE_DASH.match(seg)):
            cuts = [m.start() for m in dashes]
    if not cuts and marker_number is not None:
        # "1. a 2. b 3. c": the numbers after the first must follow on from it.
        expected = marker_number + 1
        for number in _INLINE_NUMBER.finditer(seg):
            if number.start() > 0 and int(number[1]) == expected:
                cuts.append(number.start())
                expected += 1
    pieces: list[tuple[int, int]] = []
    bounds = [0, *cuts, len(seg)]
    for a, b in itertools.pairwise(bounds):
        sub_start = start + a
        m: re.Match[str] | None = _BULLET.match(view[sub_start : start + b]) if a else None
        if a and m is None:
            m = re.match(r"\s*[-•·▪*]\s+|\s*\(?\d{1,2}[.)]\s+", view[sub_start : start + b])
        if m is not None:
            sub_start += m.end()
        t = _trimmed(view, sub_start, start + b)
        if t is not None:
            pieces.append(t)
    return pieces


def _split_sentences(view: str, start: int, end: int) -> list[tuple[int, int]]:
    seg = view[start:end]
    pieces: list[tuple[int, int]] = []
    last = 0
    for m in _SENTENCE_END.finditer(seg):
        if _NO_SPLIT_BEFORE.search(seg[max(0, m.start() - 12) : m.start()]):
            continue
        t = _trimmed(view, start + last, start + m.start())
        if t is not None:
            pieces.append(t)
        last = m.end()
    t = _trimmed(view, start + last, end)
    if t is not None:
        pieces.append(t)
    return pieces


def _lines(view: str, start: int, end: int) -> list[_Line]:
    """The non-empty lines of view[start:end], bullet marker removed, with style and indent."""
    out: list[_Line] = []
    pos = start
    for raw in view[start:end].splitlines(keepends=True):
        line_start, line_end = pos, pos + len(raw.rstrip("\r\n"))
        pos += len(raw)
        whole = view[line_start:line_end]
        if not whole.strip():
            continue
        indent = len(whole) - len(whole.lstrip())
        m = _BULLET.match(whole)
        bullet = _marker_style(m["mark"]) if m else None
        content_start = line_start + (m.end() if m else 0)
        number = re.search(r"\d+", m["mark"]) if m else None
        marker_number = int(number.group(0)) if number else None
        for s, e in _split_inline(view, content_start, line_end, bullet, marker_number):
            out.append(_Line(s, e, view[s:e], bullet, indent))
            bullet = bullet or "-"  # pieces after the first are list items
    return out


def _structure(view: str) -> list[_Section]:
    sections = _sections(view)
    for sec in sections:
        lines = _lines(view, sec.start, sec.end)
        has_bullets = any(ln.bullet for ln in lines)
        if not has_bullets:
            # Prose: one criterion per sentence.
            lines = [
                _Line(s, e, view[s:e], None, ln.indent)
                for ln in lines
                for s, e in _split_sentences(view, ln.start, ln.end)
            ]
        group: str | None = None
        group_index: int | None = None
        common = False
        # A bullet heading ("- Any of the following:") groups the deeper items after it.
        sub_heading: tuple[int, str | None, str, int] | None = None  # indent, style, name, index
        outer: tuple[str | None, int | None] = (None, None)
        for i, ln in enumerate(lines):
            content = ln.text.strip()
            nxt = lines[i + 1] if i + 1 < len(lines) else None
            if sub_heading is not None and not (
                ln.indent > sub_heading[0]
                or (ln.bullet is not None and ln.bullet != sub_heading[1])
            ):
                group, group_index = outer
                sub_heading = None
            if (
                ln.bullet is None
                and nxt is not None
                and ((has_bullets and nxt.bullet is not None) or content.endswith(":"))
            ):
                if _ANY_OF_ABOVE.search(content):
                    sec.any_of_above = True
                    common = True
                    group, group_index = None, None
                elif _INTRO.search(content) and not sec.groups:
                    group, group_index = None, None
                else:
                    sec.groups.append(content.rstrip(":").strip())
                    group, group_index = sec.groups[-1], len(sec.groups) - 1
                    if _ALTERNATIVES.search(content):
                        sec.alternative_groups.add(group_index)
                continue
            if (
                ln.bullet is not None
                and content.endswith(":")
                and nxt is not None
                and (nxt.indent > ln.indent or (nxt.bullet not in (None, ln.bullet)))
            ):
                outer = (group, group_index)
                sec.groups.append(content.rstrip(":").strip())
                group, group_index = sec.groups[-1], len(sec.groups) - 1
                if _ALTERNATIVES.search(content):
                    sec.alternative_groups.add(group_index)
                sub_heading = (ln.indent, ln.bullet, sec.groups[-1], group_index)
                continue
            sec.items.append(_Item(sec.kind, content, ln.start, ln.end, group, group_index, common))
    return sections


_CONSENT = re.compile(
    r"\b(?:informed\s+consent|consent\s+form|sign(?:ed)?\s+(?:the\s+)?(?:icf|consent))\b", re.I
)
# Consent as a documented act ("written consent given", "no consent", "refused consent"), not as
# a capacity ("able to consent"), which no note documents.
_CONSENT_ACT = re.compile(r"\b(?:consent(?:s|ed|ing)?|inform-consent)\b", re.I)
_CONSENT_CAPACITY = re.compile(
    r"\b(?:abl[ey]|ability|unable|inability|capacity|competent|capable|incapable|willing\w*|"
    r"unwilling\w*|understand\w*|prior\s+to\s+consent|time\s+of\s+consent)\b",
    re.I,
)
_CONSENT_DENIED = re.compile(
    r"\b(?:no|lack\s+of|absence\s+of|refus\w*|without|not|withdrawn|withdraw\w*|missing|"
    r"declin\w*|object\w*|opposition|reluctan\w*)\b",
    re.I,
)
_WILLING_TO_PARTICIPATE = re.compile(
    r"\b(?P<un>un)?willing(?:ness)?\b(?:\s+(?:\w+\s+){0,2}?)?\s*to\s+(?:participate|take\s+part|enrol)",
    re.I,
)
_SOMEONE_ELSE = re.compile(
    r"\b(?:relatives?|family|parents?|peers?|caregivers?|partners?|spouses?|clinicians?|staff)\b",
    re.I,
)
# What asks for the capacity to consent rather than the consent: an ability, or a willingness.
_CONSENT_ABILITY = re.compile(
    r"\b(?:abl[ey]|ability|unable|inability|capacity|competent|incompetent|capable|incapable)\b",
    re.I,
)
_CONSENT_WILLING = re.compile(r"\b(?:willing\w*|unwilling\w*)\b", re.I)
# "Prior to consent", "at the time of consent": a time, not a requirement about consent.
_CONSENT_TIMING = re.compile(r"\b(?:prior\s+to|time\s+of|before|after)\s+(?:the\s+)?consent", re.I)
# The lexicon's "informed consent" just after an ability ("unable to give informed consent")
# names the capacity to consent, which _consent_capacity reads.
_ABLE_TO_CONSENT = re.compile(
    r"\b(?:unable|inability|incapable|incompetent|not\s+(?:be\s+)?able|capacity|able|ability|"
    r"capable|competent)\s+(?:to|of|for)\s+(?:\w+\s+){0,2}$",
    re.I,
)
# Taking part in another study: the investigational-product concept the notes can state.
_OTHER_STUDY = re.compile(
    r"\b(?:participat\w*|enrol+\w*|included|involve\w*|taking\s+part|part\s+of|join\w*|"
    r"registr\w*|registered|on\s*-?going|exclusion\s+period)\b.{0,50}?"
    r"\b(?:other|another|concurrent|concomitant|different|larger|interventional|investigational|"
    r"therapeutic|previous)\b.{0,40}?\b(?:trials?|stud(?:y|ies)|research|protocols?)\b|"
    # "participating in a study with medicines", "participated in any study of an experimental
    # medical product": a study of a product is another study than this one
    r"\bparticipat\w*\s+in\s+(?:a|an|any)\s+(?:\w+\s+){0,3}?(?:trial|study)\s+(?:with|of|"
    r"involving|using|testing|evaluating)\s+(?:\w+\s+){0,3}?(?:medic\w*|drugs?|devices?|"
    r"investigational|experimental)|"
    # "already participating in a category 1 research study": a study other than this one
    r"\balready\s+(?:participat\w*|enrol+\w*|included)\s+in\s+(?:a|an|another)\b.{0,40}?"
    r"\b(?:trials?|stud(?:y|ies)|research)\b",
    re.I,
)
# Agreeing to (or refusing) this study is consent given (or withheld).
_AGREE_TO_PARTICIPATE = re.compile(
    r"\b(?:agree\w*|accept\w*|refus\w*|reluctan\w*|declin\w*|decided)\b.{0,30}?"
    r"\b(?:participat\w*|take\s+part|enrol\w*|recruit\w*)|"
    r"^\W*(?:(?:the\s+)?(?:patient|subject|participant|parent|person)s?'?s?\s+)?refusal\b|"
    r"\brefusal\s+of\s+(?:the\s+)?(?:patient|parent|person|subject|participant)s?\b",
    re.I,
)
# Administrative statements a note or screening record can state ("will comply with the study
# visits", "has a smartphone", "no health insurance", "under guardianship"): each is a local ELIG
# concept, read from the whole criterion like consent; a negative cue before it asks for its
# absence. Which concept, the category and the pattern that finds it.
_NEGATIVE_CUE = re.compile(
    r"\b(?:no|not|non|never|without|unable|inability|unwilling\w*|unwillingness|cannot|can't|"
    r"lack\w*|refus\w*|impossib\w*|fail\w*|incapab\w*|unprepared|unlikely|difficult\w*)\b",
    re.I,
)
_PROTOCOL_COMPLIANCE = re.compile(
    r"\b(?:comply|complian(?:ce|t)|adhere|adherence|adherent)\s+(?:with|to|w/)\s+(?:[\w-]+\s+){0,4}?"
    r"(?:protocol|study|trial|visits?|follow[-\s]?up|procedures|requirements|schedules?|"
    r"assessments|investigations|testing)\b|"
    r"\b(?:attend|complete|return\s+(?:for|to)|available\s+for|accessible\s+for|follow|keep|"
    r"present\s+for)\s+(?:[\w/-]+\s+){0,4}?(?:visits?|appointments?|follow[-\s]?up|"
    r"study\s+procedures|study\s+requirements|evaluations|study\s+sessions)\b|"
    r"\bbe\s+followed[-\s]?up\b|"
    r"\b(?:willing|able|agree\w*)\b(?:\s+\w+){0,3}\s+to\s+comply\b",
    re.I,
)
# A judgement about what a condition prevents stays the investigator's (not a stated fact).
_COMPLIANCE_JUDGED = re.compile(
    r"\b(?:preclud\w*|interfer\w*|prevent\w*|compromis\w*|imped\w*|hinder\w*|affect\w*|"
    r"uncertain\w*|likely|judg\w*|opinion|discretion)\b",
    re.I,
)
_DEVICE_ACCESS = re.compile(
    r"(?:\b(?:ha(?:ve|s|ving)|own\w*|access|use[sd]?|using|user|with|working|possess\w*)\b"
    r"[^.;]{0,40}?|^\W*(?:\(?\d+[.)]\s*)?(?:(?:regular|daily|continuous|home|reliable)\s+)?)"
    r"\b(?:smart[\s-]?phones?|mobile\s+(?:tele)?phones?|cell(?:ular)?[\s-]?phones?|"
    r"(?:tele)?phones?|internet|e-?mail(?:\s+address)?|wi-?fi|computer|tablet\s+(?:computer|"
    r"device)|personal\s+device)\b",
    re.I,
)
_INSURANCE = re.compile(
    r"(?<!valid\s)\b(?:social\s+security(?!\s+(?:number|card))|(?:health|medical)\s+insurance|"
    r"insurance\s+(?:plan|scheme|coverage)|national\s+health\s+(?:insurance|service)|"
    r"(?P<flip>uninsured)|insured)\b",
    re.I,
)
_LEGAL_PROTECTION = re.compile(
    r"\b(?:guardianship|curatorship|tutorship|conservatorship|safeguard\s+of\s+justice|"
    r"protection\s+of\s+justice|(?:legal|judicial|juridical)\s+protection|"
    r"protected\s+(?:person|adult)s?|adults?\s+requiring\s+protection|wards?\s+of\s+the\s+state)\b",
    re.I,
)
_RESIDENCE = re.compile(
    # "residence with the child" is whom one lives with, not where
    r"\b(?:resid(?:e|es|ing|ence)\b(?!\s+with\b)|residents?\b(?!\s+(?:physician|doctor)s?)|"
    r"liv(?:e|es|ing)\s+(?:in|within|at|near)\b|lived\s+in\b|"
    r"(?P<flip>relocat\w*|mov(?:e|ing)\s+(?:residence|away|out)|plan\w*\s+to\s+move)|"
    r"commuting\s+distance|geographic\w*\s+accessib\w*|"
    r"within\s+\d+\s*(?:km|kilometers|kilometres|miles|minutes|hours?)\s+(?:of|from)\s+"
    r"(?:the\s+)?(?:study|clinic|hospital|site|cent(?:er|re)))",
    re.I,
)
# Living away from the site: the absence of residence in the study area.
_FAR_AWAY = re.compile(
    r"\b(?:outside|more\s+than|over|beyond|too\s+far|far\s+from|further\s+than|farther\s+than)\b",
    re.I,
)
# "Able to read and write", "literate": not illiterate (ICD-10-CM Z55.0, which the lexicon names)
_LITERATE = re.compile(
    r"\b(?i:(?:able|ability|capable)\s+(?:to|of)\s+read(?:ing)?|can\s+read|literate)\b"
    r"(?!\s+(?:and\s+(?:write|understand)\s+)?(?:in\s+)?[A-Z][a-z]+)",
)
# "Incarceration" as a criterion is imprisonment (Z65.1); the lexicon leaves the word out, as
# notes use it of hernias.
_INCARCERATION = re.compile(r"\bincarcerat\w*\b(?!\s+(?:\w+\s+)?(?:hernias?|bowel|stones?))", re.I)
# "Patients who lack capacity", "deemed mentally incompetent": no capacity to consent.
_CAPACITY = re.compile(
    r"\b(?P<flip>lack\w*\s+(?:the\s+)?(?:mental\s+|decision(?:al|-making)\s+)?capacity|"
    r"(?:mentally\s+)?incompetent|incapacitated)\b",
    re.I,
)
_STATEMENTS: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    ("ELIG:protocol_compliance", "compliance", _PROTOCOL_COMPLIANCE),
    ("ELIG:device_access", "logistics", _DEVICE_ACCESS),
    ("ELIG:health_insurance", "legal_status", _INSURANCE),
    ("ELIG:legal_protection", "legal_status", _LEGAL_PROTECTION),
    ("ELIG:study_area_residence", "logistics", _RESIDENCE),
    ("ICD10CM:Z65.1", "legal_status", _INCARCERATION),
    ("ELIG:consent_capacity", "consent", _CAPACITY),
)
_ENCOUNTER_KEYS = {"ELIG:hospitalization", "ELIG:icu_admission"}
# The ELIG statements (and the capacity to consent, which _consent_capacity reads) come from
# these readers only, not from the lexicon's words; imprisonment is also a lexicon condition.
_STATEMENT_KEYS = {key for key, _, _ in _STATEMENTS if key.startswith("ELIG:")} | {
    "ELIG:consent_capacity"
}
# "Healthy volunteers", "In good general health": no other medical history, which notes state
# ("otherwise healthy", "no significant past medical history").
_HEALTHY = re.compile(
    r"^\W*(?:\(?\d+[.)]\s*)?(?:(?:be|being|is|are|generally|otherwise|clinically)\s+)*"
    r"(?:healthy\b|in\s+good\s+(?:general\s+)?health\b|good\s+(?:general\s+)?health\b)",
    re.I,
)
# "Adults", "Adult patients": an inclusion naming adults asks for the age of majority.
_ADULTS_ONLY = re.compile(
    r"^\W*(?:\(?\d+[.)]\s*)?(?:an?\s+)?(?:healthy\s+)?adults?\b"
    r"(?!\s+(?:or|and|as\s+well\s+as)\s+(?:children|child|adolescents?|minors?))",
    re.I,
)
# "Minors", "Children", "Infants" as the whole criterion: an age below the age of majority (one
# year for infants). A study population that is already children says nothing more.
_MINORS_ONLY = re.compile(
    r"^\W*(?:\(?\d+[.)]\s*)?(minors?|children|child|infants?|pediatric\s+(?:patients|subjects))"
    r"(?:\s+(?:patients|subjects|participants|under\s+(?:the\s+)?(?:legal\s+)?age(?:\s+of\s+majority)?))?"
    r"[^\w:]*$",  # "Children:" heads a cohort's items: no age bound of its own
    re.I,
)
_MINOR_AGES = {"min": 18.0, "chi": 18.0, "ped": 18.0, "inf": 1.0}
_JUDGEMENT = re.compile(
    r"\b(?:investigator|researcher|physician|doctor)s?\b.*\b(?:believe|opinion|judge?ment|consider|discretion)|"
    r"\bnot\s+suitable\b|\bin\s+the\s+opinion\s+of\b",
    re.IGNORECASE,
)
_COMPLIANCE = re.compile(
    r"\b(?:comply|compliance|willing|unwilling|able\s+to\s+(?:understand|attend|complete|"
    r"participate)|follow[-\s]?up\s+visits?)\b",
    re.I,
)
_AGE_RANGE = re.compile(
    r"\b(?:age[d]?|aged\s+between)?\s*(\d{1,2})\s*(?:-|–|to|and)\s*(\d{2,3})\s*(?:years|yrs|y)\b",
    re.I,
)
_AGE_MIN = re.compile(
    r"(?:≥|>=|=>|at\s+least|older\s+than|over|above|>|greater\s+than|more\s+than|"
    r"minimum\s+(?:age\s*:?\s+)?(?:of\s+)?|(?:over|above)\s+the\s+age\s+of)\s*(\d{1,3})\s*(?:years|yrs|y\b)?(?:\s+(?:of\s+age|old))?",
    re.I,
)
_AGE_RANGE_BARE = re.compile(
    r"\bage[ds]?\s*(?:between|from|of|:|range)?\s*\(?\s*(\d{1,2})\s*(?:-|–|~|to|and)\s*(\d{2,3})\b",
    re.I,
)
_AGE_MAX = re.compile(
    r"(?:(≤|<=|up\s+to|no\s+older\s+than|not\s+older\s+than)|<|younger\s+than|under|below|less\s+than)\s*(\d{1,3})\s*(?:years|yrs)",
    re.I,
)
_AGE_LEADING = re.compile(
    r"^\W*(?:(?:older|adults?|patients?|subjects?|participants?|persons?|people|individuals?|"
    r"children|men|women|males?|females?|volunteers?|aged?|and|or|,)\s*)*\(?\s*"
    r"(≥|>=|=>|>|over|above|older\s+than|at\s+least)\s*(\d{1,3})\s*(?:years|yrs|y/o|yo)\b|"
    r"(≥|>=|=>|>)\s*(\d{1,3})\s*(?:y/o|yo)\b",
    re.I,
)
_AGE_WORD = re.compile(r"\b(?:age|aged|ages|years?\s+(?:of\s+age|old))\b", re.I)
_EXCEPTION = re.compile(
    r"\b(?:excluding|except(?:\s+for)?|other\s+than|with\s+the\s+exception\s+of|apart\s+from)\b",
    re.I,
)
_SHARED = re.compile(r"\s*(?:/|,|or|and|&)\s*", re.I)
_NUM = r"(\d+|one|two|three|four|five|six|seven|eight|nine|ten|twelve|eighteen|twenty-four)"
_UNIT = r"(hours?|hrs?|days?|weeks?|wks?|months?|mos?|years?|yrs?)"
_WITHIN = re.compile(
    rf"\b(?:within(?:\s+the)?(?:\s+(?:last|past|previous|preceding|prior))?|"
    rf"in\s+the(?:\s+(?:last|past|previous|preceding|prior))?|"
    rf"during\s+the(?:\s+(?:last|past|previous|preceding|prior))?|"
    rf"(?:in\s+)?(?:the\s+)?(?:last|past|previous|preceding))\s+{_NUM}\s*{_UNIT}\b|"
    rf"\b(?:less\s+than|<|fewer\s+than|up\s+to)\s+{_NUM}\s*{_UNIT}\s+(?:ago|before|prior)\b",
    re.I,
)
# "during the last year", "within the past month": a window of one unit, without a number.
_WITHIN_UNIT = re.compile(
    r"\b(?:within|in|during|over)\s+the\s+(?:last|past|previous|preceding|prior)\s+"
    r"(day|week|month|year)\b",
    re.I,
)
# A negative cue right before a concept ("non-pregnant", "no history of", "free of"): the
# criterion asks for the ABSENCE of that concept.
_NON_BEFORE = re.compile(r"\bnon-?\s?$", re.I)
_PERSON = re.compile(
    r"(?:wom[ae]n|m[ae]n|females?|males?|patients?|subjects?|adults?|participants?|"
    r"volunteers?|individuals?|persons?|people)",
    re.I,
)
# What may follow a one-word state negated by "non-": the end of the phrase or a person noun,
# not another noun ("non-melanoma skin cancer").
_STATE_END = re.compile(
    rf"\s*(?:$|[,;:.)(/]|(?:and|or|with|who|that|aged?|between|at|in|of|for|\d+)\b|"
    rf"{_PERSON.pattern}\b)",
    re.I,
)
_NEG_BEFORE = re.compile(
    r"(?:\b(?:no|not|never|without|absence\s+of|free\s+of|lack\s+of|"
    r"negative\s+for)\s+(?:(?:known|prior|previous|past|history|of|evidence|any|clinical|"
    r"clinically|significant|current|documented|diagnosed|with|been|have|having|has|had|be|a|an)"
    r"\s+)*)$",
    re.I,
)
# "nonsmoker", "nondiabetic": the glued prefix is spaced so the concept is found.
_GLUED_NON = re.compile(
    r"\bnon(?=(?:smok|diabet|pregnan|lactat|hypertens|obes|alcohol|drink)\w*)", re.I
)
_AT_LEAST_BEFORE = re.compile(
    rf"\b(?:at\s+least|more\s+than|greater\s+than|over|>|≥|>=|minimum\s+of)\s+{_NUM}\s*{_UNIT}\s+"
    rf"(?:before|prior|preceding|ago|since)",
    re.I,
)
_ANCHOR = re.compile(
    r"\b(?:before|prior\s+to|preceding)\s+(?:the\s+)?(?:(?:date\s+of\s+)?(?:screening|"
    r"enrol+ment|randomi[sz]ation|registration|study\s+entry|baseline|consent|first\s+dose|"
    r"(?:the\s+)?start\s+of\s+(?:study\s+)?(?:treatment|therapy|administration)|"
    r"study\s+(?:drug|treatment|start|day\s+1)|day\s+1|inclusion))",
    re.I,
)
_QUALIFIERS = re.compile(
    r"\b(active|severe|uncontrolled|refractory|chronic|acute|significant|"
    r"symptomatic|unstable|recurrent|progressive|moderate|mild|stable|untreated|metastatic|"
    r"advanced|relapsed|decompensated|known|suspected|confirmed|documented|probable|possible)\b",
    re.I,
)
_MED_OUTCOMES: list[tuple[str, re.Pattern[str]]] = [
    (
        "inadequate_response",
        re.compile(
            r"\b(?:fail\w*|inadequate(?:\s+response)?|not\s+(?:been\s+)?effective|ineffective|"
            r"no\s+response|refractory|loss\s+of\s+response|non-?respon\w*|relapsed|"
            r"unsatisfactory|insufficient\s+response)\b",
            re.I,
        ),
    ),
    ("intolerance", re.compile(r"\bintoleran\w*|\bnot\s+tolerat\w*", re.I)),
    ("toxicity", re.compile(r"\btoxi\w*", re.I)),
]
_PARTICIPATION = re.compile(
    r"\b(?:participat\w*|enrol+ed|taking\s+part)\b.{0,60}\b(?:trial|study|studies|research)\b",
    re.I,
)
_LANGUAGE = re.compile(
    r"\b(?:speak|read|understand|write|fluent)\w*\b.{0,40}\b(?:english|spanish|french|german|"
    r"chinese|language)\b|\b(?:english|spanish|french|german|chinese|dutch|italian|portuguese)"
    r"[-\s](?:speak\w*|language)\b|\blanguage\s+barrier|\b(?:native|fluent)\s+speaker",
    re.I,
)
_LEGAL = re.compile(
    r"\b(?:guardianship|curatorship|tutorship|deprived\s+of\s+(?:their\s+)?liberty|"
    r"judicial\s+(?:protection|decision)|legal\s+protection|social\s+security|health\s+insurance|"
    r"insured|prisoners?|incarcerat\w*|detained)\b",
    re.I,
)
_CONTRACEPTION = re.compile(
    r"\bcontracepti\w*|\bbirth\s+control\b|\babstinen\w*|\bbarrier\s+method", re.I
)
_WOCBP = re.compile(
    r"\b(?:wocbp|(?:women|woman|females?|participants?|patients?|subjects?)\s+(?:who\s+are\s+)?"
    r"(?:of|with)\s+(?:child-?\s?bearing|reproductive)\s+potential|"
    r"child-?\s?bearing\s+(?:potential|age))\b",
    re.I,
)
_BOTH_SEXES = re.compile(
    r"\b(?:males?\s*(?:and|or|/|&)\s*females?|females?\s*(?:and|or|/|&)\s*males?|"
    r"men\s*(?:and|or|/|&)\s*women|women\s*(?:and|or|/|&)\s*men|both\s+(?:sexes|genders)|"
    r"either\s+(?:sex|gender)|any\s+(?:sex|gender))\b",
    re.I,
)
_FEMALE = re.compile(
    r"^\W*(?:(?:healthy|adult|postmenopausal|pre-?menopausal|non-?pregnant)\s+)?"
    r"(?:females?|women|woman)\b|"
    r"\b(?:female|women)\s+(?:only|patients|subjects|participants|volunteers)\b|"
    r"\bsex\s*:\s*female\b|\bmust\s+be\s+(?:an?\s+)?(?:female|woman)\b",
    re.I,
)
_MALE = re.compile(
    r"^\W*(?:(?:healthy|adult)\s+)?(?:males?|men|man)\b|"
    r"\b(?:male|men)\s+(?:only|patients|subjects|participants|volunteers)\b|\bsex\s*:\s*male\b|"
    r"\bmust\s+be\s+(?:an?\s+)?(?:male|man)\b",
    re.I,
)
# A criterion that is only a sex ("Males", "Women"): in an exclusion it excludes that sex.
_SEX_ONLY = re.compile(r"^\W*(?:(?P<m>males?|men)|(?P<f>females?|women))\W*$", re.I)
_ANY_SEX = re.compile(
    r"\b(?:both\s+genders?|both\s+sexe?s?|all\s+(?:sexes|genders)|sex\s*:\s*all|"
    r"males?\s*(?:and|or|&|/)\s*females?|(?:of\s+)?(?:any|either)\s+(?:sex|gender))\b",
    re.I,
)
# What may stand beside "both sexes" in a criterion that says nothing else.
_FREE_OF_SEX = re.compile(
    rf"{_ANY_SEX.pattern}|\b(?:patients?|subjects?|participants?|volunteers?|of|are|is|"
    r"included|will|be|must|the|and|or|men|women|males?|females?|both|sexes|genders?|all)\b",
    re.I,
)
_PREGNANCY_WORDS = re.compile(r"\b(?:pregnan\w*|lactat\w*|breast-?\s?feed\w*|nursing)\b", re.I)
_SCALE_VALUE = r"(\d+(?:\.\d+)?|IV|V|I{1,3}|iv|v|i{1,3})"
_SCALE_RANGE = re.compile(
    r"\s*(?:\(\w+\)\s*)?(?:functional\s+)?(?:performance\s+status|physical\s+status|PS|score|grade|"
    r"status|class(?:ification)?)?\s*(?:of|=|:)?\s*(?:class\s+)?"
    rf"(?:between\s+)?{_SCALE_VALUE}\s*(?:-|–|~|to|or|and|,)\s*(?:class\s+)?{_SCALE_VALUE}\b",
    re.I,
)
_SCALE_SINGLE = re.compile(
    r"\s*(?:\(\w+\)\s*)?(?:functional\s+)?(?:performance\s+status|physical\s+status|PS|score|grade|"
    r"status|class(?:ification)?)?\s*(?:of|=|:)?\s*(?:class\s+)?"
    rf"{_SCALE_VALUE}\b(?!\.\w)(?!\s*(?:-|–|~|to)\s*\w)",
    re.I,
)
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5}
_ULN_STATED = re.compile(
    r"[^0-9;]{0,20}?(≥|≤|>=|<=|>|<|greater\s+than|more\s+than|less\s+than|above|below|exceeding|"
    r"over|under|at\s+least|up\s+to)?\s*(\d+(?:\.\d+)?)\s*(?:x|×|times|-?fold)\s*"
    r"(?:the\s+)?(?:ULN|upper\s+limit)",
    re.I,
)
_COMPARATOR_WORDS: dict[str, Comparator] = {
    "≥": ">=",
    "≤": "<=",
    ">=": ">=",
    "<=": "<=",
    ">": ">",
    "<": "<",
    "greater than": ">",
    "more than": ">",
    "above": ">",
    "exceeding": ">",
    "over": ">",
    "less than": "<",
    "below": "<",
    "under": "<",
    "at least": ">=",
    "up to": "<=",
}
_DAYS = {"h": 1 / 24, "d": 1, "w": 7, "m": 30, "y": 365}


# -- meaning ------------------------------------------------------------------------------------


def _count(word: str | None) -> int:
    if not word:
        return 1
    return int(word) if word.isdigit() else NUMBER_WORDS.get(word.lower(), 1)


def _days(number: str | None, unit: str | None) -> int:
    return max(1, round(_count(number) * _DAYS[(unit or "d")[0].lower()]))


def _window(text: str) -> TimeWindow | None:
    """Time window relative to the index date; the anchor named in the text is kept in ``text``."""
    anchor = _ANCHOR.search(text)
    m = _WITHIN.search(text)
    if m:
        number, unit = (m[1], m[2]) if m[1] else (m[3], m[4])
        label = m.group(0) + (f" ({anchor.group(0)})" if anchor else "")
        return TimeWindow(max_days_before=_days(number, unit), text=label)
    m = _WITHIN_UNIT.search(text)
    if m:
        label = m.group(0) + (f" ({anchor.group(0)})" if anchor else "")
        return TimeWindow(max_days_before=_days("1", m[1]), text=label)
    m = _AT_LEAST_BEFORE.search(text)
    if m:
        label = m.group(0) + (f" ({anchor.group(0)})" if anchor else "")
        return TimeWindow(min_days_before=_days(m[1], m[2]), text=label)
    return None


def _age(text: str, kind: str = "inclusion") -> tuple[int, int, Requirement] | None:
    """Age requirement and the span it was read from."""
    stated = _stated_age(text)
    if stated is not None:
        return stated
    thresholds = _age_thresholds(text)
    if thresholds is not None:
        return thresholds
    minors = _MINORS_ONLY.search(text)
    if minors is not None:
        return (
            minors.start(),
            minors.end(),
            Demographic(attribute="age", comparator="<", value=_MINOR_AGES[minors[1].lower()[:3]]),
        )
    adults = _ADULTS_ONLY.search(text) if kind == "inclusion" else None
    if adults is not None:
        return (
            adults.start(),
            adults.end(),
            Demographic(attribute="age", comparator=">=", value=18.0),
        )
    return None


def _stated_age(text: str) -> tuple[int, int, Requirement] | None:
    if not _AGE_WORD.search(text):
        # "Older adults (≥ 65 years)", "> 25 years", "≥ 20 y/o patients": an age without the word.
        lead = _AGE_LEADING.search(text)
        if lead is None:
            return None
        word = (lead[1] or lead[3] or "").lower()
        strict = word in (">", "over", "above") or word.startswith("older")
        return (
            lead.start(),
            lead.end(),
            Demographic(
                attribute="age",
                comparator=">" if strict else ">=",
                value=float(lead[2] or lead[4]),
            ),
        )
    m = _AGE_RANGE.search(text) or _AGE_RANGE_BARE.search(text)
    low = _AGE_MIN.search(text)
    high = _AGE_MAX.search(text)
    if m is None and low is not None and high is not None:
        return (
            min(low.start(), high.start()),
            max(low.end(), high.end()),
            AllOf(
                items=[
                    Demographic(attribute="age", comparator=">=", value=float(low[1])),
                    Demographic(
                        attribute="age", comparator="<=" if high[1] else "<", value=float(high[2])
                    ),
                ]
            ),
        )
    if m:
        return (
            m.start(),
            m.end(),
            AllOf(
                items=[
                    Demographic(attribute="age", comparator=">=", value=float(m[1])),
                    Demographic(attribute="age", comparator="<=", value=float(m[2])),
                ]
            ),
        )
    if low is not None:
        return (
            low.start(),
            low.end(),
            Demographic(attribute="age", comparator=">=", value=float(low[1])),
        )
    if high is not None:
        return (
            high.start(),
            high.end(),
            Demographic(attribute="age", comparator="<=" if high[1] else "<", value=float(high[2])),
        )
    return None


def _sex(text: str, kind: str) -> tuple[int, int, Requirement] | None:
    """A sex requirement only where the criterion restricts it ("Female, aged 18-45"); a
    criterion that only admits both sexes ("Male or female", "Both genders") is met by either."""
    if _PREGNANCY_WORDS.search(text) or _WOCBP.search(text):
        return None
    both = _BOTH_SEXES.search(text) or _ANY_SEX.search(text)
    if both is not None:
        if kind != "inclusion" or _FREE_OF_SEX.sub("", text).strip(" .;:,-•()"):
            return None  # beside other requirements "male or female" adds nothing
        either = AnyOf(
            items=[
                Demographic(attribute="sex", comparator="==", value="F"),
                Demographic(attribute="sex", comparator="==", value="M"),
            ]
        )
        return both.start(), both.end(), either
    only = _SEX_ONLY.match(text)
    if only is not None and kind == "exclusion":
        sex = "M" if only["m"] else "F"
        return only.start(), only.end(), Demographic(attribute="sex", comparator="==", value=sex)
    if kind != "inclusion":
        return None
    female = _FEMALE.search(text)
    if female:
        return (
            female.start(),
            female.end(),
            Demographic(attribute="sex", comparator="==", value="F"),
        )
    male = _MALE.search(text)
    if male:
        return male.start(), male.end(), Demographic(attribute="sex", comparator="==", value="M")
    return None


def _ref(system: str, code: str, name: str) -> ConceptRef:
    return ConceptRef(system=system, code=code, name=name, include_descendants=system == "ICD10CM")


def _known_ref(key: str) -> ConceptRef | None:
    from pipeline.concepts import concept_index

    record = concept_index().records.get(key)
    if record is None:
        return None
    return _ref(record.code_system, record.code, record.preferred_name)


_NOT_CHILDBEARING = ("ICD10CM:Z78.0", "ICD10CM:Z90.710", "ICD10CM:Z90.72", "ICD10CM:N95.1")
_APPLICABILITY_KEYS = {"ELIG:childbearing_potential"}
_REPRODUCTIVE_STATES = {"ICD10CM:Z33.1", "ICD10CM:Z39.1"}  # pregnant state, lactation


def _applicability(text: str) -> Requirement | None:
    """Who the criterion applies to: women (of childbearing potential) for pregnancy rules."""
    female = Demographic(attribute="sex", comparator="==", value="F")
    if _WOCBP.search(text):
        not_potential = [r for k in _NOT_CHILDBEARING if (r := _known_ref(k)) is not None]
        if not_potential:
            return AllOf(items=[female, Not(item=Condition(concepts=not_potential, status="ever"))])
        return female
    if _PREGNANCY_WORDS.search(text) and not re.search(r"\b(?:partner|men|male)\b", text, re.I):
        return female
    return None


def _comparator(word: str | None) -> Comparator:
    if not word:
        return ">"
    return _COMPARATOR_WORDS.get(re.sub(r"\s+", " ", word.lower()), ">")


def _scale_measurement(text: str, lab_end: int, ref: ConceptRef) -> Requirement | None:
    """Scores written as a range or a bare grade: "ECOG 0-1", "ECOG performance status of 0 or 1"."""
    m = _SCALE_RANGE.match(text, lab_end)
    if m:
        low, high = _scale_number(m[1]), _scale_number(m[2])
        if low > high:
            low, high = high, low
        upper = Measurement(analytes=[ref], comparator="<=", value=high)
        if low <= 0:
            return upper
        return AllOf(items=[Measurement(analytes=[ref], comparator=">=", value=low), upper])
    m = _SCALE_SINGLE.match(text, lab_end)
    if m:
        post = _SCALE_POST.match(text, m.end())
        comparator: Comparator = "==" if post is None else "<=" if post["down"] else ">="
        return Measurement(analytes=[ref], comparator=comparator, value=_scale_number(m[1]))
    return None


# "ASA class III or less", "grade 2 or higher": the bound is stated after the grade.
_SCALE_POST = re.compile(
    r"\s*(?:or|and)\s+(?:(?P<down>less|lower|below|under|fewer|better)|"
    r"(?:more|greater|higher|above|over|worse))\b",
    re.I,
)


def _asa_score(text: str, fact: PatientFact) -> PatientFact:
    """ "ASA" followed by a grade ("ASA I-II", "ASA class 3", "ASA <= II") is the anaesthesia
    physical status score, not aspirin: a dose never comes as a Roman numeral or a class."""
    if (
        fact.category != "drug"
        or text[fact.start : fact.end] != "ASA"
        or not ASA_GRADE.match(text, fact.end)
    ):
        return fact
    return replace(
        fact,
        category="lab",
        code_system="LAB",
        code="asa_class",
        preferred_name="ASA physical status",
        drug_classes=(),
    )


def _scale_number(word: str) -> float:
    """A grade written as a number or a Roman numeral ("NYHA class III")."""
    return float(_ROMAN.get(word.lower(), 0)) if word.isalpha() else float(word)


def _facts(text: str) -> list[PatientFact]:
    from pipeline.facts import facts_from_doc
    from pipeline.nlp import get_nlp

    return facts_from_doc(get_nlp()(text), "criterion", "criterion", None)


def criterion_requirement(text: str, kind: str) -> tuple[Requirement | None, str]:
    """Requirement and category of ONE criterion text (inclusion or exclusion).

    The public entry point for tools that judge a single criterion against a patient; it reads
    the text through the note pipeline's concept layer, like :func:`parse_protocol` does.
    """
    # "nonsmoker" -> "non-smoker" (same length is not needed: no spans are returned here).
    requirement, category, _ = _meaning(_GLUED_NON.sub("non-", text), kind)
    return requirement, category


@dataclass(frozen=True)
class _Part:
    """One requirement with the span of the words it was read from: how neighbouring parts are
    joined ("and", "or", a comma list) decides whether they are all required or alternatives."""

    start: int
    end: int
    requirement: Requirement


# How two neighbouring mentions are joined. An example introducer ("such as", "(usually ...")
# names members of what came before; "or" (also "and/or", "(or") makes alternatives.
_EXAMPLE_LINK = re.compile(
    r"\b(?:such\s+as|e\.\s?g\.?|i\.\s?e\.?|including|includes?|especially|particularly|like|"
    r"namely|usually|typically|for\s+(?:example|instance))\b",
    re.I,
)
_OR_LINK = re.compile(r"\bor\b|^\s*/\s*$|±|\+/-", re.I)
# One agent named twice ("carboplatin chemotherapy", "platinum-based chemotherapy").
_SAME_AGENT = re.compile(r"[\s\-]*(?:based|containing)?[\s\-]*", re.I)
# A class followed by the agent that makes it up ("chemotherapy with cisplatin").
_CLASS_WITH = re.compile(
    r"\s*(?:therapy|treatment|regimens?)?\s*(?:with|of|using|containing|:)\s", re.I
)
_LIST_ENDS_OR = re.compile(r"\s*,?\s*(?:or\b|and/or\b|etc\b)", re.I)
# Words between two drug classes that still list them as a sequence of treatments.
_SEQUENCE = re.compile(
    r",|\b(?:and|plus|after|then|followed\s+by|in\s+addition\s+to|as\s+well\s+as)\b", re.I
)
_AND_LINK = re.compile(
    r"\s*,?\s*(?:and|&|plus|as\s+well\s+as)(?:\s+(?:other|also|additional|then))?\s*", re.I
)
# A test named as the source of a finding ("ECG shows prolonged QT", "MRI revealing ..."): the
# test is not itself required, and its finding stands apart from the conditions listed after it.
_TEST_VEHICLE = re.compile(
    r"\s*(?:shows?|showed|showing|reveal(?:s|ed|ing)?|demonstrat\w*|indicat\w*|suggest\w*|"
    r"consistent\s+with|confirm\w*)\b",
    re.I,
)
# A generic head noun naming its own specific kind right after it ("infection of hepatitis B
# virus", "cancer of the breast"): the specific concept is what is meant.
_HEAD_OF = re.compile(r"\s+(?:of|due\s+to|caused\s+by)\s+(?:the\s+|a\s+|an\s+)?", re.I)
# The disease is not in remission now: "still relapsed and refractory", "failed to achieve
# clinical remission", "has no response to ...". Said of the disease after a list of treatments,
# it is a requirement of its own beside the treatment history.
_NOT_IN_REMISSION = re.compile(
    r"\bstill\b[^.;]{0,40}?\b(?:relaps\w*|refractory|active|unsatisfactory|uncontrolled|"
    r"not\s+controlled|flar\w*)|"
    r"\b(?:fail\w*|unable|not\s+able)\s+to\s+(?:achieve|reach|attain|obtain|induce)\s+"
    r"(?:an?\s+)?(?:\w+\s+)?remission\b|"
    r"\b(?:has|have|with|shows?|showing)\s+no\s+(?:\w+\s+)?response\b|"
    r"\bnot\s+in\s+remission\b",
    re.I,
)
_DISEASE_STATE_KEYS = ("ELIG:clinical_remission", "ELIG:refractory_disease", "ELIG:disease_flare")


def _link(gap: str) -> str:
    """'example', 'or', 'and', 'comma' or 'other' for the text between two mentions."""
    if _EXAMPLE_LINK.search(gap) or re.fullmatch(r"\s*\(\s*", gap):
        return "example"
    if _OR_LINK.search(gap):
        return "or"
    if re.fullmatch(r"[\s,]*", gap):
        return "comma"
    if _AND_LINK.fullmatch(gap):
        return "and"
    return "other"


def _resolve_links(links: list[str]) -> list[str]:
    """A comma takes the coordinator that ends its list ("A, B or C": all 'or'); words other
    than a coordinator join separate requirements ('and')."""
    out: list[str] = []
    for i, link in enumerate(links):
        if link == "comma":
            nxt = next((x for x in links[i + 1 :] if x != "comma"), "and")
            link = nxt if nxt in ("or", "and") else "and"
        out.append("or" if link == "or" else "and")
    return out


def _flat(kind: type[AllOf] | type[AnyOf], items: list[Requirement]) -> Requirement:
    """``kind`` of the items, a nested group of the same kind inlined."""
    flat: list[Requirement] = []
    for item in items:
        flat.extend(item.items if isinstance(item, kind) else [item])
    return flat[0] if len(flat) == 1 else kind(items=flat)


def _combine(parts: list[_Part], text: str, kind: str) -> Requirement:
    """All parts of an inclusion are required unless "or" joins them; an exclusion is met by any."""
    if len(parts) == 1:
        return parts[0].requirement
    if kind == "exclusion":
        return _flat(AnyOf, [p.requirement for p in parts])
    ordered = sorted(parts, key=lambda p: (p.start, p.end))
    links = [
        "and" if b.start < a.end else _link(text[a.end : b.start])
        for a, b in itertools.pairwise(ordered)
    ]
    groups: list[list[Requirement]] = [[ordered[0].requirement]]
    for link, part in zip(_resolve_links(links), ordered[1:], strict=True):
        if link == "or":
            groups[-1].append(part.requirement)
        else:
            groups.append([part.requirement])
    nodes = [_flat(AnyOf, g) for g in groups]
    # What is required first, then what must not hold ("..., but not in remission").
    return _flat(AllOf, sorted(nodes, key=lambda n: isinstance(n, Not)))


def _condition_segments(
    text: str, facts: list[PatientFact], others: list[tuple[int, int]]
) -> list[list[PatientFact]]:
    """Positive condition mentions split where they are separate requirements: a test's finding
    ("ECG shows X, Y") stands apart from what follows it, mentions with another requirement
    between them (a lab, a drug, an age) are apart; a generic head ("infection of X") gives
    way to its specific kind."""
    kept: list[PatientFact] = []
    test_ends: set[int] = set()  # indexes in ``kept`` after which a test finding ends
    in_test = False
    ordered = sorted(facts, key=lambda f: f.start)
    for i, f in enumerate(ordered):
        nxt = ordered[i + 1] if i + 1 < len(ordered) else None
        if nxt is not None and f.category == "procedure" and _TEST_VEHICLE.match(text, f.end):
            in_test = True
            continue
        if nxt is not None and _HEAD_OF.fullmatch(text[f.end : nxt.start]):
            continue
        if in_test and kept and re.search(r"[,;]", text[kept[-1].end : f.start]):
            test_ends.add(len(kept) - 1)
            in_test = False
        kept.append(f)
    segments: list[list[PatientFact]] = []
    for i, f in enumerate(kept):
        between = i > 0 and any(kept[i - 1].end <= s and e <= f.start for s, e in others)
        if not segments or i - 1 in test_ends or between:
            segments.append([])
        segments[-1].append(f)
    return segments


def _or_alternatives(text: str, facts: list[PatientFact]) -> bool:
    """Whether the mentions form an "or" list of distinct concepts ("A or B", "A, B, or C")."""
    if len({f"{f.code_system}:{f.code}" for f in facts}) < 2:
        return False
    links = [_link(text[a.end : b.start]) for a, b in itertools.pairwise(facts)]
    return all(link == "or" for link in _resolve_links(links))


def _medication_groups(text: str, drugs: list[PatientFact]) -> list[list[PatientFact]]:
    """Drug mentions grouped per drug class when an inclusion requires each class of a list
    ("after NSAIDs, glucocorticoids and DMARDs"): a class mention heads a group, the drugs
    named as its examples ("immunosuppressants (such as methotrexate ...") join it, a repeated
    class joins its first mention. One group when the list is joined by "or"."""
    groups: list[list[PatientFact]] = []
    links: list[str] = []
    gaps: list[str] = []
    for f in sorted(drugs, key=lambda d: d.start):
        if groups and _SAME_AGENT.fullmatch(text[groups[-1][-1].end : f.start]):
            groups[-1].append(f)  # "carboplatin chemotherapy": one agent named twice
            continue
        if f.code_system == "DRUGCLASS":
            same = next(
                (
                    g
                    for g in groups
                    if any(d.code_system == "DRUGCLASS" and d.code == f.code for d in g)
                ),
                None,
            )
            if same is not None:
                same.append(f)
                continue
        elif groups:
            last = groups[-1]
            heads = [d for d in last if d.code_system == "DRUGCLASS"]
            between = text[heads[0].end : f.start] if heads else ""
            named = bool(_EXAMPLE_LINK.search(between) or _CLASS_WITH.match(between))
            inside = between.count("(") > between.count(")")
            if heads and (named or (inside and {h.code for h in heads} & set(f.drug_classes))):
                last.append(f)
                continue
            if not heads and _link(text[last[-1].end : f.start]) in ("or", "comma"):
                last.append(f)
                continue
        if groups:
            gap = text[groups[-1][-1].end : f.start]
            links.append(_link(gap))
            gaps.append(gap)
        groups.append([f])
    tail = text[groups[-1][-1].end : groups[-1][-1].end + 30] if groups else ""
    if _LIST_ENDS_OR.match(tail):
        links.append("or")  # "A, B, C, or other D", "A, B, etc.": the list is alternatives
        gaps.append(tail)
    joined = [
        link if link != "other" or _SEQUENCE.search(gap) else "apart"
        for link, gap in zip(links, gaps, strict=True)
    ]
    if len(groups) < 2 or "apart" in joined or "or" in _resolve_links(joined):
        return [sorted(drugs, key=lambda d: d.start)]
    if not any(d.code_system == "DRUGCLASS" for g in groups for d in g):
        return [sorted(drugs, key=lambda d: d.start)]
    return groups


# "Currently taking", "receiving", "current use of", "on stable ...": use now, decided by the
# latest statement about each agent (a stop or an "off" after it means not current).
_CURRENT_USE = re.compile(
    r"\b(?:current(?:ly)?\s+(?:taking|receiving|using|on|treated|use|treatment|therapy)|"
    r"(?:is|are|be)\s+(?:taking|receiving|on)\b|receiving|ongoing\s+(?:use|treatment|therapy)|"
    r"concomitant\s+(?:use|treatment)|on\s+(?:a\s+)?stable|"
    r"maintenance|long-term\s+(?:use|treatment|therapy))",
    re.I,
)


def _medication(
    group: list[PatientFact],
    outcomes: list[str],
    routes: list[str],
    window: TimeWindow | None,
    current: bool = False,
    text: str = "",
) -> Medication:
    classes = sorted({f.code for f in group if f.code_system == "DRUGCLASS"})
    names = {
        f.code: _ref("DRUG", f.code, f.preferred_name) for f in group if f.code_system == "DRUG"
    }
    counts = [
        int(f.value_as_number) for f in group if f.code_system == "DRUGCLASS" and f.value_as_number
    ]
    counts = _stated_counts(text, group) or counts
    dose = _dose_bound(group, text)
    return Medication(
        drugs=list(names.values()),
        drug_classes=classes,
        min_distinct_agents=max(counts) if counts else 1,
        outcomes=outcomes,  # type: ignore[arg-type]
        exclude_routes=routes,
        window=window,
        current=current,
        dose=dose,
    )


_EQUIVALENT = re.compile(r"\bequivalent\b", re.I)
# "systemic corticosteroids", "systemic antibiotics": inhaled and topical use do not count.
_SYSTEMIC = re.compile(r"\bsystemic(?:ally)?\b", re.I)
_BOTH_BEFORE = re.compile(r"\b(?:both|combination\s+of|combined)\s+(?:an?\s+|the\s+)?$", re.I)
_BOTH_AND = re.compile(r"\s*(?:and|plus|&|with)\s+(?:an?\s+|the\s+)?", re.I)


def _both_agents(
    text: str, drugs: list[PatientFact], medication: Callable[[list[PatientFact]], Medication]
) -> Requirement | None:
    """ "Both an ACE inhibitor and an ARB", "a combination of X and Y": each agent is required
    (a dual blockade), not either; the other agents named stay alternatives beside the pair."""
    ordered = sorted(drugs, key=lambda d: d.start)
    for i, (a, b) in enumerate(itertools.pairwise(ordered)):
        if _BOTH_BEFORE.search(text[max(0, a.start - 20) : a.start]) and _BOTH_AND.fullmatch(
            text, a.end, b.start
        ):
            pair: Requirement = AllOf(items=[medication([a]), medication([b])])
            rest = ordered[:i] + ordered[i + 2 :]
            return AnyOf(items=[pair, medication(rest)]) if rest else pair
    return None


_COUNT_NUMBER = r"(\d{1,2}|two|three|four|five|six|seven|eight|nine|ten)"
_COUNT_WORD_VALUES = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10,
}  # fmt: skip
# "3 or more biologic agents", "≥ 2 prior DMARDs", "more than 2 TNF inhibitors" (3).
_COUNT_OF_CLASS = re.compile(
    rf"(?:\b{_COUNT_NUMBER}\s*(?:or\s+more|\+)|(?:≥|>=|\bat\s+least|\bminimum\s+of)\s*"
    rf"{_COUNT_NUMBER}|(?P<more>>|\bmore\s+than|\bover)\s*{_COUNT_NUMBER})\s+"
    r"(?:(?:different|distinct|prior|previous|lines?\s+of|kinds?\s+of|types?\s+of)\s+)*$",
    re.I,
)


def _stated_counts(text: str, group: list[PatientFact]) -> list[int]:
    """How many agents of a class a criterion counts, where the concept layer reads only "N
    <class>": "3 or more biologic agents" (3), "more than 2 TNF inhibitors" (3, not 2)."""
    out: list[int] = []
    for f in group:
        if f.code_system != "DRUGCLASS":
            continue
        m = _COUNT_OF_CLASS.search(text[max(0, f.start - 40) : f.start])
        if m is None:
            continue
        word = (m[1] or m[2] or m[4]).lower()
        n = _COUNT_WORD_VALUES.get(word) or int(word)
        out.append(n + 1 if m["more"] else n)
    return [n for n in out if n >= 2]


def _dose_bound(group: list[PatientFact], text: str) -> DoseBound | None:
    """The dose bound a criterion states for its agents ("prednisone > 10 mg/day or
    equivalent"): one bounded dose (comparator, value, unit) read on the drug mentions, with
    prednisone equivalence when every agent named is a glucocorticoid and the text says
    "equivalent". An unbounded dose ("prednisone 10 mg/day") or two different ones: no bound."""
    from criteria_models.doses import PREDNISONE_MG_PER_MG

    bounds = {
        (f.value_comparator, f.value_as_number, f.unit)
        for f in group
        if f.code_system == "DRUG" and f.unit is not None and f.value_as_number is not None
    }
    if len(bounds) != 1:
        return None
    comparator, value, unit = next(iter(bounds))
    if comparator not in (">", ">=", "<", "<=") or value is None or unit is None:
        return None
    agents = {f.preferred_name.lower() for f in group if f.code_system == "DRUG"}
    steroid = bool(agents) and agents <= set(PREDNISONE_MG_PER_MG)
    return DoseBound(
        comparator=cast(Comparator, comparator),
        value=value,
        unit=unit,
        equivalent="prednisone" if steroid and _EQUIVALENT.search(text) else None,
    )


def _not_in_remission() -> Not | None:
    remission = _known_ref("ELIG:clinical_remission")
    if remission is None:
        return None
    active = [r for k in ("ELIG:disease_flare", "ELIG:refractory_disease") if (r := _known_ref(k))]
    return Not(item=Condition(concepts=[remission], absent_if=active, status="current"))


def _span(facts: list[PatientFact]) -> tuple[int, int]:
    return min(f.start for f in facts), max(f.end for f in facts)


def _meaning(
    text: str, kind: str, facts: list[PatientFact] | None = None
) -> tuple[Requirement | None, str, Requirement | None]:
    """Requirement, category and applicability for one criterion text.

    A criterion the lexicons leave as free text is read again with the conditions the linker
    codes (``pipeline/linker.py``): "psychiatric illness" becomes a Condition of F99 built the
    same way as a lexicon condition (status, absence cues, exclusion semantics).
    """
    if facts is None:
        facts = _facts(text)
    meaning = _lexicon_meaning(text, kind, facts)
    if meaning[0] is not None or meaning[1] != "free_text":
        return meaning
    linked = _linked_facts(text)
    if not linked:
        return meaning
    relinked = _lexicon_meaning(text, kind, [*facts, *linked])
    return relinked if relinked[0] is not None else meaning


def _linked_facts(text: str) -> list[PatientFact]:
    """Condition facts for the uncoded condition mentions the linker gives a code."""
    from pipeline.linker import condition_links

    return [
        PatientFact(
            patient_id="criterion",
            note_id="criterion",
            note_date=None,
            category="diagnosis",
            code_system=link.system,
            code=link.code,
            preferred_name=link.name,
            start=start,
            end=end,
            snippet=text[start:end],
        )
        for start, end, link in condition_links(text)
    ]


def _lexicon_meaning(
    text: str, kind: str, facts: list[PatientFact]
) -> tuple[Requirement | None, str, Requirement | None]:
    """Requirement, category and applicability from the concept facts given."""
    text, facts = _special_case_blanked(text, facts)
    facts = [*facts, *_inflected_facts(text, facts)]
    facts = sorted([*facts, *_shared_head_facts(text, facts)], key=lambda f: f.start)
    facts = [_asa_score(text, f) for f in facts]
    # "Contraindication to MRI (e.g., pacemaker)": the MRI is what is contraindicated, not what
    # the patient must have had; the examples (pacemaker) are the conditions.
    facts = [f for f in facts if not _CONTRAINDICATED.search(text[max(0, f.start - 40) : f.start])]
    # "post-bronchodilator FEV1", "pre-treatment": a drug glued to post-/pre- times a test.
    facts = [
        f
        for f in facts
        if not (
            f.category == "drug"
            and re.search(r"\b(?:post|pre)-$", text[max(0, f.start - 5) : f.start], re.I)
        )
    ]
    facts = sorted([*facts, *_language_list_facts(text, facts)], key=lambda f: f.start)
    facts = _without_non(text, facts)
    facts = _in_situ(text, [*facts, *_coordinated_modifier_facts(text, facts)])
    facts = _without_context_mentions(text, facts, kind)
    if _counted_event(text, facts) is not None:
        return None, "free_text", _applicability(text)
    exc = _EXCEPTION.search(text)
    cut = exc.start() if exc else len(text)
    parts: list[_Part] = []
    window = _window(text)
    applicability = _applicability(text)
    drugs = [f for f in facts if f.category == "drug" and f.start < cut]
    remission = _NOT_IN_REMISSION.search(text) if kind == "inclusion" and drugs else None
    conditions = [
        f
        for f in facts
        if f.category in ("diagnosis", "finding", "procedure", "other")
        and f.start < cut
        and not (applicability is not None and f"{f.code_system}:{f.code}" in _APPLICABILITY_KEYS)
        and f"{f.code_system}:{f.code}" not in _STATEMENT_KEYS
        and not (remission is not None and f"{f.code_system}:{f.code}" in _DISEASE_STATE_KEYS)
    ]
    # "Unable to give informed consent": the capacity to consent, in place of the consent.
    capacity = [
        f
        for f in conditions
        if f.code == "informed_consent_signed"
        and _ABLE_TO_CONSENT.search(text[max(0, f.start - 40) : f.start])
    ]
    conditions = [f for f in conditions if f not in capacity]
    # "Hospitalized for AF", "sepsis during that hospital admission": beside a condition, the
    # stay only places it; alone ("hospitalised within 3 months") it is the requirement.
    if any(f"{f.code_system}:{f.code}" not in _ENCOUNTER_KEYS for f in conditions):
        conditions = [f for f in conditions if f"{f.code_system}:{f.code}" not in _ENCOUNTER_KEYS]
    exceptions = [
        f for f in facts if f.category in ("diagnosis", "finding", "procedure") and f.start >= cut
    ]
    labs = [f for f in facts if f.category == "lab"]
    age = _age(text, kind)
    pending: list[ConceptRef] = []  # analytes sharing the next threshold ("ALT / AST > 3 x ULN")
    pending_start: int | None = None
    for i, lab in enumerate(labs):
        ref = _change_ref(text, lab) or _ref("LAB", lab.code, lab.preferred_name)
        start = lab.start if pending_start is None else pending_start
        end = _value_end(text, lab.end)
        if lab.result in ("positive", "negative") and lab.value_as_number is None:
            parts.append(
                _Part(start, lab.end, Measurement(analytes=[*pending, ref], result=lab.result))  # type: ignore[arg-type]
            )
            pending, pending_start = [], None
            continue
        if lab.value_as_number is None and lab.uln_multiple is not None:
            stated = _ULN_STATED.match(text, lab.end)
            if stated is not None:
                parts.append(
                    _Part(
                        start,
                        stated.end(),
                        Measurement(
                            analytes=[*pending, ref],
                            comparator=_comparator(stated[1]),
                            uln_multiple=float(stated[2]),
                        ),
                    )
                )
                pending, pending_start = [], None
                continue
        if lab.value_as_number is None or lab.value_comparator is None:
            nxt = labs[i + 1] if i + 1 < len(labs) else None
            if nxt is not None and _SHARED.fullmatch(text[lab.end : nxt.start]):
                pending.append(ref)
                pending_start = start
                continue
            scale = _scale_measurement(text, lab.end, ref)
            if scale is not None:
                parts.append(_Part(start, end, scale))
            pending, pending_start = [], None
            continue
        comparator: Comparator = lab.value_comparator  # type: ignore[assignment]
        analytes = [*pending, ref]
        pending, pending_start = [], None
        # A stated multiple of the ULN never reaches here: the value reader keeps it apart.
        measured = Measurement(
            analytes=analytes, comparator=comparator, value=lab.value_as_number, unit=lab.unit
        )
        by_sex = _sex_specific(text, end, measured)
        if by_sex is not None:
            sexed, end = by_sex
            parts.append(_Part(start, end, sexed))
            continue
        bounded = _second_bound(text, lab.end, measured)
        if bounded is not None:
            parts.append(_Part(start, bounded[1], bounded[0]))
            continue
        parts.append(_Part(start, end, measured))
    taken = [(p.start, p.end) for p in parts]
    if age is not None:
        taken.append(age[:2])
    window_match = _WITHIN.search(text) or _AT_LEAST_BEFORE.search(text)
    if window_match is not None:
        taken.append(window_match.span())
    # A value of an analyte the lexicon does not know cannot be evaluated: it is kept only when
    # it is all the criterion asks (beside a coded requirement it would only hide that one).
    uncoded: list[_Part] = []
    for part in _measurement_parts(text, taken, labs):
        (uncoded if "TEXT:" in " ".join(_analytes(part.requirement)) else parts).append(part)
    if conditions:
        # "within 5 years", "in the past 6 months": a condition that occurred in the window,
        # stated in the history or not, unless the criterion asks for it now ("active").
        windowed = (
            window is not None
            and window.max_days_before is not None
            and not re.search(
                r"\b(?:active|current(?:ly)?|ongoing|uncontrolled|present)\b", text, re.I
            )
        )
        status = (
            "ever"
            if windowed or re.search(r"\b(?:history|previous|prior|ever|previously)\b", text, re.I)
            else "current"
        )
        qualifiers = sorted({q.lower() for q in _QUALIFIERS.findall(text[:cut])})
        exception_refs = [_ref(f.code_system, f.code, f.preferred_name) for f in exceptions]

        def condition(group: list[PatientFact]) -> Condition:
            refs: dict[str, ConceptRef] = {}
            for f in group:
                # A criterion names a disease more generally than a note codes it: its group
                # ("malignancy": every C code) or its category ("heart failure": all of I50).
                for ref in criterion_refs(f.code_system, f.code, f.preferred_name):
                    refs.setdefault(f"{ref.system}:{ref.code}", ref)
            # A stated menopause, hysterectomy or bilateral oophorectomy documents that a
            # pregnancy (and so breastfeeding) is absent, as a negative test would.
            absent_if = (
                [r for k in _NOT_CHILDBEARING if (r := _known_ref(k)) is not None]
                if any(f"{f.code_system}:{f.code}" in _REPRODUCTIVE_STATES for f in group)
                else []
            )
            return Condition(
                concepts=list(refs.values()),
                positive_tests=_condition_tests(list(refs.values()))[0],
                negative_tests=_condition_tests(list(refs.values()))[1],
                exceptions=exception_refs,
                qualifiers=qualifiers,
                status=status,  # type: ignore[arg-type]
                window=window,
                absent_if=absent_if,
            )

        absent = [f for f in conditions if _absence_asked(text, f)]
        absent_keys = {f"{f.code_system}:{f.code}" for f in absent}
        seen = [f for f in conditions if f not in absent]
        seen_keys = {f"{f.code_system}:{f.code}" for f in seen}
        others = [(p.start, p.end) for p in parts] + [(f.start, f.end) for f in drugs]
        if age is not None:
            others.append(age[:2])
        for segment in _condition_segments(text, seen, others):
            start, end = _span(segment)
            if _or_alternatives(text, segment):
                alternatives: dict[str, list[PatientFact]] = {}
                for f in segment:
                    alternatives.setdefault(f"{f.code_system}:{f.code}", []).append(f)
                node: Requirement = AnyOf(items=[condition(g) for g in alternatives.values()])
            else:
                node = condition(segment)
            parts.append(_Part(start, end, node))
        absent = [f for f in absent if f"{f.code_system}:{f.code}" not in seen_keys]
        if absent and absent_keys - seen_keys:
            parts.append(_Part(*_span(absent), Not(item=condition(absent))))
    able = _capacity_to_consent() if capacity else None
    if able is not None:
        unable = _NEGATIVE_CUE.search(text[max(0, capacity[0].start - 40) : capacity[0].start])
        parts.append(_Part(capacity[0].start, capacity[0].end, Not(item=able) if unable else able))
    if drugs:
        outcomes = [name for name, pattern in _MED_OUTCOMES if pattern.search(text[:cut])]
        routes = (
            ["inhaled", "topical"]
            if re.search(r"\b(?:inhaled|topical)\b", text[cut:], re.I)
            or _SYSTEMIC.search(text[:cut])
            else []
        )
        groups = _medication_groups(text, drugs) if kind == "inclusion" else [drugs]
        current = window is None and not outcomes and bool(_CURRENT_USE.search(text[:cut]))
        medications: list[Requirement] = [
            _medication(g, outcomes, routes, window, current, text) for g in groups
        ]
        both = _both_agents(
            text, drugs, lambda g: _medication(g, outcomes, routes, window, current, text)
        )
        parts.append(_Part(*_span(drugs), both or _flat(AllOf, medications)))
    if remission is not None and parts:
        not_remission = _not_in_remission()
        if not_remission is not None:
            parts.append(_Part(remission.start(), remission.end(), not_remission))
    if age is not None:
        parts.append(_Part(*age))
    sex = _sex(text, kind)
    if sex is not None:
        parts.append(_Part(*sex))
    if not parts:
        parts.extend(uncoded)
    if not parts:
        consent = _consent_act(text)
        if consent is not None:
            return consent, "consent", applicability
        other_study = _other_study(text, window)
        if other_study is not None:
            return other_study, "study_participation", applicability
        healthy = _known_ref("ELIG:no_other_comorbidity") if _HEALTHY.search(text) else None
        if healthy is not None and kind == "inclusion":
            return Condition(concepts=[healthy]), "condition", applicability
        administrative = _administrative(text, kind)
        if administrative is not None:
            return administrative[0], administrative[1], applicability
    if not parts and _CONTRACEPTION.search(text):
        agreement = _known_ref("ELIG:contraception_agreement")
        match = _CONTRACEPTION.search(text)
        if agreement is not None and match is not None:
            parts.append(_Part(match.start(), match.end(), Condition(concepts=[agreement])))
    if not parts:
        if _CONSENT.search(text) or _CONSENT_ACT.search(text):
            return None, "consent", applicability
        if _JUDGEMENT.search(text):
            return None, "investigator_judgement", applicability
        if _COMPLIANCE.search(text):
            return None, "compliance", applicability
        if _PARTICIPATION.search(text):
            return None, "study_participation", applicability
        if _LANGUAGE.search(text):
            return None, "language", applicability
        if _LEGAL.search(text):
            return None, "legal_status", applicability
        return None, "free_text", applicability
    unique: list[_Part] = []
    for part in parts:  # the same requirement read twice (a value near two mentions) counts once
        if not any(u.requirement == part.requirement for u in unique):
            unique.append(part)
    parts = unique
    if kind == "exclusion":
        parts = _defined_by_values(parts, text)
    requirements = [p.requirement for p in parts]
    category = _category(requirements, text)
    return _combine(parts, text, kind), category, applicability


_SEX_WORD = r"(?:(?P<m{n}>males?|men|man)|(?P<f{n}>females?|women|woman))"
_SEX_BOUND = re.compile(
    # "> 450 ms in men or > 470 ms in women", "> 450 ms (men), > 470 ms (women)"
    r"\s*(?:\(\s*|(?:for|in)\s+)" + _SEX_WORD.format(n=1) + r"\s*\)?\s*(?:,|;|or|and)?\s*"
    r"(?P<cmp>>=|<=|≥|≤|>|<)\s*(?P<value>\d+(?:\.\d+)?)\s*(?:ms|msec|milliseconds)?\s*"
    r"(?:\(\s*|(?:for|in)\s+)" + _SEX_WORD.format(n=2) + r"\b\)?",
    re.I,
)


def _sex_specific(text: str, end: int, first: Measurement) -> tuple[Requirement, int] | None:
    """A bound stated for each sex: either bound, each for its own sex (a woman meets the
    women's bound only; the men's rule does not apply to her)."""
    m = _SEX_BOUND.match(text, end)
    if m is None or bool(m["m1"]) == bool(m["m2"]):
        return None
    first_sex: Literal["F", "M"] = "M" if m["m1"] else "F"
    other_sex: Literal["F", "M"] = "F" if first_sex == "M" else "M"
    second = first.model_copy(
        update={
            "comparator": _comparator_of(m["cmp"]),
            "value": float(m["value"]),
            "sex": other_sex,
        }
    )
    return AnyOf(items=[first.model_copy(update={"sex": first_sex}), second]), m.end()


# Between a lab's first bound and a second one: an alternative unit in brackets, then the link.
_BOUND_LINK = re.compile(r"\s*(?:\([^()]{0,40}\)\s*)?,?\s*(and|or|but)\s+$", re.I)


def _second_bound(text: str, lab_end: int, first: Measurement) -> tuple[Requirement, int] | None:
    """A second bound right after a lab's first one: "eGFR >= 25 and < 75" is a range (both
    bounds), "glucose < 50 or > 400 mg/dL" either bound. Keeping the first bound only would
    admit every value beyond the second."""
    if first.value is None or first.uln_multiple is not None:
        return None
    found = [t for t in _thresholds(text) if t.start >= lab_end and not t.uln]
    if len(found) < 2 or not re.fullmatch(r"[^,;.\d]{0,40}", text[lab_end : found[0].start]):
        return None
    head, second = found[0], found[1]
    if head.value != first.value or second.high is not None or second.time_days is not None:
        return None
    link = _BOUND_LINK.fullmatch(text, head.end, second.start)
    if link is None:
        return None
    upper = first.model_copy(
        update={"comparator": second.comparator, "value": second.value, "unit": first.unit}
    )
    kind = AnyOf if link[1].lower() == "or" else AllOf
    return kind(items=[first, upper]), second.end


def _value_end(text: str, end: int) -> int:
    """Where the value stated after a mention ends (its threshold and unit), for coordination."""
    m = re.match(r"[^,;.\d]{0,40}?\d+(?:[.,]\d+)*(?:\s*(?:%|[^\s,;.()]+))?", text[end:])
    return end + m.end() if m else end


def _other_study(text: str, window: TimeWindow | None) -> Requirement | None:
    """Participation in another trial ("currently enrolled in another interventional study"):
    the investigational-product concept, absent where the criterion says "not"."""
    found = _OTHER_STUDY.search(text)
    product = _known_ref("ELIG:investigational_product") if found else None
    if found is None or product is None:
        return None
    previous = re.search(r"\b(?:previous\w*|prior|history|within|past|last|ever)\b", text, re.I)
    condition = Condition(
        concepts=[product], status="ever" if previous else "current", window=window
    )
    if re.search(r"\b(?:not|no|never|without)\b", text[: found.start()], re.I):
        return Not(item=condition)
    return condition


def _consent_act(text: str) -> Requirement | None:
    """Consent given (or denied, "no consent", "refused consent") as the whole criterion: the
    documented-consent concept the notes can state, as the concept layer reads "signed informed
    consent". The capacity to consent ("unable to give consent", "lacks capacity to consent") is
    a clinician's documented assessment of its own; a willingness to consent ("willing to
    provide written consent") is the consent to come."""
    act = _CONSENT_ACT.search(text) or _AGREE_TO_PARTICIPATE.search(text)
    if _OTHER_STUDY.search(text) or _CONSENT_TIMING.search(text):
        return None
    if act is None or (_CONSENT_CAPACITY.search(text) and not _CONSENT_ACT.search(text)):
        return _willing_to_participate(text)
    if _CONSENT_CAPACITY.search(text):
        return _consent_capacity(text, act)
    signed = _known_ref("ELIG:informed_consent_signed")
    if signed is None:
        return None
    condition = Condition(concepts=[signed])
    denied = _CONSENT_DENIED.search(text) and not re.search(
        r"\b(?:no|not|without)\s+(?:\w+\s+)?refus", text, re.I
    )
    return Not(item=condition) if denied else condition


def _willing_to_participate(text: str) -> Requirement | None:
    """ "Willingness to participate in this study", "children who are unwilling to participate":
    the patient's consent to come, or its refusal. Another person's willingness ("relatives
    willing to participate") is not the patient's."""
    willing = _WILLING_TO_PARTICIPATE.search(text)
    signed = _known_ref("ELIG:informed_consent_signed") if willing else None
    if willing is None or signed is None or _SOMEONE_ELSE.search(text[: willing.start()]):
        return None
    condition = Condition(concepts=[signed])
    refused = willing["un"] or _NEGATIVE_CUE.search(text[: willing.start()])
    return Not(item=condition) if refused else condition


def _consent_capacity(text: str, act: re.Match[str]) -> Requirement | None:
    """ "Able to give consent" asks for the capacity to consent, absent where a negative cue comes
    before the consent ("unable to provide consent/assent", "lack capacity for consent"); a
    willingness without an ability ("unwilling to consent") asks for the consent itself."""
    if _CONSENT_ABILITY.search(text):
        condition = _capacity_to_consent()
    elif _CONSENT_WILLING.search(text):
        signed = _known_ref("ELIG:informed_consent_signed")
        condition = Condition(concepts=[signed]) if signed is not None else None
    else:
        return None
    if condition is None:
        return None
    return Not(item=condition) if _NEGATIVE_CUE.search(text[: act.start()]) else condition


def _capacity_to_consent() -> Condition | None:
    """The capacity to consent, as documented ("has decision-making capacity") or shown by a
    consent the patient signed: a valid signature needs the capacity."""
    refs = [
        r
        for r in (_known_ref("ELIG:consent_capacity"), _known_ref("ELIG:informed_consent_signed"))
        if r is not None
    ]
    return Condition(concepts=refs) if refs else None


def _administrative(text: str, kind: str) -> tuple[Requirement, str] | None:
    """An administrative statement as the whole criterion (complying with the visits, a phone,
    health insurance, legal protection, living in the area, literacy): its concept, absent where
    a negative cue comes before it ("unable to attend follow-up visits", "no smartphone"). A
    wish to move away ("plans to relocate") is the absence of residence, and "no plan to move"
    its presence. An investigator's judgement of what a condition prevents stays uncoded."""
    for key, category, pattern in _STATEMENTS:
        found = pattern.search(text)
        if found is None:
            continue
        if key == "ELIG:protocol_compliance" and (
            _JUDGEMENT.search(text) or _COMPLIANCE_JUDGED.search(text)
        ):
            return None
        far = _FAR_AWAY.search(text) if kind == "exclusion" else None
        if key == "ELIG:study_area_residence" and kind == "exclusion" and far is None:
            # "Residing in urban areas" as an exclusion names an area this concept cannot hold
            continue
        ref = _known_ref(key)
        if ref is None:
            return None
        negated = bool(_NEGATIVE_CUE.search(text[: found.start()]))
        capacity = _capacity_to_consent() if key == "ELIG:consent_capacity" else None
        if key == "ELIG:device_access":  # the cue may sit between the verb and the device
            negated = negated or bool(re.search(r"\b(?:no|not|without)\b", found.group(0), re.I))
        if found.groupdict().get("flip"):
            negated = not negated
        if key == "ELIG:study_area_residence" and far is not None:
            negated = not negated  # "lives more than 50 km from the site", "outside the area"
        condition = capacity or Condition(concepts=[ref])
        return (Not(item=condition) if negated else condition), category
    found = _LITERATE.search(text)
    illiteracy = _known_ref("ICD10CM:Z55.0") if found else None
    if found is None or illiteracy is None:
        return None
    condition = Condition(concepts=[illiteracy])
    if _NEGATIVE_CUE.search(text[: found.start()]):
        return condition, "condition"
    return Not(item=condition), "condition"


@cache
def _language_names() -> tuple[re.Pattern[str], dict[str, tuple[str, str]]]:
    from pipeline.concepts import language_concepts

    by_name = {name.split(" ", 1)[1].lower(): (code, name) for code, name, _ in language_concepts()}
    names = "|".join(sorted((re.escape(n) for n in by_name), key=len, reverse=True))
    return re.compile(rf"\b({names})\b", re.I), by_name


def _language_list_facts(text: str, facts: list[PatientFact]) -> list[PatientFact]:
    """The other languages of a list that shares one phrase: "English or Spanish speaking",
    "fluent in Mandarin or Taiwanese", "speaks English, French or German" name each language;
    the lexicon's phrase covers only the one next to its verb. The languages are alternatives."""
    pattern, by_name = _language_names()
    known = {(f.start, f.end) for f in facts}
    out: list[PatientFact] = []
    for f in facts:
        if not (f.code_system == "ELIG" and f.code.startswith("language_")):
            continue
        # a list just before the phrase ("English or [Spanish speaking]") or just after it
        # ("[fluent in Mandarin] or Taiwanese")
        before = re.search(r"((?:[A-Z][a-z]+\s*(?:,|or|and/or|and)\s*)+)$", text[: f.start])
        after = re.match(r"((?:\s*(?:,|or|and/or|and)\s*[A-Z][a-z]+)+)", text[f.end :])
        spans: list[tuple[int, int]] = []
        if before:
            spans += [
                (before.start(1) + m.start(), before.start(1) + m.end())
                for m in pattern.finditer(before[1])
            ]
        if after:
            spans += [(f.end + m.start(), f.end + m.end()) for m in pattern.finditer(after[1])]
        for start, end in spans:
            code, name = by_name[text[start:end].lower()]
            if (start, end) not in known and code != f.code:
                out.append(replace(f, code=code, preferred_name=name, start=start, end=end))
                known.add((start, end))
    return out


def _is_language(node: Requirement) -> bool:
    """A condition (or its absence) on the languages a person speaks: the "language" category."""
    if isinstance(node, Not):
        return _is_language(node.item)
    if isinstance(node, AnyOf | AllOf):
        return all(_is_language(item) for item in node.items)
    return isinstance(node, Condition) and all(
        c.system == "ELIG" and c.code.startswith("language_") for c in node.concepts
    )


def _absence_asked(text: str, fact: PatientFact) -> bool:
    """Whether a negative cue governs this concept: "no history of X", "free of X", and "non-X"
    for a one-word state ("non-pregnant", "non-smoker", "non-diabetic"). A "non-" that starts a
    compound naming another disease ("non-small cell lung cancer", "non-melanoma skin cancer")
    narrows that disease instead and is not an absence."""
    before = text[max(0, fact.start - 60) : fact.start]
    if _NEG_BEFORE.search(before):
        return True
    if fact.code_system == "ELIG" and fact.code.startswith("language_"):
        return bool(LANGUAGE_DENIED.search(before))
    words = text[fact.start : fact.end].split()
    if not _NON_BEFORE.search(before) or not all(_PERSON.fullmatch(w) for w in words[1:]):
        return False
    return bool(_STATE_END.match(text, fact.end))


_LAB_NAMES = {
    "hcg": "human chorionic gonadotropin",
    "hbsag": "hepatitis B surface antigen",
    "hbv_dna": "hepatitis B virus DNA",
    "anti_hbc": "hepatitis B core antibody",
    "hepatitis_serology": "viral hepatitis serology panel",
    "hcv_rna": "hepatitis C virus RNA",
    "hcv_ab": "hepatitis C antibody",
    "hiv_ag_ab": "HIV-1/2 antigen/antibody",
    "hiv_rna": "HIV-1 RNA",
    "tb_igra": "interferon-gamma release assay",
    "tst": "tuberculin skin test",
}
# Qualitative tests that show a condition (positive) or rule it out (a negative result only),
# by ICD-10-CM code prefix of the condition (standard screening serology): a negative hCG rules
# out pregnancy; HBsAg / HBV DNA show hepatitis B and a negative anti-HBc rules it out; HCV RNA
# shows hepatitis C and a negative HCV antibody rules it out; an HIV Ag/Ab test shows or rules
# out HIV; a positive IGRA or tuberculin skin test shows latent TB infection, and a negative one
# rules out TB (a positive one does not prove active TB).
_CONDITION_TESTS: list[tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = [
    (("Z33",), ("hcg",), ()),
    (("B16", "B18.0", "B18.1", "B19.1"), ("hbsag", "hbv_dna"), ("anti_hbc", "hepatitis_serology")),
    (("B17.1", "B18.2", "B19.2"), ("hcv_rna",), ("hcv_ab", "hepatitis_serology")),
    (("B20", "Z21"), ("hiv_ag_ab", "hiv_rna"), ()),
    (("Z22.7", "R76.1"), ("tb_igra", "tst"), ()),
    (("A15", "A16", "A17", "A18", "A19"), (), ("tb_igra", "tst")),
]


def _condition_tests(refs: list[ConceptRef]) -> tuple[list[ConceptRef], list[ConceptRef]]:
    """The positive and negative tests of a condition's concepts (see ``_CONDITION_TESTS``)."""
    positive: list[str] = []
    negative: list[str] = []
    codes = [r.code for r in refs if r.system == "ICD10CM"]
    for prefixes, shows, rules_out in _CONDITION_TESTS:
        # Only for a condition of that disease alone: a test says nothing of the others
        # grouped with it ("uterine fibroids ... desire pregnancy").
        if codes and all(c.startswith(prefixes) for c in codes):
            positive += [t for t in shows if t not in positive]
            negative += [t for t in rules_out if t not in negative]
    negative = [t for t in negative if t not in positive]
    return (
        [
            ConceptRef(system="LAB", code=t, name=_LAB_NAMES[t], include_descendants=False)
            for t in positive
        ],
        [
            ConceptRef(system="LAB", code=t, name=_LAB_NAMES[t], include_descendants=False)
            for t in negative
        ],
    )


# "at least 2 exacerbations", "2 or more hypoglycemic episodes", "more than 1 relapse of X".
_EVENT_NOUN = (
    r"(?:episodes?|events?|attacks?|exacerbations?|flares?|flare-ups?|relapses?|"
    r"hospitali[sz]ations?|admissions?|seizures?|fractures?|crises|occurrences?|bouts?)"
)
_EVENT_COUNT = re.compile(
    rf"(?:\b(?:at\s+least|a\s+minimum\s+of|minimum\s+of)\s*{_COUNT_NUMBER}|(?:≥|>=)\s*"
    rf"{_COUNT_NUMBER}|\b{_COUNT_NUMBER}\s*(?:or\s+more|\+)|(?P<more>\bmore\s+than|>)\s*"
    rf"(\d{{1,2}}|one|two|three))\s+(?:(?!{_UNIT}\b)[\w\-]+\s+){{0,4}}?{_EVENT_NOUN}\b"
    r"(?:\s+of\s+[\w\-]+)?",
    re.I,
)


def _counted_event(text: str, facts: list[PatientFact]) -> str | None:
    """A count of events of a condition ("at least 2 asthma exacerbations"), which a
    condition requirement cannot hold: one event would meet it. The words, or None."""
    for m in (
        _EVENT_COUNT.finditer(text) if re.search(r"\d|one|two|three|four|five", text, re.I) else ()
    ):
        word = next(g for g in (m[1], m[2], m[3], m[5]) if g).lower()
        n = _COUNT_WORD_VALUES.get(word) or (1 if word == "one" else int(word))
        if (n + 1 if m["more"] else n) < 2:
            continue
        if any(
            f.category in ("diagnosis", "finding") and m.start() <= f.start < m.end() for f in facts
        ):
            return m.group(0)
    return None


# A bound in brackets for a special group: "(< 90% predicted for participants aged 12 to 17)",
# "(<= 5 x ULN in patients with liver metastases)", "(> 5 x ULN for Gilbert's syndrome)".
_SPECIAL_CASE = re.compile(
    r"\(\s*(?:[<>≤≥]=?|=<|=>|(?:less|greater|more|lower|higher)\s+than|up\s+to|at\s+least)\s*"
    r"\d[^()]{0,80}?\b(?:for|in|if|among)\s+(?!(?:the\s+)?(?:men|women|males?|females?|"
    r"last|past|first|previous)\b)[A-Za-z][^()]{0,80}\)",
    re.I,
)


def _special_case_blanked(text: str, facts: list[PatientFact]) -> tuple[str, list[PatientFact]]:
    """The text with bracketed special-case bounds blanked, and the facts outside them.

    "FEV1 < 80% (< 90% for participants aged 12 to 17)", "ALT <= 3 x ULN (<= 5 x ULN for
    patients with liver metastases)": the bracket relaxes the bound for a group; the group's age
    or disease is not itself a requirement (nor, in an exclusion, enough to exclude). The main
    bound is what is read.
    """
    spans = [m.span() for m in _SPECIAL_CASE.finditer(text)] if "(" in text else []
    if not spans:
        return text, facts
    for s, e in spans:
        text = text[:s] + " " * (e - s) + text[e:]
    kept = [f for f in facts if not any(s <= f.start and f.end <= e for s, e in spans)]
    return text, kept


# A drug named as what a disease is treated with or resists, or a test named as the means of
# finding a condition, or a condition named as a point in time: context, not requirements.
_INDICATION_GAP = re.compile(
    r"[\s\-]*(?:[A-Za-z\-]+\s+){0,2}?(?:for|against)\s+(?:the\s+)?(?:(?:treatment|management|"
    r"therapy|prevention)\s+of\s+(?:the\s+)?)?(?:[A-Za-z\-]+\s+){0,2}?",
    re.I,
)
_NOT_RESPONDING = re.compile(
    r"\b(?:(?:not|poorly|in)?\s*(?:responsive|responding|respond(?:s|ed)?)\s+to|"
    r"refractory\s+to|resistant\s+to|despite|in\s+spite\s+of|"
    r"uncontrolled\s+(?:by|with|on)|not\s+controlled\s+(?:by|with|on))\s+"
    r"(?:(?:the|an?|optimal|maximal|adequate|appropriate|medical|standard|\w+-?dose)\s+)*$",
    re.I,
)
_DIAGNOSTIC_TEST = re.compile(
    r"tomograph|imaging|\bMRI?\b|\bCTA?\b|angiogra|ultraso|sonogra|echocardiogra|x-ray|"
    r"radiogra|\bscan|\bPET\b|endoscop|colonoscop|electrocardiogra|\bE[CK]G\b|\bEEG\b",
    re.I,
)
_MEANS_BEFORE = re.compile(
    r"\b(?:on|by|via|using|per)\s+(?:(?:an?|the|baseline|screening|initial|"
    r"repeat|brain|head|cranial|non-?contrast|contrast(?:-enhanced)?|cerebral|chest|cardiac)\s+)*$|"
    r"\b(?:confirmed|documented|diagnosed|detected|demonstrated|proven|assessed|seen|shown|"
    r"measured|determined|evaluated|defined|visible|evident)\s+(?:by|on|with|in|using|at|via)\s+"
    r"(?:(?:an?|the|baseline|screening|brain|head|non-?contrast|contrast(?:-enhanced)?)\s+)*$",
    re.I,
)
_TIME_POINT_BEFORE = re.compile(
    r"(?:\b(?:at|after|since|before|from|following|during|prior\s+to|of)\s+(?:the\s+)?"
    r"(?:time\s+of\s+(?:the\s+)?)?)$",
    re.I,
)
_TIME_POINT_AFTER = re.compile(
    r"\s+(?:symptom\s+)?(?:onset|presentation|admission|diagnosis|ictus|event)\b", re.I
)
_GLUED_TIME = re.compile(r"\b(?:pre|post)-$", re.I)


def _defined_by_values(parts: list[_Part], text: str) -> list[_Part]:
    """An exclusion's condition followed by the values that define it ("severe hypertension (SBP
    > 185 or DBP > 110 mmHg)", "uncontrolled hypertension: SBP >= 170 ..."): both are asked (the
    condition AND its values), not either; the diagnosis alone does not exclude, and its absence
    still rules the criterion out."""
    ordered = sorted(parts, key=lambda p: (p.start, p.end))
    out: list[_Part] = []
    i = 0
    while i < len(ordered):
        part = ordered[i]
        m = _DEFINED_BY.match(text, part.end) if _is_condition(part.requirement) else None
        if m is None:
            out.append(part)
            i += 1
            continue
        stop = len(text)
        if text[m.start() : m.end()].lstrip().startswith("("):
            close = text.find(")", m.end())
            stop = close if close >= 0 else stop
        else:
            semi = re.search(r"[;]", text[m.end() :])
            stop = m.end() + semi.start() if semi else stop
        values = []
        j = i + 1
        while (
            j < len(ordered)
            and ordered[j].start < stop
            and _is_measurement(ordered[j].requirement)
            and ordered[j].start >= part.end
        ):
            values.append(ordered[j])
            j += 1
        if not values or ordered[i + 1].start > m.end():
            out.append(part)
            i += 1
            continue
        defined = _combine(values, text, "inclusion")
        node = AllOf(items=[part.requirement, defined])
        out.append(_Part(part.start, values[-1].end, node))
        i = j
    return out


def _is_condition(node: Requirement) -> bool:
    if isinstance(node, Condition):
        return True
    return isinstance(node, AnyOf) and all(isinstance(i, Condition) for i in node.items)


def _is_measurement(node: Requirement) -> bool:
    if isinstance(node, Measurement):
        return True
    return isinstance(node, (AnyOf, AllOf)) and all(_is_measurement(i) for i in node.items)


# A drug class named as what is blocked ("mineralocorticoid receptor antagonist" is the opposite
# of a mineralocorticoid) or narrowed to a kind the lexicon has no class for ("potassium-sparing
# diuretic" is not any diuretic): the class is not what is meant; the agents listed are.
_BLOCKER_AFTER = re.compile(
    r"[\s\-]+(?:receptor\s+)?(?:antagonists?|blockers?|blockade|inhibitors?)\b", re.I
)
_NARROWER_BEFORE = re.compile(r"\b[a-z]+-sparing\s+$", re.I)
# A condition followed by the values that define it: "hypertension (SBP > 185 mmHg ...)",
# "uncontrolled hypertension: SBP >= 170", "anaemia defined as haemoglobin < 9 g/dL".
_DEFINED_BY = re.compile(
    r"\s*(?:\(|:|,?\s*(?:defined\s+(?:as|by)|as\s+defined\s+by|i\.\s?e\.,?|"
    r"as\s+evidenced\s+by|with)\s)[^,;()]{0,40}",
    re.I,
)


def _without_context_mentions(text: str, facts: list[PatientFact], kind: str) -> list[PatientFact]:
    """Facts without the mentions that only set the scene of another requirement.

    - a disease named as a drug's indication: "3 biologic agents for psoriasis" asks about the
      drugs; the trial's own disease would otherwise exclude every patient;
    - in an exclusion, a drug the condition resists: "hypertension not responsive to
      antihypertensive treatment" is not met by any antihypertensive;
    - a test named as the means of finding a condition: "haemorrhage on baseline CT or MRI",
      "occlusion confirmed by CT angiography" (and the tests listed with it by "or");
    - a condition named as a point in time: "seizure at stroke onset", "pre-stroke mRS",
      "post-transplant": the seizure, the score, not the stroke, are asked about;
    - a drug class named as what is blocked or narrowed (``_BLOCKER_AFTER``).
    Only when something else is left to read: a criterion about the test alone keeps it.
    """
    ordered = sorted(facts, key=lambda f: f.start)
    drugs = [f for f in ordered if f.category == "drug"]
    drop: set[int] = set()
    heads: list[PatientFact] = []
    for f in ordered:
        before = text[max(0, f.start - 80) : f.start]
        if f.category in ("diagnosis", "finding"):
            indication = any(
                d.end <= f.start and _INDICATION_GAP.fullmatch(text, d.end, f.start) for d in drugs
            )
            time_point = bool(
                _GLUED_TIME.search(before[-5:])
                or (_TIME_POINT_BEFORE.search(before) and _TIME_POINT_AFTER.match(text, f.end))
            )
            if indication or time_point:
                drop.add(id(f))
                glued = _GLUED_TIME.search(before[-5:]) is not None
                if glued and (head_fact := _head_fact(text, f)) is not None:
                    heads.append(head_fact)  # "pre-gestational diabetes" is diabetes
        elif f.category == "drug" and kind == "exclusion" and _NOT_RESPONDING.search(before):
            drop.add(id(f))
        elif f.code_system == "DRUGCLASS" and (
            _BLOCKER_AFTER.match(text, f.end) or _NARROWER_BEFORE.search(before)
        ):
            drop.add(id(f))
        elif (
            f.category == "procedure"
            and _DIAGNOSTIC_TEST.search(f"{f.preferred_name} {text[f.start : f.end]}")
            and _MEANS_BEFORE.search(before)
        ):
            drop.add(id(f))
    # Tests listed after a dropped one ("CT or MRI", "CT angiography or MR angiography").
    for a, b in itertools.pairwise(ordered):
        if (
            id(a) in drop
            and a.category == b.category == "procedure"
            and re.fullmatch(
                r"\s*(?:(?:,|or|and|and/or|/)\s*)?(?:[A-Za-z\-]+\s+)?", text[a.end : b.start], re.I
            )
        ):
            drop.add(id(b))
    if not drop:
        return facts
    return sorted([*(f for f in facts if id(f) not in drop), *heads], key=lambda f: f.start)


def _head_fact(text: str, fact: PatientFact) -> PatientFact | None:
    """The concept the words after a mention's first word name, when the lexicon knows them:
    the head left when a prefix turns the first word around ("non-cardiac surgery": surgery,
    "pre-gestational diabetes mellitus": diabetes mellitus)."""
    from pipeline.concepts import concept_index

    words = list(re.finditer(r"[A-Za-z0-9][\w'\-]*", text[fact.start : fact.end]))
    if len(words) < 2:
        return None
    start = fact.start + words[1].start()
    index = concept_index()
    key = index.terms.get(text[start : fact.end].lower())
    record = index.records.get(key) if key else None
    if record is None or record.category not in ("diagnosis", "finding", "procedure"):
        return None
    return replace(
        fact,
        category=record.category,
        code_system=record.code_system,
        code=record.code,
        preferred_name=record.preferred_name,
        start=start,
        snippet=text[start : fact.end],
    )


# A cancer named "in situ" is not the invasive cancer: ICD-10-CM D00-D09 by site (the usual
# exceptions to a malignancy exclusion), else carcinoma in situ, unspecified.
_IN_SITU_AFTER = re.compile(r"\s*(?:\(\s*)?in[-\s]situ\b", re.I)
_IN_SITU_BEFORE = re.compile(r"\bin[-\s]situ\s+(?:carcinoma\s+)?(?:of\s+(?:the\s+)?)?$", re.I)
_IN_SITU_CODES: list[tuple[tuple[str, ...], str, str]] = [
    (("C53",), "D06.9", "carcinoma in situ of cervix uteri"),
    (("C50",), "D05.90", "carcinoma in situ of breast"),
    (("C44",), "D04.9", "carcinoma in situ of skin"),
    (("C43",), "D03.9", "melanoma in situ"),
    (("C61",), "D07.5", "carcinoma in situ of prostate"),
    (("C67",), "D09.0", "carcinoma in situ of bladder"),
    (("C18", "C19", "C20"), "D01.0", "carcinoma in situ of colon"),
    (("C54",), "D07.0", "carcinoma in situ of endometrium"),
    (("C34",), "D02.20", "carcinoma in situ of bronchus and lung"),
    (("C",), "D09.9", "carcinoma in situ, unspecified"),
]


def _in_situ(text: str, facts: list[PatientFact]) -> list[PatientFact]:
    """Cancer mentions said to be "in situ" ("cervical carcinoma in situ", "carcinoma in situ
    of the cervix", "ductal carcinoma in situ") read as the in situ neoplasm of that site."""
    out: list[PatientFact] = []
    for f in facts:
        after = _IN_SITU_AFTER.match(text, f.end)
        if (
            f.code_system != "ICD10CM"
            or not f.code.startswith("C")
            or not (after or _IN_SITU_BEFORE.search(text[max(0, f.start - 40) : f.start]))
        ):
            out.append(f)
            continue
        code, name = next((c, n) for p, c, n in _IN_SITU_CODES if f.code.startswith(p))
        out.append(replace(f, code=code, preferred_name=name, end=after.end() if after else f.end))
    return out


def _coordinated_modifier_facts(text: str, facts: list[PatientFact]) -> list[PatientFact]:
    """A modifier coordinated with the first words of a lexicon mention names a concept of
    its own: "basal cell or squamous cell carcinoma of the skin" also names basal cell
    carcinoma of the skin; "type 1 or type 2 diabetes" type 1 diabetes."""
    from pipeline.concepts import concept_index

    index = concept_index()
    out: list[PatientFact] = []
    for f in facts:
        if f.category not in ("diagnosis", "finding"):
            continue
        m = re.search(
            r"((?:\b[A-Za-z0-9][\w\-]*\s+){0,2}\b[A-Za-z0-9][\w\-]*)\s*,?\s*(?:or|and|and/or|/)\s+$",
            text[max(0, f.start - 60) : f.start],
            re.I,
        )
        if m is None:
            continue
        words = text[f.start : f.end].split()
        before = m[1].split()
        for n in range(len(before), 0, -1):
            if n >= len(words):
                continue
            modifier = before[-n:]
            for rest in (words[n:], [w for w in words[n:] if w.lower() != "the"]):
                key = index.terms.get(" ".join([*modifier, *rest]).lower())
                record = index.records.get(key) if key else None
                if record is None or record.category != f.category:
                    continue
                start = max(0, f.start - 60) + m.end(1) - len(" ".join(modifier))
                out.append(
                    PatientFact(
                        "criterion",
                        "criterion",
                        None,
                        record.category,
                        record.code_system,
                        record.code,
                        record.preferred_name,
                        start,
                        max(0, f.start - 60) + m.end(1),
                        snippet=text[start : max(0, f.start - 60) + m.end(1)],
                    )
                )
                break
            else:
                continue
            break
    return out


# "non-melanoma skin cancer" (NMSC): ICD-10-CM C44, the skin cancers other than melanoma (C43).
_NMSC_NOUN = r"(?:cancers?|malignanc(?:y|ies)|carcinomas?|neoplasms?|tumou?rs?)"
_NMSC = re.compile(
    rf"(?i:\bnon[-\s]?melanoma(?:tous)?\s+(?:skin\s+{_NMSC_NOUN}|{_NMSC_NOUN}\s+of\s+"
    rf"(?:the\s+)?skin))|\bNMSCs?\b"
)


def _non_melanoma_skin(text: str, facts: list[PatientFact]) -> list[PatientFact]:
    """ "Non-melanoma skin cancer" is one concept (C44: basal and squamous cell carcinoma of
    the skin and the rarer kinds), not melanoma nor cancer in general: the mentions inside the
    phrase give way to it. Mostly named as an exception to a malignancy exclusion."""
    out = list(facts)
    for m in _NMSC.finditer(text) if re.search(r"melanoma|NMSC", text, re.I) else ():
        out = [f for f in out if not (m.start() <= f.start and f.end <= m.end())]
        out.append(
            PatientFact(
                "criterion",
                "criterion",
                None,
                "diagnosis",
                "ICD10CM",
                "C44",
                "non-melanoma skin cancer",
                m.start(),
                m.end(),
                snippet=m.group(0),
            )
        )
    return sorted(out, key=lambda f: f.start)


# "non-plaque forms of psoriasis": the head named after a "non-" kind.
_NON_KIND_OF = re.compile(
    r"\bnon[-\s]?[a-z][\w\-]*\s+(?:forms?|types?|kinds?|variants?|subtypes?)\s+of\s+$", re.I
)


def _without_non(text: str, facts: list[PatientFact]) -> list[PatientFact]:
    """Facts without the concepts a "non-" prefix turns into their opposite.

    "non-melanoma skin cancer", "non-diabetic renal disease", "non-biologic therapy": the
    concept glued to "non-" is what is NOT meant, so it is dropped (a one-word state, "non-
    pregnant", "non-smoker", stays: it asks for the absence). The head such a prefix narrows
    ("non-diabetic renal disease", "non-plaque forms of psoriasis") is only a kind of that
    concept, so reading it as the whole concept would catch the very kind excluded: the head is
    dropped too, and so are the other mentions of its concept in the criterion (the kinds
    listed: "erythrodermic or guttate psoriasis"); the specific examples named stay.
    """
    facts = _non_melanoma_skin(text, facts)
    heads: list[PatientFact] = []
    dropped: set[int] = set()
    narrowed: set[str] = set()
    ordered = sorted(facts, key=lambda f: f.start)
    for i, f in enumerate(ordered):
        before = text[max(0, f.start - 40) : f.start]
        if _NON_KIND_OF.search(before):
            dropped.add(id(f))
            if f.category in ("diagnosis", "finding"):
                narrowed.add(f"{f.code_system}:{f.code}")
            continue
        if not _NON_BEFORE.search(before[-5:]) or _absence_asked(text, f):
            continue
        dropped.add(id(f))
        if f.category == "procedure" and (head_fact := _head_fact(text, f)) is not None:
            heads.append(head_fact)  # "non-cardiac surgery" is surgery
        head = next((g for g in ordered[i + 1 :] if g.start >= f.end), None)
        if (
            head is not None
            and head.category in ("diagnosis", "finding")
            and re.fullmatch(r"[\s\-]*", text[f.end : head.start])
        ):
            dropped.add(id(head))
            narrowed.add(f"{head.code_system}:{head.code}")
    kept = [
        f for f in facts if id(f) not in dropped and f"{f.code_system}:{f.code}" not in narrowed
    ]
    return sorted([*kept, *heads], key=lambda f: f.start) if len(kept) < len(facts) else facts


def _category(parts: list[Requirement], text: str) -> str:
    if _CONSENT.search(text) and all(p.type == "condition" for p in parts):
        return "consent"
    if parts and all(_is_language(p) for p in parts):
        return "language"
    if _LEGAL.search(text) and all(p.type in ("condition", "not") for p in parts):
        return "legal_status"  # "deprived of liberty": imprisonment has a code (Z65.1)
    if (
        _CONTRACEPTION.search(text)
        or _WOCBP.search(text)
        or re.search(r"\bpregnancy\s+test", text, re.I)
    ):
        if all(p.type != "medication" for p in parts):
            return "pregnancy"
    if len(parts) == 1:
        if isinstance(parts[0], Not):
            return _category([parts[0].item], text)
        return parts[0].type if parts[0].type not in ("all_of", "any_of") else _inner(parts[0])
    return _inner(AllOf(items=parts))


def _inner(req: Requirement) -> str:
    """The one leaf type of a group, else "composite". A negated qualifier beside positive
    requirements ("... but not in remission") does not change what the criterion is about."""
    items = list(getattr(req, "items", []))
    positive = [i for i in items if not isinstance(i, Not)]
    types: set[str] = set()
    for i in positive or items:
        leaf = i.item if isinstance(i, Not) else i
        types.add(_inner(leaf) if leaf.type in ("all_of", "any_of") else leaf.type)
    return types.pop() if len(types) == 1 else "composite"


def _meaning_text(text: str) -> str:
    """What the meaning rules read: HTML entities decoded, very long items cut (with a warning)."""
    if "&" in text:
        text = html.unescape(text)
    return text[:_MAX_MEANING_CHARS]


# An item that states there is no criterion ("Exclusion Criteria: None", "N/A", a lone dash).
_NO_CRITERION = re.compile(
    r"[\W_]*(?:(?:none|nil|n/?a|not\s+applicable|no(?:ne)?\s+(?:other\s+)?(?:criteria|exclusions?|"
    r"exclusion\s+criteria))\b[\W_]*)?",
    re.I,
)


def parse_protocol(text: str, trial_id: str = "protocol", title: str | None = None) -> Protocol:
    """Parse protocol text into a schema-valid model; never raises on odd text (warnings instead)."""
    warnings: list[str] = []
    if not isinstance(text, str):
        text = ""
    view = _view(text)
    try:
        sections = _structure(view)
    except Exception as e:  # structure rules must never stop a batch
        log.warning("E-PARSE-002 %s: structure failed: %s", trial_id, type(e).__name__)
        warnings.append(f"structure could not be read ({type(e).__name__})")
        sections = []
    if "<" in text and _HTML_TAG.search(text):
        warnings.append("HTML tags in the text were read as line breaks and blanks")
    dropped = 0
    for sec in sections:
        kept = [i for i in sec.items if not _NO_CRITERION.fullmatch(view[i.start : i.end])]
        dropped += len(sec.items) - len(kept)
        sec.items = kept
    if dropped:
        warnings.append(f"{dropped} item(s) stating no criterion ('None', 'N/A', '-') left out")
    items = [item for sec in sections for item in sec.items]
    meaning_texts = [_meaning_text(view[i.start : i.end]) for i in items]
    docs_facts, docs_entities = _batch_facts(meaning_texts, warnings)
    criteria: list[Criterion] = []
    cohorts: dict[int, list[str]] = {}
    ungrouped_inclusions: list[str] = []
    common: list[str] = []
    exclusions: list[str] = []
    counters = {"inclusion": 0, "exclusion": 0}
    alternatives: dict[str, list[str]] = {}
    k = 0
    for sec in sections:
        for item in sec.items:
            counters[item.kind] += 1
            cid = f"{'INC' if item.kind == 'inclusion' else 'EXC'}-{counters[item.kind]:02d}"
            meaning_text = meaning_texts[k]
            facts = docs_facts[k]
            entities = _criterion_entities(
                docs_entities[k], meaning_text, view, text, item.start, item.end
            )
            k += 1
            if len(item.text) > _MAX_MEANING_CHARS:
                warnings.append(f"{cid}: very long criterion, meaning read from its start only")
            try:
                requirement, category, applicability = _meaning(meaning_text, item.kind, facts)
            except Exception as e:  # keep the criterion, flag it for the reviewer
                log.warning(
                    "E-PARSE-001 criterion %s could not be structured: %s", cid, type(e).__name__
                )
                warnings.append(f"{cid}: could not be structured ({type(e).__name__})")
                requirement, category, applicability = None, "free_text", None
            warnings.extend(f"{cid}: {w}" for w in _unmodelled(meaning_text, requirement))
            criteria.append(
                Criterion(
                    id=cid,
                    kind=item.kind,  # type: ignore[arg-type]
                    text=text[item.start : item.end],
                    span=Span(start=item.start, end=item.end),
                    group=item.group,
                    computable=requirement is not None,
                    category=category,
                    scored=category != "investigator_judgement",
                    applicability=applicability,
                    requirement=requirement,
                    entities=entities,
                )
            )
            if item.group_index is not None and item.group_index in sec.alternative_groups:
                alternatives.setdefault(item.group or "", []).append(cid)
            if item.kind == "exclusion":
                exclusions.append(cid)
            elif sec.any_of_above and item.common:
                common.append(cid)
            elif sec.any_of_above and item.group_index is not None:
                cohorts.setdefault(item.group_index, []).append(cid)
            else:
                ungrouped_inclusions.append(cid)
    for group, ids in alternatives.items():
        if ids and ids[0].startswith("INC"):
            warnings.append(
                f"{ids[0]}..{ids[-1]}: heading '{group[:60]}' lists alternatives; "
                "they are kept as separate inclusions (reviewer: combine them)"
            )
    inclusion_section = next((s for s in sections if s.kind == "inclusion" and s.groups), None)
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
    elif not any(s.kind == "exclusion" for s in sections):
        warnings.append("no exclusion part found")
    _except_index_disease(criteria, title)
    return Protocol(
        trial_id=trial_id,
        title=title,
        source_text=text,
        criteria=criteria,
        rule=ProtocolRule(cohorts=rule_cohorts, common_inclusions=common, exclusions=exclusions),
        warnings=warnings,
    )


_DOSE = re.compile(
    r"(?:>=|<=|≥|≤|>|<|at\s+least|more\s+than|less\s+than|up\s+to)?\s*\d+(?:\.\d+)?\s*"
    r"(?:mg|g|mcg|µg|ug|IU|units?)(?:\s*/\s*(?:day|d|kg|m2|week))?\b",
    re.I,
)
_FAMILY_HISTORY = re.compile(
    r"\bfamily\s+(?:medical\s+)?history\b|\bfirst[-\s]degree\s+relative", re.I
)


def _unmodelled(text: str, requirement: Requirement | None) -> list[str]:
    """What a criterion asks that the model cannot hold, for the reviewer: a drug's dose
    ("metformin >= 1500 mg/day"), a relative's history (the evaluator counts only the patient's)."""
    out: list[str] = []
    if requirement is not None and _has_medication(requirement, undosed=True):
        dose = _DOSE.search(text)
        if dose is not None:
            out.append(f"dose '{dose.group(0).strip()}' is not in the model: check it by hand")
    if _FAMILY_HISTORY.search(text):
        out.append("family history is not in the model (only the patient's own history counts)")
    events = _EVENT_COUNT.search(text) if requirement is None else None
    if events is not None:
        out.append(f"a count of events '{events.group(0)}' is not in the model: check it by hand")
    return out


def _has_medication(node: Requirement, undosed: bool = False) -> bool:
    """Whether the requirement holds a Medication (one without a dose bound, if ``undosed``)."""
    if isinstance(node, Medication):
        return not (undosed and node.dose is not None)
    if isinstance(node, Not):
        return _has_medication(node.item, undosed)
    if isinstance(node, AllOf | AnyOf | AtLeast):
        return any(_has_medication(i, undosed) for i in node.items)
    return False


_CONTRAINDICATED = re.compile(
    r"\b(?:contra-?\s?indications?|contra-?\s?indicated|unable\s+to\s+(?:undergo|receive))"
    r"\s+(?:to|for|of|with)?\s*(?:the\s+|an?\s+|any\s+)?(?:study\s+)?$",
    re.I,
)


# "Another malignancy", "other primary cancers", "a second malignancy": the trial's own disease
# is not another one.
_ANOTHER = re.compile(
    r"\b(?:another|other|second|additional|concurrent|secondary)\s+(?:\w+\s+){0,2}?"
    r"(?:malignan\w*|cancers?|neoplasms?|tumou?rs?|primary|diseases?|disorders?|conditions?|"
    r"dementias?)\b",
    re.I,
)


def _except_index_disease(criteria: list[Criterion], title: str | None) -> None:
    """Add the disease the trial is about (coded in its inclusion criteria, or its title) as an
    exception to exclusions about *another* disease of the same group, so a lung cancer trial's
    "another malignancy within 5 years" does not exclude every patient with lung cancer."""
    index: dict[str, ConceptRef] = {}
    for c in criteria:
        if c.kind == "inclusion":
            for leaf in _condition_leaves(c.requirement):
                for ref in leaf.concepts:
                    if ref.system == "ICD10CM":
                        index.setdefault(ref.code, ref)
    if title:
        for f in _facts(title):
            if f.code_system == "ICD10CM" and f.category == "diagnosis":
                for ref in criterion_refs(f.code_system, f.code, f.preferred_name):
                    index.setdefault(ref.code, ref)
    if not index:
        return
    for c in criteria:
        if c.kind != "exclusion" or not _ANOTHER.search(c.text):
            continue
        for leaf in _condition_leaves(c.requirement):
            inside = [
                ref
                for ref in index.values()
                if any(ref.code.startswith(g.code) for g in leaf.concepts if g.system == ref.system)
            ]
            known = {(e.system, e.code) for e in leaf.exceptions}
            leaf.exceptions.extend(r for r in inside if (r.system, r.code) not in known)


def _condition_leaves(node: Requirement | None) -> list[Condition]:
    if node is None:
        return []
    if isinstance(node, Condition):
        return [node]
    if isinstance(node, Not):
        return _condition_leaves(node.item)
    if isinstance(node, AllOf | AnyOf | AtLeast):
        return [leaf for item in node.items for leaf in _condition_leaves(item)]
    return []


def _batch_facts(
    texts: list[str], warnings: list[str]
) -> tuple[list[list[PatientFact] | None], list[list[TextEntity]]]:
    """Concept facts and typed entities of every criterion text, from one ``nlp.pipe`` stream."""
    from pipeline.criterion_entities import entities_of
    from pipeline.facts import facts_from_doc
    from pipeline.nlp import get_nlp

    out: list[list[PatientFact] | None] = []
    entities: list[list[TextEntity]] = []
    try:
        for text, doc in zip(texts, get_nlp().pipe(texts, batch_size=64), strict=True):
            try:
                out.append(facts_from_doc(doc, "criterion", "criterion", None))
                entities.append(entities_of(text, doc))
            except Exception as e:  # one bad criterion must not cost the others
                log.warning("E-PARSE-003 concept facts failed: %s", type(e).__name__)
                out.append(None)
                entities.append([])
    except Exception as e:
        log.warning("E-PARSE-003 concept pipeline failed: %s", type(e).__name__)
        warnings.append(f"concept layer failed ({type(e).__name__}); criteria kept as text")
        out = [None] * len(texts)
        entities = [[] for _ in texts]
    return out, entities


def _criterion_entities(
    found: list[TextEntity], meaning_text: str, view: str, text: str, start: int, end: int
) -> list[CriterionEntity]:
    """Entities with offsets in the source text.

    The meaning text is the source slice itself unless HTML entities were decoded or the item was
    cut; then the entities are read again from the (same-length) view slice.
    """
    from pipeline.concepts import concept_index
    from pipeline.criterion_entities import entities_of

    if meaning_text != view[start:end]:
        found = entities_of(view[start:end])
    records = concept_index().records
    out: list[CriterionEntity] = []
    for e in found:
        concept = None
        record = records.get(e.kb_id) if e.kb_id else None
        if record is not None:
            concept = _ref(record.code_system, record.code, record.preferred_name)
        elif e.kb_id and e.name:  # a linked code the concept index does not hold
            system, _, code = e.kb_id.partition(":")
            concept = _ref(system, code, e.name)
        out.append(
            CriterionEntity(
                type=e.type,
                span=Span(start=start + e.start, end=start + e.end),
                text=text[start + e.start : start + e.end],
                concept=concept,
            )
        )
    return out


# -- values named in free text ------------------------------------------------------------------
# "IPSS 20 or less", "CHA2DS2VASc score >= 2", "weigh less than 110 pounds", "18 years or older":
# a comparator and a number, read whether or not the lexicon knows what is measured. An analyte
# the lexicon does not know is kept by its words (system ``TEXT``): the evaluator finds no fact
# for it and says unknown, and a reviewer sees what was meant.

_COMPARATOR_PHRASES: list[tuple[str, Comparator]] = [
    (r"≥|>=|=>|≧|>/=|=/>|>\s?or\s?=", ">="),
    (r"≤|<=|=<|≦|</=|=/<|<\s?or\s?=", "<="),
    (
        r"(?:greater|more|higher|larger|older)\s+(?:than\s+)?or\s+equal(?:\s+(?:to|than))?|"
        r"equal\s+(?:to\s+)?or\s+(?:greater|more|higher|larger|older)(?:\s+than)?|"
        r"at\s+least|no\s+(?:less|fewer|lower)\s+than|not\s+(?:less|fewer|lower|younger)\s+than|"
        r"(?:a\s+)?minimum\s+(?:of\s+)?|min\.?",
        ">=",
    ),
    (
        r"(?:less|lower|smaller|fewer|younger)\s+(?:than\s+)?or\s+equal(?:\s+(?:to|than))?|"
        r"equal\s+(?:to\s+)?or\s+(?:less|lower|smaller|fewer|younger)(?:\s+than)?|"
        r"at\s+most|no\s+(?:more|greater|higher|older)\s+than|"
        r"not\s+(?:more|greater|higher|older)\s+than|not\s+(?:to\s+)?exceed(?:ing)?|"
        r"up\s+to|(?:a\s+)?maximum\s+(?:of\s+)?|max\.?",
        "<=",
    ),
    (
        r">|＞|(?:greater|more|higher|larger|older)\s+than|above|over|exceed(?:ing|s)?|"
        r"in\s+excess\s+of",
        ">",
    ),
    (r"<|＜|(?:less|lower|smaller|fewer|younger)\s+than|below|under", "<"),
]
_CMP_BEFORE = "|".join(f"(?:{p})" for p, _ in _COMPARATOR_PHRASES)
_NUMBER_VALUE = r"\d{1,3}(?:,\d{3})+(?!\d)|\d+(?:\.\d+)?|(?-i:IV|V|I{1,3})(?![A-Za-z])"
_UNIT_TOKEN = (
    r"%|°\s?[CF]\b|(?!(?:or|and|to|for|in|if|at|on|of|per|with|than|the|a|an)\b)"
    r"[a-zA-Zµμ][a-zA-Zµμ²³^']*(?:-[a-zA-Z]+)*\d?(?:\s?/\s?[a-zA-Z0-9µμ.²³^]+)*"
)
_POST_COMPARATOR = (
    r"(?:or|and)\s+(?:(?P<up>more|greater|higher|above|over|older|larger|bigger)|"
    r"(?P<down>less|fewer|lower|below|under|younger|smaller))\b(?!\s+than)(?!\s*\d)"
)
_THRESHOLD = re.compile(
    rf"(?P<between>\bbetween\s+|\bfrom\s+)?(?:(?P<cmp>{_CMP_BEFORE})\s*:?\s*)?"
    rf"(?<![\w.,/])(?P<value>{_NUMBER_VALUE})(?P<plus>\s?\+)?(?P<fraction>\s?/\s?\d+(?!\s?/))?"
    rf"(?:\s*-?\s*(?P<unit>{_UNIT_TOKEN}))?"
    rf"(?:\s*(?:-|–|~|to|and)\s*(?P<high>{_NUMBER_VALUE})(?:\s*-?\s*(?P<unit2>{_UNIT_TOKEN}))?)?"
    rf"(?:\s+of\s+age|\s*-?\s*old)?(?:\s*(?P<post>{_POST_COMPARATOR}))?",
    re.I,
)
_UNIT_WORDS = {
    "kg",
    "g",
    "gr",
    "mg",
    "mcg",
    "µg",
    "μg",
    "ug",
    "ng",
    "pg",
    "lb",
    "lbs",
    "pound",
    "pounds",
    "kilograms",
    "kilogram",
    "grams",
    "gram",
    "cm",
    "mm",
    "m",
    "km",
    "in",
    "inch",
    "inches",
    "ft",
    "feet",
    "mmhg",
    "kpa",
    "pa",
    "ms",
    "msec",
    "s",
    "sec",
    "seconds",
    "bpm",
    "l",
    "ml",
    "dl",
    "mmol",
    "µmol",
    "umol",
    "nmol",
    "pmol",
    "iu",
    "u",
    "units",
    "unit",
    "cells",
    "copies",
    "points",
    "point",
    "pts",
    "degrees",
    "mets",
    "met",
    "meq",
    "fold",
    "times",
    "x",
    "percent",
    "percentile",
    "db",
    "hz",
    "kcal",
    "cal",
    "microns",
    "micron",
    "µm",
    "μm",
    "um",
    "cc",
    "ng/ml",
    "beats",
}
_TIME_UNITS = {
    "h": 1 / 24,
    "hr": 1 / 24,
    "hrs": 1 / 24,
    "hour": 1 / 24,
    "hours": 1 / 24,
    "d": 1.0,
    "day": 1.0,
    "days": 1.0,
    "wk": 7.0,
    "wks": 7.0,
    "week": 7.0,
    "weeks": 7.0,
    "mo": 30.4375,
    "mos": 30.4375,
    "month": 30.4375,
    "months": 30.4375,
    "y": 365.25,
    "yr": 365.25,
    "yrs": 365.25,
    "year": 365.25,
    "years": 365.25,
    "min": 1 / 1440,
    "mins": 1 / 1440,
    "minute": 1 / 1440,
    "minutes": 1 / 1440,
}
# Words that end an analyte name read backwards from its comparator ("patients WITH a ...").
_ANALYTE_STOP = {
    "and",
    "or",
    "with",
    "who",
    "whom",
    "whose",
    "which",
    "that",
    "if",
    "when",
    "where",
    "while",
    "whether",
    "has",
    "have",
    "had",
    "having",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "being",
    "must",
    "should",
    "shall",
    "will",
    "would",
    "can",
    "could",
    "may",
    "might",
    "do",
    "does",
    "did",
    "by",
    "at",
    "on",
    "in",
    "for",
    "during",
    "after",
    "before",
    "from",
    "to",
    "than",
    "within",
    "since",
    "until",
    "between",
    "receiving",
    "received",
    "receive",
    "taking",
    "take",
    "taken",
    "use",
    "used",
    "using",
    "treated",
    "require",
    "required",
    "requiring",
    "need",
    "needs",
    "including",
    "include",
    "not",
    "no",
    "without",
    "inability",
    "unable",
    "able",
    "aged",
    "age",
    "ages",
    "old",
    "patients",
    "patient",
    "subjects",
    "subject",
    "participants",
    "participant",
    "individuals",
    "individual",
    "people",
    "persons",
    "person",
    "women",
    "woman",
    "men",
    "man",
    "males",
    "male",
    "females",
    "female",
    "adults",
    "adult",
    "children",
    "child",
    "volunteers",
    "infants",
    "infant",
    "neonates",
    "boys",
    "girls",
    "they",
    "he",
    "she",
    "it",
    "defined",
    "as",
    "per",
    "least",
    "most",
    "currently",
    "still",
    "also",
    "only",
    "then",
    "history",
    "documented",
    "known",
    "presence",
    "evidence",
    "diagnosis",
    "diagnosed",
}
_ANALYTE_LEADING = re.compile(
    r"^(?:(?:a|an|the|their|his|her|its|any|of|current|baseline)\s+)+", re.I
)
_COPULA_TAIL = re.compile(
    r"(?:\s*(?:\b(?:of|is|are|was|were|be|being|been|must\s+be|should\s+be|at)\b|[:=(]))+\s*$",
    re.I,
)
_SEX_AFTER = re.compile(
    r"\s*\(?\s*(?:for|in|if)\s+(?:the\s+)?(?:(?P<m>males?|men|man|boys)|(?P<f>females?|women|woman|girls))\b",
    re.I,
)
_PER_PERIOD = re.compile(
    r"\s*(?:(?:per|a|an|each)\s+|/\s*)(?P<period>day|week|month|year|wk|d|h|hour|night)s?\b",
    re.I,
)
_DATE_NEAR = re.compile(
    r"\b(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|jun(?:e)?|jul(?:y)?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\b\.?\s*\d|"
    r"\d(?:st|nd|rd|th)?\s+(?:of\s+)?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b|"
    r"\b(?:19|20)\d\d\s*(?:-|–|to|and)\s*(?:19|20)\d\d\b",
    re.I,
)
_BLOOD_PRESSURE = re.compile(r"\b(?:blood\s+pressure|BP)\b", re.I)
_AGE_CONTEXT = re.compile(
    r"\b(?:ages?|aged|years?[-\s]old|years?\s+of\s+age|of\s+age|y/?o|old|older|younger|"
    r"elderly)\b",
    re.I,
)
_PEOPLE_ONLY = re.compile(
    rf"^[\W_]*(?:(?:{_PERSON.pattern}|children|infants?|neonates?|boys|girls|healthy|and|or|"
    r"both|sexes|genders?|aged?|ages|any|adult|older|from|of|the|a|an|are|is|be|must|should|"
    r"who|were|was|being)[\W_]*)*$",
    re.I,
)


@dataclass(frozen=True)
class _Threshold:
    start: int
    end: int
    comparator: Comparator
    value: float
    high: float | None  # a range "18-27"
    unit: str | None
    uln: bool
    time_days: float | None  # days per unit when the unit is a time
    fraction: str | None  # "/90" of "140/90", "/10" of a score


def _comparator_of(phrase: str | None) -> Comparator | None:
    if not phrase:
        return None
    for pattern, comparator in _COMPARATOR_PHRASES:
        if re.fullmatch(rf"\s*(?:{pattern})\s*", phrase + " ", re.I):
            return comparator
    return None


def _number(text: str) -> float:
    """A value written with thousands separators or as a Roman numeral grade ("ASA > II")."""
    if text.isalpha():
        return _scale_number(text)
    return float(text.replace(",", ""))


def _read_threshold(m: re.Match[str]) -> _Threshold | None:
    unit = m["unit"] or m["unit2"]
    end = m.end()
    uln = False
    if unit and re.fullmatch(r"(?:x|times|-?fold|×)", unit, re.I):
        tail = re.match(r"\s*(?:the\s+)?(?:ULN|upper\s+limit)", m.string[m.end("unit") :], re.I)
        if tail is not None:
            uln, end = True, m.end("unit") + tail.end()
    elif unit and unit.upper() == "ULN":
        uln = True
    comparator = _comparator_of(m["cmp"])
    high = _number(m["high"]) if m["high"] else None
    if m["post"] and comparator is None:
        comparator = ">=" if m["up"] else "<="
    elif m["plus"]:
        comparator = ">="
    if comparator is None and high is None:
        return None
    if high is not None and comparator is not None:
        # "> 18 and 20": not a range; read the first bound only.
        high = None
    if high is None and comparator is None:
        return None
    graded = re.search(
        r"\b(?:stages?|grades?|class(?:es)?|scores?|levels?|categor(?:y|ies)|scales?)\s*(?:of|:|=)?\s*$",
        m.string[max(0, m.start() - 20) : m.start()],
        re.I,
    )
    if high is not None and not (m["between"] or unit or graded):
        return None  # "3-5" alone: a list number, unless it grades something ("stage 1-3")
    unit_word = (unit or "").lower().rstrip(".")
    time_days = _TIME_UNITS.get(unit_word.replace("-old", "").replace("year-", "year"))
    rate = _PER_PERIOD.match(m.string, m.end("unit")) if unit and time_days is not None else None
    if rate is not None and not m["high"]:
        # "20 hours per week": a rate, measured like any other value, not a duration.
        unit, time_days, end = f"{unit}/{rate['period']}", None, m.end("unit") + rate.end()
    if unit and not uln and time_days is None:
        known = "/" in unit or unit_word in _UNIT_WORDS or not unit_word.isalpha()
        if not known and unit_word not in ("ms",):
            unit = None  # a counted noun ("20 teeth"): the number is a count
            end = m.end("value") if not (m["post"] or m["plus"]) else end
    return _Threshold(
        m.start("cmp") if m["cmp"] else m.start("between") if m["between"] else m.start("value"),
        end,
        comparator or ">=",
        _number(m["value"]),
        high,
        None if uln else unit,
        uln,
        time_days,
        m["fraction"],
    )


def _thresholds(text: str) -> list[_Threshold]:
    out: list[_Threshold] = []
    for m in _THRESHOLD.finditer(text):
        if not (m["cmp"] or m["post"] or m["plus"] or m["high"]):
            continue
        t = _read_threshold(m)
        if t is not None:
            out.append(t)
    return out


def _analyte_before(text: str, start: int, floor: int) -> tuple[int, str] | None:
    """The words naming what is measured, read backwards from a comparator."""
    before = _COPULA_TAIL.sub("", text[max(floor, start - 90) : start])
    tokens = list(re.finditer(r"\([^()]*\)|[\w'’+\-/.]+|[^\w\s]", before))
    kept: list[re.Match[str]] = []
    for tok in reversed(tokens):
        word = tok.group(0)
        if word in (",", ";", ".", ":", "!", "?", "(", ")") or word.lower() in _ANALYTE_STOP:
            break
        if re.fullmatch(r"(?:e\.\s?g|i\.\s?e|vs|etc)\.?", word, re.I):
            break
        if re.fullmatch(r"\d+(?:\.\d+)?", word):
            break
        kept.append(tok)
        if len(kept) >= 8:
            break
    if not kept:
        return None
    first = kept[-1]
    phrase = before[first.start() : kept[0].end()].strip(" .")
    lead = _ANALYTE_LEADING.match(phrase)
    offset = lead.end() if lead else 0
    phrase = phrase[offset:]
    if not re.search(r"[A-Za-z]{2}", phrase):
        return None
    return max(floor, start - 90) + first.start() + offset, phrase


def _analyte_after(text: str, end: int) -> str | None:
    """The counted noun after a number ("at least 20 teeth", "5 cigarettes per day")."""
    m = re.match(
        r"\s*((?:[A-Za-z][\w'\-]*)(?:\s+(?:per|of|a)\s+[A-Za-z][\w\-]*|\s+[A-Za-z][\w\-]*){0,3})",
        text[end:],
    )
    if m is None:
        return None
    words: list[str] = []
    for w in m[1].split():
        if w.lower() in _ANALYTE_STOP - {"per"} and words:
            break
        words.append(w)
    phrase = " ".join(words)
    if not phrase or phrase.lower().split()[0] in _ANALYTE_STOP:
        return None
    return phrase


_CHANGE_BEFORE = re.compile(
    r"\b(?P<w>increase|rise|elevation\s+from\s+baseline|decline|decrease|reduction|drop|fall|"
    r"change|improvement|worsening)s?\s+(?:\w+\s+){0,2}?(?:in|of)\s+(?:the\s+)?(?:serum\s+)?$",
    re.I,
)
_CHANGE_AFTER = re.compile(
    r"\s*(?:\([^)]{0,20}\)\s*)?(?P<w>reversibility|decline|decrease|reduction|increase|rise|"
    r"drop|fall|change|improvement|response)\b",
    re.I,
)


# What makes an "increase" a change rather than a raised level: its size against a reference.
_CHANGE_MARKER = re.compile(
    r"\bby\s+(?:at\s+least\s+|more\s+than\s+|>|≥)?\s*\d|\bfrom\s+(?:baseline|nadir)|"
    r"\bwithin\s+\d+\s*(?:h|hours?|days?)\b|\b(?:compared|relative)\s+(?:to|with)|\bfold\b|"
    r"\bbaseline\b",
    re.I,
)


def _change_ref(text: str, lab: PatientFact) -> ConceptRef | None:
    """A threshold on a change of a lab, not on its level ("decline in eGFR of at least 40%",
    "increase in serum creatinine > 0.3 mg/dL", "FEV1 reversibility >= 12%"): kept by its words
    (system ``TEXT``), so a level in the notes is never compared with it."""
    before = _CHANGE_BEFORE.search(text[max(0, lab.start - 40) : lab.start])
    after = _CHANGE_AFTER.match(text, lab.end)
    found = before or after
    if found is None:
        return None
    word = re.sub(r"\s+", " ", found["w"].lower())
    if word in ("increase", "rise") and not _CHANGE_MARKER.search(text):
        return None  # "chronic increase of serum creatinine > 2 mg/dl": an elevated level
    name = f"{word} in {lab.preferred_name}" if before else f"{lab.preferred_name} {word}"
    return ConceptRef(system="TEXT", code=name.lower(), name=name, include_descendants=False)


def _analyte_ref(phrase: str) -> ConceptRef:
    """A lab the lexicon knows by this name (or its last words), else the words themselves."""
    from pipeline.concepts import concept_index

    index = concept_index()
    words = re.sub(r"\s+", " ", phrase.strip().lower()).split(" ")
    for i in range(len(words)):
        for candidate in (" ".join(words[i:]), re.sub(r"\s*\([^)]*\)", "", " ".join(words[i:]))):
            key = index.terms.get(candidate)
            record = index.records.get(key) if key else None
            if record is not None and record.category == "lab":
                return _ref("LAB", record.code, record.preferred_name)
    name = re.sub(r"\s+", " ", phrase.strip())
    return ConceptRef(system="TEXT", code=name.lower(), name=name, include_descendants=False)


def _threshold_nodes(
    t: _Threshold, analytes: list[ConceptRef], sex: Literal["F", "M"] | None
) -> Requirement:
    def one(comparator: Comparator, value: float, refs: list[ConceptRef]) -> Measurement:
        if t.uln:
            return Measurement(analytes=refs, comparator=comparator, uln_multiple=value, sex=sex)
        return Measurement(analytes=refs, comparator=comparator, value=value, unit=t.unit, sex=sex)

    if t.fraction and any(
        _BLOOD_PRESSURE.search(a.name or "") or a.code == "blood_pressure" for a in analytes
    ):
        systolic = _ref("LAB", "systolic_bp", "systolic blood pressure")
        diastolic = _ref("LAB", "diastolic_bp", "diastolic blood pressure")
        second = _number(t.fraction.strip(" /"))
        pair: list[Requirement] = [
            one(t.comparator, t.value, [systolic]),
            one(t.comparator, second, [diastolic]),
        ]
        # Above 140/90 is either value above; below 140/90 is both values below.
        return AnyOf(items=pair) if t.comparator in (">", ">=") else AllOf(items=pair)
    if t.high is not None:
        low, high = sorted((t.value, t.high))
        return AllOf(items=[one(">=", low, analytes), one("<=", high, analytes)])
    return one(t.comparator, t.value, analytes)


def _measurement_parts(
    text: str, taken: list[tuple[int, int]], labs: list[PatientFact]
) -> list[_Part]:
    """Value thresholds not read by the lab reader nor the age rules: the analyte is the lab
    mention right before the value, else the words before the comparator, else the counted noun
    after the number. Times ("> 6 months") are durations or windows, not measurements."""
    parts: list[_Part] = []
    previous: tuple[int, list[ConceptRef]] | None = None  # end, analytes of the last threshold
    for t in _thresholds(text):
        if any(s <= t.start < e or s < t.end <= e for s, e in taken):
            continue
        if _DATE_NEAR.search(text[max(0, t.start - 12) : t.end + 14]):
            continue  # "between 1 January 2014 and ...": a date, not a value
        lab = next(
            (
                f
                for f in reversed(labs)
                if f.end <= t.start
                and (
                    re.fullmatch(r"[^,;.\d]{0,40}", text[f.end : t.start])
                    # the lab's own first bound, then "and <= 80%": a second bound of it
                    or re.fullmatch(
                        r"\s*(?:and|but|,)\s*", text[_value_end(text, f.end) : t.start], re.I
                    )
                )
            ),
            None,
        )
        if t.time_days is not None and lab is None and not _timed_value(text, t):
            previous = None
            continue
        sex_m = _SEX_AFTER.match(text, t.end)
        sex: Literal["F", "M"] | None = None
        end = t.end
        if sex_m is not None:
            sex = "M" if sex_m["m"] else "F"
            end = sex_m.end()
        start = t.start
        if lab is not None:
            analytes = [_change_ref(text, lab) or _ref("LAB", lab.code, lab.preferred_name)]
            start = lab.start
        elif previous is not None and re.fullmatch(
            r"[\s,;]*(?:\(?\s*(?:and|or|but)\s*)?", text[previous[0] : t.start], re.I
        ):
            analytes = previous[1]
        else:
            after = _analyte_after(text, t.end) if t.unit is None and not t.uln else None
            before = _analyte_before(text, t.start, 0)
            spent = re.search(r"\bfor\s*$", text[: t.start], re.I)
            if before is None and spent is not None and t.unit and "/" in t.unit:
                # "games for over 20 hours per week": the activity is what is measured.
                before = _analyte_before(text, spent.start(), 0)
            if before is not None:
                analytes = [_analyte_ref(before[1])]
                start = before[0]
            elif after is not None and _counted(text, t):
                analytes = [_analyte_ref(after)]
            else:
                continue
        parts.append(_Part(start, end, _threshold_nodes(t, analytes, sex)))
        previous = (end, analytes)
    spans = [*taken, *((p.start, p.end) for p in parts)]
    parts += [
        p for p in _graded_scale_parts(text) if not any(s < p.end and p.start < e for s, e in spans)
    ]
    return _join_same_analyte(text, sorted(parts, key=lambda p: p.start))


# A grade on a named scale the lexicon does not know: "Fitzpatrick skin types III-IV", "Gross
# Motor Function Classification System level 4 or 5", "Kellgren-Lawrence grade 2 or higher".
# A grade followed by more words qualifies what follows ("type 2 diabetes", "stage IV cancer"):
# that is a condition, not a value.
_GRADED_SCALE = re.compile(
    r"\b(?P<kw>types?|stages?|grades?|class(?:es)?|levels?|scores?|categor(?:y|ies))\s*(?:(?:of|:|=)\s*)?"
    rf"{_SCALE_VALUE}(?:\s*(?:-|–|~|to|or|and|/)\s*{_SCALE_VALUE})?\b"
    r"(?P<post>\s*(?:or|and)\s+(?:(?P<down>less|lower|below|under|better|younger)|"
    r"more|greater|higher|above|over|worse|older)\b)?"
    # what may follow: the end, punctuation, "or"/"and" before a capitalised next item (case
    # matters: "3 or more comorbidities" counts things), or a preposition ("level 4 on the ...")
    r"(?=\s*(?:$|[,;.:)]|\b(?:or|and)\b\s*(?:$|[,;.]|(?-i:[A-Z]))|"
    r"\b(?:on|in|at|as|by|according|per)\b))",
    re.I,
)


def _graded_scale_parts(text: str) -> list[_Part]:
    """Grades on named scales that the lexicon does not know, kept by the scale's words."""
    parts: list[_Part] = []
    for m in _GRADED_SCALE.finditer(text):
        before = _analyte_before(text, m.start(), 0)
        if before is None:
            continue
        ref = _analyte_ref(f"{before[1]} {m['kw']}")
        low = _scale_number(m[2])
        requirement: Requirement
        if m[3] is not None:
            low, high = sorted((low, _scale_number(m[3])))
            upper = Measurement(analytes=[ref], comparator="<=", value=high)
            requirement = (
                upper
                if low <= 0
                else AllOf(items=[Measurement(analytes=[ref], comparator=">=", value=low), upper])
            )
        else:
            comparator: Comparator = "==" if not m["post"] else "<=" if m["down"] else ">="
            requirement = Measurement(analytes=[ref], comparator=comparator, value=low)
        parts.append(_Part(before[0], m.end(), requirement))
    return parts


_DURATION_BEFORE = re.compile(
    r"\b(?:for|since|within|during|last|past|over|in|from|after|before|ago|history|experience|"
    r"period)\W*$",
    re.I,
)


_TIME_QUANTITY = re.compile(
    r"\b(?:time|times|duration|cycles?|intervals?|delay|stay|period|onset|latency|survival|"
    r"interval|wait(?:ing)?)\b",
    re.I,
)


def _timed_value(text: str, t: _Threshold) -> bool:
    """A time that is itself the value of a time quantity named before it ("menstrual cycle
    21-35 days", "door-to-needle time > 60 minutes"), not how long a condition lasted ("pain for
    more than 6 months", "sprain < 3 months"), a size in weeks, nor a window ("within 3
    months", "3 years of experience")."""
    before = text[max(0, t.start - 60) : t.start]
    if _DURATION_BEFORE.search(before) or not re.search(r"[A-Za-z]{3}\W*$", before):
        return False
    if re.match(r"\s*(?:of|ago|before|prior|after|since|per|a|each|/)\b", text[t.end :], re.I):
        return False
    analyte = _analyte_before(text, t.start, 0)
    return analyte is not None and bool(_TIME_QUANTITY.search(analyte[1]))


def _counted(text: str, t: _Threshold) -> bool:
    """Whether a word follows the number directly ("20 teeth"), not a unit or a comparator."""
    return bool(re.match(r"\s*[A-Za-z]", text[t.end :])) and not re.match(
        rf"\s*(?:{_POST_COMPARATOR}|and|or|for|in|if|at|on|to)\b", text[t.end :], re.I
    )


def _join_same_analyte(text: str, parts: list[_Part]) -> list[_Part]:
    """Two bounds of one analyte ("less than 10% or greater than 90%", ">= 2 for men and >= 3
    for women") are one requirement: either bound for "or" or a per-sex rule, both for "and"."""
    out: list[_Part] = []
    for part in parts:
        prev = out[-1] if out else None
        if prev is not None and _analytes(prev.requirement) == _analytes(part.requirement):
            link = _link(text[prev.end : part.start])
            per_sex = _has_sex(prev.requirement) or _has_sex(part.requirement)
            kind = AnyOf if link == "or" or per_sex else AllOf
            out[-1] = _Part(prev.start, part.end, _flat(kind, [prev.requirement, part.requirement]))
            continue
        out.append(part)
    return out


def _analytes(node: Requirement) -> list[str]:
    if isinstance(node, Measurement):
        return sorted({f"{a.system}:{a.code}" for a in node.analytes})
    return sorted({k for i in getattr(node, "items", []) for k in _analytes(i)})


def _has_sex(node: Requirement) -> bool:
    if isinstance(node, Measurement):
        return node.sex is not None
    return any(_has_sex(i) for i in getattr(node, "items", []))


def _age_thresholds(text: str) -> tuple[int, int, Requirement] | None:
    """Ages the stated-age rules miss: "18 years or older", "between 18 and 80 years",
    "younger than 6 months", "Patients below 18 and above 45 years" (a time value read as an
    age only where the words before it name people or age, never "pain for > 6 months")."""
    found: list[tuple[int, int, Requirement]] = []
    thresholds = _thresholds(text)
    for i, t in enumerate(thresholds):
        days = t.time_days
        if days is None and t.unit is None and not t.uln:
            # "Patients below 18 and above 45 years": a bare bound takes the next time unit;
            # "patients < 18": a bare bound right after the people it is about is their age.
            later = next((x for x in thresholds[i + 1 :] if x.time_days is not None), None)
            if later is None or not re.fullmatch(r"[\s\w]{0,20}", text[t.end : later.start]):
                later = None
                people = re.split(r"[;,.]\s", text[: t.start])[-1]
                named = _PERSON.search(people) and _PEOPLE_ONLY.match(people)
                if not (_AGE_CONTEXT.search(text[max(0, t.start - 25) : t.end + 15]) or named):
                    continue
            days = later.time_days if later is not None else 365.25
        if days is None:
            continue
        before = text[: t.start]
        clause = re.split(r"[;,.]\s", before)[-1]
        after = text[t.end : t.end + 25]
        if re.match(
            r"\s*(?:-?old\s+)?(?:of|since|ago|before|after|prior|duration|history)\b", after, re.I
        ) and not re.match(r"\s*(?:-?old\s+)?of\s+age\b", after, re.I):
            continue
        near = text[max(0, t.start - 25) : t.end + 15]
        if re.match(r"\s*(?:per|a|an|each|/)\b", after, re.I):
            continue  # "5 days per week": a frequency
        if days < 28 and not _AGE_CONTEXT.search(near):
            continue  # hours, days, weeks: an age only when said to be one ("72 hours old")
        follows = bool(found) and _link(text[found[-1][1] : t.start]) in ("and", "or", "comma")
        if not (_AGE_CONTEXT.search(near) or _PEOPLE_ONLY.match(clause) or follows):
            continue
        if re.search(
            r"\b(?:for|since|during|within|last|past|duration|history|ago)\s*$", clause, re.I
        ):
            continue
        years = days / 365.25
        value = round(t.value * years, 4)
        if t.high is not None:
            high = round(t.high * years, 4)
            node: Requirement = AllOf(
                items=[
                    Demographic(attribute="age", comparator=">=", value=min(value, high)),
                    Demographic(attribute="age", comparator="<=", value=max(value, high)),
                ]
            )
        else:
            node = Demographic(attribute="age", comparator=t.comparator, value=value)
        found.append((t.start, t.end, node))
    if not found:
        return None
    if len(found) == 1:
        return found[0]
    start, end = found[0][0], found[-1][1]
    link = _link(text[found[0][1] : found[1][0]])
    items = [f[2] for f in found]
    # "below 18 and above 45" cannot both hold: the bounds are alternatives.
    bounds = [n for n in items if isinstance(n, Demographic)]
    apart = len(bounds) == 2 and _disjoint(bounds[0], bounds[1])
    kind = AnyOf if link == "or" or apart else AllOf
    return start, end, _flat(kind, items)


def _disjoint(a: Demographic, b: Demographic) -> bool:
    lo, hi = (a, b) if a.comparator in ("<", "<=") else (b, a)
    return (
        lo.comparator in ("<", "<=")
        and hi.comparator in (">", ">=")
        and float(lo.value) <= float(hi.value)
    )


# -- inflected lexicon terms --------------------------------------------------------------------
_WORD = re.compile(r"[A-Za-z][A-Za-z'\-]*")
_INFLECTIONS: list[tuple[str, str]] = [("ies", "y"), ("ics", "ic"), ("es", ""), ("s", "")]


def _singular_forms(word: str) -> list[str]:
    lower = word.lower()
    out: list[str] = []
    for suffix, replacement in _INFLECTIONS:
        if lower.endswith(suffix) and len(lower) - len(suffix) >= 3 and not lower.endswith("ss"):
            out.append(lower[: -len(suffix)] + replacement)
    return out


def _inflected_facts(text: str, found: list[PatientFact]) -> list[PatientFact]:
    """Lexicon terms written in the plural ("psychiatric diseases", "Diabetics", "smokers"),
    which the concept layer matches only as listed. Criteria name kinds of patients and
    conditions in the plural far more often than notes do; a match keeps the term's code."""
    from pipeline.concepts import concept_index

    index = concept_index()
    words = list(_WORD.finditer(text))
    taken = [(f.start, f.end) for f in found]
    out: list[PatientFact] = []
    i = 0
    while i < len(words):
        hit: tuple[int, str] | None = None
        for n in range(min(5, len(words) - i), 0, -1):
            last = words[i + n - 1]
            start, end = words[i].start(), last.end()
            if any(s < end and start < e for s, e in taken):
                continue
            head = " ".join(w.group(0).lower() for w in words[i : i + n - 1])
            for form in _singular_forms(last.group(0)):
                candidate = f"{head} {form}".strip()
                key = index.terms.get(candidate)
                if key is not None and len(candidate) >= 5:
                    hit = (n, key)
                    break
            if hit is not None:
                break
        if hit is None:
            i += 1
            continue
        n, key = hit
        record = index.records[key]
        if record.category in ("diagnosis", "finding", "procedure", "drug"):
            start, end = words[i].start(), words[i + n - 1].end()
            out.append(
                PatientFact(
                    "criterion",
                    "criterion",
                    None,
                    record.category,
                    record.code_system,
                    record.code,
                    record.preferred_name,
                    start,
                    end,
                    lexical_variant=text[start:end],
                    drug_classes=record.drug_classes,
                )
            )
        i += n
    return out


# "neurologic, psychiatric or cardiac disease", "renal or hepatic impairment": modifiers that
# share one head noun name one concept each ("neurologic disease", "psychiatric disease").
_SHARED_HEAD = re.compile(
    # Bounded repeats and word lengths: unbounded ones made long comma lists quadratic.
    r"\b((?:[A-Za-z][\w\-]{0,40}\s*,\s*){0,8}[A-Za-z][\w\-]{0,40})\s*,?\s*(?:or|and|and/or|/)\s+"
    r"([A-Za-z][\w\-]{0,40})\s+([A-Za-z][\w\-]{0,40})",
    re.I,
)


def _shared_head_facts(text: str, found: list[PatientFact]) -> list[PatientFact]:
    from pipeline.concepts import concept_index

    index = concept_index()
    taken = [(f.start, f.end) for f in found]
    out: list[PatientFact] = []
    for m in _SHARED_HEAD.finditer(text):
        head = m[3].lower()
        modifiers = [(x.start(), x.end()) for x in re.finditer(r"[A-Za-z][\w\-]*", m[1])]
        for mod_start, mod_end in [(m.start(1) + s, m.start(1) + e) for s, e in modifiers]:
            if any(s < mod_end and mod_start < e for s, e in taken):
                continue
            modifier = text[mod_start:mod_end].lower()
            for form in (head, *_singular_forms(head)):
                key = index.terms.get(f"{modifier} {form}")
                record = index.records.get(key) if key else None
                if record is None or record.category not in ("diagnosis", "finding", "procedure"):
                    continue
                out.append(
                    PatientFact(
                        "criterion",
                        "criterion",
                        None,
                        record.category,
                        record.code_system,
                        record.code,
                        record.preferred_name,
                        mod_start,
                        mod_end,
                        lexical_variant=f"{text[mod_start:mod_end]} {m[3]}",
                    )
                )
                taken.append((mod_start, mod_end))
                break
    return out
