"""Assertion of one named phrase in one sentence: negated, uncertain, historical, hypothetical, family.

The `elig assertion` contract names the phrase to judge instead of letting the concept matcher
find it. That is how annotated assertion sets (NegEx, i2b2) are written, and it lets the very
sentence splitter, sectionizer and ConText rules that judge note concepts be measured on them.
The target is located in the text tolerantly (case, runs of white space) and becomes the only
entity of the doc, whether or not the concept matcher knows the phrase.
"""

from __future__ import annotations

import copy
import json
import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from spacy.language import Language
from spacy.tokens import Doc, Span

log = logging.getLogger(__name__)

FLAGS = ("negated", "uncertain", "historical", "hypothetical", "family")
_SPAN_ATTRS = {
    "negated": "is_negated",
    "uncertain": "is_uncertain",
    "historical": "is_historical",
    "hypothetical": "is_hypothetical",
    "family": "is_family",
}
# Components that find entities of their own: their output is replaced by the target span.
_ENTITY_PIPES = frozenset({"elig_concepts", "medspacy_target_matcher", "medspacy_quickumls"})
# Label of a target that no lexicon entry overlaps. ConText rules restricted to some entity
# types (allowed_types) then leave it alone, as they should for a phrase of unknown type.
UNKNOWN_LABEL = "target"


@dataclass(frozen=True, slots=True)
class Assertion:
    """The five ConText judgements on one target."""

    negated: bool = False
    uncertain: bool = False
    historical: bool = False
    hypothetical: bool = False
    family: bool = False

    def to_dict(self) -> dict[str, bool]:
        return asdict(self)


class TargetNotFoundError(ValueError):
    """The target phrase does not occur in the text (E-ASSERT-003)."""


def _phrase_pattern(target: str, tolerant: bool) -> str | None:
    words = target.split()
    if not words:
        return None
    if tolerant:
        # Spaces may be missing or doubled anywhere ("shortnessof breath", "ch est").
        body = r"\s*".join(re.escape(c) for c in "".join(words))
    else:
        body = r"\s+".join(re.escape(w) for w in words)
    head = r"(?<!\w)" if words[0][0].isalnum() else ""
    tail = r"(?!\w)" if words[-1][-1].isalnum() else ""
    return head + body + tail


def locate_target(text: str, target: str) -> tuple[int, int] | None:
    """Character offsets of ``target`` in ``text``, or None when it does not occur.

    Tried in order: whole words with any run of white space between them; then the same letters
    with white space optional between any two; then anywhere inside words. Matching ignores case.
    Among several occurrences the first written in upper case wins (annotated sets such as NegEx
    mark the judged mention that way), else the first.
    """
    if not target.strip():
        return None
    attempts: list[str] = []
    for tolerant in (False, True):
        pattern = _phrase_pattern(target, tolerant)
        if pattern is not None:
            attempts.append(pattern)
    loose = r"\s*".join(re.escape(c) for c in "".join(target.split()))
    attempts.append(loose)
    for pattern in attempts:
        matches = list(re.finditer(pattern, text, flags=re.IGNORECASE))
        if not matches:
            continue
        for m in matches:
            if m.group().isupper():
                return m.span()
        return matches[0].span()
    return None


def _target_span(doc: Doc, start: int, end: int, label: str) -> Span:
    span = doc.char_span(start, end, label=label, alignment_mode="expand")
    if span is None or len(span) == 0:
        raise TargetNotFoundError(
            f"E-ASSERT-004 target at characters {start}-{end} covers no token"
        )
    return span


def _overlap_label(ents: Iterable[Span], target: Span) -> str:
    """Category of the lexicon entity overlapping the target most, so type-restricted rules apply."""
    best, best_overlap = UNKNOWN_LABEL, 0
    for ent in ents:
        overlap = min(ent.end, target.end) - max(ent.start, target.start)
        if overlap > best_overlap:
            best, best_overlap = ent.label_, overlap
    return best


def _single_target_context(proc: Any) -> Any:
    """A shallow copy of a ConText component that ignores cues lying inside the target.

    A cue inside the named phrase is part of it: "sigmoid diverticulosis without diverticulitis"
    and "lungs show no airspace opacities" are asserted as written, not negated. medspaCy means
    to skip such self-modification but its overlap test misses a cue strictly inside the target;
    its ``prune_on_target_overlap`` option drops cues overlapping any target, which is exactly
    right when the target is the doc's only entity (and wrong in notes with many entities). The
    copy shares rules and matcher; the shared pipeline is left untouched.
    """
    clone = copy.copy(proc)
    clone.prune_on_target_overlap = True
    return clone


def judge_doc(
    nlp: Language, text: str, target: str, cues_inside_target: bool = False
) -> tuple[Doc, Span]:
    """Run ``nlp`` on ``text`` with the target as its only entity; return the doc and that entity.

    Entity-finding components still run (their categories label the target), but their entities
    are then replaced by the target span, so ConText and the sectionizer judge exactly the
    phrase that was asked about. With ``cues_inside_target`` (medspaCy's own behaviour) a cue
    written inside the target phrase may still modify it; by default it may not.
    """
    from medspacy.context import ConText

    where = locate_target(text, target)
    if where is None:
        raise TargetNotFoundError("E-ASSERT-003 target not found in text")
    doc = nlp.make_doc(text)
    span = _target_span(doc, where[0], where[1], UNKNOWN_LABEL)
    doc.ents = [span]
    for name, proc in nlp.pipeline:
        if name in _ENTITY_PIPES:
            found = proc(doc).ents
            label = _overlap_label(found, span)
            span = _target_span(doc, where[0], where[1], label)
            doc.ents = [span]
        elif isinstance(proc, ConText) and not cues_inside_target:
            doc = _single_target_context(proc)(doc)
        else:
            doc = proc(doc)
    return doc, doc.ents[0]


def assertion_of(span: Span) -> Assertion:
    return Assertion(**{flag: bool(getattr(span._, attr)) for flag, attr in _SPAN_ATTRS.items()})


def assert_target(text: str, target: str, nlp: Language | None = None) -> Assertion:
    """The assertion flags of ``target`` in ``text`` under ``nlp`` (default: our note pipeline).

    Raises TargetNotFoundError when the target does not occur in the text.
    """
    if nlp is None:
        from pipeline.nlp import get_nlp

        nlp = get_nlp()
    _, span = judge_doc(nlp, text, target)
    return assertion_of(span)


# --- JSONL batch: the `elig assertion` contract -------------------------------------------------


@dataclass(frozen=True, slots=True)
class AssertionRequest:
    id: str
    text: str
    target: str


@dataclass(frozen=True, slots=True)
class RejectedLine:
    """A quarantined input line: where it was and why (never its text)."""

    source: str
    line: int
    reason: str
    id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "record": f"line {self.line}", **asdict(self)}


@dataclass
class BatchResult:
    judged: int = 0
    quarantined: list[RejectedLine] = field(default_factory=list)


def parse_request(raw: bytes) -> AssertionRequest:
    """One input line to a request; ValueError with a coded reason when it is not one."""
    try:
        obj = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ValueError("E-ASSERT-001 line is not UTF-8") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"E-ASSERT-001 malformed JSON: {e.msg} at column {e.colno}") from None
    if not isinstance(obj, dict):
        raise ValueError("E-ASSERT-001 line is not a JSON object")
    missing = [k for k in ("id", "text", "target") if k not in obj or obj[k] is None]
    if missing:
        raise ValueError(f"E-ASSERT-002 missing field(s): {', '.join(missing)}")
    if not isinstance(obj["id"], str | int) or isinstance(obj["id"], bool):
        raise ValueError("E-ASSERT-002 field id must be a string or an integer")
    for key in ("text", "target"):
        if not isinstance(obj[key], str) or not obj[key].strip():
            raise ValueError(f"E-ASSERT-002 field {key} must be a non-empty string")
    return AssertionRequest(id=str(obj["id"]), text=obj["text"], target=obj["target"])


def _id_of(raw: bytes) -> str | None:
    try:
        obj = json.loads(raw.decode("utf-8"))
    except ValueError:
        return None
    ident = obj.get("id") if isinstance(obj, dict) else None
    return str(ident) if isinstance(ident, str | int) else None


def iter_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(1-based line number, raw bytes) of non-blank lines; bytes so one bad encoding is one bad line."""
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            if raw.strip():
                yield number, raw


def run_batch(
    input_path: Path, output_path: Path, nlp: Language | None = None
) -> tuple[BatchResult, Path | None]:
    """Judge every line of ``input_path`` into ``output_path``; bad lines go to a quarantine file.

    The quarantine file is ``OUT.quarantine.jsonl`` beside the output, written only when needed.
    """
    if nlp is None:
        from pipeline.nlp import get_nlp

        nlp = get_nlp()
    result = BatchResult()
    rejected = result.quarantined
    with output_path.open("w", encoding="utf-8") as out:
        for number, raw in iter_lines(input_path):
            try:
                request = parse_request(raw)
                _, span = judge_doc(nlp, request.text, request.target)
            except ValueError as e:
                rejected.append(RejectedLine(str(input_path), number, str(e), _id_of(raw)))
                continue
            out.write(json.dumps({"id": request.id, **assertion_of(span).to_dict()}) + "\n")
            result.judged += 1
    log.info("assertion: %d judged, %d quarantined", result.judged, len(rejected))
    if not rejected:
        return result, None
    quarantine_path = quarantine_path_for(output_path)
    with quarantine_path.open("w", encoding="utf-8") as fh:
        for r in rejected:
            fh.write(json.dumps(r.to_dict()) + "\n")
    return result, quarantine_path


def quarantine_path_for(output_path: Path) -> Path:
    """OUT.jsonl -> OUT.quarantine.jsonl (any other name gets the suffix appended)."""
    if output_path.suffix == ".jsonl":
        return output_path.with_suffix(".quarantine.jsonl")
    return output_path.with_name(output_path.name + ".quarantine.jsonl")
