"""Builds the note pipeline: blank English + our sentences and concepts + medspaCy sections and ConText.

No trained model is loaded (none can be downloaded here): every step is rule-based and its rules
are package resources. The pipeline is built once per process and cached.
"""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from importlib import resources
from typing import Any

import spacy
from spacy.language import Language

import pipeline.components.concept_matcher
import pipeline.components.sentences  # noqa: F401  (registers factories)

log = logging.getLogger(__name__)

_SECTION_ATTRS: dict[str, dict[str, Any]] = {
    "past_medical_history": {"is_historical": True},
    "treatment_history": {"is_historical": True},
    "family_history": {"is_family": True},
    "allergies": {"is_hypothetical": True},
    "allergy": {"is_hypothetical": True},
    "patient_instructions": {"is_hypothetical": True},
}

_ = pipeline.components.concept_matcher


def _resource_json(name: str) -> dict[str, Any]:
    text = resources.files("pipeline.resources").joinpath(name).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def section_rules() -> list[tuple[str, str]]:
    """(header literal, category) pairs from sections.json, each in "Header:" form."""
    data = _resource_json("sections.json")
    out: list[tuple[str, str]] = []
    for category, headers in data["sections"].items():
        for header in headers:
            out.append((f"{header}:", category))
    return out


def build_nlp() -> Language:
    """A fresh note pipeline. Use :func:`get_nlp` for the cached one."""
    import medspacy  # noqa: F401  (registers medspacy_* factories)
    from medspacy.context import ConTextRule
    from medspacy.section_detection import SectionRule

    nlp = spacy.blank("en")
    nlp.add_pipe("elig_sentences")
    nlp.add_pipe("elig_concepts")
    context = nlp.add_pipe("medspacy_context", config={"rules": "default"})
    sectionizer = nlp.add_pipe(
        "medspacy_sectionizer", config={"rules": "default", "span_attrs": _SECTION_ATTRS}
    )
    sectionizer.add([SectionRule(literal, category) for literal, category in section_rules()])
    rules = _resource_json("context_rules.json")["context_rules"]
    context.add([ConTextRule(r["literal"], r["category"], direction=r["direction"]) for r in rules])
    return nlp


@lru_cache(maxsize=1)
def get_nlp() -> Language:
    return build_nlp()
