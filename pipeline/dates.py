"""Dates in clinical text resolved against the note date.

Handles ISO dates, US m/d/yyyy, month/year ("03/2016"), "March 2023", "Mar 14, 2023", bare years
("since 2019") and relative phrases ("3 weeks ago"). A partial date resolves to the *end* of its
period, clamped to the note date: for both "diagnosed >= 6 months before" and "no steroid within
4 weeks" that is the conservative reading (it never makes an old event look older than it may be).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import NamedTuple

from pipeline.numbers import NUMBER_WORDS

_MONTHS = (
    {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
    | {m.lower(): i for i, m in enumerate(calendar.month_abbr) if m}
    | {"sept": 9}
)


_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("iso", re.compile(r"\b((?:19|20)\d\d)-(\d{1,2})-(\d{1,2})\b")),
    ("iso_month", re.compile(r"\b((?:19|20)\d\d)-(\d{1,2})\b(?!-)")),
    ("mdy", re.compile(r"\b(\d{1,2})/(\d{1,2})/((?:19|20)\d\d)\b")),
    ("my", re.compile(r"\b(\d{1,2})/((?:19|20)\d\d)\b")),
    (
        # Any word, then checked against the month names: much faster than an alternation of
        # 24 names tried at every position.
        "month_name",
        re.compile(r"\b([A-Za-z]{3,9})\.?\s+(?:(\d{1,2})(?:st|nd|rd|th)?,?\s+)?((?:19|20)\d\d)\b"),
    ),
    (
        "relative",
        re.compile(
            r"\b(\d+|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\s+"
            r"(day|days|week|weeks|wk|wks|month|months|mo|year|years|yr|yrs)\s+ago\b",
            re.IGNORECASE,
        ),
    ),
    (
        "year",
        re.compile(
            r"(?<![\d/.,])\b((?:19[5-9]|20[0-4])\d)\b(?![\d/]|-\d{1,2}\b|\s*(?:mg|mcg|ug|iu|u/|units?|ml|cells|copies|kcal)\b)",
            re.IGNORECASE,
        ),
    ),
]


_ANY_YEAR = re.compile(r"(?:19|20)\d\d")
# A year naming the version of an equation, guideline or classification is no event date:
# "eGFR (CKD-EPI 2021)", "KDIGO 2012", "2010 ACR/EULAR criteria", "WHO 2016 classification".
_VERSION_BODY = (
    r"CKD-?EPI|MDRD|KDIGO|ACR|EULAR|ACR/EULAR|WHO|ESC|ESH|AHA|ACC|ACC/AHA|AHA/ACC|GOLD|GINA|ISTH|"
    r"NCCN|ESMO|ASCO|RECIST|CTCAE|IMWG|ELN|ILAE|SLICC|CASPAR|IDSA|ATS|ERS|ATS/ERS|NICE|KDOQI|"
    r"McDonald|Berlin|Sepsis-?3|Rome|IWG|iwCLL|Lugano|ICSD|DSM"
)
_VERSION_BEFORE = re.compile(rf"(?<![A-Za-z])(?:{_VERSION_BODY})\s*[-(]?\s*$")
_VERSION_AFTER = re.compile(
    rf"\s*(?:(?:{_VERSION_BODY})\s+)?(?:criteria|classification|guidelines?|equation|definition|"
    r"consensus|recommendations?|staging)\b",
    re.IGNORECASE,
)
_AGO = re.compile(r"\bago\b", re.IGNORECASE)


class DateMention(NamedTuple):
    start: int
    end: int
    date: dt.date
    precision: str  # day | month | year


def _end_of_month(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _clamp(date: dt.date, note_date: dt.date | None) -> dt.date:
    return min(date, note_date) if note_date is not None else date


def _safe_date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def find_dates(text: str, note_date: dt.date | None) -> list[DateMention]:
    """All date mentions in ``text``, non-overlapping, in order of position."""
    found: list[DateMention] = []
    taken: list[tuple[int, int]] = []

    def free(s: int, e: int) -> bool:
        return all(e <= a or s >= b for a, b in taken)

    # Every non-relative pattern holds a year where _ANY_YEAR's scan finds one (its first digit
    # follows a non-digit: "-" or "/" or a space or a word boundary). What touches those years
    # tells which patterns can match at all: ISO needs a "-" after, m/d/y a "/" before, month
    # names white space before; a pattern that cannot match is not scanned.
    years = [m.start() for m in _ANY_YEAR.finditer(text)]
    has_year = bool(years)
    possible = {
        "iso": any(text[p + 4 : p + 5] == "-" for p in years),
        "mdy": any(p > 0 and text[p - 1] == "/" for p in years),
        "month_name": any(p > 0 and text[p - 1].isspace() for p in years),
    }
    possible["iso_month"] = possible["iso"]
    possible["my"] = possible["mdy"]
    # Relative dates need a note date; "ago" in plain lower-cased ASCII is a cheap first check.
    has_ago = (
        note_date is not None
        and (not text.isascii() or "ago" in text.lower())
        and _AGO.search(text) is not None
    )
    for kind, pattern in _PATTERNS:
        if (kind == "relative" and not has_ago) or (kind != "relative" and not has_year):
            continue  # cheap checks first: most patterns need a year, "relative" needs "ago"
        if not possible.get(kind, True):
            continue
        for m in pattern.finditer(text):
            if kind == "month_name" and m[1].lower() not in _MONTHS:
                continue
            if not free(m.start(), m.end()):
                continue
            date: dt.date | None = None
            precision = "day"
            if kind == "iso":
                date = _safe_date(int(m[1]), int(m[2]), int(m[3]))
            elif kind == "iso_month":
                if 1 <= int(m[2]) <= 12:
                    date = _clamp(_end_of_month(int(m[1]), int(m[2])), note_date)
                    precision = "month"
            elif kind == "mdy":
                date = _safe_date(int(m[3]), int(m[1]), int(m[2]))
            elif kind == "my":
                if 1 <= int(m[1]) <= 12:
                    date = _clamp(_end_of_month(int(m[2]), int(m[1])), note_date)
                    precision = "month"
            elif kind == "month_name":
                month = _MONTHS[m[1].lower()]
                if m[2]:
                    date = _safe_date(int(m[3]), month, int(m[2]))
                else:
                    date = _clamp(_end_of_month(int(m[3]), month), note_date)
                    precision = "month"
            elif kind == "relative":
                if note_date is None:
                    continue
                n = int(m[1]) if m[1].isdigit() else NUMBER_WORDS[m[1].lower()]
                unit = m[2].lower()
                days = {"d": 1, "w": 7, "m": 30, "y": 365}[unit[0]] * n
                try:
                    date = note_date - dt.timedelta(days=days)
                except (OverflowError, ValueError):
                    continue  # "99999999999 days ago" is before year 1: no date
                precision = "day" if unit[0] in "dw" else "month"
            else:
                if _VERSION_BEFORE.search(text, max(0, m.start() - 20), m.start()) or (
                    _VERSION_AFTER.match(text, m.end())
                ):
                    continue
                date = _clamp(dt.date(int(m[1]), 12, 31), note_date)
                precision = "year"
            if date is not None:
                found.append(DateMention(m.start(), m.end(), date, precision))
                taken.append((m.start(), m.end()))
    return sorted(found)
