"""The concept index: every lexicon term with the code it normalises to.

One index serves notes and criteria text alike. Records are immutable so the index can be shared
between components and processes.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from pipeline.lexicon import (
    LabEntry,
    load_concepts,
    load_drugs,
    load_labs,
    load_vocab_drugs,
    load_vocab_icd10cm,
)


class ConceptRecord(NamedTuple):
    key: str  # "SYSTEM:CODE", stored as span.kb_id_
    code_system: str
    code: str
    preferred_name: str
    category: str
    drug_classes: tuple[str, ...] = ()
    default_route: str | None = None
    historical: bool = False
    self_asserting: bool = False


class ConceptIndex(NamedTuple):
    records: dict[str, ConceptRecord]
    terms: dict[str, str]  # lower-cased term -> key
    exact_terms: dict[str, str]  # case-sensitive term -> key


def _class_closure(classes: list[str], parents: dict[str, list[str]]) -> tuple[str, ...]:
    out: list[str] = []
    stack = list(classes)
    while stack:
        c = stack.pop(0)
        if c not in out:
            out.append(c)
            stack.extend(parents.get(c, []))
    return tuple(out)


@lru_cache(maxsize=1)
def concept_index() -> ConceptIndex:
    """The shared index: curated lexicons plus the generated extended vocabulary."""
    return build_concept_index(extended=True)


def build_concept_index(extended: bool = True) -> ConceptIndex:
    """Curated lexicons first, then (if ``extended``) the generated vocab_*.json files.

    A term keeps its first owner, so a curated term is never taken over by an extended one; an
    extended ICD-10-CM code that is already a curated concept adds its terms to that concept.
    """
    records: dict[str, ConceptRecord] = {}
    terms: dict[str, str] = {}
    exact: dict[str, str] = {}

    def put(record: ConceptRecord, names: list[str], exact_names: list[str]) -> None:
        records[record.key] = record
        for name in names:
            terms.setdefault(name.lower(), record.key)
        for name in exact_names:
            exact.setdefault(name, record.key)

    for c in load_concepts().concepts:
        key = f"{c.code_system}:{c.code}"
        rec = ConceptRecord(
            key,
            c.code_system,
            c.code,
            c.preferred_name,
            c.category,
            historical=c.historical,
            self_asserting=c.self_asserting,
        )
        put(rec, [c.preferred_name, *c.terms], c.case_sensitive_terms)
    drugs = load_drugs()
    for d in drugs.drugs:
        key = f"DRUG:{d.name}"
        rec = ConceptRecord(
            key,
            "DRUG",
            d.name,
            d.name,
            "drug",
            _class_closure(d.classes, drugs.class_parents),
            d.default_route,
        )
        put(rec, [d.name, *d.terms], d.case_sensitive_terms)
    for cls, phrases in drugs.class_terms.items():
        key = f"DRUGCLASS:{cls}"
        rec = ConceptRecord(
            key,
            "DRUGCLASS",
            cls,
            drugs.drug_classes[cls],
            "drug",
            _class_closure([cls], drugs.class_parents),
        )
        put(rec, phrases, [])
    for lab in load_labs().labs:
        key = f"LAB:{lab.code}"
        rec = ConceptRecord(key, "LAB", lab.code, lab.name, "lab")
        put(rec, [lab.name, *lab.terms], lab.case_sensitive_terms)
    for code, name, phrases in language_concepts():
        put(ConceptRecord(f"ELIG:{code}", "ELIG", code, name, "other"), phrases, [])
    if extended:
        _add_extended(records, terms)
    return ConceptIndex(records, terms, exact)


def _add_extended(records: dict[str, ConceptRecord], terms: dict[str, str]) -> None:
    """Register the extended vocabulary without overriding any curated record or term."""
    for c in load_vocab_icd10cm().concepts:
        key = f"ICD10CM:{c.code}"
        if key not in records:
            records[key] = ConceptRecord(key, "ICD10CM", c.code, c.preferred_name, c.category)
        for name in c.terms:
            terms.setdefault(name.lower(), key)
    vocab = load_vocab_drugs()
    parents = load_drugs().class_parents
    stems = drug_stems()
    for d in vocab.drugs:
        key = f"DRUG:{d.name}"
        if key in records:
            continue  # a curated drug owns its name and classes
        stem_class = stem_class_of(d.name, stems)
        classes = (
            (*_class_closure([stem_class], parents), vocab.drug_class)
            if stem_class is not None
            else (vocab.drug_class,)
        )
        records[key] = ConceptRecord(key, "DRUG", d.name, d.name, "drug", classes)
        for name in [d.name, *d.terms]:
            terms.setdefault(name.lower(), key)


class LanguageFile(BaseModel):
    """languages.json: languages and the phrasings that say a person speaks or reads one."""

    model_config = ConfigDict(extra="forbid")
    source: str
    licence: str
    version: str
    languages: list[str] = Field(min_length=1)
    patterns: list[str] = Field(min_length=1, description="Phrasings with {L} for the language")


# A language the person does not command, said right before the language phrase: "Non-English
# speaking", "unable to speak or understand Danish", "limited English proficiency",
# "inadequate knowledge of the German language". Only the cue's own verbs may stand between
# cue and phrase, so "no cognitive impairment who speak English" is not a denial.
LANGUAGE_DENIED = re.compile(
    r"(?:\bnon-?\s?|\b(?:not|unable\s+to|inability\s+to|cannot|can'?t|don'?t|doesn'?t|"
    r"do\s+not|does\s+not|did\s+not|lack\s+of|lacking|limited|inadequate|insufficient|poor|"
    r"no)\b(?:\s+(?:able|to|speak|speaks|speaking|read|reads|write|writes|understand|"
    r"understands|fluently|fluent|or|and|in|the|knowledge|of|command|proficiency)){0,4}\s*)$",
    re.I,
)


def language_concepts() -> list[tuple[str, str, list[str]]]:
    """(code, preferred name, phrases) of each language: "speaks Spanish", "English-speaking".

    Why a concept per language: criteria ask for one ("fluent in German", "Non-English
    speaking") and notes state one ("Spanish-speaking only", "does not speak English"); as coded
    concepts both sides meet through the same matcher, and the note pipeline's assertion rules
    (negation) apply unchanged.
    """
    raw = resources.files("pipeline.resources").joinpath("languages.json").read_text("utf-8")
    data = LanguageFile.model_validate(json.loads(raw))
    out: list[tuple[str, str, list[str]]] = []
    for language in data.languages:
        code = "language_" + language.lower().replace(" ", "_")
        phrases = [p.replace("{L}", language) for p in data.patterns]
        out.append((code, f"speaks {language}", phrases))
    return out


class DrugStem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    stem: str = Field(min_length=3)
    drug_class: str
    except_: list[str] = Field(default_factory=list, alias="except")


class DrugStemFile(BaseModel):
    """drug_stems.json: USAN/INN name stems and the class their drugs belong to."""

    model_config = ConfigDict(extra="forbid")
    source: str
    licence: str
    version: str
    stems: list[DrugStem]


@lru_cache(maxsize=1)
def drug_stems() -> tuple[DrugStem, ...]:
    """The stems, checked against the curated classes (a typo would silently class nothing)."""
    raw = resources.files("pipeline.resources").joinpath("drug_stems.json").read_text("utf-8")
    stems = DrugStemFile.model_validate(json.loads(raw)).stems
    unknown = {s.drug_class for s in stems} - set(load_drugs().drug_classes)
    if unknown:
        raise ValueError(f"E-LEX-010 drug_stems.json: unknown drug classes {sorted(unknown)}")
    return tuple(stems)


def stem_class_of(name: str, stems: tuple[DrugStem, ...]) -> str | None:
    """The class of a drug the extended vocabulary knows only by name, from its INN stem.

    Why: the extended vocabulary has thousands of drugs without a class, so "no statins" could
    not see "pitavastatin" in a note. The first listed stem that ends the name wins (the list
    puts "-citinib" before "-tinib"); a combination ("piperacillin and tazobactam") takes the class
    of its last part that has a stem.
    """
    lower = name.lower()
    for part in reversed(lower.split(" and ")):
        for s in stems:
            if part.endswith(s.stem) and part not in s.except_:
                return s.drug_class
    return None


@lru_cache(maxsize=1)
def lab_entries() -> dict[str, LabEntry]:
    """Lab lexicon entries by code (units, unitless, qualitative, default range)."""
    return {lab.code: lab for lab in load_labs().labs}
