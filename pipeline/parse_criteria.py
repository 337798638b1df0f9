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
from dataclasses import dataclass, field

from criteria_models.facts import PatientFact
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
    Not,
    Protocol,
    ProtocolRule,
    Requirement,
    Span,
    TimeWindow,
)
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
    r"[ \t]*\*?(?P<end>:|\s+-\s|[ \t]*$)",
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
    r"minimum\s+(?:age\s+)?(?:of\s+)?)\s*(\d{1,3})\s*(?:years|yrs|y\b)?(?:\s+(?:of\s+age|old))?",
    re.I,
)
_AGE_RANGE_BARE = re.compile(
    r"\bage[ds]?\s*(?:between|from|of|:|range)?\s*(\d{1,2})\s*(?:-|–|to|and)\s*(\d{2,3})\b", re.I
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
_AGE_WORD = re.compile(r"\b(?:age|aged|years?\s+(?:of\s+age|old))\b", re.I)
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
    r"advanced|relapsed|decompensated|known|suspected|confirmed|documented)\b",
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
    r"\bsex\s*:\s*female\b",
    re.I,
)
_MALE = re.compile(
    r"^\W*(?:(?:healthy|adult)\s+)?(?:males?|men|man)\b|"
    r"\b(?:male|men)\s+(?:only|patients|subjects|participants|volunteers)\b|\bsex\s*:\s*male\b",
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


def _age(text: str) -> Requirement | None:
    if not _AGE_WORD.search(text):
        # "Older adults (≥ 65 years)", "> 25 years", "≥ 20 y/o patients": an age without the word.
        lead = _AGE_LEADING.search(text)
        if lead is None:
            return None
        word = (lead[1] or lead[3] or "").lower()
        strict = word in (">", "over", "above") or word.startswith("older")
        return Demographic(
            attribute="age", comparator=">" if strict else ">=", value=float(lead[2] or lead[4])
        )
    m = _AGE_RANGE.search(text) or _AGE_RANGE_BARE.search(text)
    low = _AGE_MIN.search(text)
    high = _AGE_MAX.search(text)
    if m is None and low is not None and high is not None:
        return AllOf(
            items=[
                Demographic(attribute="age", comparator=">=", value=float(low[1])),
                Demographic(
                    attribute="age", comparator="<=" if high[1] else "<", value=float(high[2])
                ),
            ]
        )
    if m:
        return AllOf(
            items=[
                Demographic(attribute="age", comparator=">=", value=float(m[1])),
                Demographic(attribute="age", comparator="<=", value=float(m[2])),
            ]
        )
    if low is not None:
        return Demographic(attribute="age", comparator=">=", value=float(low[1]))
    if high is not None:
        return Demographic(
            attribute="age", comparator="<=" if high[1] else "<", value=float(high[2])
        )
    return None


def _sex(text: str, kind: str) -> Demographic | None:
    """A sex requirement only where the criterion restricts it ("Female, aged 18-45")."""
    if _BOTH_SEXES.search(text) or _PREGNANCY_WORDS.search(text) or _WOCBP.search(text):
        return None
    if kind != "inclusion":
        return None
    if _FEMALE.search(text):
        return Demographic(attribute="sex", comparator="==", value="F")
    if _MALE.search(text):
        return Demographic(attribute="sex", comparator="==", value="M")
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
        return Measurement(analytes=[ref], comparator="==", value=_scale_number(m[1]))
    return None


def _scale_number(word: str) -> float:
    """A grade written as a number or a Roman numeral ("NYHA class III")."""
    return float(_ROMAN.get(word.lower(), 0)) if word.isalpha() else float(word)


# Unspecified mentions: criteria often name a kind of thing without a code ("other serious
# illness", "any investigational medication", "prior treatment"). They carry no code, but they
# are the head of the criterion and a reviewer needs them; entity evaluation counts them too.
_GENERIC_MENTIONS: list[tuple[str, re.Pattern[str]]] = [
    (
        "Condition",
        re.compile(
            r"\b(?:diseases?|conditions?|illness(?:es)?|disorders?|comorbidit(?:y|ies)|"
            r"co-morbidit(?:y|ies)|abnormalit(?:y|ies)|complications?|syndromes?|deficienc(?:y|ies)|"
            r"impairments?|dysfunction|insufficiency)\b",
            re.I,
        ),
    ),
    (
        "Drug",
        re.compile(
            r"\b(?:medications?|medicines?|drugs?|medicinal\s+products?|substances?|agents?)\b",
            re.I,
        ),
    ),
    (
        "Procedure",
        re.compile(
            r"\b(?:treatments?|treated|therap(?:y|ies)|procedures?|interventions?|operative|"
            r"operated|surgical(?:ly)?|examinations?|screening\s+tests?)\b",
            re.I,
        ),
    ),
]
_GENERIC_NOT_AFTER = re.compile(r"(?:study|investigational|trial|test|informed)\s+$", re.I)


def generic_mentions(text: str) -> list[tuple[str, int, int]]:
    """(type, start, end) of unspecified Condition / Drug / Procedure mentions in criteria text.

    The study's own product or procedure ("study drug", "study treatment") is not a mention of
    the patient's history and is skipped.
    """
    out: list[tuple[str, int, int]] = []
    for etype, pattern in _GENERIC_MENTIONS:
        for m in pattern.finditer(text):
            if _GENERIC_NOT_AFTER.search(text[max(0, m.start() - 20) : m.start()]):
                continue
            out.append((etype, m.start(), m.end()))
    return out


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


def _meaning(
    text: str, kind: str, facts: list[PatientFact] | None = None
) -> tuple[Requirement | None, str, Requirement | None]:
    """Requirement, category and applicability for one criterion text."""
    if facts is None:
        facts = _facts(text)
    exc = _EXCEPTION.search(text)
    cut = exc.start() if exc else len(text)
    parts: list[Requirement] = []
    window = _window(text)
    applicability = _applicability(text)
    conditions = [
        f
        for f in facts
        if f.category in ("diagnosis", "finding", "procedure", "other")
        and f.start < cut
        and not (applicability is not None and f"{f.code_system}:{f.code}" in _APPLICABILITY_KEYS)
    ]
    exceptions = [
        f for f in facts if f.category in ("diagnosis", "finding", "procedure") and f.start >= cut
    ]
    drugs = [f for f in facts if f.category == "drug" and f.start < cut]
    labs = [f for f in facts if f.category == "lab"]
    pending: list[ConceptRef] = []  # analytes sharing the next threshold ("ALT / AST > 3 x ULN")
    for i, lab in enumerate(labs):
        ref = _ref("LAB", lab.code, lab.preferred_name)
        if lab.result in ("positive", "negative") and lab.value_as_number is None:
            parts.append(Measurement(analytes=[*pending, ref], result=lab.result))  # type: ignore[arg-type]
            pending = []
            continue
        if lab.value_as_number is None and lab.uln_multiple is not None:
            stated = _ULN_STATED.match(text, lab.end)
            if stated is not None:
                parts.append(
                    Measurement(
                        analytes=[*pending, ref],
                        comparator=_comparator(stated[1]),
                        uln_multiple=float(stated[2]),
                    )
                )
                pending = []
                continue
        if lab.value_as_number is None or lab.value_comparator is None:
            nxt = labs[i + 1] if i + 1 < len(labs) else None
            if nxt is not None and _SHARED.fullmatch(text[lab.end : nxt.start]):
                pending.append(ref)
                continue
            scale = _scale_measurement(text, lab.end, ref)
            if scale is not None:
                parts.append(scale)
            pending = []
            continue
        comparator: Comparator = lab.value_comparator  # type: ignore[assignment]
        analytes = [*pending, ref]
        pending = []
        # A stated multiple of the ULN never reaches here: the value reader keeps it apart.
        parts.append(
            Measurement(
                analytes=analytes, comparator=comparator, value=lab.value_as_number, unit=lab.unit
            )
        )
    if conditions:
        seen: dict[str, ConceptRef] = {}
        absent: dict[str, ConceptRef] = {}
        for f in conditions:
            into = absent if _absence_asked(text, f) else seen
            into.setdefault(
                f"{f.code_system}:{f.code}", _ref(f.code_system, f.code, f.preferred_name)
            )
        absent = {k: v for k, v in absent.items() if k not in seen}
        status = (
            "ever"
            if re.search(r"\b(?:history|previous|prior|ever|previously)\b", text, re.I)
            else "current"
        )
        qualifiers = sorted({q.lower() for q in _QUALIFIERS.findall(text[:cut])})
        for group, negated in ((seen, False), (absent, True)):
            if not group:
                continue
            condition = Condition(
                concepts=list(group.values()),
                exceptions=[_ref(f.code_system, f.code, f.preferred_name) for f in exceptions],
                qualifiers=qualifiers,
                status=status,  # type: ignore[arg-type]
                window=window,
            )
            parts.append(Not(item=condition) if negated else condition)
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
        outcomes = [name for name, pattern in _MED_OUTCOMES if pattern.search(text[:cut])]
        parts.append(
            Medication(
                drugs=list(names.values()),
                drug_classes=classes,
                min_distinct_agents=max(counts) if counts else 1,
                outcomes=outcomes,  # type: ignore[arg-type]
                exclude_routes=["inhaled", "topical"]
                if re.search(r"\b(?:inhaled|topical)\b", text[cut:], re.I)
                else [],
                window=window,
            )
        )
    age = _age(text)
    if age is not None:
        parts.append(age)
    sex = _sex(text, kind)
    if sex is not None:
        parts.append(sex)
    if not parts and _CONTRACEPTION.search(text):
        agreement = _known_ref("ELIG:contraception_agreement")
        if agreement is not None:
            parts.append(Condition(concepts=[agreement]))
    if not parts:
        if _CONSENT.search(text):
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
    category = _category(parts, text)
    if len(parts) == 1:
        return parts[0], category, applicability
    if kind == "exclusion" or re.search(r"\bor\b", text, re.I):
        return AnyOf(items=parts), category, applicability
    return AllOf(items=parts), category, applicability


def _absence_asked(text: str, fact: PatientFact) -> bool:
    """Whether a negative cue governs this concept: "no history of X", "free of X", and "non-X"
    for a one-word state ("non-pregnant", "non-smoker", "non-diabetic"). A "non-" that starts a
    compound naming another disease ("non-small cell lung cancer", "non-melanoma skin cancer")
    narrows that disease instead and is not an absence."""
    before = text[max(0, fact.start - 60) : fact.start]
    if _NEG_BEFORE.search(before):
        return True
    words = text[fact.start : fact.end].split()
    if not _NON_BEFORE.search(before) or not all(_PERSON.fullmatch(w) for w in words[1:]):
        return False
    return bool(_STATE_END.match(text, fact.end))


def _category(parts: list[Requirement], text: str) -> str:
    if _CONSENT.search(text) and all(p.type == "condition" for p in parts):
        return "consent"
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
    items = getattr(req, "items", [])
    types = {i.item.type if isinstance(i, Not) else i.type for i in items}
    return types.pop() if len(types) == 1 else "composite"


def _meaning_text(text: str) -> str:
    """What the meaning rules read: HTML entities decoded, very long items cut (with a warning)."""
    if "&" in text:
        text = html.unescape(text)
    return text[:_MAX_MEANING_CHARS]


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
    items = [item for sec in sections for item in sec.items]
    meaning_texts = [_meaning_text(view[i.start : i.end]) for i in items]
    docs_facts = _batch_facts(meaning_texts, warnings)
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
    return Protocol(
        trial_id=trial_id,
        title=title,
        source_text=text,
        criteria=criteria,
        rule=ProtocolRule(cohorts=rule_cohorts, common_inclusions=common, exclusions=exclusions),
        warnings=warnings,
    )


def _batch_facts(texts: list[str], warnings: list[str]) -> list[list[PatientFact] | None]:
    """Concept facts for every criterion text, streamed through one pipeline (``nlp.pipe``)."""
    from pipeline.facts import facts_from_doc
    from pipeline.nlp import get_nlp

    out: list[list[PatientFact] | None] = []
    try:
        for doc in get_nlp().pipe(texts, batch_size=64):
            try:
                out.append(facts_from_doc(doc, "criterion", "criterion", None))
            except Exception as e:  # one bad criterion must not cost the others
                log.warning("E-PARSE-003 concept facts failed: %s", type(e).__name__)
                out.append(None)
    except Exception as e:
        log.warning("E-PARSE-003 concept pipeline failed: %s", type(e).__name__)
        warnings.append(f"concept layer failed ({type(e).__name__}); criteria kept as text")
        out = [None] * len(texts)
    return out
