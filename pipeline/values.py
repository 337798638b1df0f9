"""Values next to a lab mention: number, comparator, unit, reference range, x ULN, or a qualitative result.

Works on plain text after (and, for results, before) the mention so that prose ("ALT 145 U/L
(ref 7-40)"), lists ("Cr 0.94 mg/dL; ALT 22 U/L") and plain-text tables ("ALT | 212 | U/L |
10-40") are read the same way. A plain function, testable without a pipeline.
"""

from __future__ import annotations

import re
from typing import NamedTuple

NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_FILLER = (
    r"(?:\s+|[:=|,]|\((?:[^()]{0,40})\)|\b(?:of|is|was|were|at|level|levels|value|clearly|well|about|"
    r"approximately|approx|estimated|now|today|remains|rose\s+to|peaked\s+at|up\s+to|result|"
    r"measured|reading|elevated|high|low|normal|mildly|markedly|total|serum|plasma|"
    r"repeat|screening|baseline|day\s+\d+)\b)*"
)
_COMPARATOR = (
    r"(<=|>=|≤|≥|<|>|less\s+than|greater\s+than|more\s+than|over|under|above|below|"
    r"(?:well\s+)?beyond|in\s+excess\s+of|exceeding)?"
)
_COMPARATOR_MAP = {
    "≤": "<=",
    "≥": ">=",
    "less than": "<",
    "greater than": ">",
    "more than": ">",
    "over": ">",
    "under": "<",
    "above": ">",
    "below": "<",
    "beyond": ">",
    "well beyond": ">",
    "in excess of": ">",
    "exceeding": ">",
}
_NEGATIVE = (
    r"negative|neg\b|non-?reactive|not\s+detected|undetectable|undetected|"
    r"not\s+detectable|absent|nonreactive|\(-\)"
)
_POSITIVE = r"positive|pos\b|reactive|detected|detectable|\(\+\)"
_RESULT_AFTER = re.compile(
    rf"^(?:\s|[:=|,]|\((?:[^()]{{0,30}})\)|\b(?:was|is|were|test|result|screen|antibody|total)\b)*"
    rf"({_NEGATIVE}|{_POSITIVE}|(?:<|less\s+than)\s*(?:{NUMBER})|{NUMBER})",
    re.IGNORECASE,
)
_RESULT_BEFORE = re.compile(
    rf"\b({_NEGATIVE}|{_POSITIVE})\s+(?:for\s+)?(?:\w+\s+){{0,2}}$", re.IGNORECASE
)
_REF_RANGE = re.compile(
    rf"^[^;\n]{{0,25}}?(?:\(|\[|\|)?\s*(?:ref(?:erence)?(?:\s+range)?|normal|nl|rr|range|N)?\s*[:=]?\s*"
    rf"({NUMBER})\s*(?:-|–|to)\s*({NUMBER})",
    re.IGNORECASE,
)
_REF_UPPER = re.compile(
    rf"^[^;\n]{{0,25}}?(?:ref(?:erence)?|normal|nl|ULN)\s*[:=]?\s*(?:<|<=|≤|up\s+to)?\s*({NUMBER})",
    re.IGNORECASE,
)
_ULN_STATED = re.compile(
    rf"^[^;\n]{{0,30}}?({NUMBER})\s*(?:x|×|times|-fold)\s*(?:the\s+)?(?:ULN|upper\s+limit(?:\s+of\s+normal)?)",
    re.IGNORECASE,
)


# The abnormal flag a lab report writes after a value or its range: "9.1 g/dL (L)",
# "145 U/L (ref 7-40) H", "| 1.9 | mg/dL | 0.6-1.2 | H", "[H]". Upper case only ("l" is a unit);
# not a side or an organism ("(L) knee", "H. pylori").
_FLAG = re.compile(
    r"[\s|,:;)\]]*(?:(?:\(\s*(HH|LL|H|L)\s*\)|\[(HH|LL|H|L)\])(?!\s*[a-z])|"
    r"(?<![A-Za-z])(HH|LL|H|L)(?![A-Za-z/])(?!\.\s*[A-Za-z])(?!\s*[a-z]))"
)


_ULN_RIGHT_AFTER = re.compile(
    r"\s*(?:x|×|times|-?fold)\s*(?:the\s+)?(?:ULN|upper\s+limit(?:\s+of\s+normal)?)", re.IGNORECASE
)


class LabValue(NamedTuple):
    value: float | None = None
    comparator: str | None = None
    unit: str | None = None
    ref_low: float | None = None
    ref_high: float | None = None
    uln_multiple: float | None = None
    result: str | None = None
    end: int = 0  # characters consumed after the mention
    flag: str | None = None  # abnormal flag as written: "H", "L", "HH", "LL"


# A score written out of its maximum ("GCS 6/15", "MMSE 24/30"): only for a score whose
# maximum the lab lexicon states (``scale_max``) and only that maximum; any other "a/b" stays a
# ratio or a date ("INR 3/15 was 1.1" is a date).
_OUT_OF_MAX = re.compile(r"\s?/\s?(\d{1,3})(?![\d/]|\.\d)")


_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6}
_ROMAN_GRADE = re.compile(
    # a lone "I" only after a class word: "NYHA I was seen" is a pronoun
    r"^\s*(?:(?:functional\s+)?(?:class|grade|stage|score|status)\s*:?\s*(VI|IV|V|I{1,3})|"
    r"(VI|IV|V|II|III))\b(?!\.\w)"
)


# A compound unit ("mg/g", "mL/min") right after a number; when the lab does not list it, the
# number is not this lab's value.
_FOREIGN_UNIT = re.compile(r"[ \t]*[A-Za-zµμ]{1,6}/[A-Za-zµμ0-9^.]{1,8}(?![A-Za-z/])")


def to_number(text: str) -> float:
    return float(text.replace(",", ""))


def _unit_regex(units: list[str]) -> str:
    alts = sorted({re.escape(u) for u in units}, key=len, reverse=True)
    return r"(?:" + "|".join(alts) + r")(?![A-Za-z])" if alts else r"(?!)"


def read_quantity(
    after: str, units: list[str], unitless: bool, scale_max: int | None = None
) -> LabValue | None:
    """Read "<comparator> <number> <unit>" at the start of ``after`` (fillers allowed)."""
    unit_re = _unit_regex(units)
    # Where a unit is required, a few free words may stand between name and value
    # ("survival measured in years (> 12 weeks)"): the unit keeps stray numbers out.
    words = "" if unitless else r"(?:[A-Za-z][A-Za-z'-]*\s+){0,4}?"
    pattern = re.compile(
        # A table cell boundary may stand between value and unit ("ALT | 212 | U/L | 10-40").
        rf"^{_FILLER}{words}{_FILLER}\(?\s*{_COMPARATOR}\s*({NUMBER})(?:(?:\s*\|)?\s*(-?{unit_re}))?",
        re.IGNORECASE,
    )
    m = pattern.match(after)
    if not unitless:
        # A range stated with a unit ("survival 6-10 weeks") is a bound: at most the upper value.
        # (Not for labs read without a unit: in a criterion "BMI 25-45 kg/m2" is two bounds,
        # which the criteria parser reads itself.)
        r = re.match(
            rf"^{_FILLER}({NUMBER})\s*(?:-|–|to)\s*({NUMBER})\s*({unit_re})", after, re.IGNORECASE
        )
        if r:
            return LabValue(to_number(r[2]), "<=", r[3], end=r.end())
    if not m and scale_max:
        # A grade in Roman numerals ("NYHA class III", "ASA II") on a score with a maximum.
        g = _ROMAN_GRADE.match(after)
        grade = (g[1] or g[2]) if g else None
        if g and grade and _ROMAN[grade] <= scale_max:
            return LabValue(float(_ROMAN[grade]), None, None, end=g.end())
    if not m:
        return None
    unit = m[3]
    if unit is None and not unitless:
        return None
    out_of = _OUT_OF_MAX.match(after, m.end(2)) if unit is None and scale_max else None
    if out_of is not None and int(out_of[1]) == scale_max and to_number(m[2]) <= scale_max:
        # A score written out of the scale's maximum: "GCS 6/15", "MMSE 24/30", "Apgar 7/10".
        stated = m[1] and _COMPARATOR_MAP.get(re.sub(r"\s+", " ", m[1].lower()), m[1])
        return LabValue(to_number(m[2]), stated or None, None, end=out_of.end())
    if unit is None and after[m.end(2) : m.end(2) + 1] in {"/", "-"}:
        return None  # part of a ratio or range we do not understand ("3/28")
    if unit is None and _FOREIGN_UNIT.match(after, m.end(2)):
        # A unit this lab is never measured in ("creatinine 712 mg/g" is a urine ratio's value).
        return None
    stated = _ULN_RIGHT_AFTER.match(after, m.end(2))
    if stated:
        # "ALT about 4.7x ULN": a multiple of the upper limit, not a value in the lab's unit.
        return LabValue(uln_multiple=to_number(m[2]), end=stated.end())
    comparator = m[1]
    if comparator:
        comparator = _COMPARATOR_MAP.get(re.sub(r"\s+", " ", comparator.lower()), comparator)
    value = to_number(m[2])
    rest = after[m.end() :]
    ref_low = ref_high = uln = None
    flag_at = 0
    r = _REF_RANGE.match(rest)
    if r:
        ref_low, ref_high = to_number(r[1]), to_number(r[2])
        flag_at = r.end()
    else:
        u = _REF_UPPER.match(rest)
        if u:
            ref_high = to_number(u[1])
            flag_at = u.end()
    s = _ULN_STATED.match(rest)
    if s:
        uln = to_number(s[1])
    f = _FLAG.match(rest, flag_at) or (_FLAG.match(rest) if flag_at else None)
    flag = (f[1] or f[2] or f[3]) if f else None
    clean_unit = unit.lstrip("-") if unit else None
    return LabValue(value, comparator, clean_unit, ref_low, ref_high, uln, None, m.end(), flag)


def read_result(before: str, after: str) -> str | None:
    """Qualitative result of a test: "HBsAg negative", "negative HBsAg", "HBV DNA < 10"."""
    m = _RESULT_AFTER.match(after)
    if m:
        token = m[1].lower()
        if re.match(_NEGATIVE, token, re.IGNORECASE) or token.startswith(("<", "less")):
            return "negative"
        if re.match(_POSITIVE, token, re.IGNORECASE):
            return "positive"
        if re.fullmatch(NUMBER, token):
            return "positive" if to_number(token) > 0 else "negative"
    b = _RESULT_BEFORE.search(before)
    if b:
        return "negative" if re.match(_NEGATIVE, b[1], re.IGNORECASE) else "positive"
    return None
