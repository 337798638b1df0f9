"""The `elig` command line, end to end, through typer's CliRunner.

Pipeline-heavy commands (run, match, extract, eval seed) run once per module in module-scoped
fixtures; the tests then inspect their outputs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from typer.testing import CliRunner, Result

from criteria_models.model import Protocol
from pipeline.cli import app
from pipeline.omop import NOTE_NLP_COLUMNS

REPO = Path(__file__).resolve().parents[2]
PROTOCOL_TXT = REPO / "corpora" / "protocols" / "cd7_cart_autoimmune.txt"
REFERENCE_MODEL = REPO / "corpora" / "protocols" / "cd7_cart_autoimmune.criteria.json"
SAMPLE_PATIENTS = REPO / "corpora" / "sample" / "patients.jsonl"
SHARED = REPO.parent / "shared"
SEED_DIR = SHARED / "eval" / "seed_trial"

LABELS = {"met", "not_met", "unknown", "not_applicable"}
FACTS_COLUMNS = [
    "patient_id",
    "note_id",
    "note_date",
    "section",
    "sentence",
    "start",
    "end",
    "snippet",
    "lexical_variant",
    "category",
    "code_system",
    "code",
    "preferred_name",
    "drug_classes",
    "value_as_number",
    "unit",
    "ref_low",
    "ref_high",
    "uln_multiple",
    "event_date",
    "negated",
    "historical",
    "hypothetical",
    "family",
    "uncertain",
    "term_exists",
    "term_temporal",
    "term_modifiers",
]


def _invoke(args: list[str]) -> Result:
    return CliRunner().invoke(app, args, catch_exceptions=False)


def _sample_lines() -> list[str]:
    return [ln for ln in SAMPLE_PATIENTS.read_text(encoding="utf-8").splitlines() if ln.strip()]


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(ln) for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]


def _q_file(q: dict[str, Any]) -> Any:
    """The quarantine record's file field (named ``source`` in patients_io)."""
    return q.get("file", q.get("source"))


# --------------------------------------------------------------------------- schema


def test_schema_prints_protocol_json_schema() -> None:
    res = _invoke(["schema"])
    assert res.exit_code == 0, res.output
    schema = json.loads(res.stdout)
    assert schema["title"] == "Protocol"
    assert "criteria" in schema["properties"]


# --------------------------------------------------------------------------- parse


@pytest.fixture(scope="module")
def parsed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Result, Path]:
    out = tmp_path_factory.mktemp("parse") / "criteria.json"
    return _invoke(["parse", str(PROTOCOL_TXT), "-o", str(out)]), out


def test_parse_writes_valid_model(parsed: tuple[Result, Path]) -> None:
    res, out = parsed
    assert res.exit_code == 0, res.output
    model = Protocol.model_validate_json(out.read_text(encoding="utf-8"))
    assert len(model.criteria) >= 20
    assert len(model.rule.cohorts) == 4
    assert len(model.rule.common_inclusions) == 3
    assert len(model.rule.exclusions) == 12
    assert f"{len(model.criteria)} criteria" in res.stderr


def test_parse_spans_slice_source_text(parsed: tuple[Result, Path]) -> None:
    _, out = parsed
    model = Protocol.model_validate_json(out.read_text(encoding="utf-8"))
    assert model.source_text
    for c in model.criteria:
        assert c.span is not None, c.id
        assert model.source_text[c.span.start : c.span.end] == c.text, c.id


def test_parse_missing_file_fails_naming_it(tmp_path: Path) -> None:
    missing = tmp_path / "no_such_protocol.txt"
    res = _invoke(["parse", str(missing), "-o", str(tmp_path / "c.json")])
    assert res.exit_code != 0
    assert "no_such_protocol.txt" in res.output
    assert not (tmp_path / "c.json").exists()


# --------------------------------------------------------------------------- match


@pytest.fixture(scope="module")
def match_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    d = tmp_path_factory.mktemp("match")
    sample = [json.loads(ln) for ln in _sample_lines()]
    good = sample[:3]
    partial = dict(sample[3], patient_id="PARTIAL-NOTE")
    partial["notes"] = [
        dict(n, note_id=f"PARTIAL-NOTE-N{i}") for i, n in enumerate(sample[3]["notes"], 1)
    ] + [
        {
            "note_id": "PARTIAL-NOTE-EMPTY",
            "date": "2025-01-02",
            "type": "progress_note",
            "text": "   ",
        }
    ]
    bad_date = dict(sample[4], patient_id="BAD-DATE", screening_date="12/01/2025")
    no_notes = dict(sample[5], patient_id="NO-NOTES", notes=[])
    lines = [
        json.dumps(good[0]),
        '{"patient_id": "BROKEN", "notes": [',
        json.dumps(good[1]),
        json.dumps(no_notes),
        json.dumps(partial),
        json.dumps(bad_date),
        json.dumps(good[2]),
    ]
    patients = d / "patients.jsonl"
    patients.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = d / "out.jsonl"
    res = _invoke(
        ["match", "--criteria", str(REFERENCE_MODEL), "--patients", str(patients), "-o", str(out)]
    )
    return {
        "res": res,
        "patients": patients,
        "out": out,
        "lines": lines,
        "good_ids": [p["patient_id"] for p in good],
        "inputs": {p["patient_id"]: p for p in [*good, partial]},
        "line_of": {
            "PARTIAL-NOTE": 5,
            good[0]["patient_id"]: 1,
            good[1]["patient_id"]: 3,
            good[2]["patient_id"]: 7,
        },
    }


def test_match_exit_and_output_patients(match_run: dict[str, Any]) -> None:
    assert match_run["res"].exit_code == 0, match_run["res"].output
    rows = _read_jsonl(match_run["out"])
    assert [r["patient_id"] for r in rows] == [
        *match_run["good_ids"][:2],
        "PARTIAL-NOTE",
        match_run["good_ids"][2],
    ]


def test_match_output_rows_follow_contract(match_run: dict[str, Any]) -> None:
    rows = _read_jsonl(match_run["out"])
    assert rows
    protocol = Protocol.model_validate_json(REFERENCE_MODEL.read_text(encoding="utf-8"))
    criterion_ids = {c.id for c in protocol.criteria}
    n_evidence = 0
    for r in rows:
        assert {"patient_id", "trial_id", "overall", "cohort", "score", "criteria"} <= set(r)
        assert r["trial_id"] == protocol.trial_id
        assert isinstance(r["score"], int | float)
        assert set(r["criteria"]) <= criterion_ids and r["criteria"]
        notes = {n["note_id"]: n["text"] for n in match_run["inputs"][r["patient_id"]]["notes"]}
        for cid, v in r["criteria"].items():
            assert v["label"] in LABELS, (r["patient_id"], cid)
            assert isinstance(v["reason"], str)
            assert isinstance(v["evidence"], list)
            for e in v["evidence"]:
                assert set(e) == {"note_id", "start", "end", "text"}
                assert e["note_id"] in notes, (r["patient_id"], cid, e)
                assert 0 <= e["start"] < e["end"] <= len(notes[e["note_id"]])
                assert isinstance(e["text"], str) and e["text"]
                n_evidence += 1
    assert n_evidence > 0
    assert "PARTIAL-NOTE-EMPTY" not in json.dumps(rows)


def test_match_quarantine_file_lists_bad_records(match_run: dict[str, Any]) -> None:
    q_path = match_run["out"].with_suffix(".quarantine.jsonl")
    assert q_path.name == "out.quarantine.jsonl"
    quarantine = _read_jsonl(q_path)
    for q in quarantine:
        assert _q_file(q) == str(match_run["patients"])
        assert q["record"] and q["reason"]
    by_record = {q["record"]: q for q in quarantine}
    assert "malformed JSON" in by_record["line 2"]["reason"]
    assert (
        "no notes" in by_record["line 4"]["reason"]
        and by_record["line 4"]["patient_id"] == "NO-NOTES"
    )
    assert (
        by_record["line 6"]["patient_id"] == "BAD-DATE"
        and "12/01/2025" in by_record["line 6"]["reason"]
    )
    note_q = by_record["line 5 note " + str(len(match_run["inputs"]["PARTIAL-NOTE"]["notes"]))]
    assert note_q["note_id"] == "PARTIAL-NOTE-EMPTY" and "no text" in note_q["reason"]
    assert len(quarantine) == 4
    # the command says how many were quarantined
    stderr = match_run["res"].stderr
    assert re.search(r"\b4 record\(s\) quarantined\b", stderr), stderr


def test_match_accounts_for_every_input_line(match_run: dict[str, Any]) -> None:
    rows = _read_jsonl(match_run["out"])
    quarantine = _read_jsonl(match_run["out"].with_suffix(".quarantine.jsonl"))
    out_lines = {match_run["line_of"][r["patient_id"]] for r in rows}
    q_lines = {
        int(m.group(1)) for q in quarantine if (m := re.fullmatch(r"line (\d+)", q["record"]))
    }
    assert not out_lines & q_lines  # a record is either matched or quarantined, not both
    assert out_lines | q_lines == set(range(1, len(match_run["lines"]) + 1))


# --------------------------------------------------------------------------- run


@pytest.fixture(scope="module")
def run_out(tmp_path_factory: pytest.TempPathFactory) -> tuple[Result, Path]:
    out = tmp_path_factory.mktemp("run") / "out"
    return _invoke(["run", "--out", str(out)]), out


def test_run_writes_outputs(run_out: tuple[Result, Path]) -> None:
    res, out = run_out
    assert res.exit_code == 0, res.output
    for name in ("elig.duckdb", "results.jsonl", "report.html"):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    n = len(_sample_lines())
    assert len(_read_jsonl(out / "results.jsonl")) == n
    con = duckdb.connect(str(out / "elig.duckdb"), read_only=True)
    try:
        row = con.execute("SELECT count(*) FROM overall").fetchone()
        assert row is not None and row[0] == n
    finally:
        con.close()


def test_run_prints_summary_line_per_patient(run_out: tuple[Result, Path]) -> None:
    res, _ = run_out
    ids = [json.loads(ln)["patient_id"] for ln in _sample_lines()]
    assert len(ids) == len(set(ids)) > 0
    table = [
        ln
        for ln in res.stdout.splitlines()
        if re.match(r"^\s*\d+\s+\S+\s+(eligible|excluded|needs_review|not_eligible)\s", ln)
    ]
    assert len(table) == len(ids)
    assert sorted(ln.split()[1] for ln in table) == sorted(ids)
    assert [int(ln.split()[0]) for ln in table] == list(range(1, len(ids) + 1))
    tally = re.search(r"^overall: (.*)$", res.stdout, re.M)
    assert tally is not None
    assert sum(int(x.rsplit(" ", 1)[1]) for x in tally.group(1).split(", ")) == len(ids)


# --------------------------------------------------------------------------- eval seed


def test_eval_seed_meets_acceptance_floor() -> None:
    assert (SEED_DIR / "gold.jsonl").is_file(), (
        f"seed set missing: {SEED_DIR} (CI puts shared/ next to the repo)"
    )
    res = _invoke(["eval", "seed", "--json"])
    assert res.exit_code == 0, res.output
    metrics = json.loads(res.stdout.strip().splitlines()[-1])
    n_seed = sum(
        1
        for ln in (SEED_DIR / "patients.jsonl").read_text(encoding="utf-8").splitlines()
        if ln.strip()
    )
    assert metrics["n_patients"] == n_seed
    assert metrics["criterion_acc"] >= 0.80, metrics["criterion_acc"]
    assert metrics["overall_acc"] >= 0.60, metrics["overall_acc"]


# --------------------------------------------------------------------------- extract


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    d = tmp_path_factory.mktemp("extract")
    facts, nlp = d / "facts.parquet", d / "note_nlp.csv"
    return {
        "facts_res": _invoke(["extract", str(SAMPLE_PATIENTS), "-o", str(facts)]),
        "facts": facts,
        "nlp_res": _invoke(
            ["extract", str(SAMPLE_PATIENTS), "-o", str(nlp), "--format", "note_nlp"]
        ),
        "nlp": nlp,
    }


def test_extract_parquet_has_design_columns(extracted: dict[str, Any]) -> None:
    assert extracted["facts_res"].exit_code == 0, extracted["facts_res"].output
    frame = pd.read_parquet(extracted["facts"])
    assert len(frame) > 0
    missing = [c for c in FACTS_COLUMNS if c not in frame.columns]
    assert not missing, missing
    sample_ids = {json.loads(ln)["patient_id"] for ln in _sample_lines()}
    assert set(frame["patient_id"]) <= sample_ids
    assert (frame["end"] > frame["start"]).all()


def test_extract_note_nlp_csv_has_omop_columns(extracted: dict[str, Any]) -> None:
    assert extracted["nlp_res"].exit_code == 0, extracted["nlp_res"].output
    frame = pd.read_csv(extracted["nlp"])
    assert list(frame.columns) == NOTE_NLP_COLUMNS
    assert len(frame) == len(pd.read_parquet(extracted["facts"]))
