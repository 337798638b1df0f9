"""Builds the note pipeline: blank English + our sentences and concepts + medspaCy sections and ConText.

No trained model is loaded (none can be downloaded here): every step is rule-based and its rules
are package resources. The pipeline is built once per process and cached.
"""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import medspacy
import spacy
from spacy.language import Language

import pipeline.components.abbreviations
import pipeline.components.concept_matcher
import pipeline.components.context_fast
import pipeline.components.sections
import pipeline.components.sentences
from pipeline.components.context_scope import scope_context_to_target_sentences

log = logging.getLogger(__name__)

_SECTION_ATTRS: dict[str, dict[str, Any]] = {
    "past_medical_history": {"is_historical": True},
    "treatment_history": {"is_historical": True},
    "family_history": {"is_family": True},
    "allergies": {"is_hypothetical": True},
    "allergy": {"is_hypothetical": True},
    "patient_instructions": {"is_hypothetical": True},
}

_ = pipeline.components.concept_matcher, pipeline.components.context_fast


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
    from medspacy.section_detection import SectionRule

    nlp = spacy.blank("en")
    nlp.add_pipe("elig_sentences")
    nlp.add_pipe("elig_concepts")
    # Short forms the note defines ("primary sclerosing cholangitis (PSC)") coded like the long form.
    nlp.add_pipe("elig_abbreviations")
    # medspaCy's ConText with cheaper per-note loops (same modifiers and edges).
    context: Any = nlp.add_pipe("elig_context", name="medspacy_context", config={"rules": None})
    # medspaCy's sectionizer and rules, writing sections onto entity tokens only (much cheaper).
    sectionizer: Any = nlp.add_pipe(
        "elig_sectionizer",
        name="medspacy_sectionizer",
        config={"rules": "default", "span_attrs": _SECTION_ATTRS},
    )
    sectionizer.add([SectionRule(literal, category) for literal, category in section_rules()])
    context.add(context_rules())
    # ConText's token patterns run only on sentences holding a concept (same modifiers, less time).
    scope_context_to_target_sentences(context)
    return nlp


def context_rules() -> list[Any]:
    """medspaCy's default ConText rules minus the ones we replace, plus ours (context_rules.json).

    One phrase keeps one meaning: a rule of ours replaces any default rule with the same literal.
    """
    from medspacy.context import ConTextRule

    ours = _resource_json("context_rules.json")
    # A rule of ours replaces a default rule with the same literal (one phrase, one meaning).
    removed = {x.lower() for x in ours.get("remove_default", [])}
    removed |= {r["literal"].lower() for r in ours["context_rules"]}
    default_path = Path(medspacy.__file__).parent.parent / "resources" / "en" / "context_rules.json"
    defaults = [
        r for r in ConTextRule.from_json(str(default_path)) if r.literal.lower() not in removed
    ]
    extra = []
    for raw in ours["context_rules"]:
        rule = dict(raw)
        if "allowed_types" in rule:
            rule["allowed_types"] = set(rule["allowed_types"])
        extra.append(ConTextRule.from_dict(rule))
    return defaults + extra


@lru_cache(maxsize=1)
def get_nlp() -> Language:
    return build_nlp()
