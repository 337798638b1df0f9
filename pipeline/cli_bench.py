"""`elig` commands for benchmarks. Registered on the app of pipeline/cli.py."""

from __future__ import annotations

from pipeline.cli import app, eval_app  # noqa: F401
