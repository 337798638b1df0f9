"""Unit conversion between the ways notes and criteria write the same quantity."""

from __future__ import annotations

import pytest

from criteria_models.units import convert, unitless_count


@pytest.mark.parametrize(
    ("value", "src", "dst", "expected"),
    [
        (214, "K/uL", "/mm3", 214_000),  # platelets: thousands per microlitre
        (1.5, "x10^9/L", "/mm3", 1500),  # ANC 1.5 x 10^9/L = 1,500/mm3
        (100_000, "/mm3", "x 10^9/L", 100),
        (2.1, "×10^3/µL", "10^9/L", 2.1),
        (4.2, "x10^6/uL", "x10^12/L", 4.2),  # red cells
        (48, "mg/mmol", "mg/g", 424.32),  # urine albumin/creatinine ratio
    ],
)
def test_count_and_ratio_units(value: float, src: str, dst: str, expected: float) -> None:
    out = convert(value, src, dst, "LAB:platelets")
    assert out == pytest.approx(expected)


def test_counts_do_not_convert_to_masses() -> None:
    assert convert(150, "x10^9/L", "mg/dL", "LAB:platelets") is None


@pytest.mark.parametrize(
    ("value", "threshold", "unit", "expected"),
    [
        (188, 100_000, "/mm3", 188_000),  # "Plt 188": thousands per microlitre
        (1.2, 1500, "cells/uL", 1200),  # "ANC 1.2"
        (800, 500, "/mm3", 800),  # "ALC 800": already per microlitre
        (1500, 1.5, "x10^9/L", 1.5),  # "ANC 1500" against 1.5 x 10^9/L
        (188, 100_000, "mg/dL", 188),  # not a count: as written
    ],
)
def test_unitless_counts_are_read_in_the_plausible_scale(
    value: float, threshold: float, unit: str, expected: float
) -> None:
    assert unitless_count(value, threshold, unit) == pytest.approx(expected)
