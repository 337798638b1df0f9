"""Typed model of a trial protocol's eligibility criteria.

The model is the contract between the criteria parser (which writes it), the reviewer (who
corrects it as JSON) and the matcher (which evaluates it against patient facts). It borrows
OHDSI Circe's shape: recursive groups (all / any / at least N), concept sets referenced by
code with descendants and exceptions, time windows relative to an index date (screening),
and the human-readable text kept next to the logic.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

SCHEMA_VERSION = "1.3.0"

Label = Literal["met", "not_met", "unknown", "not_applicable"]
Comparator = Literal[">", ">=", "<", "<=", "=="]


class _Strict(BaseModel):
    """Base for every model: unknown keys are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class ConceptRef(_Strict):
    """One concept of a concept set: a code in a system, optionally with its descendants.

    ICD-10-CM descendants are the codes that start with the parent code ("K50" covers
    "K50.90"); other systems (our local ``ELIG`` concepts, drugs) match exactly.
    """

    system: str = Field(description="Code system, e.g. ICD10CM, ELIG, DRUG, LAB")
    code: str
    name: str | None = Field(default=None, description="Preferred name, for people")
    include_descendants: bool = True

    def matches(self, system: str, code: str) -> bool:
        if system != self.system:
            return False
        if code == self.code:
            return True
        return self.include_descendants and code.startswith(self.code)


class TimeWindow(_Strict):
    """Where an event must fall, in days before the index date (the screening date).

    ``min_days_before=182`` means "at least 6 months before screening";
    ``max_days_before=28`` means "within 4 weeks before screening".
    """

    anchor: Literal["screening"] = "screening"
    min_days_before: int | None = None
    max_days_before: int | None = None
    text: str | None = None


class AllOf(_Strict):
    type: Literal["all_of"] = "all_of"
    items: list[Requirement]


class AnyOf(_Strict):
    type: Literal["any_of"] = "any_of"
    items: list[Requirement]


class AtLeast(_Strict):
    type: Literal["at_least"] = "at_least"
    n: int = Field(ge=1)
    items: list[Requirement]

    @model_validator(mode="after")
    def _n_fits(self) -> AtLeast:
        if self.n > len(self.items):
            raise ValueError(f"at_least n={self.n} but only {len(self.items)} items")
        return self


class Not(_Strict):
    type: Literal["not"] = "not"
    item: Requirement


class Condition(_Strict):
    """A condition (diagnosis, finding, procedure, documented statement) present in the patient.

    ``status="current"`` ignores historical and resolved mentions (active infection);
    ``status="ever"`` counts them ("history of epilepsy").
    ``positive_tests`` are qualitative tests whose positive result shows the condition
    (HBsAg for hepatitis B) and whose negative result rules it out.
    """

    type: Literal["condition"] = "condition"
    concepts: list[ConceptRef]
    exceptions: list[ConceptRef] = Field(default_factory=list)
    positive_tests: list[ConceptRef] = Field(default_factory=list)
    negative_tests: list[ConceptRef] = Field(
        default_factory=list,
        description="Tests whose negative result rules the condition out (HCV Ab) but whose "
        "positive result does not prove it is active",
    )
    drug_classes: list[str] = Field(
        default_factory=list, description="Drug classes whose exposure shows the condition (CAR-T)"
    )
    about: list[ConceptRef] = Field(
        default_factory=list,
        description="When given, a mention counts only if its sentence names one of these "
        "conditions or no condition at all ('lymphoma in remission' is not RA in remission)",
    )
    not_about: list[ConceptRef] = Field(
        default_factory=list,
        description="A mention does not count if its sentence names one of these conditions "
        "('UC not controlled' is not another uncontrolled disease)",
    )
    absent_if: list[ConceptRef] = Field(
        default_factory=list,
        description="Concepts whose affirmed mention is evidence of absence ('HTN controlled')",
    )
    qualifiers: list[str] = Field(default_factory=list)
    status: Literal["current", "ever"] = "current"
    window: TimeWindow | None = None
    when_silent: Label = "unknown"


class DoseBound(_Strict):
    """A bound on the dose of the agents a Medication counts ("> 10 mg/day").

    ``unit`` is mg or IU with the period the criterion states: ``mg/day``, ``mg/week``,
    ``mg/kg/day``, ``mg`` (per dose). ``equivalent="prednisone"`` compares glucocorticoids by
    their prednisone-equivalent dose ("prednisone 10 mg/day or equivalent").
    """

    comparator: Comparator
    value: float = Field(ge=0)
    unit: str
    equivalent: Literal["prednisone"] | None = None
    text: str | None = None


class Medication(_Strict):
    """Exposure to drugs or drug classes, counted as distinct agents.

    ``min_distinct_agents=2`` with ``drug_classes=["biologic"]`` is "two biological agents".
    Mentions whose route is in ``exclude_routes`` (inhaled, topical) and planned or
    hypothetical mentions never count.
    """

    type: Literal["medication"] = "medication"
    drugs: list[ConceptRef] = Field(default_factory=list)
    drug_classes: list[str] = Field(default_factory=list)
    min_distinct_agents: int = Field(default=1, ge=1)
    outcomes: list[Literal["inadequate_response", "intolerance", "toxicity"]] = Field(
        default_factory=list
    )
    exclude_routes: list[str] = Field(default_factory=list)
    window: TimeWindow | None = None
    current: bool = Field(
        default=False,
        description="Use now ('currently taking'): the latest statement about each agent decides;"
        " a stop, an 'off' or a denial after the last use means not current",
    )
    dose: DoseBound | None = Field(
        default=None,
        description="Only agents taken at a dose within this bound count; an agent whose dose"
        " is not stated leaves the criterion unknown",
    )
    when_silent: Label = "unknown"


class Measurement(_Strict):
    """A lab or measurement compared with a threshold.

    Exactly one of: ``value`` with ``unit`` (converted when the fact has another unit),
    ``uln_multiple`` (compared with value / upper limit of the lab's reference range), or a
    qualitative ``result`` (a negative pregnancy test, a positive HBsAg).
    ``sex`` restricts the rule to one sex (QTc > 470 ms in men, > 480 ms in women).
    """

    type: Literal["measurement"] = "measurement"
    analytes: list[ConceptRef]
    comparator: Comparator = "=="
    value: float | None = None
    unit: str | None = None
    uln_multiple: float | None = None
    result: Literal["positive", "negative"] | None = None
    sex: Literal["F", "M"] | None = None
    when_silent: Label = "unknown"

    @model_validator(mode="after")
    def _one_threshold(self) -> Measurement:
        given = [x is not None for x in (self.value, self.uln_multiple, self.result)]
        if sum(given) != 1:
            raise ValueError("a measurement needs exactly one of value, uln_multiple or result")
        return self


class Demographic(_Strict):
    """Age (years at screening) or sex."""

    type: Literal["demographic"] = "demographic"
    attribute: Literal["age", "sex"]
    comparator: Comparator = "=="
    value: float | str


Requirement = Annotated[
    AllOf | AnyOf | AtLeast | Not | Condition | Medication | Measurement | Demographic,
    Field(discriminator="type"),
]

for _group in (AllOf, AnyOf, AtLeast, Not):
    _group.model_rebuild()


class Span(_Strict):
    start: int = Field(ge=0)
    end: int = Field(ge=0)


class CriterionEntity(_Strict):
    """A thing the criterion text names, for review: typed as in the LCT annotation scheme.

    Entities are what a reviewer checks first (was "hepatitis B" seen, as what?); the logic in
    ``requirement`` is built from the coded ones. Offsets are in the protocol's source text.
    """

    type: str = Field(
        description="Condition, Drug, Procedure, Observation, Allergy, Immunization, Modifier "
        "or Eq-Comparison (a value comparison or time anchor)"
    )
    span: Span
    text: str
    concept: ConceptRef | None = Field(
        default=None, description="The code, when the lexicon has one"
    )


class Criterion(_Strict):
    """One eligibility criterion with its exact source text and computable logic."""

    id: str
    kind: Literal["inclusion", "exclusion"]
    text: str
    span: Span | None = None
    group: str | None = Field(default=None, description="Heading the criterion sits under")
    computable: bool = True
    category: str | None = Field(
        default=None, description="condition, medication, measurement, demographic, consent, ..."
    )
    scored: bool = True
    applicability: Requirement | None = Field(
        default=None, description="When not_met, the criterion is not_applicable"
    )
    requirement: Requirement | None = None
    entities: list[CriterionEntity] = Field(default_factory=list)

    @model_validator(mode="after")
    def _computable_has_logic(self) -> Criterion:
        if self.computable and self.requirement is None:
            raise ValueError(f"criterion {self.id}: computable but has no requirement")
        return self


class Cohort(_Strict):
    """An alternative entry route: all its inclusion criteria must be met."""

    id: str
    name: str | None = None
    criteria: list[str]


class ProtocolRule(_Strict):
    """Eligible = any cohort met AND all common inclusions AND no exclusion."""

    cohorts: list[Cohort]
    common_inclusions: list[str] = Field(default_factory=list)
    exclusions: list[str] = Field(default_factory=list)


class Protocol(_Strict):
    schema_version: str = SCHEMA_VERSION
    trial_id: str
    title: str | None = None
    source_text: str | None = None
    criteria: list[Criterion]
    rule: ProtocolRule
    warnings: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _rule_refers_to_known_ids(self) -> Protocol:
        ids = [c.id for c in self.criteria]
        if len(ids) != len(set(ids)):
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            raise ValueError(f"duplicate criterion ids: {dupes}")
        known = set(ids)
        referenced = [i for c in self.rule.cohorts for i in c.criteria]
        referenced += self.rule.common_inclusions + self.rule.exclusions
        missing = sorted(set(referenced) - known)
        if missing:
            raise ValueError(f"rule refers to unknown criterion ids: {missing}")
        return self

    def criterion(self, criterion_id: str) -> Criterion:
        for c in self.criteria:
            if c.id == criterion_id:
                return c
        raise KeyError(criterion_id)
