"""Values after a lab mention: prose, lists, tables, SI units, ranges, ULN, qualitative results."""

from __future__ import annotations

import pytest

from pipeline.values import read_quantity, read_result

MG = ["mg/dL", "umol/L", "µmol/L"]
UL = ["U/L", "IU/L"]


def test_value_unit_and_range() -> None:
    v = read_quantity(" 145 U/L (ref 7-40)", UL, True)
    assert v is not None
    assert (v.value, v.unit, v.ref_low, v.ref_high) == (145.0, "U/L", 7.0, 40.0)


def test_table_row() -> None:
    v = read_quantity(" | 212 | U/L | 10-40", UL, True)
    assert v is not None and (v.value, v.ref_high) == (212.0, 40.0)


def test_si_unit_and_thousands() -> None:
    v = read_quantity(": 1,240 umol/L", MG, True)
    assert v is not None and (v.value, v.unit) == (1240.0, "umol/L")


def test_comparator_and_filler() -> None:
    v = read_quantity(" clearly > 12 weeks", ["weeks", "months"], False)
    assert v is not None and (v.comparator, v.value, v.unit) == (">", 12.0, "weeks")


def test_parenthetical_is_skipped_for_fold() -> None:
    v = read_quantity(" (anti-CD3/CD28, day 7): 11.4-fold expansion", ["fold", "x"], False)
    assert v is not None and (v.value, v.unit) == (11.4, "fold")


def test_unit_required_when_not_unitless() -> None:
    assert read_quantity(" on day 7 of culture", ["fold"], False) is None


def test_stated_uln_multiple() -> None:
    v = read_quantity(" 212 U/L (5.3 x ULN)", UL, True)
    assert v is not None and v.uln_multiple == 5.3


@pytest.mark.parametrize(
    ("before", "after", "result"),
    [
        ("", " negative, anti-HBc negative", "negative"),
        ("", " neg", "negative"),
        ("", ": reactive", "positive"),
        ("", " undetectable", "negative"),
        ("", " 18,400 IU/mL", "positive"),
        ("", " <2 mIU/mL", "negative"),
        ("negative urine ", "", "negative"),
        ("", " pending", None),
    ],
)
def test_qualitative_results(before: str, after: str, result: str | None) -> None:
    assert read_result(before, after) == result


def test_range_with_unit_is_an_upper_bound() -> None:
    v = read_quantity(" 6-10 weeks", ["weeks"], False)
    assert v is not None and (v.comparator, v.value, v.unit) == ("<=", 10.0, "weeks")


def test_words_as_comparators() -> None:
    v = read_quantity(" well beyond 12 weeks", ["weeks"], False)
    assert v is not None and (v.comparator, v.value) == (">", 12.0)


def test_multiple_of_uln_is_not_a_value() -> None:
    v = read_quantity(" about 4.7x ULN", ["U/L"], True)
    assert v is not None and v.value is None and v.uln_multiple == 4.7


@pytest.mark.parametrize(
    ("after", "scale_max", "value"),
    [(" was 6/15.", 15, 6.0), (" 24/30", 30, 24.0), (" of 7/10 at 5 minutes", 10, 7.0)],
)
def test_score_out_of_the_scale_maximum(after: str, scale_max: int, value: float) -> None:
    q = read_quantity(after, [], True, scale_max)
    assert q is not None and q.value == value


@pytest.mark.parametrize(
    ("after", "scale_max"),
    [(" 3/28", 15), (" 6/15.5", 15), (" 16/15", 15), (" 3/15 was 1.1", None), (" 6/15", 30)],
)
def test_other_slashed_numbers_are_not_scores(after: str, scale_max: int | None) -> None:
    """A date ("INR 3/15") or a fraction of another maximum is no score of this scale."""
    assert read_quantity(after, [], True, scale_max) is None


@pytest.mark.parametrize(
    ("after", "value"), [(" class III symptoms", 3.0), (" II", 2.0), (" class I", 1.0)]
)
def test_roman_grade_on_a_score_with_a_maximum(after: str, value: float) -> None:
    q = read_quantity(after, [], True, 4)
    assert q is not None and q.value == value


@pytest.mark.parametrize(("after", "scale_max"), [(" I was seen", 4), (" III", None), (" V", 4)])
def test_roman_numerals_that_are_no_grade(after: str, scale_max: int | None) -> None:
    """A pronoun, a lab without a score maximum, a grade above the maximum."""
    assert read_quantity(after, [], True, scale_max) is None


def test_a_range_of_a_lab_read_without_unit_is_left_to_the_criteria_parser() -> None:
    """'BMI 25-45 kg/m2' in a criterion is two bounds; read as '<= 45' it would lose one."""
    assert read_quantity(" 25-45 kg/m2", ["kg/m2"], True) is None
    q = read_quantity(" 6-10 weeks", ["weeks"], False)
    assert q is not None and (q.comparator, q.value) == ("<=", 10.0)


def test_value_in_a_unit_the_lab_never_uses_is_not_read() -> None:
    from pipeline.values import read_quantity

    assert read_quantity(" 712 mg/g", ["mg/dL", "umol/L"], True) is None
    q = read_quantity(" 1.2 mg/dL", ["mg/dL", "umol/L"], True)
    assert q is not None and q.value == 1.2
    q = read_quantity(" 98, AST 71", ["U/L"], True)
    assert q is not None and q.value == 98.0
