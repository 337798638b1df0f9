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
        int, typer.Option("--limit", min=1, help="MTSamples notes to time (4,966 non-empty).")
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
) -> None:
    """Notes/s, tokens/s, peak RSS and load time: ours vs medspaCy default vs blank tokenizer."""
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
