"""`elig` commands for assertion judgements and the NegEx evaluation. Registered on the app of pipeline/cli.py."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from pipeline.cli import REPO_ROOT, _fail, app, eval_app

NEGEX_DEV = REPO_ROOT.parent / "shared/eval/negex/dev.jsonl"


@app.command("assertion")
def assertion(
    input_path: Annotated[
        Path, typer.Option("--input", "-i", help='JSONL lines {"id", "text", "target"}')
    ],
    output: Annotated[Path, typer.Option("-o", "--output", help="Output JSONL")],
) -> None:
    """Judge one target phrase per sentence: negated, uncertain, historical, hypothetical, family.

    Bad lines (malformed JSON, missing fields, target not in the text) go to OUT.quarantine.jsonl
    with their line number and reason; the rest of the batch proceeds.
    """
    from pipeline.assertion import run_batch

    if not input_path.is_file():
        raise _fail(f"E-IO-001 {input_path}: input file not found")
    result, quarantine_path = run_batch(input_path, output)
    n_bad = len(result.quarantined)
    message = f"assertion: {result.judged} judged -> {output}, {n_bad} quarantined"
    if quarantine_path is not None:
        message += f" -> {quarantine_path}"
    typer.echo(message, err=True)
    if result.judged == 0 and n_bad:
        raise _fail(f"E-ASSERT-005 {input_path}: no line could be judged", code=1)


@eval_app.command("negex")
def eval_negex(
    input_path: Annotated[
        Path, typer.Option("--input", "-i", help="NegEx-format JSONL with gold labels")
    ] = NEGEX_DEV,
    as_json: Annotated[bool, typer.Option("--json", help="Last line: one JSON object")] = False,
    errors: Annotated[bool, typer.Option(help="List the ids of wrong negation labels")] = False,
    baseline: Annotated[
        bool, typer.Option(help="Also score medspaCy's default ConText on the same rows")
    ] = True,
) -> None:
    """Negation precision/recall/F1 (and historical, family accuracy), ours vs medspaCy's default."""
    from pipeline.eval_negex import EvalInputError, baseline_nlp, evaluate, judge_with, read_rows
    from pipeline.nlp import get_nlp

    try:
        rows = read_rows(input_path)
    except EvalInputError as e:
        raise _fail(str(e)) from None
    ours = evaluate(rows, judge_with(get_nlp()))
    systems = [("ours", ours)]
    summary = {"n": len(rows), **ours.to_json()}
    if baseline:
        # medspaCy as it is; then the same pipeline with our one span-method fix (cues inside
        # the target phrase ignored), to show how much of the gain is rules, not that fix.
        base_nlp = baseline_nlp()
        base = evaluate(rows, judge_with(base_nlp, cues_inside_target=True))
        systems.append(("medspaCy default", base))
        summary.update(base.to_json(prefix="baseline_"))
        base_fixed = evaluate(rows, judge_with(base_nlp))
        systems.append(("  + span fix", base_fixed))
        summary.update(base_fixed.to_json(prefix="baseline_span_fix_"))
    n_neg = sum(r.negated for r in rows)
    typer.echo(f"rows: {len(rows)} ({n_neg} negated in gold)")
    typer.echo(
        f"{'system':<18}{'neg P':>8}{'neg R':>8}{'neg F1':>8}{'hist acc':>10}{'fam acc':>9}{'unlocated':>11}"
    )
    for name, rep in systems:
        typer.echo(
            f"{name:<18}{rep.negation.precision:>8.3f}{rep.negation.recall:>8.3f}{rep.negation.f1:>8.3f}"
            f"{rep.historical.accuracy:>10.3f}{rep.family.accuracy:>9.3f}{rep.unlocated:>11}"
        )
    if errors:
        for err in ours.errors:
            typer.echo(
                f"  {err['id']}: gold negated={err['gold_negated']} predicted={err['predicted_negated']}"
            )
    if as_json:
        typer.echo(json.dumps(summary))
