"""OMOP CDM v5.4 NOTE_NLP rows from the facts table."""

from __future__ import annotations

import datetime as dt

import pandas as pd

NOTE_NLP_COLUMNS = [
    "note_nlp_id",
    "note_id",
    "section_concept_id",
    "snippet",
    "offset",
    "lexical_variant",
    "note_nlp_concept_id",
    "note_nlp_source_concept_id",
    "nlp_system",
    "nlp_date",
    "nlp_datetime",
    "term_exists",
    "term_temporal",
    "term_modifiers",
]


def to_note_nlp(facts: pd.DataFrame, nlp_system: str = "eligibility-pipeline") -> pd.DataFrame:
    """Map facts to NOTE_NLP. Source codes have no OMOP concept ids offline: concept ids are 0
    and the code travels in term_modifiers (``code=SYSTEM:CODE``)."""
    today = dt.date.today()
    n = len(facts)
    modifiers = [
        ";".join(x for x in (f"code={s}:{c}", str(m or "")) if x)
        for s, c, m in zip(
            facts.get("code_system", []),
            facts.get("code", []),
            facts.get("term_modifiers", []),
            strict=False,
        )
    ]
    return pd.DataFrame(
        {
            "note_nlp_id": range(1, n + 1),
            "note_id": facts.get("note_id", pd.Series(dtype=str)).astype(str).values if n else [],
            "section_concept_id": [0] * n,
            "snippet": facts.get("snippet", pd.Series(dtype=str))
            .astype(str)
            .str.slice(0, 250)
            .values
            if n
            else [],
            "offset": facts.get("start", pd.Series(dtype=int)).astype(str).values if n else [],
            "lexical_variant": facts.get("lexical_variant", pd.Series(dtype=str)).astype(str).values
            if n
            else [],
            "note_nlp_concept_id": [0] * n,
            "note_nlp_source_concept_id": [0] * n,
            "nlp_system": [nlp_system] * n,
            "nlp_date": [today] * n,
            "nlp_datetime": [dt.datetime.combine(today, dt.time())] * n,
            "term_exists": ["Y" if x else "N" for x in facts.get("term_exists", [])],
            "term_temporal": facts.get("term_temporal", pd.Series(dtype=str)).astype(str).values
            if n
            else [],
            "term_modifiers": modifiers,
        },
        columns=NOTE_NLP_COLUMNS,
    )
