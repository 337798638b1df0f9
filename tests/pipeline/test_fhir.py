"""FHIR R5 export: `elig export fhir` writes a Bundle with a ResearchStudy and its eligibility."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.fhir import ICD10CM, LOINC, protocol_to_bundle, validate_bundle
from pipeline.match import load_protocol

REPO = Path(__file__).resolve().parents[2]
REFERENCE_MODEL = REPO / "corpora" / "protocols" / "cd7_cart_autoimmune.criteria.json"


def test_export_fhir_cli_writes_a_valid_bundle(tmp_path: Path) -> None:
    out = tmp_path / "study.json"
    res = CliRunner().invoke(app, ["export", "fhir", str(REFERENCE_MODEL), "-o", str(out)])
    assert res.exit_code == 0, res.output
    bundle = json.loads(out.read_text())
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    assert validate_bundle(bundle) == []
    resources = {e["resource"]["resourceType"]: e["resource"] for e in bundle["entry"]}
    study, ev = resources["ResearchStudy"], resources["EvidenceVariable"]
    assert study["status"] == "active" and ev["status"]
    assert study["recruitment"]["eligibility"]["reference"] == f"urn:uuid:{ev['id']}"
    protocol = load_protocol(REFERENCE_MODEL)
    chars = ev["characteristic"]
    assert [c["linkId"] for c in chars] == [c.id for c in protocol.criteria]
    for c, crit in zip(chars, protocol.criteria, strict=True):
        assert c["exclude"] is (crit.kind == "exclusion")
        assert c["description"] == crit.text
        assert c["definitionCodeableConcept"]["text"] == crit.text
    by_id = {c["linkId"]: c["definitionCodeableConcept"].get("coding", []) for c in chars}
    assert {"system": ICD10CM, "code": "B20", "display": "HIV disease"} in by_id["EXC-HIV"] or any(
        x["system"] == ICD10CM and x["code"].startswith("B2") for x in by_id["EXC-HIV"]
    )
    assert any(x["system"] == LOINC for x in by_id["EXC-ORGAN"]), by_id["EXC-ORGAN"]
    assert all(x["system"].startswith("http") for codes in by_id.values() for x in codes)
    assert CliRunner().invoke(app, ["export", "fhir", str(tmp_path / "no.json")]).exit_code != 0


def test_validator_catches_missing_elements() -> None:
    bundle = protocol_to_bundle(load_protocol(REFERENCE_MODEL))
    ev = bundle["entry"][1]["resource"]
    del ev["status"]
    del ev["characteristic"][0]["exclude"]
    del ev["characteristic"][1]["definitionCodeableConcept"]
    problems = validate_bundle(bundle)
    assert any("missing status" in p for p in problems)
    assert any("characteristic 0: exclude" in p for p in problems)
    assert any("characteristic 1: no definition" in p for p in problems)


def test_export_is_reproducible() -> None:
    protocol = load_protocol(REFERENCE_MODEL)
    assert protocol_to_bundle(protocol) == protocol_to_bundle(protocol)
