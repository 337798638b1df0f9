"""OMOP CDM v5.4 NOTE_NLP rows from the facts table.

Types follow the CDM v5.4 NOTE_NLP definition (https://ohdsi.github.io/CommonDataModel/cdm54.html
#note_nlp): integer ids, varchar lengths (snippet and lexical_variant 250, term_modifiers 2000),
nlp_date a date. Source codes have no OMOP concept ids offline, so concept ids are 0 and the code
travels in term_modifiers (``code=SYSTEM:CODE``). CDM note_id is an integer: numeric note ids
(OMOP input) are kept; other ids get a stable 63-bit hash and the original id travels in
term_modifiers as ``source_note_id=...`` so rows can be joined back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

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

_MAX_LEN = {"snippet": 250, "lexical_variant": 250, "term_modifiers": 2000, "offset": 50}


def note_id_to_int(note_id: Any) -> tuple[int, bool]:
    """(CDM integer note_id, whether it was hashed). Hashes are stable across runs and machines."""
    text = str(note_id).strip()
    if text.isdigit() and len(text) < 19:
        return int(text), False
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") & 0x7FFF_FFFF_FFFF_FFFF, True


def _col(facts: pd.DataFrame, name: str, default: Any = "") -> list[Any]:
    if name in facts.columns:
        return list(facts[name])
    return [default] * len(facts)


def _text(value: Any, limit: int) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)[:limit]


def to_note_nlp(
    facts: pd.DataFrame,
    nlp_system: str = "eligibility-pipeline",
    nlp_date: dt.date | None = None,
) -> pd.DataFrame:
    """Map a facts frame (pipeline.store.facts_frame) to NOTE_NLP rows, one per fact."""
    day = nlp_date or dt.date.today()
    n = len(facts)
    note_ids: list[int] = []
    modifiers: list[str] = []
    for nid, system, code, mods in zip(
        _col(facts, "note_id"),
        _col(facts, "code_system"),
        _col(facts, "code"),
        _col(facts, "term_modifiers"),
        strict=True,
    ):
        number, hashed = note_id_to_int(nid)
        note_ids.append(number)
        parts = [f"code={system}:{code}"]
        if hashed:
            parts.append(f"source_note_id={nid}")
        if _text(mods, 2000):
            parts.append(str(mods))
        modifiers.append(_text(";".join(parts), _MAX_LEN["term_modifiers"]))
    frame = pd.DataFrame(
        {
            "note_nlp_id": pd.Series(range(1, n + 1), dtype="int64"),
            "note_id": pd.Series(note_ids, dtype="int64"),
            "section_concept_id": pd.Series([0] * n, dtype="int64"),
            "snippet": [_text(x, _MAX_LEN["snippet"]) for x in _col(facts, "snippet")],
            "offset": [_text(x, _MAX_LEN["offset"]) for x in _col(facts, "start")],
            "lexical_variant": [
                _text(x, _MAX_LEN["lexical_variant"]) for x in _col(facts, "lexical_variant")
            ],
            "note_nlp_concept_id": pd.Series([0] * n, dtype="int64"),
            "note_nlp_source_concept_id": pd.Series([0] * n, dtype="int64"),
            "nlp_system": [nlp_system] * n,
            "nlp_date": [day] * n,
            "nlp_datetime": pd.Series(
                [dt.datetime.combine(day, dt.time())] * n, dtype="datetime64[us]"
            ),
            "term_exists": ["Y" if bool(x) else "N" for x in _col(facts, "term_exists", True)],
            "term_temporal": [_text(x, 50) for x in _col(facts, "term_temporal")],
            "term_modifiers": modifiers,
        },
        columns=NOTE_NLP_COLUMNS,
    )
    for name in ("snippet", "offset", "lexical_variant", "nlp_system", "term_exists"):
        frame[name] = frame[name].astype(object)
    for name in ("term_temporal", "term_modifiers"):
        frame[name] = frame[name].astype(object)
    return frame
