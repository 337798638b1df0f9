"""`elig eval negex`: metrics computed by hand on a 9-row sample of the NegEx dev set.

tests/fixtures/negex_sample.jsonl (rows copied from ../shared/eval/negex/dev.jsonl):
  1 negex-5     negated      "no wheezes or RALES"
  2 negex-722   negated      "-ve for ..., BLEEDING"
  3 negex-1692  negated      "negative   for DVT"
  4 negex-1819  affirmed     "SIGMOID DIVERTICULOSIS WITHOUT DIVERTICULITIS" (cue inside target)
  5 negex-1515  affirmed     "no ... dilatation and positive for CHOLECYSTOLITHIASIS"
  6 negex-2106  affirmed     family history of COLON POLYPS (gold historical, family member)
  7 negex-3     affirmed     "HYPERTENSION." (gold historical)
  8 negex-376   affirmed     "a history of MULTIPLE SCLEROSIS" (gold historical)
  9 negex-21    affirmed     target not in the text (unlocated)
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.assertion import Assertion, TargetNotFoundError
from pipeline.cli import app
from pipeline.eval_negex import EvalInputError, binary_score, evaluate, read_rows

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "negex_sample.jsonl"


def test_read_rows_maps_gold_labels() -> None:
    rows = read_rows(SAMPLE)
    assert [r.id for r in rows][:3] == ["negex-5", "negex-722", "negex-1692"]
    assert [r.negated for r in rows] == [True, True, True] + [False] * 6
    assert [r.historical for r in rows] == [False] * 5 + [True, True, True, False]
    assert [r.family for r in rows] == [False] * 5 + [True] + [False] * 3


def test_read_rows_names_file_and_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "text": "t", "target": "t", "negated": false}\n\n{"id": "y"}\n')
    with pytest.raises(EvalInputError, match=r"E-NEGEX-002 .*bad.jsonl line 3"):
        read_rows(bad)
    with pytest.raises(EvalInputError, match="E-NEGEX-001"):
        read_rows(tmp_path / "missing.jsonl")


def test_binary_score_by_hand() -> None:
    score = binary_score([(True, True), (True, False), (False, True), (False, False), (True, True)])
    assert (score.tp, score.fn, score.fp, score.tn) == (2, 1, 1, 1)
    assert score.precision == pytest.approx(2 / 3)
    assert score.recall == pytest.approx(2 / 3)
    assert score.f1 == pytest.approx(2 / 3)
    assert score.accuracy == pytest.approx(3 / 5)
    empty = binary_score([(False, False)])
    assert (empty.precision, empty.recall, empty.f1, empty.accuracy) == (0.0, 0.0, 0.0, 1.0)


def test_evaluate_with_a_fixed_judge() -> None:
    """Predictions chosen by target; the expected metrics are counted by hand from the table."""
    negated = {"rales", "bleeding", "sigmoid diverticulosis without diverticulitis"}
    historical = {"Hypertension", "multiple sclerosis"}

    def judge(text: str, target: str) -> Assertion:
        if target.lower() not in " ".join(text.lower().split()):
            raise TargetNotFoundError("E-ASSERT-003 target not found in text")
        return Assertion(negated=target in negated, historical=target in historical)

    rep = evaluate(read_rows(SAMPLE), judge)
    # negation: gold rows 1-3, predicted 1, 2, 4 -> tp 2, fp 1 (row 4), fn 1 (row 3), tn 5
    n = rep.negation
    assert (n.tp, n.fp, n.fn, n.tn) == (2, 1, 1, 5)
    assert n.precision == pytest.approx(2 / 3) and n.recall == pytest.approx(2 / 3)
    assert n.f1 == pytest.approx(2 / 3)
    # historical: gold rows 6-8, predicted 7-8 -> 8 of 9 right
    assert rep.historical.accuracy == pytest.approx(8 / 9)
    assert rep.historical.recall == pytest.approx(2 / 3)
    # family: gold row 6, never predicted -> 8 of 9 right
    assert rep.family.accuracy == pytest.approx(8 / 9)
    assert rep.unlocated == 1
    assert {e["id"] for e in rep.errors} == {"negex-1692", "negex-1819"}
    out = rep.to_json(prefix="x_")
    assert out["x_negation_f1"] == round(2 / 3, 4)
    assert out["x_negation_counts"] == {"tp": 2, "fp": 1, "fn": 1, "tn": 5}


def test_cli_eval_negex_ours_and_baseline_on_the_sample() -> None:
    result = CliRunner().invoke(app, ["eval", "negex", "--input", str(SAMPLE), "--json"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert any(line.startswith("ours") for line in lines)
    assert any(line.startswith("medspaCy default") for line in lines)
    summary = json.loads(lines[-1])
    assert summary["n"] == 9
    # ours: every negation label of the sample right (our rules: -ve for, spaced "negative for",
    # positive-for termination, cue inside the target)
    assert summary["negation_counts"] == {"tp": 3, "fp": 0, "fn": 0, "tn": 6}
    assert summary["negation_f1"] == 1.0
    # medspaCy's default ConText misses -ve for and "negative   for", and negates rows 4 and 5
    assert summary["baseline_negation_counts"] == {"tp": 1, "fp": 2, "fn": 2, "tn": 4}
    assert summary["baseline_negation_precision"] == round(1 / 3, 4)
    assert summary["baseline_negation_recall"] == round(1 / 3, 4)
    assert summary["baseline_negation_f1"] == round(1 / 3, 4)
    assert summary["unlocated"] == summary["baseline_unlocated"] == 1
    assert summary["family_accuracy"] == 1.0


def test_cli_eval_negex_bad_input(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["eval", "negex", "--input", str(tmp_path / "none.jsonl")])
    assert result.exit_code == 2
    assert "E-NEGEX-001" in result.output
