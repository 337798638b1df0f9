"""`elig` commands for criteria review: parse (one file or a batch), diff, render, eval lct.

Registered on the app of pipeline/cli.py.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from pipeline.cli import _fail, _load_protocol, app, eval_app

LCT_DIR = Path(__file__).resolve().parent.parent.parent / "shared" / "eval" / "lct"


def _title(text: str) -> str | None:
    return text.strip().splitlines()[0][:200] if text.strip() else None


def corpus_text(record: dict[str, Any]) -> str:
    """Protocol text of a TrialGPT-style corpus record: its inclusion and exclusion parts under
    usual headers (the exclusion part there often starts with the header's lost colon)."""
    meta = record.get("metadata") or {}
    inc = str(meta.get("inclusion_criteria") or "").strip()
    exc = str(meta.get("exclusion_criteria") or "").strip()
    import re

    inc = re.sub(r"^\s*inclusion\s+criteria\s*:?", "", inc, flags=re.I).strip()
    exc = re.sub(r"^\s*(?:exclusion\s+criteria)?\s*:", "", exc, flags=re.I).strip()
    if not inc and not exc:
        return str(record.get("text") or "")
    return f"Inclusion Criteria:\n{inc}\n\nExclusion Criteria:\n{exc}\n"


def _corpus_inputs(path: Path) -> Iterator[tuple[str, str | None, str | None, str | None]]:
    """(trial id, title, text, error) per line of a corpus JSONL; bad lines give an error."""
    with path.open("rb") as fh:
        for n, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw.decode("utf-8"))
                if not isinstance(record, dict):
                    raise ValueError("not an object")
            except (UnicodeDecodeError, ValueError) as e:
                yield f"{path.name}:{n}", None, None, f"bad JSON line ({type(e).__name__})"
                continue
            trial_id = str(record.get("_id") or f"{path.name}:{n}")
            yield trial_id, record.get("title"), corpus_text(record), None


def _dir_inputs(folder: Path) -> Iterator[tuple[str, str | None, str | None, str | None]]:
    for txt in sorted(folder.rglob("*.txt")):
        try:
            text = txt.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            yield txt.stem, None, None, f"unreadable file ({type(e).__name__})"
            continue
        yield txt.stem, _title(text), text, None


def _coverage(criterion: Any) -> tuple[bool, bool]:
    """(names a coded concept, has a coded concept or a computable value) for one criterion.

    Coded: a concept with a code in the criterion's entities or its logic; concepts the parser
    kept by their words only (system ``TEXT``) are not coded. A computable value is a demographic
    or a measurement threshold (comparator and number), whatever names its analyte.
    """
    coded = any(e.concept is not None for e in criterion.entities)
    valued = False

    def walk(node: Any) -> None:
        nonlocal coded, valued
        if isinstance(node, list):
            for x in node:
                walk(x)
        elif isinstance(node, dict):
            if node.get("type") == "demographic" or (
                node.get("type") == "measurement"
                and (node.get("value") is not None or node.get("uln_multiple") is not None)
            ):
                valued = True
            if node.get("system") not in (None, "TEXT") and "code" in node:
                coded = True
            for v in node.values():
                if isinstance(v, dict | list):
                    walk(v)

    walk(criterion.model_dump(include={"requirement", "applicability"}))
    return coded, coded or valued


def _parse_batch(
    inputs: Iterator[tuple[str, str | None, str | None, str | None]], output: Path
) -> None:
    from pydantic import ValidationError

    from criteria_models.model import Protocol
    from pipeline.parse_criteria import parse_protocol

    trials = criteria = computable = coded = coded_or_value = 0
    failures: Counter[str] = Counter()
    with output.open("w", encoding="utf-8") as out:
        for trial_id, title, text, error in inputs:
            if error is not None or text is None:
                failures[error or "no text"] += 1
                typer.echo(f"quarantined {trial_id}: {error}", err=True)
                continue
            try:
                model = parse_protocol(text, trial_id=trial_id, title=title)
                Protocol.model_validate(model.model_dump())
            except (ValidationError, ValueError, RecursionError) as e:
                failures[f"parse failed ({type(e).__name__})"] += 1
                typer.echo(f"quarantined {trial_id}: parse failed ({type(e).__name__})", err=True)
                continue
            if not model.criteria:
                failures["no criteria found"] += 1
            trials += 1
            criteria += len(model.criteria)
            computable += sum(1 for c in model.criteria if c.computable)
            for c in model.criteria:
                has_code, has_code_or_value = _coverage(c)
                coded += has_code
                coded_or_value += has_code_or_value
            out.write(model.model_dump_json(exclude_none=True) + "\n")
    share = computable / criteria if criteria else 0.0
    coded_share = coded / criteria if criteria else 0.0
    valued_share = coded_or_value / criteria if criteria else 0.0
    typer.echo(
        f"trials parsed: {trials}; criteria: {criteria}; computable: {computable} ({share:.1%}); "
        f"with a coded concept: {coded} ({coded_share:.1%}); "
        f"with a coded concept or computable value: {coded_or_value} ({valued_share:.1%}) "
        f"-> {output}",
        err=True,
    )
    if failures:
        typer.echo(
            "failures: " + ", ".join(f"{k} {v}" for k, v in sorted(failures.items())), err=True
        )
    if trials == 0:
        raise _fail("nothing could be parsed", code=1)


@app.command()
def parse(
    protocol: Annotated[Path | None, typer.Argument(help="Protocol text file")] = None,
    output: Annotated[Path, typer.Option("-o", "--output")] = Path("criteria.json"),
    trial_id: Annotated[str | None, typer.Option(help="Trial id (default: file stem)")] = None,
    corpus: Annotated[
        Path | None, typer.Option(help="TrialGPT-style corpus.jsonl: one model per line")
    ] = None,
    directory: Annotated[
        Path | None, typer.Option("--dir", help="Folder of .txt criteria files (LCT layout)")
    ] = None,
) -> None:
    """Parse protocol eligibility text into a criteria model (JSON), or many into JSONL."""
    from pipeline.parse_criteria import parse_protocol

    if corpus is not None:
        if not corpus.is_file():
            raise _fail(f"E-IO-001 {corpus}: file not found")
        _parse_batch(_corpus_inputs(corpus), output)
        return
    if directory is not None:
        if not directory.is_dir():
            raise _fail(f"E-IO-001 {directory}: folder not found")
        _parse_batch(_dir_inputs(directory), output)
        return
    if protocol is None:
        raise _fail("give a PROTOCOL text file, --corpus FILE or --dir DIR")
    if not protocol.is_file():
        raise _fail(f"E-IO-001 {protocol}: file not found")
    try:
        text = protocol.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise _fail(f"E-IO-003 {protocol}: not UTF-8 text") from None
    model = parse_protocol(text, trial_id=trial_id or protocol.stem, title=_title(text))
    output.write_text(model.model_dump_json(indent=1, exclude_none=True) + "\n", encoding="utf-8")
    computable = sum(c.computable for c in model.criteria)
    typer.echo(
        f"{len(model.criteria)} criteria ({computable} computable), {len(model.rule.cohorts)} cohort(s) -> {output}",
        err=True,
    )
    for w in model.warnings:
        typer.echo(f"warning: {w}", err=True)


@app.command()
def diff(
    parsed: Annotated[Path, typer.Argument(help="Parsed criteria model JSON")],
    reviewed: Annotated[Path, typer.Argument(help="Reviewed criteria model JSON")],
    as_json: Annotated[bool, typer.Option("--json", help="Last line: one JSON object")] = False,
) -> None:
    """What the reviewer changed: criterion by criterion, and the rule's structure."""
    from pipeline.review import diff_protocols, format_diff

    result = diff_protocols(_load_protocol(parsed), _load_protocol(reviewed))
    typer.echo(format_diff(result))
    if as_json:
        typer.echo(json.dumps(result.to_json()))


@app.command()
def render(
    criteria: Annotated[Path, typer.Argument(help="Criteria model JSON")],
    html: Annotated[Path | None, typer.Option("--html", help="Also write an HTML view")] = None,
) -> None:
    """Print a criteria model as readable text (and optionally an HTML page)."""
    from pipeline.review import render_html, render_text

    model = _load_protocol(criteria)
    typer.echo(render_text(model), nl=False)
    if html is not None:
        html.write_text(render_html(model), encoding="utf-8")
        typer.echo(f"HTML -> {html}", err=True)


@eval_app.command("lct")
def eval_lct(
    directory: Annotated[
        Path, typer.Option("--dir", help="Folder of LCT .txt/.ann pairs (searched recursively)")
    ] = LCT_DIR,
    as_json: Annotated[bool, typer.Option("--json", help="Last line: one JSON object")] = False,
) -> None:
    """Entity P/R/F1 of the criteria concept layer against LCT annotations."""
    from pipeline.eval_lct import MATCHING_RULE, MICRO_TYPES, evaluate_lct

    if not directory.is_dir():
        raise _fail(f"E-IO-001 {directory}: folder not found")
    report = evaluate_lct(directory)
    if report.n_documents == 0:
        raise _fail(f"E-IO-004 {directory}: no .txt/.ann pairs found")
    typer.echo(f"documents: {report.n_documents}")
    typer.echo(f"matching rule: {MATCHING_RULE}")
    typer.echo(f"{'type':<14} {'P':>6} {'R':>6} {'F1':>6} {'tp':>6} {'fp':>6} {'fn':>6}")
    for name, s in report.per_type.items():
        typer.echo(
            f"{name:<14} {s.precision:>6.3f} {s.recall:>6.3f} {s.f1:>6.3f} {s.tp:>6} {s.fp:>6} {s.fn:>6}"
        )
    micro = report.micro()
    typer.echo(
        f"micro ({'/'.join(MICRO_TYPES)}): P {micro.precision:.3f} R {micro.recall:.3f} F1 {micro.f1:.3f}"
    )
    for failure in report.failures:
        typer.echo(f"skipped: {failure}", err=True)
    if as_json:
        typer.echo(json.dumps(report.to_json()))
