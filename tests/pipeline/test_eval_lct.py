"""LCT entity evaluation: brat reading, the overlap matching rule, and the CLI on fixture files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.criterion_entities import Entity, value_spans
from pipeline.eval_lct import LctReport, read_ann, score_document

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


def test_value_spans_include_time_anchors_and_number_words() -> None:
    from pipeline.criterion_entities import value_spans

    text = "History of stroke; currently receiving dialysis; at least two relapses; prior to entry"
    found = [text[s:e].lower() for s, e in value_spans(text)]
    assert "history" in found and "at least two" in found
    assert any(f.startswith("currently") for f in found)
    assert not any("prior" in f for f in found)  # "prior to" is a plain preposition


def test_value_spans_merge_touching_anchors() -> None:
    from pipeline.criterion_entities import value_spans

    text = "seizure within the past 6 months"
    assert [text[s:e] for s, e in value_spans(text)] == ["within the past 6 months"]


def test_predicted_entities_use_lct_types_for_allergy_and_symptoms() -> None:
    from pipeline.criterion_entities import _lct_condition_type

    assert _lct_condition_type("penicillin allergy") == "Allergy"
    assert _lct_condition_type("low back pain") == "Observation"
    assert _lct_condition_type("uncontrolled") == "Modifier"
    assert _lct_condition_type("kidney stone") == "Condition"


def test_predicted_entities_add_uncoded_mentions() -> None:
    from pipeline.criterion_entities import entities_of as predicted_entities

    text = "Prior hemipelvectomy or osteochondroma; current smokers"
    ents = {(e.type, e.text.lower()) for e in predicted_entities(text)}
    assert ("Procedure", "hemipelvectomy") in ents and ("Condition", "osteochondroma") in ents
    assert ("Observation", "smokers") in ents and ("Eq-Comparison", "current") in ents


def test_touching_same_type_entities_are_one_mention() -> None:
    from pipeline.criterion_entities import _join_touching

    text = "bypass surgery, stroke"
    ents = [
        Entity("Procedure", 0, 6, "bypass"),
        Entity("Procedure", 7, 14, "surgery"),
        Entity("Condition", 16, 22, "stroke"),
    ]
    joined = _join_touching(ents, text)
    assert [(e.type, e.text) for e in joined] == [
        ("Procedure", "bypass surgery"),
        ("Condition", "stroke"),
    ]
    # a comma separates two mentions
    two = [Entity("Condition", 0, 1, "a"), Entity("Condition", 3, 4, "b")]
    assert len(_join_touching(two, "a, b")) == 2


def test_asa_score_and_vaccines_take_their_lct_types() -> None:
    from pipeline.criterion_entities import entities_of as predicted_entities

    score = {(e.type, e.text) for e in predicted_entities("Physical status ASA class II or III")}
    assert any(t == "Observation" and x.startswith("ASA") for t, x in score)
    assert not any(t == "Drug" for t, _ in score)
    dose = {(e.type, e.text) for e in predicted_entities("Takes ASA 325 mg daily")}
    assert ("Drug", "ASA") in dose
    shots = predicted_entities("Received a live vaccine or influenza vaccination")
    assert not any(e.type in ("Drug", "Procedure") for e in shots)


def test_drug_named_as_a_treatment_act_or_state_is_not_a_drug() -> None:
    from pipeline.criterion_entities import entities_of as predicted_entities

    text = "Requires anticoagulation; known immunosuppression; antiviral treatment"
    ents = {(e.type, e.text.lower()) for e in predicted_entities(text)}
    assert ("Procedure", "anticoagulation") in ents
    assert ("Condition", "immunosuppression") in ents
    assert ("Procedure", "antiviral treatment") in ents
    assert not any(t == "Drug" for t, _ in ents)
