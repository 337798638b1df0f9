"""Notes to facts: lab values written with qualifiers, ratios and count units."""

from __future__ import annotations

import datetime as dt

import pytest
from note_facts import NOTE_DATE, facts, one

from pipeline.dates import find_dates


def test_urine_albumin_creatinine_is_the_ratio_not_serum_creatinine() -> None:
    text = "Urine albumin/creatinine 712 mg/g."
    assert "creatinine" not in {f.code for f in facts(text)}
    assert one(text, "uacr").value_as_number == 712.0


def test_acr_with_a_ratio_unit_is_the_ratio() -> None:
    assert one("ACR 45 mg/mmol.", "uacr").value_as_number == 45.0
    assert "uacr" not in {f.code for f in facts("Meets 2010 ACR criteria.")}


def test_egfr_equation_in_parentheses() -> None:
    found = facts("eGFR (CKD-EPI 2021) 38.")
    egfr = [f for f in found if f.code == "egfr"]
    assert egfr and egfr[0].value_as_number == 38.0 and egfr[0].event_date is None
    assert "N18.9" not in {f.code for f in found}


def test_blood_pressure_with_a_qualifier_in_parentheses() -> None:
    found = {f.code: f.value_as_number for f in facts("Sitting BP (mean of 3): 144/86.")}
    assert (found["systolic_bp"], found["diastolic_bp"]) == (144.0, 86.0)


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [
        ("Plt 188.", 188.0, "x10^9/L"),
        ("Platelets 214 K/uL.", 214.0, "x10^9/L"),
        ("Plt 188000.", 188000.0, "/uL"),
        ("Platelets 150 x10^9/L.", 150.0, "x10^9/L"),
    ],
)
def test_platelet_count_units(text: str, value: float, unit: str) -> None:
    f = one(text, "platelets")
    assert (f.value_as_number, f.unit) == (value, unit)


def test_guideline_year_is_no_date() -> None:
    assert (
        find_dates("eGFR (CKD-EPI 2021) 38; KDIGO 2012; 2010 ACR/EULAR criteria", NOTE_DATE) == []
    )
    assert len(find_dates("s/p CABG 2015", NOTE_DATE)) == 1


def test_date_closing_a_list_item_stays_with_it() -> None:
    text = "Empagliflozin (since 05/2024), insulin glargine 20 units nightly."
    assert one(text, "empagliflozin").event_date == dt.date(2024, 5, 31)
    assert one(text, "insulin glargine").event_date is None
    assert one("In 2019, started methotrexate.", "methotrexate").event_date == dt.date(2019, 12, 31)


@pytest.mark.parametrize(
    ("text", "value", "unit"),
    [("CBC: eos 410 cells/uL.", 410.0, "cells/uL"), ("Eosinophils 0.38 x10^9/L.", 0.38, "x10^9/L")],
)
def test_absolute_eosinophil_count(text: str, value: float, unit: str) -> None:
    f = one(text, "eosinophils")
    assert (f.value_as_number, f.unit) == (value, unit)


def test_eosinophil_percentage_is_no_count_value() -> None:
    assert one("Eosinophils 4%.", "eosinophils").value_as_number is None
