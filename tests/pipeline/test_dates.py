"""Dates in notes resolve against the note date; partial dates resolve conservatively."""

from __future__ import annotations

import datetime as dt

import pytest

from pipeline.dates import find_dates

NOTE = dt.date(2025, 2, 10)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("taper finished 2024-10-28.", dt.date(2024, 10, 28)),
        ("diagnosed 03/2016 by colonoscopy", dt.date(2016, 3, 31)),
        ("seen 4/15/2023 in clinic", dt.date(2023, 4, 15)),
        ("since March 2023", dt.date(2023, 3, 31)),
        ("on Mar 3, 2024", dt.date(2024, 3, 3)),
        ("started 3 weeks ago", NOTE - dt.timedelta(days=21)),
        ("diagnosed in 2019", dt.date(2019, 12, 31)),
        ("diagnosed in 2025", NOTE),
        ("last dose 2024-03", dt.date(2024, 3, 31)),
    ],
)
def test_date_forms(text: str, expected: dt.date) -> None:
    found = find_dates(text, NOTE)
    assert [d.date for d in found] == [expected]
    assert text[found[0].start : found[0].end].strip()


def test_doses_are_not_years() -> None:
    assert find_dates("cholecalciferol 2000 IU daily, MTX 2015 mg", NOTE) == []


def test_ranges_give_both_years() -> None:
    assert [d.date.year for d in find_dates("AZA 2016-2019", NOTE)] == [2016, 2019]


def test_absurd_relative_date_is_skipped_not_a_crash() -> None:
    import datetime as dt

    from pipeline.dates import find_dates

    found = find_dates("Started 99999999999 days ago; seen 3 weeks ago.", dt.date(2025, 1, 1))
    assert [d.date for d in found] == [dt.date(2024, 12, 11)]
