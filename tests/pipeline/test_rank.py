"""`elig rank`, `elig eval trec` and `elig explain` on small fixtures."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.rank import (
    Trial,
    TrialScore,
    patient_text_lines,
    read_qrels,
    score_trial,
    split_criteria,
    write_run,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()

PATIENT = (
    "0. A 58-year-old woman presents with chest pain.\n"
    "1. She is known to have hypertension.\n"
    "2. The patient will provide informed consent."
)


def test_split_criteria_items() -> None:
    text = "inclusion criteria: \n\n Age over 18 years \n\n - Chest pain \n 1. Informed consent"
    assert split_criteria(text) == ("Age over 18 years", "Chest pain", "Informed consent")
    assert split_criteria(None) == ()


def test_patient_paragraph_becomes_numbered_sentences() -> None:
    lines = patient_text_lines("A 58-year-old woman has chest pain. She smokes.").splitlines()
    assert lines == ["0. A 58-year-old woman has chest pain.", "1. She smokes."]


def _trial(tid: str, inc: tuple[str, ...], exc: tuple[str, ...]) -> Trial:
    return Trial(tid, "Chest pain in women", "", inc, exc, ("Chest Pain",))


def test_eligible_trial_outranks_excluded_and_ineligible_ones() -> None:
    eligible = score_trial(
        PATIENT, _trial("A", ("Chest pain", "Age over 18 years"), ("Heart failure",))
    )
    excluded = score_trial(PATIENT, _trial("B", ("Chest pain",), ("Hypertension",)))
    too_old = score_trial(PATIENT, _trial("C", ("Chest pain", "Age 70-90 years"), ()))
    assert eligible.counts["inc_met"] == 2 and excluded.counts["exc_met"] == 1
    assert eligible.score > excluded.score
    assert eligible.score > too_old.score


def test_off_topic_trial_ranks_below_on_topic_one() -> None:
    on = score_trial(PATIENT, _trial("A", ("Age over 18 years",), ()))
    off = score_trial(
        PATIENT, Trial("B", "Asthma in children", "", ("Age over 18 years",), (), ("Asthma",))
    )
    assert on.score > off.score


def test_ties_go_to_the_trial_whose_criteria_the_summary_decides() -> None:
    decided = score_trial(PATIENT, _trial("A", ("Chest pain",), ("Asthma",)))
    undecided = score_trial(PATIENT, _trial("B", ("Chest pain",), ("Serum creatinine > 2 mg/dL",)))
    main_terms = [round(s.score, 2) for s in (decided, undecided)]
    assert main_terms[0] == main_terms[1]  # same main score: the tie-breaker decides
    assert decided.score > undecided.score


def test_run_scores_strictly_decrease_so_evaluators_keep_our_order(tmp_path: Path) -> None:
    tied = [TrialScore(t, 2.0, 1.0, {}, []) for t in ("NCT2", "NCT1", "NCT3")]
    path = tmp_path / "run.trec"
    write_run({"q": tied}, path)
    rows = [line.split() for line in path.read_text().splitlines()]
    assert [r[2] for r in rows] == ["NCT2", "NCT1", "NCT3"]
    scores = [float(r[4]) for r in rows]
    assert scores == sorted(scores, reverse=True) and len(set(scores)) == 3


def test_read_qrels_skips_header_and_reports_bad_rows(tmp_path: Path) -> None:
    assert read_qrels(FIXTURES / "rank_qrels.tsv")["sigir-20141"]
    bad = tmp_path / "q.tsv"
    bad.write_text("q1 d1 2\nq1 d2 high\n")
    try:
        read_qrels(bad)
    except ValueError as e:
        assert "E-RANK-004" in str(e) and ":2" in str(e)
    else:
        raise AssertionError("bad grade accepted")


def test_rank_and_eval_trec_cli(tmp_path: Path) -> None:
    run = tmp_path / "run.trec"
    result = runner.invoke(
        app,
        [
            "rank",
            "--corpus",
            str(FIXTURES / "rank_corpus.jsonl"),
            "--queries",
            str(FIXTURES / "rank_queries.jsonl"),
            "--candidates",
            str(FIXTURES / "rank_qrels.tsv"),
            "-o",
            str(run),
        ],
    )
    assert result.exit_code == 0, result.output
    lines = [line.split() for line in run.read_text().splitlines()]
    assert len(lines) == 6
    assert all(len(parts) == 6 and parts[1] == "Q0" for parts in lines)
    assert [int(p[3]) for p in lines] == list(range(1, 7))
    scores = [float(p[4]) for p in lines]
    assert scores == sorted(scores, reverse=True)

    result = runner.invoke(
        app,
        [
            "eval",
            "trec",
            "--run",
            str(run),
            "--qrels",
            str(FIXTURES / "rank_qrels.tsv"),
            "--corpus",
            str(FIXTURES / "rank_corpus.jsonl"),
            "--queries",
            str(FIXTURES / "rank_queries.jsonl"),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.output.strip().splitlines()[-1])
    for key in ("ndcg_cut_10", "P_10", "mrr", "bm25_ndcg_cut_10"):
        assert 0 <= metrics[key] <= 1


def test_eval_trec_rejects_a_malformed_run(tmp_path: Path) -> None:
    run = tmp_path / "run.trec"
    run.write_text("q1 Q0 d1 1\n")
    result = runner.invoke(
        app, ["eval", "trec", "--run", str(run), "--qrels", str(FIXTURES / "rank_qrels.tsv")]
    )
    assert result.exit_code != 0
    assert "E-TREC-001" in result.output


def test_explain_shows_labels_and_evidence_in_context() -> None:
    patients = REPO / "corpora" / "sample" / "patients.jsonl"
    criteria = REPO / "corpora" / "protocols" / "cd7_cart_autoimmune.criteria.json"
    pid = json.loads(patients.read_text().splitlines()[0])["patient_id"]
    result = runner.invoke(
        app, ["explain", pid, "--criteria", str(criteria), "--patients", str(patients)]
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith(pid)
    assert "[[" in result.output and "]]" in result.output
    assert "EXC-HIV" in result.output
    missing = runner.invoke(
        app, ["explain", "NOPE", "--criteria", str(criteria), "--patients", str(patients)]
    )
    assert missing.exit_code != 0 and "E-EXPLAIN-001" in missing.output
