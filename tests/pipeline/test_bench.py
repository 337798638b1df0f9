"""`elig bench` logic on tiny inputs: reading notes, ratios, the plan of runs, the JSON contract.

No timing is asserted (speed belongs to the benchmark itself); workers are faked where a real
subprocess would only add seconds.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline import bench
from pipeline.bench import (
    BenchError,
    CorpusReport,
    Note,
    SystemResult,
    bench_corpus,
    format_report,
    read_mtsamples,
    synthetic_notes,
)
from pipeline.cli import app


def write_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    lines = ["note_id,description,medical_specialty,sample_name,transcription,keywords"]
    lines += [f'{nid},d,s,n,"{text}",k' for nid, text in rows]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def result(system: str, notes: int, seconds: float, n_process: int = 1) -> SystemResult:
    return SystemResult(system, notes, notes * 100, seconds, 300.0, 0.5, 1.0, 7, n_process)


def test_read_mtsamples_skips_empty_transcriptions_and_honours_limit(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "m.csv", [("1", "Chest pain."), ("2", "  "), ("3", "No fever.")])
    assert [n.note_id for n in read_mtsamples(path)] == ["1", "3"]
    assert [n.note_id for n in read_mtsamples(path, limit=1)] == ["1"]


def test_read_mtsamples_limit_spreads_over_the_whole_file(tmp_path: Path) -> None:
    rows = [(str(i), f"Note {i}.") for i in range(10)]
    path = write_csv(tmp_path / "m.csv", rows)
    assert [n.note_id for n in read_mtsamples(path, limit=5)] == ["0", "2", "4", "6", "8"]
    assert len(read_mtsamples(path, limit=50)) == 10


def test_read_mtsamples_errors_are_coded_and_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(BenchError, match="E-BENCH-001"):
        read_mtsamples(tmp_path / "missing.csv")
    bad = tmp_path / "bad.csv"
    bad.write_text("id,text\n1,x\n", encoding="utf-8")
    with pytest.raises(BenchError, match=r"E-BENCH-002.*bad\.csv"):
        read_mtsamples(bad)
    empty = write_csv(tmp_path / "empty.csv", [("1", " ")])
    with pytest.raises(BenchError, match="E-BENCH-003"):
        read_mtsamples(empty)


def test_synthetic_notes_are_deterministic_and_clinical() -> None:
    first, again = synthetic_notes(5), synthetic_notes(5)
    assert first == again and len(first) == 5
    assert len({n.note_id for n in first}) == 5
    assert all("MEDICATIONS:" in n.text for n in first)
    assert synthetic_notes(5, seed=1) != first


def test_summary_ratios_and_speedup() -> None:
    report = CorpusReport("c")
    report.results["ours"] = result("ours", 100, 2.0)  # 50 notes/s
    report.results["medspacy"] = result("medspacy", 10, 2.0)  # 5 notes/s
    report.results["tokenizer"] = result("tokenizer", 100, 0.5)  # 200 notes/s
    report.results["ours_parallel"] = result("ours_parallel", 100, 1.25, n_process=2)
    s = report.summary()
    assert s["ours_notes_per_s"] == 50.0
    assert s["ratio_vs_medspacy"] == 10.0
    assert s["ratio_vs_tokenizer"] == 0.25
    assert s["speedup_2_processes"] == 1.6
    assert s["load_s"] == 0.5 and s["peak_rss_mb"] == 300.0
    assert any("speed-up with 2 processes: 1.6x" in line for line in format_report(report))


def test_cpu_time_ratios_use_cpu_seconds() -> None:
    report = CorpusReport("c")
    report.results["ours"] = SystemResult("ours", 100, 1, 4.0, 1.0, 0.1, 0.1, cpu_seconds=1.0)
    report.results["medspacy"] = SystemResult(
        "medspacy", 10, 1, 1.0, 1.0, 0.1, 0.1, cpu_seconds=1.0
    )
    s = report.summary()
    assert s["ratio_vs_medspacy"] == 2.5  # wall: 25 vs 10 notes/s
    assert s["ratio_vs_medspacy_cpu"] == 10.0  # CPU: 100 vs 10 notes per CPU second
    assert s["ratio_vs_tokenizer_cpu"] is None


def test_missing_system_gives_no_ratio() -> None:
    report = CorpusReport("c")
    report.results["ours"] = result("ours", 10, 1.0)
    assert report.summary()["ratio_vs_medspacy"] is None


def test_bench_corpus_plan_limits_medspacy_and_adds_parallel_run() -> None:
    calls: list[tuple[str, int, int]] = []

    def fake(system: str, notes: Sequence[Note], n_process: int = 1) -> SystemResult:
        calls.append((system, len(notes), n_process))
        return result(system, len(notes), 1.0, n_process)

    notes = synthetic_notes(6)
    bench_corpus("c", notes, medspacy_limit=2, n_process=1, runner=fake)
    assert calls == [("tokenizer", 6, 1), ("ours", 6, 1), ("medspacy", 2, 1)]
    calls.clear()
    bench_corpus("c", notes, medspacy_limit=2, n_process=2, runner=fake)
    assert calls[-1] == ("ours_parallel", 6, 2)


def test_tokenizer_worker_counts_tokens() -> None:
    figures = bench._measure("tokenizer", ["No fever.", "BP 120/80 today"], 1, 1)
    assert figures["notes"] == 2
    assert figures["tokens"] == 3 + 3
    assert figures["peak_rss_mb"] > 0


def test_ours_worker_counts_facts() -> None:
    figures = bench._measure("ours", ["Rheumatoid arthritis on methotrexate."], 1, 0)
    assert figures["facts"] >= 2 and figures["tokens"] == 5


def test_cli_json_last_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_csv(tmp_path / "m.csv", [("1", "Chest pain."), ("2", "No fever.")])

    def fake(system: str, notes: Sequence[Note], n_process: int = 1) -> SystemResult:
        return result(system, len(notes), {"tokenizer": 0.1, "medspacy": 4.0}.get(system, 1.0))

    monkeypatch.setattr(bench, "run_system", fake)
    out = CliRunner().invoke(app, ["bench", "--json", "--mtsamples", str(path), "--synthetic", "3"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output.strip().splitlines()[-1])
    for key in (
        "ours_notes_per_s",
        "medspacy_notes_per_s",
        "tokenizer_notes_per_s",
        "ratio_vs_medspacy",
        "ratio_vs_tokenizer",
        "load_s",
        "peak_rss_mb",
    ):
        assert key in data
    assert data["ratio_vs_medspacy"] == 4.0 and data["synthetic"]["corpus"] == "synthetic"


def test_cli_bad_input_exits_non_zero(tmp_path: Path) -> None:
    out = CliRunner().invoke(app, ["bench", "--mtsamples", str(tmp_path / "nope.csv")])
    assert out.exit_code == 2
