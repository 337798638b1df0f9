"""`elig rank`: rank trials for patient summaries by judging every criterion.

Each trial's inclusion and exclusion texts are split into criteria and judged against the patient
with ``pipeline.judge``. The score puts a trial the patient is *about* and *eligible for* first:

    score = relevance + inclusion_met_share - inclusion_not_met_share - exclusion_met_penalty

``relevance`` is the share of the trial's disease/title concepts found in the patient summary
(a trial about another disease is not a candidate however eligible the patient looks);
criterion coverage then separates eligible from excluded trials. Output is a TREC run:
``qid Q0 docid rank score tag``.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.judge import Judgement, content_terms, judge

log = logging.getLogger(__name__)

RUN_TAG = "elig"


class RankInputError(ValueError):
    """Bad ranking input: names the file, the record and the problem."""


@dataclass(frozen=True)
class Trial:
    trial_id: str
    title: str
    summary: str
    inclusion: tuple[str, ...]
    exclusion: tuple[str, ...]
    diseases: tuple[str, ...] = ()

    def document(self) -> str:
        """Text of the trial for lexical retrieval: title, diseases and criteria."""
        return " ".join([self.title, *self.diseases, *self.inclusion, *self.exclusion])


@dataclass(frozen=True)
class Query:
    query_id: str
    text: str


@dataclass
class TrialScore:
    trial_id: str
    score: float
    relevance: float
    counts: dict[str, int] = field(default_factory=dict)
    judgements: list[tuple[str, str, Judgement]] = field(default_factory=list)


_HEADER = re.compile(r"^\s*(?:key\s+)?(?:inclusion|exclusion)?\s*criteria\s*:?\s*", re.I)
_BULLET = re.compile(r"^\s*(?:[-*•·]|\(?\d{1,2}[.)]|\(?[a-z][.)])\s+", re.I)


def split_criteria(text: str | None) -> tuple[str, ...]:
    """Criterion items of a CT.gov criteria block (blank lines, bullets or numbered lines)."""
    if not text:
        return ()
    items = []
    for raw in re.split(r"\n\s*\n|\n(?=\s*(?:[-*•·]|\d{1,2}[.)])\s)", text):
        line = " ".join(raw.split())
        line = _HEADER.sub("", line) if _HEADER.match(line) else line
        line = _BULLET.sub("", line).strip(" :;")
        if len(line) >= 3 and not re.fullmatch(r"(?:inclusion|exclusion)?\s*criteria", line, re.I):
            items.append(line)
    return tuple(items)


def _read_jsonl(path: Path) -> Iterable[tuple[int, Any]]:
    if not path.is_file():
        raise RankInputError(f"E-IO-001 {path}: file not found")
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield n, json.loads(line)
            except json.JSONDecodeError as e:
                raise RankInputError(f"E-RANK-001 {path}:{n}: not JSON ({e.msg})") from None


def read_corpus(path: Path) -> list[Trial]:
    """TrialGPT corpus.jsonl: ``_id``, ``title``, ``text``, ``metadata.inclusion_criteria`` ..."""
    trials = []
    for n, obj in _read_jsonl(path):
        if not isinstance(obj, dict) or not obj.get("_id"):
            raise RankInputError(f"E-RANK-002 {path}:{n}: record without _id")
        meta = obj.get("metadata") or {}
        trials.append(
            Trial(
                trial_id=str(obj["_id"]),
                title=str(obj.get("title") or ""),
                summary=str(obj.get("text") or ""),
                inclusion=split_criteria(meta.get("inclusion_criteria")),
                exclusion=split_criteria(meta.get("exclusion_criteria")),
                diseases=tuple(str(d) for d in meta.get("diseases_list") or ()),
            )
        )
    return trials


def read_queries(path: Path) -> list[Query]:
    queries = []
    for n, obj in _read_jsonl(path):
        if not isinstance(obj, dict) or not obj.get("_id") or not obj.get("text"):
            raise RankInputError(f"E-RANK-003 {path}:{n}: query needs _id and text")
        queries.append(Query(str(obj["_id"]), str(obj["text"])))
    return queries


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """TSV ``query-id corpus-id score`` (header optional) -> {qid: {docid: grade}}."""
    if not path.is_file():
        raise RankInputError(f"E-IO-001 {path}: file not found")
    out: dict[str, dict[str, int]] = {}
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        parts = line.split()
        if not parts:
            continue
        if len(parts) == 4:  # TREC qrels: qid iter docid grade
            parts = [parts[0], parts[2], parts[3]]
        if len(parts) != 3:
            raise RankInputError(f"E-RANK-004 {path}:{n}: expected 3 columns")
        try:
            grade = int(parts[2])
        except ValueError:
            if n == 1:
                continue  # header
            raise RankInputError(
                f"E-RANK-004 {path}:{n}: grade {parts[2]!r} is not an integer"
            ) from None
        out.setdefault(parts[0], {})[parts[1]] = grade
    return out


def patient_text_lines(text: str) -> str:
    """Summaries arrive as one paragraph; the judge expects one sentence per line."""
    if "\n" in text:
        return text
    sentences = re.split(r"(?<=[.!?])\s+(?=[A-Z0-9])", text.strip())
    return "\n".join(f"{i}. {s}" for i, s in enumerate(sentences))


def relevance(patient: str, trial: Trial) -> float:
    """Share of the trial's topic terms (diseases, title) that the summary mentions."""
    topic = content_terms(" ".join(trial.diseases)) or content_terms(trial.title)
    if not topic:
        return 0.0
    return len(topic & content_terms(patient)) / len(topic)


# Ties of the main score (same relevance, same criterion shares) are common: many trials have
# no decided criterion at all. A small weight keeps the tie-breaker below any difference of
# the main terms (their smallest step is 1/n_inc >= ~0.01 for the criteria counts we see).
TIE_WEIGHT = 0.001


def tie_breaker(patient: str, trial: Trial, counts: dict[str, int]) -> float:
    """In [0, 2]: the share of the trial's criteria the notes decide (coverage), plus the share
    of the trial's own words (title, diseases, criteria) the summary shares (concept overlap).

    Why: among equally scored trials, one whose criteria the summary answers and whose text
    speaks of what the patient has is the better candidate to review first.
    """
    n = sum(counts.values())
    decided = counts["inc_met"] + counts["inc_not_met"] + counts["exc_met"] + counts["exc_not_met"]
    coverage = decided / n if n else 0.0
    words = content_terms(trial.document())
    overlap = len(words & content_terms(patient)) / len(words) if words else 0.0
    return coverage + overlap


def score_trial(patient: str, trial: Trial) -> TrialScore:
    counts = dict.fromkeys(
        ("inc_met", "inc_not_met", "inc_unknown", "inc_na", "exc_met", "exc_not_met", "exc_other"),
        0,
    )
    judged: list[tuple[str, str, Judgement]] = []
    for kind, items in (("inclusion", trial.inclusion), ("exclusion", trial.exclusion)):
        for text in items:
            j = judge(patient, text, kind)
            judged.append((kind, text, j))
            if kind == "inclusion":
                key = {"met": "inc_met", "not_met": "inc_not_met", "not_applicable": "inc_na"}
                counts[key.get(j.label, "inc_unknown")] += 1
            else:
                key = {"met": "exc_met", "not_met": "exc_not_met"}
                counts[key.get(j.label, "exc_other")] += 1
    n_inc = max(1, len(trial.inclusion))
    rel = relevance(patient, trial)
    score = (
        2.0 * rel
        + counts["inc_met"] / n_inc
        - counts["inc_not_met"] / n_inc
        - 0.5 * min(1, counts["exc_met"])
        + TIE_WEIGHT * tie_breaker(patient, trial, counts)
    )
    return TrialScore(trial.trial_id, round(score, 6), rel, counts, judged)


def rank(
    queries: Sequence[Query],
    trials: Sequence[Trial],
    candidates: dict[str, dict[str, int]] | None = None,
) -> dict[str, list[TrialScore]]:
    """Every query's candidate trials (all trials, or those listed for it), best first."""
    out: dict[str, list[TrialScore]] = {}
    for q in queries:
        patient = patient_text_lines(q.text)
        pool = [
            t for t in trials if candidates is None or t.trial_id in candidates.get(q.query_id, {})
        ]
        scores = [score_trial(patient, t) for t in pool]
        out[q.query_id] = sorted(scores, key=lambda s: (-s.score, s.trial_id))
        log.info("query %s: %d trials ranked", q.query_id, len(scores))
    return out


def write_run(ranked: dict[str, list[TrialScore]], path: Path, tag: str = RUN_TAG) -> int:
    n = 0
    with path.open("w", encoding="utf-8") as fh:
        for qid, scores in ranked.items():
            # Evaluators order a run by score and break ties their own way (trec_eval: by
            # document id), not by the rank column: scores are written strictly decreasing so
            # every evaluator sees the order ranked here.
            previous = float("inf")
            for i, s in enumerate(scores, 1):
                written = min(s.score, previous - 1e-6)
                previous = written
                fh.write(f"{qid} Q0 {s.trial_id} {i} {written:.6f} {tag}\n")
                n += 1
    return n
