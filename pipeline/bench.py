"""Throughput benchmark: our note pipeline vs medspaCy's default pipeline vs a blank tokenizer.

Each system is measured in a fresh Python subprocess on the same notes, so that peak RSS
(``ru_maxrss``) and load time belong to that system alone and no system profits from another's
warm caches. Notes travel to the workers through a temporary JSONL file; note text is never
logged (only counts and timings are).
"""

from __future__ import annotations

import csv
import json
import logging
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_MTSAMPLES = (
    Path(__file__).resolve().parent.parent.parent / "shared/corpora/mtsamples/mtsamples.csv"
)
SYSTEMS = ("ours", "medspacy", "tokenizer")


class BenchError(ValueError):
    """A bad benchmark input (file, record) or a failed worker; the message carries a code."""


@dataclass(frozen=True)
class Note:
    note_id: str
    text: str


@dataclass
class SystemResult:
    """One system's figures on one set of notes, as measured by a worker process."""

    system: str
    notes: int
    tokens: int
    seconds: float
    peak_rss_mb: float
    load_s: float
    import_s: float
    facts: int = 0
    n_process: int = 1
    # CPU time of the timed loop (this process only): steadier than wall time on a busy machine.
    cpu_seconds: float = 0.0

    @property
    def notes_per_s(self) -> float:
        return self.notes / self.seconds if self.seconds > 0 else 0.0

    @property
    def notes_per_cpu_s(self) -> float:
        return self.notes / self.cpu_seconds if self.cpu_seconds > 0 else 0.0

    @property
    def tokens_per_s(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["notes_per_s"] = round(self.notes_per_s, 2)
        out["tokens_per_s"] = round(self.tokens_per_s, 1)
        out["notes_per_cpu_s"] = round(self.notes_per_cpu_s, 2)
        return out


@dataclass
class CorpusReport:
    """All systems on one corpus, with the ratios the issue's targets are stated in."""

    corpus: str
    results: dict[str, SystemResult] = field(default_factory=dict)

    def ratio(self, system: str, other: str, cpu: bool = False) -> float | None:
        a, b = self.results.get(system), self.results.get(other)
        if a is None or b is None:
            return None
        x, y = (a.notes_per_cpu_s, b.notes_per_cpu_s) if cpu else (a.notes_per_s, b.notes_per_s)
        return round(x / y, 3) if x and y else None

    def summary(self) -> dict[str, Any]:
        ours = self.results.get("ours")
        med = self.results.get("medspacy")
        tok = self.results.get("tokenizer")
        par = self.results.get("ours_parallel")
        out: dict[str, Any] = {
            "corpus": self.corpus,
            "ours_notes_per_s": round(ours.notes_per_s, 2) if ours else None,
            "ours_tokens_per_s": round(ours.tokens_per_s, 1) if ours else None,
            "medspacy_notes_per_s": round(med.notes_per_s, 2) if med else None,
            "tokenizer_notes_per_s": round(tok.notes_per_s, 2) if tok else None,
            "ratio_vs_medspacy": self.ratio("ours", "medspacy"),
            "ratio_vs_tokenizer": self.ratio("ours", "tokenizer"),
            "ratio_vs_medspacy_cpu": self.ratio("ours", "medspacy", cpu=True),
            "ratio_vs_tokenizer_cpu": self.ratio("ours", "tokenizer", cpu=True),
            "load_s": round(ours.load_s, 3) if ours else None,
            "import_s": round(ours.import_s, 3) if ours else None,
            "peak_rss_mb": round(ours.peak_rss_mb, 1) if ours else None,
        }
        if par is not None:
            out["speedup_2_processes" if par.n_process == 2 else "speedup_n_processes"] = (
                self.ratio("ours_parallel", "ours")
            )
            out["n_process"] = par.n_process
        out["systems"] = {name: r.to_json() for name, r in self.results.items()}
        return out


# ---------------------------------------------------------------- inputs


def read_mtsamples(path: Path, limit: int | None = None) -> list[Note]:
    """Non-empty transcriptions of the MTSamples CSV (empty rows are skipped).

    With ``limit``, the notes are spread evenly over the whole file (every k-th note, in file
    order): the file is sorted by specialty, and its first notes (allergy, bariatrics,
    cardiology letters) carry fewer concepts than the rest, so a leading slice would flatter the
    pipeline against the tokenizer.
    """
    if not path.is_file():
        raise BenchError(f"E-BENCH-001 {path}: MTSamples CSV not found; pass --mtsamples PATH")
    notes: list[Note] = []
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = {"note_id", "transcription"} - set(reader.fieldnames or ())
        if missing:
            raise BenchError(f"E-BENCH-002 {path}: missing columns {sorted(missing)}")
        for row in reader:
            text = (row.get("transcription") or "").strip()
            if not text:
                continue
            notes.append(Note(str(row["note_id"]), text))
    if not notes:
        raise BenchError(f"E-BENCH-003 {path}: no non-empty transcription")
    if limit is not None and limit < len(notes):
        notes = [notes[i * len(notes) // limit] for i in range(limit)]
    return notes


_SYNTH_CONDITIONS = (
    "ulcerative colitis",
    "Crohn's disease",
    "rheumatoid arthritis",
    "type 2 diabetes mellitus",
    "hypertension",
    "asthma",
    "psoriasis",
    "chronic kidney disease",
    "hepatitis B",
    "tuberculosis",
)
_SYNTH_DRUGS = ("methotrexate", "infliximab", "adalimumab", "prednisone", "metformin", "insulin")
_SYNTH_LABS = (
    ("ALT", "U/L", 10, 120),
    ("creatinine", "mg/dL", 0.5, 3.0),
    ("hemoglobin", "g/dL", 8, 16),
    ("platelets", "x10^9/L", 90, 400),
)
_SYNTH_TEMPLATES = (
    "History of {cond} diagnosed in {year}.",
    "No evidence of {cond2}.",
    "Denies {cond2}; family history of {cond}.",
    "Started {drug} {year}-{year2}, stopped due to loss of response.",
    "Currently on {drug} 15 mg weekly by mouth.",
    "{lab} {value} {unit} on {year2}-0{month}-1{day}.",
    "Possible {cond2}, to be ruled out.",
    "HBsAg negative, HIV negative.",
)


def synthetic_notes(n: int, seed: int = 13) -> list[Note]:
    """``n`` deterministic notes in the style of our fixtures: sections, lists, values, dates.

    They exercise every step of the pipeline (concepts, ConText, sections, values, dates) without
    any real patient text, so a benchmark can also run where MTSamples is not available.
    """
    rng = random.Random(seed)
    notes = []
    for i in range(n):
        lines = ["HISTORY OF PRESENT ILLNESS:"]
        for _ in range(rng.randint(6, 14)):
            lab, unit, low, high = rng.choice(_SYNTH_LABS)
            year = rng.randint(2005, 2022)
            lines.append(
                rng.choice(_SYNTH_TEMPLATES).format(
                    cond=rng.choice(_SYNTH_CONDITIONS),
                    cond2=rng.choice(_SYNTH_CONDITIONS),
                    drug=rng.choice(_SYNTH_DRUGS),
                    year=year,
                    year2=year + rng.randint(1, 3),
                    lab=lab,
                    value=round(rng.uniform(low, high), 1),
                    unit=unit,
                    month=rng.randint(1, 9),
                    day=rng.randint(0, 9),
                )
            )
        lines.append("PAST MEDICAL HISTORY: " + ", ".join(rng.sample(_SYNTH_CONDITIONS, 3)) + ".")
        lines.append("MEDICATIONS: " + ", ".join(rng.sample(_SYNTH_DRUGS, 2)) + ".")
        notes.append(Note(f"synthetic-{i:05d}", "\n".join(lines)))
    return notes


# ---------------------------------------------------------------- workers (run in subprocesses)


def _peak_rss_mb() -> float:
    # ru_maxrss is in KiB on Linux, in bytes on macOS.
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def _progress(system: str, done: int, total: int, every: int = 100) -> None:
    if total >= every and (done % every == 0 or done == total):
        print(f"  {system}: {done}/{total} notes", file=sys.stderr, flush=True)


def _warm_tokenizer(nlp: Any, texts: list[str]) -> None:
    """Every system gets the blank tokenizer's warm-up: its cache filled on the timed notes.

    Without it the first pass pays for growing the vocabulary, which is a one-off cost.
    """
    for text in texts:
        nlp.tokenizer(text)


def _count_parallel_chunk(chunk: list[str]) -> tuple[int, int, int]:
    from pipeline.facts import facts_from_doc
    from pipeline.nlp import get_nlp

    tokens = facts = 0
    for i, (text, doc) in enumerate(zip(chunk, get_nlp().pipe(chunk, batch_size=64), strict=True)):
        tokens += len(doc)
        facts += len(facts_from_doc(doc, "bench", str(i), None, text))
    return len(chunk), tokens, facts


def _warm_worker(texts: list[str], warmup: int, barrier: Any) -> None:
    from pipeline.facts import facts_from_doc
    from pipeline.nlp import get_nlp

    nlp = get_nlp()
    _warm_tokenizer(nlp, texts)
    for doc in nlp.pipe(texts[:warmup]):
        facts_from_doc(doc, "bench", "warmup", None)
    barrier.wait(timeout=600)


def _measure(system: str, texts: list[str], n_process: int, warmup: int) -> dict[str, Any]:
    """Runs one system on ``texts`` in this process and returns its figures as JSON."""
    t_import = time.perf_counter()
    tokens = facts = 0
    load_s = 0.0
    children_rss = 0.0
    if system == "ours":
        from pipeline.facts import facts_from_doc
        from pipeline.nlp import build_nlp

        import_s = time.perf_counter() - t_import
        t0 = time.perf_counter()
        nlp = build_nlp()
        load_s = time.perf_counter() - t0
        _warm_tokenizer(nlp, texts)
        for doc in nlp.pipe(texts[:warmup]):
            facts_from_doc(doc, "bench", "warmup", None)
        t0, c0 = time.perf_counter(), time.process_time()
        pairs = zip(texts, nlp.pipe(texts, batch_size=64), strict=True)
        for i, (text, doc) in enumerate(pairs, start=1):
            tokens += len(doc)
            facts += len(facts_from_doc(doc, "bench", str(i), None, text))
            _progress("ours", i, len(texts))
        seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
    elif system == "ours_parallel":
        import multiprocessing as mp

        import_s = 0.0
        chunk = 16
        chunks = [texts[i : i + chunk] for i in range(0, len(texts), chunk)]
        spawn = mp.get_context("spawn")
        with spawn.Manager() as manager, spawn.Pool(processes=n_process) as pool:
            # Start-up (imports, pipeline build) is paid before the clock starts: the speed-up
            # is about steady-state throughput; load time is reported separately.
            # One warm-up task per worker: each blocks until all have started, so none takes two.
            barrier = manager.Barrier(n_process)
            pool.starmap(_warm_worker, [(texts, warmup, barrier)] * n_process)
            t0, c0 = time.perf_counter(), time.process_time()
            done = 0
            for n, tok, fac in pool.imap(_count_parallel_chunk, chunks):
                tokens += tok
                facts += fac
                done += n
                _progress(f"ours x{n_process}", done, len(texts), every=chunk * 10)
            seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
        # RUSAGE_CHILDREN: the largest worker, once the pool has been joined.
        children_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    elif system == "medspacy":
        import medspacy
        from loguru import logger

        logger.disable("PyRuSH")
        import_s = time.perf_counter() - t_import
        t0 = time.perf_counter()
        nlp = medspacy.load()
        load_s = time.perf_counter() - t0
        _warm_tokenizer(nlp, texts)
        for _ in nlp.pipe(texts[:warmup]):
            pass
        t0, c0 = time.perf_counter(), time.process_time()
        for i, doc in enumerate(nlp.pipe(texts, batch_size=64), start=1):
            tokens += len(doc)
            _progress("medspacy", i, len(texts), every=50)
        seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
    elif system == "tokenizer":
        import spacy

        import_s = time.perf_counter() - t_import
        t0 = time.perf_counter()
        tokenizer = spacy.blank("en").tokenizer
        load_s = time.perf_counter() - t0
        for text in texts:  # warm the tokenizer's cache on the very notes it is timed on
            tokenizer(text)
        t0, c0 = time.perf_counter(), time.process_time()
        for text in texts:
            tokens += len(tokenizer(text))
        seconds, cpu_seconds = time.perf_counter() - t0, time.process_time() - c0
    else:
        raise BenchError(f"E-BENCH-004 unknown system {system!r}; known: {', '.join(SYSTEMS)}")
    result = SystemResult(
        system=system,
        notes=len(texts),
        tokens=tokens,
        seconds=seconds,
        peak_rss_mb=max(_peak_rss_mb(), children_rss),
        load_s=load_s,
        import_s=import_s,
        facts=facts,
        n_process=n_process if system == "ours_parallel" else 1,
        cpu_seconds=cpu_seconds if system != "ours_parallel" else 0.0,
    )
    return asdict(result)


def _worker_main(argv: Sequence[str]) -> None:
    """``python -m pipeline.bench SYSTEM NOTES.jsonl N_PROCESS WARMUP``: prints one JSON line."""
    system, path, n_process, warmup = argv[0], Path(argv[1]), int(argv[2]), int(argv[3])
    texts = [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines()]
    print(json.dumps(_measure(system, texts, n_process, warmup)))


# ---------------------------------------------------------------- driver


def run_system(
    system: str, notes: Sequence[Note], n_process: int = 1, warmup: int = 20
) -> SystemResult:
    """Measures ``system`` on ``notes`` in a fresh subprocess (fair RSS and load figures)."""
    with tempfile.TemporaryDirectory(prefix="elig-bench-") as tmp:
        path = Path(tmp) / "notes.jsonl"
        with path.open("w", encoding="utf-8") as fh:
            for note in notes:
                fh.write(json.dumps({"id": note.note_id, "text": note.text}) + "\n")
        cmd = [sys.executable, "-m", "pipeline.bench", system, str(path), str(n_process)]
        cmd.append(str(min(warmup, len(notes))))
        env = dict(os.environ, PYTHONHASHSEED="0")
        proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=None, text=True, env=env)
    if proc.returncode != 0:
        raise BenchError(f"E-BENCH-005 the {system} worker failed (exit {proc.returncode})")
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if not lines:
        raise BenchError(f"E-BENCH-006 the {system} worker printed no result")
    return SystemResult(**json.loads(lines[-1]))


def bench_corpus(
    name: str,
    notes: Sequence[Note],
    medspacy_limit: int,
    n_process: int,
    runner: Callable[..., SystemResult] | None = None,
) -> CorpusReport:
    """All systems on one corpus; medspaCy on the first ``medspacy_limit`` notes (it is slow)."""
    runner = runner or run_system
    report = CorpusReport(corpus=name)
    plan: list[tuple[str, Sequence[Note], int]] = [
        ("tokenizer", notes, 1),
        ("ours", notes, 1),
        ("medspacy", notes[: max(1, medspacy_limit)], 1),
    ]
    if n_process > 1:
        plan.append(("ours_parallel", notes, n_process))
    for system, subset, k in plan:
        print(f"[bench] {name}: {system} on {len(subset)} notes", file=sys.stderr, flush=True)
        report.results[system] = runner(system, subset, k)
    return report


def format_report(report: CorpusReport) -> list[str]:
    """Human-readable lines for one corpus."""
    s = report.summary()
    lines = [f"== {report.corpus}"]
    lines.append(
        f"  {'system':<15}{'notes':>7}{'notes/s':>10}{'notes/CPU s':>13}{'tokens/s':>11}"
        f"{'peak RSS MB':>13}{'load s':>8}"
    )
    for name, r in report.results.items():
        lines.append(
            f"  {name:<15}{r.notes:>7}{r.notes_per_s:>10.1f}{r.notes_per_cpu_s:>13.1f}"
            f"{r.tokens_per_s:>11.0f}"
            f"{r.peak_rss_mb:>13.0f}{r.load_s:>8.2f}"
        )
    lines.append(
        f"  ours/medspacy {s['ratio_vs_medspacy']}x (CPU time {s['ratio_vs_medspacy_cpu']}x), "
        f"ours/tokenizer {s['ratio_vs_tokenizer']}x (CPU time {s['ratio_vs_tokenizer_cpu']}x), "
        f"load {s['load_s']} s (+ imports {s['import_s']} s), peak RSS {s['peak_rss_mb']} MB"
    )
    for key in ("speedup_2_processes", "speedup_n_processes"):
        if key in s:
            lines.append(f"  speed-up with {s['n_process']} processes: {s[key]}x")
    return lines


if __name__ == "__main__":
    _worker_main(sys.argv[1:])
