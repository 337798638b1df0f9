"""Patient facts as the evaluator sees them: one record per concept mention in a note.

The columns follow the facts-table contract of DESIGN.md (OMOP NOTE_NLP-compatible) plus a few
extension columns the evaluator needs (route, outcome, qualitative result, comparator). The
record is plain data so it pickles and crosses process boundaries cheaply.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field, fields
from typing import Any

FACT_COLUMNS_VERSION = "1.1.0"


@dataclass(frozen=True, slots=True)
class PatientFact:
    patient_id: str
    note_id: str
    note_date: dt.date | None
    category: str  # diagnosis | drug | lab | procedure | finding | other
    code_system: str
    code: str
    preferred_name: str
    start: int = 0
    end: int = 0
    snippet: str = ""
    lexical_variant: str = ""
    section: str = ""
    sentence: str = ""
    drug_classes: tuple[str, ...] = ()
    # A lab's value, a class mention's count ("two biologics"), or a drug's dose (unit "mg/day")
    value_as_number: float | None = None
    value_comparator: str | None = None
    unit: str | None = None
    ref_low: float | None = None
    ref_high: float | None = None
    uln_multiple: float | None = None
    result: str | None = None  # positive | negative, for qualitative tests
    route: str | None = None
    outcome: str | None = None
    event_date: dt.date | None = None
    negated: bool = False
    historical: bool = False
    hypothetical: bool = False
    family: bool = False
    uncertain: bool = False
    term_modifiers: tuple[str, ...] = field(default_factory=tuple)

    @property
    def term_exists(self) -> bool:
        """OMOP NOTE_NLP term_exists: the term is asserted for the patient now or before."""
        return not (self.negated or self.hypothetical or self.family or self.uncertain)

    @property
    def term_temporal(self) -> str:
        return "past" if self.historical else "present"

    def to_row(self) -> dict[str, Any]:
        row = asdict(self)
        row["drug_classes"] = "|".join(self.drug_classes)
        row["term_modifiers"] = "|".join(self.term_modifiers)
        row["term_exists"] = self.term_exists
        row["term_temporal"] = self.term_temporal
        return row

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> PatientFact:
        names = {f.name for f in fields(cls)}
        data = {k: v for k, v in row.items() if k in names}
        for key in ("drug_classes", "term_modifiers"):
            value = data.get(key)
            if isinstance(value, str):
                data[key] = tuple(v for v in value.split("|") if v)
            elif value is not None:
                data[key] = tuple(value)
        for key in ("note_date", "event_date"):
            value = data.get(key)
            if isinstance(value, str):
                data[key] = dt.date.fromisoformat(value[:10]) if value else None
            elif isinstance(value, dt.datetime):
                data[key] = value.date()
        return cls(**data)


@dataclass(frozen=True, slots=True)
class PatientContext:
    """What the evaluator knows about a patient besides the facts."""

    patient_id: str
    sex: str | None
    birth_date: dt.date | None
    screening_date: dt.date | None

    def age_years(self) -> float | None:
        if self.birth_date is None or self.screening_date is None:
            return None
        return (self.screening_date - self.birth_date).days / 365.25
