"""Typed criteria model and three-valued evaluation. Pure Python: no NLP imports."""

from criteria_models.evaluate import (
    Evaluator,
    EvidenceRef,
    PatientResult,
    Verdict,
    evaluate_criterion,
    evaluate_protocol,
)
from criteria_models.facts import PatientContext, PatientFact
from criteria_models.model import (
    SCHEMA_VERSION,
    AllOf,
    AnyOf,
    AtLeast,
    Cohort,
    ConceptRef,
    Condition,
    Criterion,
    Demographic,
    Measurement,
    Medication,
    Not,
    Protocol,
    ProtocolRule,
    Span,
    TimeWindow,
)
from criteria_models.schema import protocol_json_schema

__all__ = [
    "SCHEMA_VERSION",
    "AllOf",
    "AnyOf",
    "AtLeast",
    "Cohort",
    "ConceptRef",
    "Condition",
    "Criterion",
    "Demographic",
    "Evaluator",
    "EvidenceRef",
    "Measurement",
    "Medication",
    "Not",
    "PatientContext",
    "PatientFact",
    "PatientResult",
    "Protocol",
    "ProtocolRule",
    "Span",
    "TimeWindow",
    "Verdict",
    "evaluate_criterion",
    "evaluate_protocol",
    "protocol_json_schema",
]
