"""Resumable batch extraction on Dask: NOTE records in, partitioned Parquet facts out.

Why this shape: a long run must survive a crash and be spread over processes or machines.
The input is read once by the driver (which also finds duplicate note ids across the whole
input), cut into fixed partitions of ``partition_size`` rows, and each partition is processed by a
worker that loads its own spaCy pipeline (docs never cross processes; only plain rows come
back). A finished partition is written atomically (tmp file, then ``os.replace``) and its facts
file is the completion marker, so a rerun skips finished partitions. Bad records are kept in the
partition's quarantine file with a reason, so ``notes rows + quarantine rows == input rows``.
Workers must see the output folder (shared filesystem when using a remote scheduler).
Logs carry ids and counts only, never note text.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from criteria_models.facts import PatientFact
from pipeline.omop_io import clean_id, note_text
from pipeline.patients_io import InputError, parse_date

log = logging.getLogger(__name__)

MANIFEST = "_manifest.json"
SUMMARY = "_summary.json"
DEFAULT_MAX_CHARS = 200_000
Record = dict[str, Any]


class BatchError(Exception):
    """E-BATCH-001: the output folder belongs to a different input or partitioning."""


@dataclass
class BatchSummary:
    input_rows: int
    partitions: int
    skipped_partitions: int
    notes: int
    quarantined: int
    facts: int
    elapsed_s: float
    reasons: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


# --------------------------------------------------------------------------- input


def _record(row: int, obj: dict[str, Any]) -> Record:
    lower = {str(k).lower(): v for k, v in obj.items()}
    return {
        "row": row,
        "note_id": lower.get("note_id"),
        "person_id": lower.get("person_id"),
        "note_date": lower.get("note_date"),
        "note_text": lower.get("note_text"),
        "error": None,
    }


def _read_jsonl(path: Path) -> list[Record]:
    out: list[Record] = []
    with path.open("rb") as fh:
        row = 0
        for raw in fh:
            if not raw.strip():
                continue
            row += 1
            try:
                obj = json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError as e:
                out.append({"row": row, "error": f"not UTF-8 ({e.reason})"})
                continue
            except json.JSONDecodeError as e:
                out.append({"row": row, "error": f"malformed JSON: {e.msg}"})
                continue
            if not isinstance(obj, dict):
                out.append({"row": row, "error": "record is not a JSON object"})
                continue
            out.append(_record(row, obj))
    return out


def read_records(path: str | Path) -> list[Record]:
    """Input rows (NOTE shape) as records; unreadable rows carry an ``error`` reason.

    A second occurrence of a note_id anywhere in the input is marked as a duplicate.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"E-IO-001 {p}: file not found")
    suffix = p.suffix.lower()
    if suffix == ".jsonl":
        records = _read_jsonl(p)
    elif suffix in (".parquet", ".pq", ".csv"):
        try:
            frame = (
                pd.read_csv(p, dtype=str, keep_default_na=False, encoding_errors="replace")
                if suffix == ".csv"
                else pd.read_parquet(p)
            )
        except Exception as e:  # corrupt file: many exception types
            raise InputError(f"E-IO-001 {p}: cannot read: {type(e).__name__}") from None
        records = [_record(i, obj) for i, obj in enumerate(frame.to_dict("records"), start=1)]
    else:
        raise InputError(f"E-IO-001 {p}: unknown input format (use .parquet, .csv or .jsonl)")
    first: dict[str, int] = {}
    for r in records:
        if r.get("error"):
            continue
        nid = clean_id(r.get("note_id"))
        if nid is None:
            continue
        if nid in first:
            r["error"] = f"duplicate note_id (first at row {first[nid]})"
        else:
            first[nid] = r["row"]
    return records


# --------------------------------------------------------------------------- worker


def _facts_schema() -> pa.Schema:
    types = {"int": pa.int64(), "float | None": pa.float64(), "bool": pa.bool_()}
    cols = [
        pa.field(
            f.name,
            pa.date32() if "date" in str(f.type) else types.get(str(f.type), pa.string()),
        )
        for f in fields(PatientFact)
    ]
    return pa.schema([*cols, pa.field("term_exists", pa.bool_()), ("term_temporal", pa.string())])


NOTES_SCHEMA = pa.schema(
    [("row", pa.int64()), ("note_id", pa.string()), ("person_id", pa.string()),
     ("n_chars", pa.int64()), ("n_facts", pa.int64())]
)  # fmt: skip
QUARANTINE_SCHEMA = pa.schema(
    [("row", pa.int64()), ("note_id", pa.string()), ("person_id", pa.string()),
     ("reason", pa.string())]
)  # fmt: skip


def _atomic_write(table: pa.Table, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    pq.write_table(table, tmp)
    os.replace(tmp, path)


def part_name(index: int) -> str:
    return f"part-{index:05d}.parquet"


def _validate(r: Record, max_chars: int) -> tuple[tuple[str, str, dt.date | None, str] | None, str]:
    if r.get("error"):
        return None, str(r["error"])
    nid, pid = clean_id(r.get("note_id")), clean_id(r.get("person_id"))
    if nid is None:
        return None, "missing note_id"
    if pid is None:
        return None, "missing person_id"
    try:
        text = note_text(r.get("note_text"))
        raw_date = r.get("note_date")
        date = None if raw_date is None or pd.isna(raw_date) else parse_date(raw_date)
    except (ValueError, TypeError) as e:
        return None, str(e)
    if text is None or not text.strip():
        return None, "note has no text"
    if len(text) > max_chars:
        return None, f"note too long ({len(text)} chars > {max_chars})"
    return (pid, nid, date, text), ""


def process_partition(
    index: int, records: list[Record], out_dir: str, max_chars: int = DEFAULT_MAX_CHARS
) -> dict[str, int]:
    """Extract facts of one partition and write its three files; returns counts.

    Runs inside a worker: the pipeline is loaded (once per process) here, never shipped.
    """
    from pipeline.facts import extract_note_facts
    from pipeline.nlp import get_nlp
    from pipeline.store import facts_frame

    out = Path(out_dir)
    good: list[tuple[str, str, dt.date | None, str]] = []
    good_rows: list[int] = []
    bad: list[dict[str, Any]] = []
    for r in records:
        item, reason = _validate(r, max_chars)
        if item is None:
            bad.append(
                {
                    "row": int(r["row"]),
                    "note_id": clean_id(r.get("note_id")) if not r.get("error") else None,
                    "person_id": clean_id(r.get("person_id")) if not r.get("error") else None,
                    "reason": reason,
                }
            )
        else:
            good.append(item)
            good_rows.append(int(r["row"]))
    facts = list(extract_note_facts(get_nlp(), good)) if good else []
    per_note: dict[str, int] = {}
    for f in facts:
        per_note[f.note_id] = per_note.get(f.note_id, 0) + 1
    notes = pd.DataFrame(
        {
            "row": good_rows,
            "note_id": [g[1] for g in good],
            "person_id": [g[0] for g in good],
            "n_chars": [len(g[3]) for g in good],
            "n_facts": [per_note.get(g[1], 0) for g in good],
        }
    )
    quarantine = pd.DataFrame(bad, columns=["row", "note_id", "person_id", "reason"])
    frame = facts_frame(facts)
    for d in ("quarantine", "notes", "facts"):
        (out / d).mkdir(parents=True, exist_ok=True)
    schema = _facts_schema()
    frame = frame.reindex(columns=schema.names)
    # the facts file is the completion marker: written last
    _atomic_write(pa.Table.from_pandas(quarantine, QUARANTINE_SCHEMA, preserve_index=False),
                  out / "quarantine" / part_name(index))  # fmt: skip
    _atomic_write(pa.Table.from_pandas(notes, NOTES_SCHEMA, preserve_index=False),
                  out / "notes" / part_name(index))  # fmt: skip
    _atomic_write(pa.Table.from_pandas(frame, schema, preserve_index=False),
                  out / "facts" / part_name(index))  # fmt: skip
    log.info(
        "partition %d: %d notes, %d quarantined, %d facts", index, len(good), len(bad), len(facts)
    )
    return {"index": index, "notes": len(good), "quarantined": len(bad), "facts": len(facts)}


# --------------------------------------------------------------------------- driver


def _check_manifest(out: Path, manifest: dict[str, Any]) -> None:
    path = out / MANIFEST
    if path.is_file():
        old = json.loads(path.read_text(encoding="utf-8"))
        keys = ("input_rows", "partition_size", "max_chars")
        if any(old.get(k) != manifest[k] for k in keys):
            raise BatchError(
                f"E-BATCH-001 {out}: holds a run with "
                + ", ".join(f"{k}={old.get(k)}" for k in keys)
                + "; use a new --out folder or the same input and --partition-size"
            )
    else:
        out.mkdir(parents=True, exist_ok=True)
        tmp = out / f".{MANIFEST}.tmp"
        tmp.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
        os.replace(tmp, path)


def _client(scheduler: str | None, workers: int) -> tuple[Any, Any]:
    from distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler), None  # type: ignore[no-untyped-call]
    cluster = LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=workers,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    return Client(cluster), cluster  # type: ignore[no-untyped-call]


def run_batch(
    input_path: str | Path,
    out_dir: str | Path,
    partition_size: int = 1000,
    workers: int = 2,
    scheduler: str | None = None,
    max_chars: int = DEFAULT_MAX_CHARS,
    on_progress: Callable[[int], None] | None = None,
) -> BatchSummary:
    """Run (or resume) a batch. ``scheduler='sync'`` runs in this process without Dask."""
    if partition_size < 1:
        raise InputError(f"E-BATCH-002 partition size must be >= 1, got {partition_size}")
    t0 = time.perf_counter()
    out = Path(out_dir)
    records = read_records(input_path)
    manifest = {
        "input": str(input_path),
        "input_rows": len(records),
        "partition_size": partition_size,
        "max_chars": max_chars,
    }
    _check_manifest(out, manifest)
    parts = [records[i : i + partition_size] for i in range(0, len(records), partition_size)]
    todo = [i for i in range(len(parts)) if not (out / "facts" / part_name(i)).is_file()]
    log.info("%d rows in %d partitions, %d to do", len(records), len(parts), len(todo))
    if todo and scheduler == "sync":
        for i in todo:
            process_partition(i, parts[i], str(out), max_chars)
            if on_progress:
                on_progress(len(parts[i]))
    elif todo:
        from distributed import as_completed

        client, cluster = _client(scheduler, workers)
        try:
            futures = {}
            for i in todo:
                [data] = client.scatter([parts[i]])  # one future per partition, not per row
                fut = client.submit(process_partition, i, data, str(out), max_chars, pure=False)
                futures[fut] = i
            for fut in as_completed(futures):  # type: ignore[no-untyped-call]
                fut.result()
                if on_progress:
                    on_progress(len(parts[futures[fut]]))
        finally:
            client.close()
            if cluster is not None:
                cluster.close()
    return summarize(
        out, len(records), len(parts), len(parts) - len(todo), time.perf_counter() - t0
    )


def summarize(
    out: Path, input_rows: int, partitions: int, skipped: int, elapsed: float
) -> BatchSummary:
    """Counts over all partition files; written to ``_summary.json``."""
    notes = pq.read_table(out / "notes").num_rows if (out / "notes").is_dir() else 0
    quarantine = (
        pq.read_table(out / "quarantine").to_pandas()
        if (out / "quarantine").is_dir()
        else pd.DataFrame(columns=["reason"])
    )
    facts = (
        pq.read_table(out / "facts", columns=["note_id"]).num_rows
        if (out / "facts").is_dir()
        else 0
    )
    reasons: dict[str, int] = {}
    for reason in quarantine["reason"]:
        key = str(reason).split(" (")[0]
        reasons[key] = reasons.get(key, 0) + 1
    summary = BatchSummary(
        input_rows, partitions, skipped, notes, len(quarantine), facts, round(elapsed, 3), reasons
    )
    tmp = out / f".{SUMMARY}.tmp"
    tmp.write_text(json.dumps(summary.to_json(), indent=1), encoding="utf-8")
    os.replace(tmp, out / SUMMARY)
    return summary


def read_output(out_dir: str | Path, table: str = "facts") -> pd.DataFrame:
    """All partitions of one output table, in partition order."""
    d = Path(out_dir) / table
    files = sorted(d.glob("part-*.parquet"))
    if not files:
        return pd.DataFrame()
    return pd.concat([pq.read_table(f).to_pandas() for f in files], ignore_index=True)
