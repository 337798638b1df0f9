"""`elig eval trec`: NDCG@10, P@10 and MRR of a TREC run, next to a BM25 baseline.

The baseline ranks the same candidate trials (those judged in the qrels for each query) with
BM25 (bm25s): query = patient text, document = trial title + diseases + criteria text. Both are
scored with ir-measures in the same run, so the comparison is like for like.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pipeline.rank import Query, RankInputError, Trial

RELEVANT_GRADE = 1  # P@10 and MRR count grades >= this (excluded or eligible trials)


def read_run(path: Path) -> dict[str, dict[str, float]]:
    """TREC run ``qid Q0 docid rank score tag`` -> {qid: {docid: score}}."""
    if not path.is_file():
        raise RankInputError(f"E-IO-001 {path}: run file not found")
    run: dict[str, dict[str, float]] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) != 6:
            raise RankInputError(f"E-TREC-001 {path}:{n}: expected 6 columns, got {len(parts)}")
        try:
            run.setdefault(parts[0], {})[parts[2]] = float(parts[4])
        except ValueError:
            raise RankInputError(
                f"E-TREC-001 {path}:{n}: score {parts[4]!r} is not a number"
            ) from None
    return run


def measure(run: dict[str, dict[str, float]], qrels: dict[str, dict[str, int]]) -> dict[str, float]:
    import ir_measures
    from ir_measures import RR, P, nDCG

    measures = [nDCG @ 10, P(rel=RELEVANT_GRADE) @ 10, RR(rel=RELEVANT_GRADE)]
    agg = ir_measures.calc_aggregate(measures, qrels, run)
    return {
        "ndcg_cut_10": round(float(agg[nDCG @ 10]), 4),
        "P_10": round(float(agg[P(rel=RELEVANT_GRADE) @ 10]), 4),
        "mrr": round(float(agg[RR(rel=RELEVANT_GRADE)]), 4),
    }


def bm25_run(
    queries: Sequence[Query], trials: Sequence[Trial], qrels: dict[str, dict[str, int]]
) -> dict[str, dict[str, float]]:
    """BM25 over each query's judged candidate trials."""
    import logging

    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    by_id = {t.trial_id: t for t in trials}
    run: dict[str, dict[str, float]] = {}
    for q in queries:
        pool = [by_id[d] for d in qrels.get(q.query_id, {}) if d in by_id] or list(trials)
        if not pool:
            continue
        retriever = bm25s.BM25()
        retriever.index(
            bm25s.tokenize([t.document() for t in pool], stopwords="en", show_progress=False),
            show_progress=False,
        )
        docs, scores = retriever.retrieve(
            bm25s.tokenize([q.text], stopwords="en", show_progress=False),
            k=len(pool),
            show_progress=False,
        )
        run[q.query_id] = {
            pool[int(i)].trial_id: float(s) for i, s in zip(docs[0], scores[0], strict=True)
        }
    return run


def evaluate_trec(
    run: dict[str, dict[str, float]],
    qrels: dict[str, dict[str, int]],
    queries: Sequence[Query] | None = None,
    trials: Sequence[Trial] | None = None,
) -> dict[str, Any]:
    """Metrics of the run and, when queries and trials are given, of the BM25 baseline."""
    qrels = {q: d for q, d in qrels.items() if q in run}
    out: dict[str, Any] = {"queries": len(qrels), **measure(run, qrels)}
    if queries is not None and trials is not None:
        base = measure(bm25_run([q for q in queries if q.query_id in qrels], trials, qrels), qrels)
        out.update({f"bm25_{k}": v for k, v in base.items()})
    return out
