"""A drug's dose next to its mention: "prednisone 20 mg daily", "methotrexate 15 mg weekly",
"> 10 mg/day of prednisone", "prednisolone at a dose of more than 7.5 mg per day".

Why: dose thresholds are among the commonest medication criteria ("prednisone > 10 mg/day or
equivalent", "stable methotrexate <= 25 mg/week"), and a patient on 5 mg of prednisone does not
meet "> 10 mg/day". Notes and criteria write a dose the same way, so one reader serves both:
the note pipeline puts the dose on the drug fact (``value_as_number``, ``value_comparator``,
``unit``) and the criteria parser turns a criterion's dose into the Medication's dose bound.

Units are normalised to ``mg`` (g, mcg/µg scaled), IU/units kept, with the period the text
states: a daily frequency ("daily", "qd", "bid" = two doses a day, "q8h" = three) gives
``mg/day``, a weekly one ``mg/week``, per kilogram or per square metre ``mg/kg``, ``mg/m2``
(with ``/day`` when stated). A dose without a frequency stays per dose (``mg``).

Comparison with a criterion's bound (periods, glucocorticoid equivalence) is in
``criteria_models/doses.py``.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from pipeline.values import NUMBER, to_number

_COMPARATORS = {
    "<=": "<=",
    ">=": ">=",
    "≤": "<=",
    "≥": ">=",
    "=<": "<=",
    "=>": ">=",
    "<": "<",
    ">": ">",
    "at least": ">=",
    "no less than": ">=",
    "not less than": ">=",
    "a minimum of": ">=",
    "minimum": ">=",
    "at most": "<=",
    "no more than": "<=",
    "not more than": "<=",
    "not exceeding": "<=",
    "up to": "<=",
    "maximum": "<=",
    "a maximum of": "<=",
    "less than": "<",
    "lower than": "<",
    "under": "<",
    "below": "<",
    "more than": ">",
    "greater than": ">",
    "higher than": ">",
    "over": ">",
    "above": ">",
    "exceeding": ">",
    "in excess of": ">",
}
_COMPARATOR = "|".join(
    re.escape(c).replace(r"\ ", r"\s+") for c in sorted(_COMPARATORS, key=len, reverse=True)
)
_AMOUNT_UNIT = (
    r"(?P<unit>mg|milligrams?|g|grams?|mcg|µg|ug|micrograms?|IU|international\s+units|units?)"
)
_PER = (
    r"(?:\s*/\s*|\s+(?:per|a|an|each)\s+|\s+every\s+)"
    r"(?P<per>kg|m2|m²|day|d|24\s*h(?:ours?)?|week|wk|month|dose)"
)
_PER2 = r"(?:(?:\s*/\s*|\s+(?:per|a|each)\s+)(?P<per2>day|d|week|wk))?"
_FREQUENCY = (
    r"(?P<freq>once\s+(?:a\s+)?daily|once\s+a\s+day|daily|a\s+day|per\s+day|every\s+day|"
    r"qd|q\.d\.|od|qam|qpm|qhs|nightly|at\s+night|every\s+morning|in\s+the\s+morning|"
    r"twice\s+(?:a\s+)?daily|twice\s+a\s+day|bid|b\.i\.d\.|"
    r"(?:three|3)\s+times\s+(?:a\s+)?(?:daily|a\s+day)|tid|t\.i\.d\.|"
    r"(?:four|4)\s+times\s+(?:a\s+)?(?:daily|a\s+day)|qid|q\.i\.d\.|"
    r"q\s?(?:4|6|8|12|24)\s?h(?:ours?|rs?)?|every\s+(?:4|6|8|12|24)\s+hours|"
    r"once\s+(?:a\s+)?weekly|once\s+a\s+week|weekly|every\s+week|per\s+week|a\s+week|qw(?:k)?|"
    r"every\s+other\s+week|every\s+2\s+weeks|biweekly|q2\s?w(?:ks?)?)"
)
_DOSE = re.compile(
    rf"(?:(?P<cmp>{_COMPARATOR})\s*)?(?P<num>{NUMBER})(?:\s*(?:-|–|to)\s*(?P<num2>{NUMBER}))?\s*"
    rf"{_AMOUNT_UNIT}(?![A-Za-z])(?:{_PER}{_PER2})?(?:\s*(?:,\s*)?(?:PO\s+|orally\s+|IV\s+)?{_FREQUENCY})?"
    r"(?:\s+or\s+(?P<tail>more|higher|greater|above|less|lower|fewer|below)\b)?",
    re.I,
)
_TO_MG = {"mg": 1.0, "milligram": 1.0, "g": 1000.0, "gram": 1000.0}
_TO_MG.update(dict.fromkeys(("mcg", "µg", "ug", "microgram"), 0.001))
_PER_DAY = {
    "q4h": 6.0,
    "q6h": 4.0,
    "q8h": 3.0,
    "q12h": 2.0,
    "q24h": 1.0,
}
# What may stand between a drug's name and its dose ("prednisone (20 mg daily)", "prednisone at a
# dose of 20 mg", "prednisone tablets 5 mg"), or between a dose and the drug ("20 mg of").
_BETWEEN_AFTER = re.compile(
    r"^\s*(?:\(|,|:|-)?\s*(?:(?:at|in)\s+(?:a\s+)?(?:daily\s+|weekly\s+|total\s+|maximum\s+|"
    r"stable\s+)?(?:dose|dosage)s?\s+(?:of\s+)?|(?:dose|dosage)\s+(?:of\s+)?|"
    r"(?:tablets?|tabs?|capsules?|oral|po|iv|sc|im|orally|intravenously|subcutaneously)\s+|"
    r"(?:was|is|were|increased\s+to|decreased\s+to|reduced\s+to|tapered\s+to|started\s+at|"
    r"started\s+on)\s+)*",
    re.I,
)
_BEFORE = re.compile(
    rf"(?P<dose>(?:(?:{_COMPARATOR})\s*)?(?:{NUMBER})\s*{_AMOUNT_UNIT}(?:{_PER}{_PER2})?"
    rf"(?:\s+{_FREQUENCY})?)\s+(?:(?:per\s+day|daily|a\s+day|weekly)\s+)?(?:of\s+)?(?:oral\s+|"
    r"intravenous\s+|iv\s+|po\s+)?$",
    re.I,
)


# A later dose of the same agent in the same phrase: the latest statement wins.
_CHANGED_TO = re.compile(
    r"\s*,?\s*(?:and\s+|then\s+|which\s+was\s+|was\s+|has\s+been\s+|subsequently\s+|later\s+)*"
    r"(?:tapered|reduced|decreased|increased|weaned|titrated|lowered|raised|escalated)\s+"
    r"(?:down\s+|up\s+)?to\s+",
    re.I,
)


class Dose(NamedTuple):
    """A dose as written: ``value`` (mg unless ``unit`` says IU/units), ``unit`` with its
    period ("mg/day", "mg/week", "mg/kg", "mg/kg/day", "mg"), comparator when the text bounds it."""

    value: float
    unit: str
    comparator: str | None
    start: int
    end: int


def _period(per: str | None) -> str | None:
    if per is None:
        return None
    per = per.lower().replace("²", "2")
    if per in ("d", "day") or per.startswith("24"):
        return "day"
    if per in ("wk", "week"):
        return "week"
    return per  # kg, m2, month, dose


def _frequency_per_day(freq: str) -> tuple[float, str] | None:
    """Doses a period for a frequency word: (count, "day" | "week")."""
    f = re.sub(r"[\s.]+", " ", freq.lower()).strip()
    compact = f.replace(" ", "")
    if re.fullmatch(r"q(4|6|8|12|24)(h|hr|hrs|hour|hours)", compact):
        hours = int(re.sub(r"\D", "", compact))
        return 24.0 / hours, "day"
    m = re.fullmatch(r"every (4|6|8|12|24) hours", f)
    if m:
        return 24.0 / int(m[1]), "day"
    if re.search(r"every other week|every 2 weeks|biweekly|q2 ?w", f):
        return 0.5, "week"
    if re.search(r"week|qw", f):
        return 1.0, "week"
    if re.search(r"twice|\bbid\b|b i d", f) or compact in ("bid", "b.i.d"):
        return 2.0, "day"
    if re.search(r"three|\b3 times|\btid\b", f) or compact.startswith("tid"):
        return 3.0, "day"
    if re.search(r"four|\b4 times|\bqid\b", f) or compact.startswith("qid"):
        return 4.0, "day"
    return 1.0, "day"


def _dose(m: re.Match[str], offset: int) -> Dose | None:
    unit_word = m["unit"].lower()
    unit_word = re.sub(r"s$", "", unit_word) if len(unit_word) > 2 else unit_word
    if unit_word in ("iu", "international units", "international unit", "unit"):
        scale, base = 1.0, "IU"
    else:
        factor = _TO_MG.get(unit_word)
        if factor is None:
            return None
        scale, base = factor, "mg"
    value = to_number(m["num"])
    if m["num2"]:  # a range "10-20 mg": the upper end bounds what the patient takes
        value = to_number(m["num2"])
    value *= scale
    periods = [p for p in (_period(m["per"]), _period(m["per2"])) if p and p != "dose"]
    if m["freq"]:
        freq = _frequency_per_day(m["freq"])
        if freq is not None and not any(p in ("day", "week", "month") for p in periods):
            count, period = freq
            value *= count
            periods.append(period)
    unit = "/".join([base, *periods])
    comparator = _COMPARATORS.get(re.sub(r"\s+", " ", m["cmp"].lower())) if m["cmp"] else None
    if comparator is None and m["tail"]:  # "10 mg/day or more"
        comparator = ">=" if m["tail"].lower() in ("more", "higher", "greater", "above") else "<="
    return Dose(round(value, 6), unit, comparator, offset + m.start(), offset + m.end())


def dose_after(text: str, start: int, limit: int = 60) -> Dose | None:
    """The dose written right after a drug mention ending at ``start`` ("prednisone 20 mg
    daily", "prednisone (at a dose of > 10 mg/day)"), or None."""
    window = text[start : start + limit]
    lead = _BETWEEN_AFTER.match(window)
    skip = lead.end() if lead else 0
    m = _DOSE.match(window, skip)
    if m is None:
        return None
    later = _CHANGED_TO.match(window, m.end())
    if later is not None:
        changed = _DOSE.match(window, later.end())
        if changed is not None:  # "prednisone 40 mg daily, tapered to 5 mg daily"
            return _dose(changed, start) or _dose(m, start)
    return _dose(m, start)


def dose_before(text: str, end: int, limit: int = 60) -> Dose | None:
    """The dose written right before a drug mention starting at ``end`` ("20 mg of
    prednisone", "> 10 mg/day prednisone"), or None."""
    lo = max(0, end - limit)
    window = text[lo:end]
    m = _BEFORE.search(window)
    if m is None:
        return None
    inner = _DOSE.match(m["dose"])
    return _dose(inner, lo + m.start("dose")) if inner else None


def dose_near(text: str, start: int, end: int) -> Dose | None:
    """The dose of the drug mentioned at ``text[start:end]``: after it first, then before it."""
    return dose_after(text, end) or dose_before(text, start)
