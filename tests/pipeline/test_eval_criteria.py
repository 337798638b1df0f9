"""`elig judge` and `elig eval criteria` on a few TrialGPT rows copied into tests/fixtures."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.eval_criteria import majority_label, read_pairs, score_criteria

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SAMPLE = FIXTURES / "tgc_sample.jsonl"
LABELS = {"met", "not_met", "unknown", "not_applicable"}
runner = CliRunner()


def test_judge_cli_writes_one_verdict_per_pair_and_quarantines_bad_lines(tmp_path: Path) -> None:
    rows = read_pairs(SAMPLE)[:4]
    pairs = tmp_path / "pairs.jsonl"
    with pairs.open("w") as fh:
        for r in rows:
            fh.write(json.dumps(r) + "\n")
        fh.write("{not json\n")
        fh.write(
            json.dumps(
                {"id": "x", "patient_text": "A 50-year-old man.", "criterion_type": "inclusion"}
            )
            + "\n"
        )
        fh.write(
            json.dumps(
                {
                    "id": "y",
                    "patient_text": "A man.",
                    "criterion_text": "Age > 18",
                    "criterion_type": "other",
                }
            )
            + "\n"
        )
    out = tmp_path / "out.jsonl"
    result = runner.invoke(app, ["judge", "--input", str(pairs), "-o", str(out)])
    assert result.exit_code == 0, result.output
    judged = [json.loads(line) for line in out.read_text().splitlines()]
    assert [j["id"] for j in judged] == [r["id"] for r in rows]
    for j in judged:
        assert set(j) == {"id", "label", "evidence", "reason"}
        assert j["label"] in LABELS
    quarantine = [
        json.loads(line) for line in out.with_suffix(".quarantine.jsonl").read_text().splitlines()
    ]
    reasons = " ".join(q["reason"] for q in quarantine)
    assert len(quarantine) == 3
    assert "E-JUDGE-001" in reasons and "criterion_text" in reasons and "criterion_type" in reasons


def test_judge_cli_fails_clearly_on_missing_input(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["judge", "--input", str(tmp_path / "nope.jsonl"), "-o", str(tmp_path / "o.jsonl")]
    )
    assert result.exit_code != 0
    assert "E-IO-001" in result.output


def test_evidence_spans_point_into_the_patient_text(tmp_path: Path) -> None:
    rows = read_pairs(SAMPLE)
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "out.jsonl"
    assert runner.invoke(app, ["judge", "--input", str(pairs), "-o", str(out)]).exit_code == 0
    texts = {r["id"]: r["patient_text"] for r in rows}
    spans = [
        (j["id"], e) for j in map(json.loads, out.read_text().splitlines()) for e in j["evidence"]
    ]
    assert spans, "some sample pair should have evidence"
    for pid, e in spans:
        assert texts[pid][e["start"] : e["end"]] == e["text"]


def test_score_criteria_counts_and_baselines() -> None:
    rows = read_pairs(SAMPLE)
    rep = score_criteria(rows)
    assert rep.n == len(rows)
    assert sum(sum(r.values()) for r in rep.confusion.values()) == len(rows)
    expected_majority = sum(majority_label(r["criterion_type"]) == r["label"] for r in rows) / len(
        rows
    )
    assert rep.majority_accuracy == expected_majority
    expected_gpt4 = sum(r["gpt4_label"] == r["label"] for r in rows) / len(rows)
    assert rep.gpt4_accuracy == expected_gpt4
    correct = sum(rep.confusion[g][g] for g in rep.confusion)
    assert rep.accuracy == correct / len(rows)


def test_eval_criteria_cli_json_last_line() -> None:
    result = runner.invoke(app, ["eval", "criteria", "--input", str(SAMPLE), "--json"])
    assert result.exit_code == 0, result.output
    last = json.loads(result.output.strip().splitlines()[-1])
    assert 0 <= last["accuracy"] <= 1
    assert {"gpt4_accuracy", "majority_accuracy", "per_label", "confusion", "evidence"} <= set(last)
    assert "accuracy GPT-4" in result.output and "accuracy majority" in result.output


def test_patient_halves_keep_each_patient_in_one_half() -> None:
    from pipeline.eval_criteria import patient_halves

    rows = [{"patient_id": p, "id": str(i)} for i, p in enumerate("aabbcdd")]
    halves = patient_halves(rows)
    assert sum(len(v) for v in halves.values()) == len(rows)
    assert {r["patient_id"] for r in halves["A"]} == {"a", "c"}
    assert {r["patient_id"] for r in halves["B"]} == {"b", "d"}


def test_eval_criteria_cli_reports_halves() -> None:
    result = runner.invoke(app, ["eval", "criteria", "--input", str(SAMPLE), "--halves"])
    assert result.exit_code == 0, result.output
    assert "half A" in result.output
