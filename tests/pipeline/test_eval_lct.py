"""LCT entity evaluation: brat reading, the overlap matching rule, and the CLI on fixture files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.eval_lct import Entity, LctReport, read_ann, score_document, value_spans

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def test_read_ann_keeps_compared_types_only() -> None:
    ann = "T1\tCondition 0 6\tasthma\nT2\tCondition-Name 0 6\tasthma\nT3\tDrug 10 14;20 24\tx y\nE1\tCondition:T1"
    assert read_ann(ann) == [Entity("Condition", 0, 6, "asthma"), Entity("Drug", 10, 24, "x y")]


def test_overlap_same_type_one_to_one() -> None:
    gold = [Entity("Condition", 0, 10, ""), Entity("Drug", 20, 25, "")]
    predicted = [
        Entity("Condition", 5, 12, ""),  # overlaps: true positive
        Entity("Condition", 6, 9, ""),  # the gold span is used already: false positive
        Entity("Procedure", 20, 25, ""),  # same span, other type: false positive
    ]
    report = LctReport()
    score_document(gold, predicted, report)
    assert (report.per_type["Condition"].tp, report.per_type["Condition"].fp) == (1, 1)
    assert report.per_type["Drug"].fn == 1 and report.per_type["Procedure"].fp == 1
    assert round(report.micro().f1, 3) == 0.4  # P 1/3, R 1/2


def test_value_spans_need_an_operator_range_or_unit() -> None:
    text = "1. Age ≥ 18, ECOG 0~2, QTc 470 ms, in 2019"
    found = [text[s:e] for s, e in value_spans(text)]
    assert "≥ 18" in found and "0~2" in found and "470 ms" in found
    assert not any(f.strip() in ("1", "2019") for f in found)


def test_cli_eval_lct_on_fixtures(tmp_path: Path) -> None:
    for name in ("NCT03866265", "NCT03860038"):
        for ext in (".txt", ".ann"):
            shutil.copy(FIXTURES / f"lct_{name}{ext}", tmp_path / f"{name}{ext}")
    result = CliRunner().invoke(app, ["eval", "lct", "--dir", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.output.strip().splitlines()[-1])
    assert metrics["documents"] == 2 and 0.0 < metrics["micro_f1"] <= 1.0
    assert "overlapping" in metrics["matching_rule"]
    per_type = metrics["per_type"]
    # dyslipidaemia / dyslipidemia and multiple myeloma are in the lexicon
    assert per_type["Condition"]["tp"] >= 2


def test_cli_eval_lct_without_pairs_fails(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["eval", "lct", "--dir", str(tmp_path)])
    assert result.exit_code != 0
