"""FHIR R5 export of a criteria model: a Bundle with a ResearchStudy and its eligibility.

Why: registries and EHR trial-matching tools exchange eligibility as FHIR. The study's
``recruitment.eligibility`` references an EvidenceVariable whose ``characteristic`` list holds
one entry per criterion: the source text as ``description``, ``exclude`` true for exclusions,
and a ``definitionCodeableConcept`` with the criterion's codes (ICD-10-CM, LOINC for labs that
have one, ATC for drugs that have one, and every code also under a project CodeSystem URI so
nothing is lost). Ids are derived from the trial id (uuid5), so the export is reproducible.
"""

from __future__ import annotations

import json
import uuid
from functools import lru_cache
from importlib import resources
from typing import Any

from criteria_models.model import Criterion, Protocol

ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
LOINC = "http://loinc.org"
ATC = "http://www.whocc.no/atc"
LOCAL = "https://github.com/eligibility-pipeline/fhir/CodeSystem/"
_NS = uuid.UUID("5b0b7d0e-6f6e-4f4f-9a57-2d1c0a3c9e11")


@lru_cache(maxsize=1)
def _loinc() -> dict[str, str]:
    data = json.loads(resources.files("pipeline.resources").joinpath("labs.json").read_text())
    return {lab["code"]: lab["loinc"] for lab in data["labs"] if lab.get("loinc")}


@lru_cache(maxsize=1)
def _atc() -> dict[str, str]:
    data = json.loads(resources.files("pipeline.resources").joinpath("drugs.json").read_text())
    return {d["name"].lower(): d["atc"] for d in data["drugs"] if d.get("atc")}


def _refs(node: Any) -> list[tuple[str, str, str | None]]:
    """(system, code, name) of every concept in a requirement tree, in order, without repeats.

    Exceptions and 'absent_if' concepts are not the criterion's subject and are left out.
    """
    out: list[tuple[str, str, str | None]] = []
    skip = {"exceptions", "absent_if", "not_about", "negative_tests"}

    def walk(x: Any) -> None:
        if isinstance(x, dict):
            if "system" in x and "code" in x:
                out.append((str(x["system"]), str(x["code"]), x.get("name")))
                return
            for k, v in x.items():
                if k not in skip:
                    walk(v)
            if x.get("type") == "medication":
                for c in x.get("drug_classes", []):
                    out.append(("DRUGCLASS", str(c), str(c).replace("_", " ")))
        elif isinstance(x, list):
            for v in x:
                walk(v)

    walk(node)
    seen: set[tuple[str, str]] = set()
    unique = []
    for s, c, n in out:
        if (s, c) not in seen:
            seen.add((s, c))
            unique.append((s, c, n))
    return unique


def codings(system: str, code: str, name: str | None) -> list[dict[str, Any]]:
    """FHIR Coding(s) for one concept: the standard system when known, plus the local code."""
    out: list[dict[str, Any]] = []
    display = {"display": name} if name else {}
    if system.upper() in ("ICD10CM", "ICD-10-CM"):
        return [{"system": ICD10CM, "code": code, **display}]
    if system.upper() == "LAB" and code in _loinc():
        out.append({"system": LOINC, "code": _loinc()[code], **display})
    if system.upper() == "DRUG" and code.lower() in _atc():
        out.append({"system": ATC, "code": _atc()[code.lower()], **display})
    out.append({"system": LOCAL + system.lower(), "code": code, **display})
    return out


def characteristic(criterion: Criterion) -> dict[str, Any]:
    tree = criterion.requirement.model_dump(mode="json") if criterion.requirement else None
    coding = [c for s, code, n in _refs(tree) for c in codings(s, code, n)]
    concept: dict[str, Any] = {"text": criterion.text}
    if coding:
        concept["coding"] = coding
    out: dict[str, Any] = {
        "linkId": criterion.id,
        "description": criterion.text,
        "exclude": criterion.kind == "exclusion",
        "definitionCodeableConcept": concept,
    }
    if not criterion.computable:
        out["note"] = [{"text": "not computable from structured data; judged from documentation"}]
    return out


def _uuid(trial_id: str, kind: str) -> str:
    return str(uuid.uuid5(_NS, f"{trial_id}/{kind}"))


def protocol_to_bundle(protocol: Protocol, status: str = "active") -> dict[str, Any]:
    """A FHIR R5 collection Bundle: ResearchStudy + EvidenceVariable (the eligibility)."""
    ev_id, rs_id = _uuid(protocol.trial_id, "eligibility"), _uuid(protocol.trial_id, "study")
    cohorts = "; ".join(
        f"{c.id}: {', '.join(c.criteria)}" for c in protocol.rule.cohorts if c.criteria
    )
    evidence_variable: dict[str, Any] = {
        "resourceType": "EvidenceVariable",
        "id": ev_id,
        "status": "draft",
        "title": f"Eligibility of {protocol.title or protocol.trial_id}",
        "description": "Inclusion and exclusion criteria"
        + (f"; cohorts (any one suffices): {cohorts}" if cohorts else ""),
        "actual": False,
        "characteristic": [characteristic(c) for c in protocol.criteria],
    }
    study: dict[str, Any] = {
        "resourceType": "ResearchStudy",
        "id": rs_id,
        "identifier": [{"system": LOCAL + "trial-id", "value": protocol.trial_id}],
        "title": protocol.title or protocol.trial_id,
        "status": status,
        "recruitment": {"eligibility": {"reference": f"urn:uuid:{ev_id}"}},
    }
    if protocol.source_text:
        study["descriptionSummary"] = protocol.source_text[:1000]
    return {
        "resourceType": "Bundle",
        "id": _uuid(protocol.trial_id, "bundle"),
        "type": "collection",
        "entry": [
            {"fullUrl": f"urn:uuid:{rs_id}", "resource": study},
            {"fullUrl": f"urn:uuid:{ev_id}", "resource": evidence_variable},
        ],
    }


def validate_bundle(bundle: dict[str, Any]) -> list[str]:
    """Problems with the elements we rely on (not a full FHIR validator); empty when fine."""
    problems: list[str] = []
    if bundle.get("resourceType") != "Bundle" or not bundle.get("type"):
        problems.append("not a Bundle with a type")
    resources_ = [e.get("resource", {}) for e in bundle.get("entry", [])]
    by_type = {r.get("resourceType"): r for r in resources_}
    for r in resources_:
        if not r.get("status"):
            problems.append(f"{r.get('resourceType')}: missing status")
    study, ev = by_type.get("ResearchStudy"), by_type.get("EvidenceVariable")
    if study is None or ev is None:
        return [*problems, "needs a ResearchStudy and an EvidenceVariable"]
    ref = study.get("recruitment", {}).get("eligibility", {}).get("reference")
    if ref != f"urn:uuid:{ev.get('id')}":
        problems.append("ResearchStudy.recruitment.eligibility does not reference the variable")
    for i, c in enumerate(ev.get("characteristic", [])):
        if not isinstance(c.get("exclude"), bool):
            problems.append(f"characteristic {i}: exclude must be boolean")
        if not any(k.startswith("definition") for k in c):
            problems.append(f"characteristic {i}: no definition[x] (evv-1)")
        for coding in c.get("definitionCodeableConcept", {}).get("coding", []):
            if not (coding.get("system") and coding.get("code")):
                problems.append(f"characteristic {i}: coding without system or code")
    if not ev.get("characteristic"):
        problems.append("EvidenceVariable has no characteristic")
    return problems
