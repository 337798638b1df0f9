"""Reliability: fuzzed readers never crash, corrupt batches account for every row, a killed
batch resumes to the same output, and the network is blocked during tests."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.batch import read_output, run_batch
from pipeline.patients_io import read_patients_jsonl
from pipeline.synth import write_synth
from pipeline.values import read_quantity, read_result

REPO = Path(__file__).resolve().parents[2]
ELIG = Path(sys.executable).with_name("elig")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
patientish = st.fixed_dictionaries(
    {},
    optional={
        "patient_id": st.one_of(st.text(max_size=8), st.integers(), st.none()),
        "sex": st.one_of(st.sampled_from(["F", "M", ""]), json_values),
        "birth_date": st.one_of(st.dates().map(str), st.text(max_size=12), json_values),
        "screening_date": st.one_of(st.dates().map(str), st.text(max_size=12)),
        "notes": st.one_of(
            st.lists(
                st.fixed_dictionaries(
                    {},
                    optional={
                        "note_id": st.one_of(st.text(max_size=6), st.integers(), st.none()),
                        "date": st.one_of(st.dates().map(str), st.text(max_size=12), json_values),
                        "type": json_values,
                        "text": st.one_of(st.text(max_size=60), json_values),
                    },
                ),
                max_size=3,
            ),
            json_values,
        ),
    },
)
line = st.one_of(
    patientish.map(lambda o: json.dumps(o).encode()),
    json_values.map(lambda o: json.dumps(o).encode()),
    st.binary(max_size=60),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(line, max_size=6))
def test_jsonl_reader_never_raises(lines: list[bytes]) -> None:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "p.jsonl"
        path.write_bytes(b"\n".join(x.replace(b"\n", b" ") for x in lines) + b"\n")
        read = read_patients_jsonl(path)
    n_records = sum(1 for x in lines if x.replace(b"\n", b" ").strip())
    ids = [p.patient_id for p in read.patients]
    assert len(ids) == len(set(ids))
    # every non-blank line ends as a patient or at least one quarantine record
    lines_out = {q.record.split(" note ")[0] for q in read.quarantine}
    assert len(read.patients) + len(lines_out) >= n_records


units = st.lists(st.sampled_from(["mg/dL", "U/L", "umol/L", "%", "x10^9/L", "g/dL"]), max_size=3)
noisy = st.text(
    alphabet=st.sampled_from(list("0123456789.,<>=-+ xX/%^ULNmgdlumo()\u00b5\u2264\u2265\t\n"))
    | st.characters(),
    max_size=40,
)


@settings(max_examples=300, deadline=None)
@given(noisy, units, st.booleans())
def test_read_quantity_never_raises(after: str, unit_list: list[str], unitless: bool) -> None:
    value = read_quantity(after, unit_list, unitless)
    if value is not None:
        assert value == value  # a LabValue, not garbage


@settings(max_examples=300, deadline=None)
@given(noisy, noisy)
def test_read_result_never_raises(before: str, after: str) -> None:
    assert read_result(before, after) in (None, "positive", "negative")


def _corrupt_jsonl(path: Path, n: int) -> dict[str, int]:
    """``n`` NOTE lines; 1% each of: bad JSON, non-UTF-8, missing ids, duplicate ids, 1 MB note."""
    good = "Crohn disease diagnosed 2019. Denies HIV. ALT 45 U/L. Failed infliximab."
    kinds = ["bad_json", "non_utf8", "missing_id", "duplicate", "huge"]
    step = 100
    with path.open("wb") as fh:
        for i in range(n):
            rec = {
                "note_id": 5000 + i,
                "person_id": i // 2,
                "note_date": "2025-01-05",
                "note_text": good,
            }
            kind = kinds[(i // step) % len(kinds)] if i % step == 37 else None
            if kind == "bad_json":
                fh.write(b'{"note_id": 1, "note_text": "unterminated\n')
                continue
            if kind == "non_utf8":
                fh.write(json.dumps(rec).encode().replace(b"Crohn", b"Cr\xff\xfehn") + b"\n")
                continue
            if kind == "missing_id":
                rec.pop("note_id")
            elif kind == "duplicate":
                rec["note_id"] = 5000
            elif kind == "huge":
                rec["note_text"] = good + " x" * 500_000
            fh.write(json.dumps(rec).encode() + b"\n")
    return {"rows": n, "corrupt": n // step}


def test_batch_with_one_percent_corrupt_records_accounts_for_every_row(tmp_path: Path) -> None:
    src = tmp_path / "notes.jsonl"
    info = _corrupt_jsonl(src, 500)
    summary = run_batch(src, tmp_path / "out", partition_size=100, scheduler="sync")
    assert summary.input_rows == info["rows"]
    assert summary.notes + summary.quarantined == info["rows"]
    assert summary.quarantined == info["corrupt"] == 5
    q = read_output(tmp_path / "out", "quarantine")
    reasons = " | ".join(q["reason"])
    for expected in (
        "malformed JSON",
        "not UTF-8",
        "missing note_id",
        "duplicate note_id",
        "note too long",
    ):
        assert expected in reasons, reasons
    assert read_output(tmp_path / "out", "notes")["note_id"].is_unique
    # no note text in the quarantine or the logs: only ids and reasons
    assert "Crohn" not in q.to_csv()


def _outputs(out: Path) -> dict[str, pd.DataFrame]:
    return {t: read_output(out, t) for t in ("facts", "notes", "quarantine")}


def test_kill_9_then_rerun_gives_the_uninterrupted_output(tmp_path: Path) -> None:
    src = tmp_path / "notes.parquet"
    write_synth(src, 60, seed=11)
    ref = tmp_path / "ref"
    run_batch(src, ref, partition_size=3, scheduler="sync")
    out = tmp_path / "killed"
    args = [str(ELIG), "batch", "--input", str(src), "--out", str(out), "--workers", "1",
            "--partition-size", "3"]  # fmt: skip
    proc = subprocess.Popen(
        args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        deadline = time.monotonic() + 120
        while not list((out / "facts").glob("part-*.parquet")):
            assert proc.poll() is None, "batch ended before any partition was written"
            assert time.monotonic() < deadline, "no partition written in 120 s"
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the batch and its Dask workers, nothing else
        proc.wait()
    done = len(list((out / "facts").glob("part-*.parquet")))
    assert 1 <= done < 20, done  # killed mid-run
    res = subprocess.run(args, capture_output=True, text=True, timeout=300, check=False)
    assert res.returncode == 0, res.stderr[-2000:]
    assert f"({done} already done)" in res.stderr, res.stderr[-500:]
    got, want = _outputs(out), _outputs(ref)
    for table in want:
        pd.testing.assert_frame_equal(got[table], want[table])


def test_network_is_blocked_but_loopback_is_open() -> None:
    from pytest_socket import SocketConnectBlockedError

    with pytest.raises(SocketConnectBlockedError):
        socket.create_connection(("192.0.2.1", 80), timeout=1)  # TEST-NET-1, never routed
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    client = socket.create_connection(server.getsockname(), timeout=2)
    client.close()
    server.close()
