"""`elig bench` command: throughput of our note pipeline vs medspaCy vs a blank tokenizer.

Registered on the app of pipeline/cli.py; the measuring lives in pipeline/bench.py.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from pipeline.cli import app, eval_app  # noqa: F401


@app.command("bench")
def bench(
    as_json: Annotated[
        bool, typer.Option("--json", help="Last line: one JSON object with the figures.")
    ] = False,
    limit: Annotated[
        int,
        typer.Option(
            "--limit",
            min=1,
            help="MTSamples notes to time, spread evenly over the file (4,966 non-empty).",
        ),
    ] = 600,
    synthetic: Annotated[
        int, typer.Option("--synthetic", min=0, help="Also time N generated notes.")
    ] = 0,
    n_process: Annotated[
        int, typer.Option("--n-process", min=1, help="Also time our pipeline on K processes.")
    ] = 1,
    medspacy_limit: Annotated[
        int, typer.Option("--medspacy-limit", min=1, help="medspaCy is timed on this many notes.")
    ] = 150,
    mtsamples: Annotated[
        Path | None, typer.Option("--mtsamples", help="MTSamples CSV (default: shared corpus).")
    ] = None,
    match: Annotated[
        int,
        typer.Option(
            "--match",
            min=0,
            help="Instead: time matching N patients (facts extracted beforehand, copied from "
            "the bundled sample patients) against the reference protocol.",
        ),
    ] = 0,
) -> None:
    """Notes/s, tokens/s, peak RSS and load time: ours vs medspaCy default vs blank tokenizer."""
    if match:
        _bench_match(match, as_json)
        return
    from pipeline.bench import (
        DEFAULT_MTSAMPLES,
        BenchError,
        bench_corpus,
        format_report,
        read_mtsamples,
        synthetic_notes,
    )

    try:
        notes = read_mtsamples(mtsamples or DEFAULT_MTSAMPLES, limit)
        reports = [bench_corpus("mtsamples", notes, medspacy_limit, n_process)]
        if synthetic:
            reports.append(
                bench_corpus("synthetic", synthetic_notes(synthetic), medspacy_limit, n_process)
            )
    except BenchError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    for report in reports:
        for line in format_report(report):
            typer.echo(line)
    if as_json:
        out: dict[str, Any] = reports[0].summary()
        if len(reports) > 1:
            out["synthetic"] = reports[1].summary()
        sys.stdout.flush()
        typer.echo(json.dumps(out))


def _bench_match(n: int, as_json: bool) -> None:
    """Matching stage only: issue #6 asks for 10,000 patients in < 10 s after extraction."""
    from pipeline.bench_match import bench_match

    result = bench_match(n)
    typer.echo(
        f"matching: {result.patients} patients x {result.criteria} criteria "
        f"({result.facts} facts) in {result.seconds:.2f} s "
        f"(CPU {result.cpu_seconds:.2f} s) = {result.patients_per_s:.0f} patients/s; "
        f"labels {result.labels}"
    )
    if as_json:
        sys.stdout.flush()
        typer.echo(json.dumps(result.to_json()))
