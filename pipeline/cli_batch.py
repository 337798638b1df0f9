"""`elig` commands for batch runs at scale, OMOP and FHIR export. Registered on the app of pipeline/cli.py."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli import _fail, _load_protocol, app, eval_app  # noqa: F401

export_app = typer.Typer(no_args_is_help=True, help="Export a criteria model to other standards.")
app.add_typer(export_app, name="export")

log = logging.getLogger("pipeline.cli_batch")


@app.command()
def batch(
    input: Annotated[Path, typer.Option("--input", help="NOTE table: .parquet, .csv or .jsonl")],
    out: Annotated[Path, typer.Option("--out", help="Output folder (partitioned Parquet)")],
    scheduler: Annotated[
        str | None,
        typer.Option(help="Dask scheduler address; default a local cluster; 'sync' = no Dask"),
    ] = None,
    workers: Annotated[int, typer.Option(min=1, help="Local cluster worker processes")] = 2,
    partition_size: Annotated[int, typer.Option(min=1, help="Notes per partition")] = 1000,
    max_chars: Annotated[int, typer.Option(min=1, help="Longer notes are quarantined")] = 200_000,
) -> None:
    """Extract facts from many notes on Dask; resumable, bad records quarantined."""
    from pipeline.batch import BatchError, read_records, run_batch
    from pipeline.patients_io import InputError
    from pipeline.progress import Progress

    logging.getLogger("distributed").setLevel(logging.WARNING)
    try:
        total = len(read_records(input))
    except InputError as e:
        raise _fail(str(e)) from None
    try:
        with Progress(total, desc="batch") as bar:
            summary = run_batch(
                input, out, partition_size, workers, scheduler, max_chars, on_progress=bar.update
            )
    except (InputError, BatchError) as e:
        raise _fail(str(e)) from None
    rate = summary.notes / summary.elapsed_s if summary.elapsed_s else 0.0
    typer.echo(
        f"{summary.input_rows} rows: {summary.notes} notes, {summary.quarantined} quarantined, "
        f"{summary.facts} facts; {summary.partitions} partitions ({summary.skipped_partitions} "
        f"already done) in {summary.elapsed_s:.1f}s ({rate:.1f} notes/s) -> {out}",
        err=True,
    )
    if summary.reasons:
        typer.echo("quarantine reasons: " + json.dumps(summary.reasons), err=True)


@app.command()
def synth(
    notes: Annotated[int, typer.Option("--notes", min=1, help="Number of notes")] = 1000,
    output: Annotated[Path, typer.Option("-o", "--output")] = Path("notes.parquet"),
    seed: Annotated[int, typer.Option(help="Random seed")] = 0,
) -> None:
    """Generate fictional notes in OMOP NOTE shape (.parquet, .csv or .jsonl) for scale tests."""
    from pipeline.synth import write_synth

    n = write_synth(output, notes, seed)
    typer.echo(f"{n} synthetic notes -> {output}", err=True)


@export_app.command("fhir")
def export_fhir(
    criteria: Annotated[Path, typer.Argument(help="Criteria model JSON")],
    output: Annotated[Path, typer.Option("-o", "--output")] = Path("study.json"),
    status: Annotated[str, typer.Option(help="ResearchStudy.status")] = "active",
) -> None:
    """Criteria model -> FHIR R5 Bundle (ResearchStudy + EvidenceVariable eligibility)."""
    from pipeline.fhir import protocol_to_bundle, validate_bundle

    protocol = _load_protocol(criteria)
    bundle = protocol_to_bundle(protocol, status=status)
    problems = validate_bundle(bundle)
    if problems:
        raise _fail(f"E-FHIR-001 {criteria}: export failed checks: {'; '.join(problems)}")
    output.write_text(json.dumps(bundle, indent=1) + "\n", encoding="utf-8")
    n = len(bundle["entry"][1]["resource"]["characteristic"])
    typer.echo(
        f"{protocol.trial_id}: ResearchStudy + {n} eligibility characteristics -> {output}",
        err=True,
    )
