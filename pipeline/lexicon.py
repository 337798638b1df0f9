"""Lexicons of the concept layer: conditions, drugs with classes, labs; loaded from JSON resources.

Every resource file is validated by a pydantic model with ``extra="forbid"`` so that a typo in a
rule file is an error, not a silently ignored key. The same lexicon serves note extraction and the
criteria parser, so a criterion's concept and a note's concept meet on the same code.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Category = Literal["diagnosis", "finding", "procedure", "drug", "lab", "other"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ConceptEntry(_Strict):
    """A condition, finding, procedure or documented statement with the phrases that name it."""

    code_system: str = Field(description="ICD10CM for diagnoses; ELIG for local concepts")
    code: str
    preferred_name: str
    category: Category
    terms: list[str] = Field(min_length=1)
    case_sensitive_terms: list[str] = Field(
        default_factory=list, description="Short abbreviations matched only in this exact case"
    )
    historical: bool = Field(default=False, description="The concept itself means 'in the past'")
    self_asserting: bool = Field(
        default=False,
        description="The phrase carries its own polarity ('otherwise healthy', 'PMH: none'): "
        "ConText negation and uncertainty do not apply",
    )

    @field_validator("terms")
    @classmethod
    def _no_blank(cls, v: list[str]) -> list[str]:
        if any(not t.strip() for t in v):
            raise ValueError("blank term")
        return v


class DrugEntry(_Strict):
    """A drug ingredient, its names (generic, brand, abbreviations) and its classes."""

    name: str = Field(description="Generic (ingredient) name, lower case; the code is DRUG:<name>")
    classes: list[str] = Field(min_length=1)
    terms: list[str] = Field(default_factory=list, description="Brands and other names")
    case_sensitive_terms: list[str] = Field(default_factory=list)
    default_route: str | None = None
    atc: str | None = None


class LabEntry(_Strict):
    """A lab or measurement: names, accepted units, default reference range, qualitative or not."""

    code: str = Field(description="Local code; the full code is LAB:<code>")
    name: str
    loinc: str | None = None
    terms: list[str] = Field(min_length=1)
    case_sensitive_terms: list[str] = Field(default_factory=list)
    units: list[str] = Field(default_factory=list, description="Units accepted after a value")
    unitless: bool = Field(default=False, description="A bare number right after the name counts")
    qualitative: bool = Field(default=False, description="Result is positive/negative")
    default_ref_low: float | None = None
    default_ref_high: float | None = None


class ResourceFile(_Strict):
    source: str
    licence: str
    version: str = "1"


class ConceptFile(ResourceFile):
    concepts: list[ConceptEntry]


class DrugFile(ResourceFile):
    drug_classes: dict[str, str] = Field(description="class id -> description")
    class_terms: dict[str, list[str]] = Field(
        default_factory=dict,
        description="class id -> phrases naming the class itself ('anti-TNF agents', 'DMARDs')",
    )
    class_parents: dict[str, list[str]] = Field(
        default_factory=dict, description="class id -> broader classes (tnf_inhibitor -> biologic)"
    )
    drugs: list[DrugEntry]


class LabFile(ResourceFile):
    labs: list[LabEntry]


class StatementRule(_Strict):
    """How a documentation concept is affirmed or denied by the words of its sentence."""

    concept: str = Field(description="SYSTEM:CODE of the concept")
    affirm: str = Field(description="Regex: the statement is affirmed")
    deny: str = Field(description="Regex: the statement is denied (checked first)")


class StatementFile(ResourceFile):
    rules: list[StatementRule]


class ContextRuleEntry(_Strict):
    """A medspaCy ConText rule as stored in context_rules.json (medspaCy's own keys)."""

    literal: str
    category: Literal[
        "NEGATED_EXISTENCE",
        "POSSIBLE_EXISTENCE",
        "HISTORICAL",
        "HYPOTHETICAL",
        "FAMILY",
        "PSEUDO",
        "TERMINATE",
    ]
    direction: Literal["FORWARD", "BACKWARD", "BIDIRECTIONAL", "TERMINATE", "PSEUDO"]
    pattern: list[dict[str, object]] | None = None
    allowed_types: list[str] | None = None
    max_scope: int | None = Field(default=None, ge=1)


class ContextRuleFile(ResourceFile):
    remove_default: list[str] = Field(
        default_factory=list, description="Literals of medspaCy default rules to drop"
    )
    context_rules: list[ContextRuleEntry]


def _read(name: str) -> str:
    return resources.files("pipeline.resources").joinpath(name).read_text(encoding="utf-8")


@cache
def load_concepts() -> ConceptFile:
    return ConceptFile.model_validate(json.loads(_read("concepts.json")))


@cache
def load_drugs() -> DrugFile:
    data = DrugFile.model_validate(json.loads(_read("drugs.json")))
    used = {c for d in data.drugs for c in d.classes} | set(data.class_terms)
    used |= set(data.class_parents) | {p for ps in data.class_parents.values() for p in ps}
    unknown = used - set(data.drug_classes)
    if unknown:
        raise ValueError(f"drugs.json: drugs use undeclared classes {sorted(unknown)}")
    return data


@cache
def load_labs() -> LabFile:
    return LabFile.model_validate(json.loads(_read("labs.json")))


@cache
def load_statement_rules() -> StatementFile:
    return StatementFile.model_validate(json.loads(_read("statement_rules.json")))


@cache
def load_context_rules() -> ContextRuleFile:
    return ContextRuleFile.model_validate(json.loads(_read("context_rules.json")))
