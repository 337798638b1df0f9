"""`elig` commands for batch runs at scale, OMOP and FHIR export. Registered on the app of pipeline/cli.py."""

from __future__ import annotations

from pipeline.cli import app, eval_app  # noqa: F401
