"""spaCy ``Matcher`` token patterns of ConText rules, matched in Python by first-word lookup.

ConText's rules spell their token patterns as ``{"LOWER": {"IN": [...]}}`` sets; spaCy's
``Matcher`` evaluates every such set as a Python predicate for every pattern at every token,
about 12 microseconds per token for our 60 patterns, which made it the costliest step of the
pipeline. Here each pattern is a small automaton over token positions and a dict from word to the
patterns that can start with it picks the few candidates at each token, so a token no pattern
starts with costs one lookup.

Only what ConText's rules use is supported: ``LOWER``/``ORTH``/``TEXT`` equal to a string or
``IN`` a list of strings, ``IS_PUNCT``/``IS_SPACE`` true, and the ``?``, ``*`` and ``+``
operators. :meth:`TokenPatternMatcher.compile` returns None for anything else (and for rules with
``on_match`` callbacks), and the caller keeps spaCy's ``Matcher``. Matches are spaCy's non-greedy
set: every (rule, start, end) whose tokens satisfy the pattern, listed by start, end and rule
order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy
from spacy.attrs import IS_PUNCT, IS_SPACE, LOWER, ORTH
from spacy.strings import StringStore
from spacy.tokens import Doc

# What a pattern token tests: LOWER or ORTH hash in a set, or a lexical flag.
_LOWER, _ORTH, _PUNCT, _SPACE = 0, 1, 2, 3
_ATTRS = [LOWER, ORTH, IS_PUNCT, IS_SPACE]
_OPS = (None, "?", "*", "+")


@dataclass(frozen=True)
class _Spec:
    kind: int
    values: frozenset[int]
    op: str | None


@dataclass(frozen=True)
class _Pattern:
    key: int
    specs: tuple[_Spec, ...]
    # Precomputed: the start states, and the states after a token accepted at each position.
    _start: frozenset[int] = field(init=False, repr=False, compare=False)
    _after: tuple[frozenset[int], ...] = field(init=False, repr=False, compare=False)
    _fixed: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        after = []
        for p, spec in enumerate(self.specs):
            after.append(self.closure([p + 1, p] if spec.op in ("*", "+") else [p + 1]))
        object.__setattr__(self, "_start", self.closure((0,)))
        object.__setattr__(self, "_after", tuple(after))
        object.__setattr__(self, "_fixed", all(spec.op is None for spec in self.specs))

    def closure(self, states: Iterable[int]) -> frozenset[int]:
        """The positions reachable from ``states`` by skipping optional tokens (``?``, ``*``)."""
        out = set()
        todo = list(states)
        while todo:
            p = todo.pop()
            if p in out:
                continue
            out.add(p)
            if p < len(self.specs) and self.specs[p].op in ("?", "*"):
                todo.append(p + 1)
        return frozenset(out)

    def ends(
        self, rows: Sequence[Sequence[int]] | Mapping[int, Sequence[int]], start: int, stop: int
    ) -> list[int]:
        """Every ``end`` (start < end <= stop) such that rows[start:end] matches the pattern."""
        final = len(self.specs)
        specs, after = self.specs, self._after
        if self._fixed:
            # No operators: one state per position, a single possible end.
            if start + final > stop:
                return []
            for p, spec in enumerate(specs):
                row = rows[start + p]
                if not ((row[spec.kind] in spec.values) if spec.kind <= _ORTH else row[spec.kind]):
                    return []
            return [start + final]
        states: frozenset[int] | set[int] = self._start
        out = []
        for i in range(start, stop):
            row = rows[i]
            nxt: set[int] = set()
            for p in states:
                if p < final:
                    spec = specs[p]
                    if (row[spec.kind] in spec.values) if spec.kind <= _ORTH else row[spec.kind]:
                        nxt |= after[p]
            if not nxt:
                break
            states = nxt
            if final in nxt:
                out.append(i + 1)
        return out


class _LazyRows(dict[int, list[int]]):
    """Rows of a token block as Python lists, converted when first read.

    Converting a whole sentence run (hash columns become Python ints) cost more than matching:
    only the tokens where a pattern may start, and the few after them, are ever read.
    """

    def __init__(self, block: Any) -> None:
        super().__init__()
        self.block = block

    def __missing__(self, i: int) -> list[int]:
        row: list[int] = self.block[i].tolist()
        self[i] = row
        return row


@dataclass
class _DocRows:
    """:meth:`TokenPatternMatcher.rows` of one doc: the attribute array, the tokens where a
    pattern may start, and the rows converted to lists so far (shared by the doc's runs)."""

    array: Any
    hit: Any
    lists: _LazyRows = field(init=False)

    def __post_init__(self) -> None:
        self.lists = _LazyRows(self.array)


def _may_have_flag(text: str, kind: int) -> bool:
    """Whether a token whose text (or lower-case text) is ``text`` could be punctuation/space."""
    if kind == _SPACE:
        return text.isspace()
    return not any(c.isalnum() or c.isspace() for c in text)


def _may_share_a_token(a: _Spec, b: _Spec, strings: StringStore) -> bool:
    """Whether one token could satisfy both specs (True when unsure)."""
    if a.kind > b.kind:
        a, b = b, a
    if a.kind == b.kind and a.kind <= _ORTH:
        return not a.values.isdisjoint(b.values)
    if a.kind == _LOWER and b.kind == _ORTH:
        return any(strings.add(strings[o].lower()) in a.values for o in b.values)
    if a.kind <= _ORTH and b.kind > _ORTH:
        return any(_may_have_flag(strings[v], b.kind) for v in a.values)
    return True


def _may_tie(a: _Pattern, b: _Pattern, strings: StringStore) -> bool:
    """Whether some token sequence could match both patterns (True when unsure).

    Walks pairs of positions of the two automata over tokens that could satisfy both specs.
    """
    final = (len(a.specs), len(b.specs))
    seen: set[tuple[int, int]] = set()
    todo = [(p, q) for p in a.closure((0,)) for q in b.closure((0,))]
    while todo:
        p, q = todo.pop()
        if p == final[0] or q == final[1]:
            continue
        sa, sb = a.specs[p], b.specs[q]
        if not _may_share_a_token(sa, sb, strings):
            continue
        nexts_a = a.closure([p + 1, p] if sa.op in ("*", "+") else [p + 1])
        nexts_b = b.closure([q + 1, q] if sb.op in ("*", "+") else [q + 1])
        for pair in ((x, y) for x in nexts_a for y in nexts_b):
            if pair == final:
                return True
            if pair not in seen:
                seen.add(pair)
                todo.append(pair)
    return False


def _spec(token: dict[str, Any], strings: StringStore) -> _Spec | None:
    op = token.get("OP")
    if op not in _OPS:
        return None
    tests = [(k, v) for k, v in token.items() if k != "OP"]
    if len(tests) != 1:
        return None
    key, value = tests[0]
    if key in ("IS_PUNCT", "IS_SPACE"):
        if value is not True:
            return None
        return _Spec(_PUNCT if key == "IS_PUNCT" else _SPACE, frozenset(), op)
    if key not in ("LOWER", "ORTH", "TEXT"):
        return None
    if isinstance(value, dict):
        if set(value) != {"IN"}:
            return None
        value = value["IN"]
    else:
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return None
    # spaCy compares the hash of the string as written (a LOWER value in upper case never matches).
    hashes = frozenset(strings.add(v) for v in value)
    return _Spec(_LOWER if key == "LOWER" else _ORTH, hashes, op)


class TokenPatternMatcher:
    """Matches compiled token patterns; see the module docstring for what is supported."""

    def __init__(self, patterns: list[_Pattern]) -> None:
        self.patterns = patterns
        self._by_word: tuple[dict[int, list[int]], dict[int, list[int]]] = ({}, {})
        self._by_flag: tuple[list[int], list[int]] = ([], [])
        for index, pattern in enumerate(patterns):
            for p in sorted(pattern.closure((0,))):
                if p == len(pattern.specs):
                    continue
                spec = pattern.specs[p]
                if spec.kind <= _ORTH:
                    for value in spec.values:
                        bucket = self._by_word[spec.kind].setdefault(value, [])
                        if index not in bucket:
                            bucket.append(index)
                else:
                    flagged = self._by_flag[spec.kind - _PUNCT]
                    if index not in flagged:
                        flagged.append(index)
        # Sorted keys of the word indexes, to find candidate tokens with numpy.
        self._keys = tuple(
            numpy.array(sorted(index) or [0], dtype="uint64") for index in self._by_word
        )

    @classmethod
    def compile(cls, rules: Iterable[Any], strings: StringStore) -> TokenPatternMatcher | None:
        """The rules' token patterns (keyed by ``rule._rule_id``), or None if one is unsupported."""
        patterns = []
        for rule in rules:
            pattern = getattr(rule, "pattern", None)
            if not isinstance(pattern, list):
                continue
            if getattr(rule, "on_match", None) is not None or not pattern:
                return None
            specs = [_spec(token, strings) for token in pattern]
            if any(s is None for s in specs):
                return None
            key = strings.add(rule._rule_id)
            patterns.append(_Pattern(key, tuple(s for s in specs if s is not None)))
        # Two rules matching the same tokens would be listed in spaCy's internal order, which
        # decides which of them survives overlap pruning; leave such rule sets to spaCy.
        for i, a in enumerate(patterns):
            if any(_may_tie(a, b, strings) for b in patterns[i + 1 :]):
                return None
        return cls(patterns)

    def rows(self, doc: Doc) -> _DocRows:
        """Per token: LOWER, ORTH, IS_PUNCT, IS_SPACE (read once per doc), and whether some
        pattern may start at the token (found once per doc with numpy, not once per run)."""
        array = doc.to_array(_ATTRS)
        hit = numpy.zeros(len(array), dtype=bool)
        if len(array):
            for kind, keys in enumerate(self._keys):
                column = array[:, kind]
                where = numpy.searchsorted(keys, column)
                where[where == len(keys)] = 0
                hit |= keys[where] == column
            if self._by_flag[0]:
                hit |= array[:, _PUNCT] != 0
            if self._by_flag[1]:
                hit |= array[:, _SPACE] != 0
        return _DocRows(array, hit)

    def match(self, rows: _DocRows, start: int, stop: int) -> list[tuple[int, int, int]]:
        """(key, start, end) of all matches inside tokens [start, stop) of :meth:`rows`."""
        found: list[tuple[int, int, int, int]] = []
        lower_index, orth_index = self._by_word
        punct_index, space_index = self._by_flag
        starts = numpy.flatnonzero(rows.hit[start:stop])
        if not len(starts):
            return []
        starts += start
        hits: list[int] = starts.tolist()
        part = rows.lists
        part.update(zip(hits, rows.array[starts].tolist(), strict=True))
        for i in hits:
            row = part[i]
            # Index buckets are sorted and unique: only a merge of several needs sorting.
            candidates: Sequence[int] = lower_index.get(row[0], ())
            merged = False
            if row[1] in orth_index:
                candidates, merged = [*candidates, *orth_index[row[1]]], True
            if row[2] and punct_index:
                candidates, merged = [*candidates, *punct_index], True
            if row[3] and space_index:
                candidates, merged = [*candidates, *space_index], True
            if not candidates:
                continue
            for index in sorted(set(candidates)) if merged else candidates:
                pattern = self.patterns[index]
                for end in pattern.ends(part, i, stop):
                    found.append((i, end, index, pattern.key))
        found.sort()
        return [(key, s, e) for s, e, _, key in found]
