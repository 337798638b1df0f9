"""Batch on Dask: partitioned Parquet out, resumable, quarantine, same output as in-process."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.batch import BatchError, read_output, run_batch
from pipeline.cli import app
from pipeline.progress import Progress
from pipeline.synth import NOTE_COLUMNS, synth_notes, write_synth


@pytest.fixture(scope="module")
def notes_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("batch") / "notes.parquet"
    write_synth(path, 24, seed=5)
    return path


def test_synth_notes_are_varied_omop_rows() -> None:
    frame = synth_notes(60, seed=1)
    assert list(frame.columns) == NOTE_COLUMNS and frame["note_id"].is_unique
    assert frame["note_text"].nunique() == 60
    text = "\n".join(frame["note_text"])
    for word in ("Denies", "No history of", "mg", "U/L", "Plan:"):
        assert word in text
    assert synth_notes(5, seed=2).equals(synth_notes(5, seed=2))
    assert not synth_notes(5, seed=2).equals(synth_notes(5, seed=3))


def test_sync_run_is_resumable_and_partitioned(
    notes_file: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "out"
    with caplog.at_level(logging.DEBUG):
        first = run_batch(notes_file, out, partition_size=10, scheduler="sync")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "partition 0: 10 notes" in logged
    texts = pd.read_parquet(notes_file)["note_text"]
    assert not any(line in logged for t in texts for line in t.splitlines() if len(line) > 15)
    assert (first.partitions, first.skipped_partitions) == (3, 0)
    assert first.notes + first.quarantined == first.input_rows == 24
    assert sorted(p.name for p in (out / "facts").iterdir()) == [
        "part-00000.parquet",
        "part-00001.parquet",
        "part-00002.parquet",
    ]
    facts = read_output(out)
    assert len(facts) == first.facts > 24 and set(facts["category"]) >= {"diagnosis", "drug", "lab"}
    (out / "facts" / "part-00001.parquet").unlink()  # as if the run died in partition 1
    before = {p: p.stat().st_mtime_ns for p in (out / "facts").iterdir()}
    second = run_batch(notes_file, out, partition_size=10, scheduler="sync")
    assert second.skipped_partitions == 2
    assert all(p.stat().st_mtime_ns == t for p, t in before.items())  # untouched
    assert read_output(out).equals(facts)
    summary = json.loads((out / "_summary.json").read_text())
    assert summary["notes"] == 24 and summary["facts"] == len(facts)
    with pytest.raises(BatchError, match="E-BATCH-001"):
        run_batch(notes_file, out, partition_size=7, scheduler="sync")


def test_cli_batch_on_local_dask_cluster_matches_sync(notes_file: Path, tmp_path: Path) -> None:
    ref = tmp_path / "sync"
    run_batch(notes_file, ref, partition_size=8, scheduler="sync")
    out = tmp_path / "dask"
    res = CliRunner().invoke(
        app,
        ["batch", "--input", str(notes_file), "--out", str(out), "--workers", "2",
         "--partition-size", "8"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    assert "24 rows: 24 notes, 0 quarantined" in res.output
    for table in ("facts", "notes", "quarantine"):
        pd.testing.assert_frame_equal(read_output(out, table), read_output(ref, table))


def test_cli_batch_bad_input_is_a_clear_error(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["batch", "--input", str(tmp_path / "x.parquet"), "--out", "o"])
    assert res.exit_code != 0 and "E-IO-001" in res.output


def test_progress_plain_lines_have_counts_rate_eta(tmp_path: Path) -> None:
    log = tmp_path / "progress.txt"
    with log.open("w") as fh, Progress(10, desc="batch", stream=fh, every_s=0.0) as bar:
        bar.update(4)
        bar.update(6)
    lines = log.read_text().splitlines()
    assert lines[0].startswith("batch: 4/10 records, ") and "/s, ETA " in lines[0]
    assert lines[-1].startswith("batch: 10/10 records") and lines[-1].endswith("(done)")
