"""JSON Schema export of the criteria model, for reviewers' editors and other languages."""

from __future__ import annotations

from typing import Any

from criteria_models.model import SCHEMA_VERSION, Protocol


def protocol_json_schema() -> dict[str, Any]:
    schema = Protocol.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"eligibility-pipeline/criteria/{SCHEMA_VERSION}"
    return schema
