"""medspaCy's ConText with the same rules, modifiers and edges, built with less work per note.

medspaCy's ``ConText.__call__`` finds each modifier's sentence through ``doc[start].sent`` (a
Span walk per modifier), compares every pair of modifiers in the doc to limit scopes, and tests
every (target, modifier) pair. On long notes those loops cost as much as the matching. This
subclass reads sentence starts once, hands ConTextModifier its scope, limits scopes only between
modifiers of the same sentence, and tests a modifier only against the targets whose first or last
token lies in its scope (found by bisection). Each shortcut reproduces medspaCy 1.3.1's result:

* Scope: the modifier's sentence (last SENT_START at or before its first token, up to the next
  one), cut by the rule's ``max_scope`` exactly as ``ConTextModifier.__set_scope`` does.
* Scope limiting: ``limit_scope`` only acts on modifiers whose scopes overlap; scopes stay inside
  their modifier's sentence, so modifiers of different sentences never affect each other. When a
  modifier runs past its sentence's end, the doc gets medspaCy's all-pairs loop instead.
* Edges: ``modifies`` needs ``tuple_overlaps(scope, (target.start, target.end))``, i.e. the
  target's start in [scope start, scope end) or its end in (scope start, scope end]; doc.ents are
  sorted and disjoint, so both sets are index ranges. Targets are kept in doc order, as in
  medspaCy's target-major loop.

Anything these shortcuts do not cover (explicit targets, span groups, ``max_scope`` on the
component, ``prune_on_target_overlap``, ``on_modifies`` callbacks, custom sentence hooks, docs
without sentence boundaries) runs medspaCy's own ``__call__``.
"""

from __future__ import annotations

import bisect
from typing import Any

from medspacy.context import ConText, ConTextModifier
from medspacy.context.context_graph import ConTextGraph
from spacy.language import Language
from spacy.tokens import Doc
from spacy.tokens.underscore import Underscore

from pipeline.components.batching import BatchedPipe
from pipeline.components.context_scope import (
    TargetSentenceMatcher,
    sentence_starts,
    target_sentence_runs,
)

_MATCHER = "_ConText__matcher"


def _scope(rule: Any, start: int, end: int, s_start: int, s_end: int) -> tuple[int, int]:
    """``ConTextModifier.__set_scope`` for a sentence [s_start, s_end) (no component max_scope)."""
    direction = rule.direction.lower()
    max_scope = rule.max_scope
    if direction == "forward":
        lo, hi = end, s_end
        if max_scope is not None and hi - lo > max_scope:
            hi = end + max_scope
    elif direction == "backward":
        lo, hi = s_start, start
        if max_scope is not None and hi - lo > max_scope:
            lo = start - max_scope
    else:
        lo, hi = s_start, s_end
        if max_scope is not None and start - lo > max_scope:
            lo = start - max_scope
        if max_scope is not None and hi - end > max_scope:
            hi = end + max_scope
    return lo, hi


def _union(a: int, b: int, c: int, d: int) -> list[int]:
    """``sorted(set(range(a, b)) | set(range(c, d)))`` without building the sets."""
    if a >= b:
        return list(range(c, d))
    if c >= d or (c >= a and d <= b):
        return list(range(a, b))
    if max(a, c) <= min(b, d):
        return list(range(min(a, c), max(b, d)))
    return [*range(a, b), *range(c, d)] if b <= c else [*range(c, d), *range(a, b)]


def _plain_span_extension(name: str) -> bool:
    """A Span extension spaCy keeps in ``doc.user_data`` with an immutable default."""
    entry = Underscore.span_extensions.get(name)
    if entry is None:
        return False
    default, method, getter, setter = entry
    return (
        method is None
        and getter is None
        and setter is None
        and not isinstance(default, Underscore.mutable_types)
    )


def _may_limit(rule: Any, other: Any) -> bool:
    """False when ``ConTextModifier.limit_scope`` between modifiers of these rules returns False
    whatever their positions and scopes: the rule-level tests it makes after the overlap test
    (direction, category, terminated_by, allowed and excluded types), in the same order."""
    if rule.direction.upper() == "TERMINATE":
        return False
    if (
        other.direction.upper() != "TERMINATE"
        and other.category.upper() not in rule.terminated_by
        and other.category.upper() != rule.category.upper()
    ):
        return False
    return not (
        rule.category == other.category
        and (
            rule.allowed_types != other.allowed_types or rule.excluded_types != other.excluded_types
        )
    )


@Language.factory("elig_context")
class SentenceScopedConText(ConText, BatchedPipe):  # type: ignore[misc]
    """``medspacy_context`` with the per-note loops above; rules and options are ConText's."""

    def _shortcut_applies(self, doc: Doc, targets: Any) -> bool:
        if targets or self.input_span_type != "ents":
            return False
        if self.prune_on_target_overlap or self.max_scope:
            return False
        if "sents" in doc.user_hooks or "sent" in doc.user_span_hooks:
            return False
        rules = getattr(self, _MATCHER).rule_map
        if getattr(self, "_callbacks_for", -1) != len(rules):
            self._has_callbacks = any(
                getattr(rule, "on_modifies", None) is not None for rule in rules.values()
            )
            self._callbacks_for = len(rules)
        return not self._has_callbacks

    def _may_limit_table(self, rule_map: dict[str, Any]) -> set[tuple[int, int]]:
        """(id(rule), id(other)) pairs for which ``_may_limit`` holds, rebuilt when the rules
        change (the rule objects are kept, so their ids stay theirs)."""
        cached = getattr(self, "_limit_table", None)
        if cached is None or cached[0] is not rule_map or cached[1] != len(rule_map):
            rules = list(rule_map.values())
            pairs = {(id(a), id(b)) for a in rules for b in rules if _may_limit(a, b)}
            cached = self._limit_table = (rule_map, len(rule_map), rules, pairs)
        table: set[tuple[int, int]] = cached[3]
        return table

    def __call__(self, doc: Doc, targets: str | None = None) -> Doc:
        if not self._shortcut_applies(doc, targets):
            result: Doc = super().__call__(doc, targets)
            return result
        starts = sentence_starts(doc)
        if len(doc) and len(starts) == 1 and not doc.has_annotation("SENT_START"):
            result = super().__call__(doc, targets)  # medspaCy's own error for unsplit docs
            return result
        ents = doc.ents
        matcher = getattr(self, _MATCHER)
        if isinstance(matcher, TargetSentenceMatcher):
            matches = matcher.match(doc, target_sentence_runs(doc, ents, starts))
        else:
            matches = matcher(doc)

        graph = ConTextGraph(prune_on_modifier_overlap=self.prune_on_target_overlap)
        graph.targets = ents
        strings = doc.vocab.strings
        rule_map = matcher.rule_map
        n = len(doc)
        by_sentence: dict[int, list[ConTextModifier]] = {}
        crosses = False
        for match_id, start, end in matches:
            rule = rule_map[strings[match_id]]
            k = bisect.bisect_right(starts, start) - 1
            s_start = starts[k]
            s_end = starts[k + 1] if k + 1 < len(starts) else n
            lo, hi = _scope(rule, start, end, s_start, s_end)
            modifier = ConTextModifier(rule, start, end, doc, lo, hi, max_scope=self.max_scope)
            graph.modifiers.append(modifier)
            by_sentence.setdefault(k, []).append(modifier)
            crosses = crosses or end > s_end
        if crosses:
            graph.update_scopes()
        else:
            can = self._may_limit_table(rule_map)
            for group in by_sentence.values():
                for i, first in enumerate(group):
                    a = id(first.rule)
                    for second in group[i + 1 :]:
                        b = id(second.rule)
                        if (a, b) in can:
                            first.limit_scope(second)
                        if (b, a) in can:
                            second.limit_scope(first)
        self._apply_modifiers(graph)

        if not self._write_edges(doc, graph.edges):
            for target, modifier in graph.edges:
                target._.modifiers += (modifier,)
            if self.context_attributes_mapping:
                self.set_context_attributes(graph.edges)
        doc._.context_graph = graph
        return doc

    def _write_edges(self, doc: Doc, edges: list[Any]) -> bool:
        """``target._.modifiers += (modifier,)`` and ``set_context_attributes`` for every edge,
        written to ``doc.user_data`` where spaCy's Underscore would store them (saving an
        Underscore object per read and write). Returns False, writing nothing, when one of the
        extensions is not a plain attribute (getter, setter, method or mutable default)."""
        mapping = self.context_attributes_mapping or {}
        names = {"modifiers", *(name for attrs in mapping.values() for name in attrs)}
        if not all(_plain_span_extension(name) for name in names):
            return False
        user_data: dict[Any, Any] = doc.user_data
        default = Underscore.span_extensions["modifiers"][0]
        for target, modifier in edges:
            key = ("._.", "modifiers", target.start_char, target.end_char)
            user_data[key] = (*user_data.get(key, default), modifier)
        if mapping:
            for target, modifier in edges:
                attrs = mapping.get(modifier.category)
                if attrs is None:
                    continue
                start, end = target.start_char, target.end_char
                for name, value in attrs.items():
                    user_data[("._.", name, start, end)] = value
        return True

    @staticmethod
    def _modify_shared_head(modifier: Any, targets: Any, target_starts: list[int]) -> None:
        """A forward cue whose last words are the target's first words modifies it.

        "Not on dialysis", "no history of cancer": the concept matcher takes "on dialysis" and
        "history of cancer" as the phrase, and medspaCy never lets a cue modify a target it
        overlaps (so that a phrase does not negate itself). When the cue starts before the
        target and ends inside it, the target still has words of its own after the cue, which
        the cue governs as it would the words after any other forward cue. This is the one place
        where the notes' ConText differs from medspaCy's; the single-target assertion path
        (``prune_on_target_overlap``) does not come here.
        """
        if modifier.direction != "FORWARD":
            return
        start, end = modifier.modifier_span
        first = bisect.bisect_right(target_starts, start)
        last = bisect.bisect_left(target_starts, end)
        for index in range(first, last):
            target = targets[index]
            if target.end > end and modifier.allows(target.label_.upper()):
                if target not in modifier._targets:
                    modifier.modify(target)

    @staticmethod
    def _apply_modifiers(graph: ConTextGraph) -> None:
        """``ConTextGraph.apply_modifiers`` (without pruning) over the targets in scope only."""
        targets = graph.targets
        target_starts = [t.start for t in targets]
        target_ends = [t.end for t in targets]
        for modifier in graph.modifiers:
            lo, hi = modifier.scope_span
            if lo >= hi:
                continue
            first = bisect.bisect_left(target_starts, lo)
            last = bisect.bisect_left(target_starts, hi)
            by_end_first = bisect.bisect_right(target_ends, lo)
            by_end_last = bisect.bisect_right(target_ends, hi)
            for index in _union(first, last, by_end_first, by_end_last):
                target = targets[index]
                if modifier.modifies(target):
                    modifier.modify(target)
            SentenceScopedConText._modify_shared_head(modifier, targets, target_starts)
        edges = []
        for modifier in graph.modifiers:
            modifier.reduce_targets()
            for target in modifier._targets:
                edges.append((target, modifier))
        graph.edges = edges
