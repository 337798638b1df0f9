"""Drug doses next to a mention, as notes and criteria write them."""

from __future__ import annotations

import pytest

from pipeline.doses import dose_after, dose_before, dose_near


@pytest.mark.parametrize(
    ("text", "value", "unit", "comparator"),
    [
        ("prednisone 20 mg daily", 20.0, "mg/day", None),
        ("prednisone 5mg bid", 10.0, "mg/day", None),  # two doses a day
        ("hydroxychloroquine 200 mg PO BID", 400.0, "mg/day", None),
        ("methotrexate 15 mg weekly", 15.0, "mg/week", None),
        ("prednisone (at a dose of > 10 mg/day)", 10.0, "mg/day", ">"),
        ("prednisone at doses greater than 7.5 mg per day", 7.5, "mg/day", ">"),
        ("prednisone 10 mg/day or more", 10.0, "mg/day", ">="),
        ("mycophenolate 1.5 g twice daily", 3000.0, "mg/day", None),  # grams to mg
        ("prednisone ≥ 0.5 mg/kg/day", 0.5, "mg/kg/day", ">="),
        ("prednisolone 1 g IV", 1000.0, "mg", None),  # one dose, frequency not stated
        ("prednisone 40 mg daily, tapered to 5 mg daily", 5.0, "mg/day", None),  # latest wins
    ],
)
def test_dose_after_the_drug(text: str, value: float, unit: str, comparator: str | None) -> None:
    name = text.split()[0]
    dose = dose_after(text, len(name))
    assert dose is not None
    assert (dose.value, dose.unit, dose.comparator) == (value, unit, comparator)


@pytest.mark.parametrize("text", ["prednisone taper", "prednisone 2019", "prednisone and 3 others"])
def test_no_dose_without_an_amount_unit(text: str) -> None:
    assert dose_after(text, len("prednisone")) is None


@pytest.mark.parametrize(
    ("text", "value", "unit", "comparator"),
    [
        ("> 10 mg/day of prednisone", 10.0, "mg/day", ">"),
        ("at least 7.5 mg daily of oral prednisone", 7.5, "mg/day", ">="),
        ("20 mg of prednisone", 20.0, "mg", None),
    ],
)
def test_dose_before_the_drug(text: str, value: float, unit: str, comparator: str | None) -> None:
    dose = dose_before(text, text.index("prednisone"))
    assert dose is not None
    assert (dose.value, dose.unit, dose.comparator) == (value, unit, comparator)


def test_another_drugs_dose_is_not_borrowed() -> None:
    text = "methotrexate 15 mg weekly and prednisone"
    start = text.index("prednisone")
    assert dose_near(text, start, len(text)) is None
