"""The criteria model: JSON round-trip, schema export, validation that fails loudly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from criteria_models import Measurement, Protocol, protocol_json_schema

REFERENCE = (
    Path(__file__).resolve().parents[2] / "corpora/protocols/cd7_cart_autoimmune.criteria.json"
)
CANONICAL_IDS = {
    "INC-IBD-DX",
    "INC-IBD-REFRACTORY",
    "INC-DM-DX",
    "INC-DM-REFRACTORY",
    "INC-AOSD-DX",
    "INC-AOSD-REFRACTORY",
    "INC-RA-DX",
    "INC-RA-REFRACTORY",
    "INC-SURVIVAL",
    "INC-PREGNANCY-TEST",
    "INC-CONSENT",
    "EXC-CNS",
    "EXC-CARDIAC",
    "EXC-PREGNANT",
    "EXC-INFECTION",
    "EXC-HBV-HCV",
    "EXC-STEROIDS-4W",
    "EXC-GENE-THERAPY",
    "EXC-PROLIFERATION",
    "EXC-ORGAN",
    "EXC-UNCONTROLLED",
    "EXC-HIV",
}


def test_reference_model_round_trips() -> None:
    text = REFERENCE.read_text()
    model = Protocol.model_validate_json(text)
    again = Protocol.model_validate_json(model.model_dump_json())
    assert again == model


def test_reference_model_has_canonical_ids_and_spans() -> None:
    model = Protocol.model_validate_json(REFERENCE.read_text())
    ids = {c.id for c in model.criteria}
    assert CANONICAL_IDS <= ids
    assert model.source_text is not None
    for c in model.criteria:
        assert c.span is not None
        assert model.source_text[c.span.start : c.span.end] == c.text
    assert [ch.id for ch in model.rule.cohorts] == ["IBD", "DM", "AOSD", "RA"]
    assert len(model.rule.exclusions) == 12


def test_reference_model_states_key_requirements() -> None:
    dumped = json.loads(REFERENCE.read_text())
    by_id = {c["id"]: c for c in dumped["criteria"]}
    refractory = json.dumps(by_id["INC-IBD-REFRACTORY"]["requirement"])
    assert '"min_distinct_agents": 2' in refractory
    steroids = by_id["EXC-STEROIDS-4W"]["requirement"]
    assert steroids["window"]["max_days_before"] == 28
    assert "inhaled" in steroids["exclude_routes"]
    infection = by_id["EXC-INFECTION"]["requirement"]
    assert {"N39.0", "J02"} <= {e["code"] for e in infection["exceptions"]}
    organ = json.dumps(by_id["EXC-ORGAN"]["requirement"])
    assert '"uln_multiple": 3.0' in organ and '"unit": "mg/dL"' in organ
    assert by_id["INC-IBD-DX"]["requirement"]["window"]["min_days_before"] >= 180


def test_unknown_keys_are_rejected() -> None:
    data = json.loads(REFERENCE.read_text())
    data["criteria"][0]["colour"] = "red"
    with pytest.raises(ValidationError, match="colour"):
        Protocol.model_validate(data)


def test_rule_must_refer_to_known_ids() -> None:
    data = json.loads(REFERENCE.read_text())
    data["rule"]["exclusions"].append("EXC-NOPE")
    with pytest.raises(ValidationError, match="EXC-NOPE"):
        Protocol.model_validate(data)


def test_measurement_needs_exactly_one_threshold() -> None:
    with pytest.raises(ValidationError):
        Measurement(analytes=[], comparator=">")
    with pytest.raises(ValidationError):
        Measurement(analytes=[], comparator=">", value=1, uln_multiple=2)


def test_json_schema_describes_requirement_types() -> None:
    schema = protocol_json_schema()
    text = json.dumps(schema)
    for kind in ("all_of", "any_of", "at_least", "condition", "medication", "measurement"):
        assert kind in text
    assert schema["title"] == "Protocol"
