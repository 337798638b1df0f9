"""`elig` commands for judging criterion x patient pairs and ranking trials. Registered on the app of pipeline/cli.py."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from pipeline.cli import _fail, _load_protocol, _read_patients, app, eval_app

REPO_ROOT = Path(__file__).resolve().parent.parent
TRIALGPT_DEV = REPO_ROOT.parent / "shared" / "eval" / "trialgpt_criteria" / "dev.jsonl"
REQUIRED = ("id", "patient_text", "criterion_text", "criterion_type")


def _pair_problem(obj: Any) -> str | None:
    if not isinstance(obj, dict):
        return "not a JSON object"
    missing = [k for k in REQUIRED if k not in obj or obj[k] is None]
    if missing:
        return f"missing field(s): {', '.join(missing)}"
    bad = [k for k in REQUIRED if not isinstance(obj[k], str) or not obj[k].strip()]
    if bad:
        return f"empty or non-text field(s): {', '.join(bad)}"
    if obj["criterion_type"].strip().lower() not in ("inclusion", "exclusion"):
        return f"criterion_type {obj['criterion_type']!r}: use inclusion or exclusion"
    return None


@app.command("judge")
def judge_cmd(
    input: Annotated[Path, typer.Option("--input", "-i", help="Pairs JSONL")],
    output: Annotated[Path, typer.Option("-o", "--output")] = Path("judged.jsonl"),
    quarantine: Annotated[Path | None, typer.Option(help="Quarantine JSONL")] = None,
) -> None:
    """Judge one patient text x one criterion text per line: met | not_met | unknown | not_applicable."""
    from pipeline.judge import judge

    if not input.is_file():
        raise _fail(f"E-IO-001 {input}: input file not found")
    t0 = time.perf_counter()
    bad: list[dict[str, Any]] = []
    n = 0
    with input.open(encoding="utf-8") as fh, output.open("w", encoding="utf-8") as out:
        for line_no, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                bad.append(
                    {
                        "source": str(input),
                        "record": f"line {line_no}",
                        "reason": f"E-JUDGE-001 not JSON: {e.msg}",
                    }
                )
                continue
            problem = _pair_problem(obj)
            if problem:
                rid = obj.get("id") if isinstance(obj, dict) else None
                bad.append(
                    {
                        "source": str(input),
                        "record": f"line {line_no}",
                        "id": rid,
                        "reason": f"E-JUDGE-002 {problem}",
                    }
                )
                continue
            j = judge(
                obj["patient_text"], obj["criterion_text"], obj["criterion_type"].strip().lower()
            )
            out.write(json.dumps(j.to_json(str(obj["id"]))) + "\n")
            n += 1
    typer.echo(f"{n} pairs judged in {time.perf_counter() - t0:.1f}s -> {output}", err=True)
    if bad:
        qpath = quarantine or output.with_suffix(".quarantine.jsonl")
        with qpath.open("w", encoding="utf-8") as fh:
            for b in bad:
                fh.write(json.dumps(b) + "\n")
        typer.echo(f"{len(bad)} record(s) quarantined -> {qpath}", err=True)
    if n == 0:
        raise _fail(f"E-JUDGE-003 {input}: no valid pairs")


@eval_app.command("criteria")
def eval_criteria_cmd(
    input: Annotated[
        Path, typer.Option("--input", "-i", help="Annotated pairs JSONL")
    ] = TRIALGPT_DEV,
    as_json: Annotated[bool, typer.Option("--json", help="Last line: one JSON object")] = False,
    errors: Annotated[bool, typer.Option(help="List every wrong label (ids only)")] = False,
    halves: Annotated[
        bool, typer.Option(help="Also report accuracy on two halves split by patient id")
    ] = False,
) -> None:
    """Criterion-level accuracy vs GPT-4 and the majority rule, per-label precision/recall, evidence overlap."""
    from pipeline.eval_criteria import patient_halves, read_pairs, score_criteria
    from pipeline.judge import LABELS

    if not input.is_file():
        raise _fail(f"E-IO-001 {input}: annotated pairs not found")
    try:
        rows = read_pairs(input)
    except ValueError as e:
        raise _fail(str(e)) from None
    # A row with an empty criterion text is still scored (we answer unknown) so that our
    # accuracy and the stored baselines are over the same rows.
    missing = [
        i
        for i, r in enumerate(rows, 1)
        if not isinstance(r, dict)
        or not r.get("label")
        or not isinstance(r.get("patient_text"), str)
        or str(r.get("criterion_type", "")).lower() not in ("inclusion", "exclusion")
    ]
    if missing:
        typer.echo(
            f"{len(missing)} row(s) without patient text, criterion type or gold label skipped "
            f"(lines {missing[:10]})",
            err=True,
        )
    skip = set(missing)
    rows = [r for i, r in enumerate(rows, 1) if i not in skip]
    if not rows:
        raise _fail(f"E-EVAL-002 {input}: no annotated pairs")
    t0 = time.perf_counter()
    rep = score_criteria(rows)
    typer.echo(f"pairs: {rep.n} ({time.perf_counter() - t0:.1f}s)")
    typer.echo(
        f"accuracy ours:     {rep.accuracy:.3f}  (inclusion {rep.per_type.get('inclusion', 0):.3f}, exclusion {rep.per_type.get('exclusion', 0):.3f})"
    )
    if rep.gpt4_accuracy is not None:
        typer.echo(f"accuracy GPT-4:    {rep.gpt4_accuracy:.3f}")
    typer.echo(f"accuracy majority: {rep.majority_accuracy:.3f}")
    if halves:
        for name, part in patient_halves(rows).items():
            if part:
                sub = score_criteria(part)
                gpt4 = "" if sub.gpt4_accuracy is None else f", GPT-4 {sub.gpt4_accuracy:.3f}"
                typer.echo(f"half {name} ({sub.n} pairs): ours {sub.accuracy:.3f}{gpt4}")
    typer.echo(f"{'label':<15} {'precision':>9} {'recall':>7} {'support':>7}")
    for lab, m in rep.per_label.items():
        typer.echo(f"{lab:<15} {m['precision']:>9.3f} {m['recall']:>7.3f} {int(m['support']):>7}")
    typer.echo("confusion (rows gold, cols predicted): " + " ".join(f"{x:>14}" for x in LABELS))
    for g in LABELS:
        typer.echo(f"  {g:<15}" + " ".join(f"{rep.confusion[g][p]:>14}" for p in LABELS))
    ev = rep.evidence
    typer.echo(
        f"evidence: {ev['overlap_rate']:.3f} of {ev['rows_with_expert_sentences']} rows with expert sentences have an overlapping span; "
        f"{ev['our_evidence_in_expert_sentences']:.3f} of {ev['rows_with_our_evidence']} rows with our evidence hit an expert sentence"
    )
    if errors:
        for err in rep.errors:
            typer.echo(
                f"  {err['id']}: gold {err['gold']} predicted {err['predicted']} ({err['reason']})"
            )
    if as_json:
        typer.echo(json.dumps(rep.to_json()))


@app.command("rank")
def rank_cmd(
    corpus: Annotated[Path, typer.Option(help="TrialGPT-style corpus.jsonl")],
    queries: Annotated[Path, typer.Option(help="queries.jsonl: {_id, text}")],
    candidates: Annotated[
        Path | None, typer.Option(help="qrels TSV: rank only the listed trials per query")
    ] = None,
    output: Annotated[Path, typer.Option("-o", "--output")] = Path("run.trec"),
    tag: Annotated[str, typer.Option(help="Run tag")] = "elig",
) -> None:
    """Rank trials for each patient (TREC run: qid Q0 docid rank score tag)."""
    from pipeline.rank import RankInputError, rank, read_corpus, read_qrels, read_queries, write_run

    t0 = time.perf_counter()
    try:
        trials = read_corpus(corpus)
        qs = read_queries(queries)
        cand = read_qrels(candidates) if candidates is not None else None
    except RankInputError as e:
        raise _fail(str(e)) from None
    if not trials or not qs:
        raise _fail(f"E-RANK-005 nothing to rank: {len(trials)} trials, {len(qs)} queries")
    ranked = rank(qs, trials, cand)
    n = write_run(ranked, output, tag)
    typer.echo(
        f"{len(qs)} queries x {len(trials)} trials: {n} run lines in {time.perf_counter() - t0:.1f}s -> {output}",
        err=True,
    )


@eval_app.command("trec")
def eval_trec_cmd(
    run: Annotated[Path, typer.Option(help="TREC run file")],
    qrels: Annotated[Path, typer.Option(help="qrels TSV (query-id corpus-id score)")],
    corpus: Annotated[
        Path | None,
        typer.Option(help="corpus.jsonl for the BM25 baseline (default: next to qrels)"),
    ] = None,
    queries: Annotated[
        Path | None,
        typer.Option(help="queries.jsonl for the BM25 baseline (default: next to qrels)"),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Last line: one JSON object")] = False,
) -> None:
    """NDCG@10, P@10 and MRR of a run, and of a BM25 baseline over the same candidates."""
    from pipeline.eval_trec import evaluate_trec, read_run
    from pipeline.rank import RankInputError, read_corpus, read_qrels, read_queries

    corpus = corpus or qrels.parent / "corpus.jsonl"
    queries = queries or qrels.parent / "queries.jsonl"
    try:
        r = read_run(run)
        q = read_qrels(qrels)
        trials = read_corpus(corpus) if corpus.is_file() else None
        qs = read_queries(queries) if queries.is_file() else None
    except RankInputError as e:
        raise _fail(str(e)) from None
    if not set(r) & set(q):
        raise _fail(f"E-TREC-002 {run}: no query of the run is judged in {qrels}")
    m = evaluate_trec(r, q, qs, trials)
    typer.echo(f"queries: {m['queries']}")
    typer.echo(f"{'':<8} {'NDCG@10':>8} {'P@10':>6} {'MRR':>6}")
    typer.echo(f"{'ours':<8} {m['ndcg_cut_10']:>8.4f} {m['P_10']:>6.3f} {m['mrr']:>6.3f}")
    if "bm25_ndcg_cut_10" in m:
        typer.echo(
            f"{'BM25':<8} {m['bm25_ndcg_cut_10']:>8.4f} {m['bm25_P_10']:>6.3f} {m['bm25_mrr']:>6.3f}"
        )
    else:
        typer.echo("BM25 baseline skipped: corpus/queries not found", err=True)
    if as_json:
        typer.echo(json.dumps(m))


@app.command("explain")
def explain_cmd(
    patient_id: Annotated[str, typer.Argument(help="Patient id")],
    criteria: Annotated[Path, typer.Option(help="Criteria model JSON")],
    patients: Annotated[Path, typer.Option(help="Patients JSONL")],
    width: Annotated[int, typer.Option(help="Characters of note text either side of a span")] = 80,
) -> None:
    """Per criterion: label, reason and each evidence span in its note context."""
    from pipeline.explain import explain_patient, render_text
    from pipeline.match import extract_facts, match_patients

    protocol = _load_protocol(criteria)
    read = _read_patients(patients)
    chosen = [p for p in read.patients if p.patient_id == patient_id]
    if not chosen:
        raise _fail(f"E-EXPLAIN-001 {patients}: patient {patient_id!r} not found")
    facts = extract_facts(chosen)
    result = next(iter(match_patients(protocol, chosen, facts)))
    typer.echo(render_text(result, explain_patient(protocol, chosen[0], result, width)))
