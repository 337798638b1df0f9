"""Shared helpers for the note-to-facts tests: one note through the pipeline, its facts."""

from __future__ import annotations

import datetime as dt

from criteria_models.facts import PatientFact
from pipeline.facts import facts_from_doc
from pipeline.nlp import get_nlp

NOTE_DATE = dt.date(2025, 2, 10)


def facts(text: str) -> list[PatientFact]:
    return facts_from_doc(get_nlp()(text), "P", "N", NOTE_DATE)


def one(text: str, code: str) -> PatientFact:
    found = [f for f in facts(text) if f.code == code]
    assert found, f"{code} not found in {[f.code for f in facts(text)]}"
    return found[0]
