"""`elig` commands for criteria review: diff, render, batch parsing, LCT evaluation. Registered on the app of pipeline/cli.py."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli import _fail, app, eval_app  # noqa: F401


@app.command()
def parse(
    protocol: Annotated[Path | None, typer.Argument(help="Protocol text file")] = None,
    output: Annotated[Path, typer.Option("-o", "--output")] = Path("criteria.json"),
    trial_id: Annotated[str | None, typer.Option(help="Trial id (default: file stem)")] = None,
) -> None:
    """Parse protocol eligibility text into a criteria model (JSON)."""
    from pipeline.parse_criteria import parse_protocol

    if protocol is None:
        raise _fail("give a PROTOCOL text file")
    if not protocol.is_file():
        raise _fail(f"E-IO-001 {protocol}: file not found")
    try:
        text = protocol.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise _fail(f"E-IO-003 {protocol}: not UTF-8 text") from None
    model = parse_protocol(
        text,
        trial_id=trial_id or protocol.stem,
        title=text.strip().splitlines()[0][:200] if text.strip() else None,
    )
    output.write_text(model.model_dump_json(indent=1, exclude_none=True) + "\n", encoding="utf-8")
    computable = sum(c.computable for c in model.criteria)
    typer.echo(
        f"{len(model.criteria)} criteria ({computable} computable), {len(model.rule.cohorts)} cohort(s) -> {output}",
        err=True,
    )
    for w in model.warnings:
        typer.echo(f"warning: {w}", err=True)
