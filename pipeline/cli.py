"""The `elig` command line: parse, extract, match, eval, run, schema.

Every command exits non-zero with a message naming the file and the problem on bad input; bad
records are quarantined (listed with their reason) and the rest of the batch proceeds.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from pipeline import __version__

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__)
eval_app = typer.Typer(no_args_is_help=True, help="Metrics on the evaluation sets.")
app.add_typer(eval_app, name="eval")

REPO_ROOT = Path(__file__).resolve().parent.parent
REFERENCE_MODEL = REPO_ROOT / "corpora" / "protocols" / "cd7_cart_autoimmune.criteria.json"
SAMPLE_PATIENTS = REPO_ROOT / "corpora" / "sample" / "patients.jsonl"

log = logging.getLogger("pipeline.cli")


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _read_patients(path: Path, person: Path | None = None, screening_date: Any = None) -> Any:
    """Patients JSONL, or an OMOP NOTE table (.csv/.parquet) or database (.duckdb).

    For a NOTE file, PERSON (sex, birth date) is ``person`` if given, else a sibling file named
    person.csv / person.parquet, else (for .duckdb) the database's own person table. The
    screening date is ``screening_date`` if given, else each patient's latest note date.
    """
    from pipeline.omop_io import is_omop_input, read_omop_notes
    from pipeline.patients_io import InputError, read_patients_jsonl

    try:
        if is_omop_input(path):
            if person is None and path.suffix.lower() not in (".duckdb", ".db"):
                siblings = [path.with_name(f"person{s}") for s in (".csv", ".parquet")]
                person = next((s for s in siblings if s.is_file()), None)
            return read_omop_notes(path, person, screening_date)
        return read_patients_jsonl(path)
    except InputError as e:
        raise _fail(str(e)) from None


def _load_protocol(path: Path) -> Any:
    from pydantic import ValidationError

    from pipeline.match import load_protocol

    try:
        return load_protocol(path)
    except FileNotFoundError as e:
        raise _fail(str(e)) from None
    except ValidationError as e:
        raise _fail(
            f"E-MODEL-001 {path}: not a valid criteria model: {e.error_count()} errors; first: {e.errors()[0]['msg']} at {e.errors()[0]['loc']}"
        ) from None


def _report_quarantine(quarantine: list[Any], out_path: Path | None) -> None:
    from pipeline.patients_io import write_quarantine

    if not quarantine:
        return
    if out_path is not None:
        write_quarantine(quarantine, out_path)
        typer.echo(f"{len(quarantine)} record(s) quarantined -> {out_path}", err=True)
    else:
        typer.echo(f"{len(quarantine)} record(s) quarantined", err=True)


@app.callback()
def _main(verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False) -> None:
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    logging.getLogger("PyRuSH").disabled = True


@app.command()
def schema() -> None:
    """Print the JSON Schema of the criteria model."""
    from criteria_models.schema import protocol_json_schema

    typer.echo(json.dumps(protocol_json_schema(), indent=2))


@app.command()
def extract(
    patients: Annotated[Path, typer.Argument(help="Patients JSONL")],
    output: Annotated[Path, typer.Option("-o", "--output")] = Path("facts.parquet"),
    format: Annotated[str, typer.Option("--format", help="facts | note_nlp")] = "facts",
    quarantine: Annotated[Path | None, typer.Option(help="Quarantine JSONL")] = None,
    person: Annotated[Path | None, typer.Option(help="OMOP PERSON table for NOTE input")] = None,
    screening_date: Annotated[
        str | None, typer.Option(help="Screening date YYYY-MM-DD for OMOP NOTE input")
    ] = None,
) -> None:
    """Extract facts from patients' notes into Parquet (or CSV/JSONL by extension)."""
    from pipeline.match import extract_facts
    from pipeline.store import facts_frame

    read = _read_patients(patients, person, _screening(screening_date))
    t0 = time.perf_counter()
    facts = extract_facts(read.patients)
    frame = facts_frame(facts)
    if format == "note_nlp":
        from pipeline.omop import to_note_nlp

        frame = to_note_nlp(frame)
    elif format != "facts":
        raise _fail(f"unknown --format {format!r}: use facts or note_nlp")
    _write_frame(frame, output)
    n_notes = sum(len(p.notes) for p in read.patients)
    typer.echo(
        f"{len(facts)} facts from {n_notes} notes of {len(read.patients)} patients in {time.perf_counter() - t0:.1f}s -> {output}",
        err=True,
    )
    _report_quarantine(read.quarantine, quarantine or output.with_suffix(".quarantine.jsonl"))


def _write_frame(frame: Any, output: Path) -> None:
    suffix = output.suffix.lower()
    if suffix == ".csv":
        frame.to_csv(output, index=False)
    elif suffix == ".jsonl":
        frame.to_json(output, orient="records", lines=True, date_format="iso")
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        from criteria_models.facts import FACT_COLUMNS_VERSION

        table = pa.Table.from_pandas(frame, preserve_index=False)
        metadata = {
            **(table.schema.metadata or {}),
            b"elig.facts_version": FACT_COLUMNS_VERSION.encode(),
        }
        pq.write_table(table.replace_schema_metadata(metadata), output)


def _screening(value: str | None) -> Any:
    from pipeline.patients_io import parse_date

    try:
        return parse_date(value)
    except ValueError as e:
        raise _fail(f"--screening-date: {e}") from None


def _match(
    criteria: Path, patients: Path, person: Path | None = None, screening_date: Any = None
) -> tuple[Any, Any, list[Any], list[Any]]:
    from pipeline.match import extract_facts, match_patients

    protocol = _load_protocol(criteria)
    read = _read_patients(patients, person, screening_date)
    facts = extract_facts(read.patients)
    results = list(match_patients(protocol, read.patients, facts))
    return protocol, read, facts, results


@app.command()
def match(
    criteria: Annotated[Path, typer.Option(help="Criteria model JSON")] = REFERENCE_MODEL,
    patients: Annotated[Path, typer.Option(help="Patients JSONL")] = SAMPLE_PATIENTS,
    output: Annotated[Path, typer.Option("-o", "--output")] = Path("results.jsonl"),
    db: Annotated[Path | None, typer.Option(help="Also write a DuckDB database")] = None,
    report: Annotated[Path | None, typer.Option(help="Also write an HTML report")] = None,
    quarantine: Annotated[Path | None, typer.Option(help="Quarantine JSONL")] = None,
    person: Annotated[Path | None, typer.Option(help="OMOP PERSON table for NOTE input")] = None,
    screening_date: Annotated[
        str | None, typer.Option(help="Screening date YYYY-MM-DD for OMOP NOTE input")
    ] = None,
) -> None:
    """Evaluate patients against a criteria model: one verdict JSON per patient."""
    from pipeline.match import write_results

    t0 = time.perf_counter()
    protocol, read, facts, results = _match(criteria, patients, person, _screening(screening_date))
    write_results(results, output)
    if db is not None:
        from pipeline.store import write_store

        write_store(
            db,
            read.patients,
            facts,
            results,
            read.quarantine,
            {"command": "match", "counts": {"patients": len(results)}},
        )
    if report is not None:
        from pipeline.report import write_report

        write_report(report, protocol, read.patients, results)
    typer.echo(
        f"{len(results)} patients matched in {time.perf_counter() - t0:.1f}s -> {output}", err=True
    )
    _report_quarantine(read.quarantine, quarantine or output.with_suffix(".quarantine.jsonl"))


@app.command()
def run(
    out: Annotated[Path, typer.Option(help="Output folder")] = Path("out"),
    criteria: Annotated[Path, typer.Option(help="Criteria model JSON")] = REFERENCE_MODEL,
    patients: Annotated[Path, typer.Option(help="Patients JSONL")] = SAMPLE_PATIENTS,
) -> None:
    """The main job: reference protocol x bundled sample notes -> DuckDB, JSONL and HTML in OUT."""
    from collections import Counter

    from pipeline.match import write_results
    from pipeline.report import write_report
    from pipeline.store import write_store

    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    protocol, read, facts, results = _match(criteria, patients)
    elapsed = time.perf_counter() - t0
    results_path, db_path, report_path = (
        out / "results.jsonl",
        out / "elig.duckdb",
        out / "report.html",
    )
    write_results(results, results_path)
    counts = {
        "patients": len(results),
        "notes": sum(len(p.notes) for p in read.patients),
        "facts": len(facts),
        "quarantined": len(read.quarantine),
    }
    write_store(
        db_path,
        read.patients,
        facts,
        results,
        read.quarantine,
        {
            "command": "run",
            "versions": {
                "eligibility-pipeline": __version__,
                "criteria_schema": protocol.schema_version,
            },
            "parameters": {"criteria": str(criteria), "patients": str(patients)},
            "counts": counts,
            "timings": {"match_s": round(elapsed, 3)},
        },
    )
    write_report(report_path, protocol, read.patients, results)
    typer.echo(
        f"{protocol.trial_id}: {counts['patients']} patients, {counts['notes']} notes, {counts['facts']} facts in {elapsed:.1f}s"
    )
    typer.echo(f"{'rank':>4}  {'patient':<12} {'overall':<13} {'cohort':<6} score")
    for i, r in enumerate(sorted(results, key=lambda r: -r.score), 1):
        typer.echo(f"{i:>4}  {r.patient_id:<12} {r.overall:<13} {r.cohort:<6} {r.score:.2f}")
    tally = Counter(r.overall for r in results)
    typer.echo("overall: " + ", ".join(f"{k} {v}" for k, v in sorted(tally.items())))
    typer.echo(f"results: {results_path}\ndatabase: {db_path}\nreport: {report_path}")
    _report_quarantine(read.quarantine, out / "quarantine.jsonl")


@eval_app.command("seed")
def eval_seed(
    patients: Annotated[Path, typer.Option(help="Seed patients JSONL")] = REPO_ROOT.parent
    / "shared/eval/seed_trial/patients.jsonl",
    gold: Annotated[Path, typer.Option(help="Seed gold JSONL")] = REPO_ROOT.parent
    / "shared/eval/seed_trial/gold.jsonl",
    criteria: Annotated[Path, typer.Option(help="Criteria model JSON")] = REFERENCE_MODEL,
    as_json: Annotated[bool, typer.Option("--json", help="Last line: one JSON object")] = False,
    output: Annotated[
        Path | None, typer.Option("-o", "--output", help="Write the metrics JSON")
    ] = None,
    errors: Annotated[bool, typer.Option(help="List every wrong label")] = False,
) -> None:
    """Per-criterion and overall accuracy on the seed-trial gold labels."""
    from pipeline.eval_seed import LABELS, fact_coverage, read_gold, score_seed

    if not gold.is_file():
        raise _fail(f"E-IO-001 {gold}: gold file not found")
    _, read, facts, results = _match(criteria, patients)
    gold_rows = read_gold(gold)
    rep = score_seed(results, gold_rows)
    notes = {n.note_id: (p.patient_id, n.text) for p in read.patients for n in p.notes}
    rep.fact_coverage, rep.fact_coverage_asserted, n_quotes = fact_coverage(notes, facts, gold_rows)
    typer.echo(f"patients: {rep.n_patients}")
    typer.echo(f"criterion accuracy: {rep.criterion_acc:.3f}")
    typer.echo(f"overall accuracy:   {rep.overall_acc:.3f}")
    typer.echo(f"evidence hit rate:  {rep.evidence_hit_rate}")
    typer.echo(
        f"gold quotes containing a fact: {rep.fact_coverage} "
        f"(with consistent assertion {rep.fact_coverage_asserted}; {n_quotes} quotes)"
    )
    typer.echo(
        f"stated exclusions missed as eligible: {len(rep.missed_exclusions)} {rep.missed_exclusions or ''}"
    )
    typer.echo("per criterion: " + ", ".join(f"{k} {v:.2f}" for k, v in rep.per_criterion.items()))
    typer.echo("confusion (rows gold, cols predicted): " + " ".join(f"{x:>8}" for x in LABELS))
    for g in LABELS:
        typer.echo(f"  {g:<15}" + " ".join(f"{rep.confusion[g][p]:>8}" for p in LABELS))
    typer.echo("overall confusion: " + json.dumps(rep.overall_confusion))
    if errors:
        for err in rep.errors:
            typer.echo(
                f"  {err['patient_id']} {err['criterion']}: gold {err['gold']} predicted {err['predicted']} ({err['reason']})"
            )
    if output is not None:
        output.write_text(json.dumps(rep.to_json(), indent=1) + "\n")
    if as_json:
        typer.echo(json.dumps(rep.to_json()))


# Commands of each area live in their own module and register on `app` / `eval_app`.
from pipeline import cli_assertion, cli_batch, cli_bench, cli_judge, cli_review  # noqa: E402

_COMMAND_MODULES = (cli_assertion, cli_batch, cli_bench, cli_judge, cli_review)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


if __name__ == "__main__":
    main()
