"""Runs medspaCy ConText's token-pattern matcher only where a modifier can matter.

A ConText modifier's scope never leaves the sentence it starts in (we do not set ``max_scope``),
so a modifier matched in a sentence without any target can modify nothing. medspaCy matches its
token patterns (``{"LOWER": {"IN": [...]}}``) over the whole doc with spaCy's ``Matcher``, which
was half of our pipeline's time on long notes; here that matcher runs only on the runs of
consecutive sentences holding a target, and not at all on docs without targets. Phrase and regex
rules are cheap and still run on the whole doc, so every modifier that can reach a target is
found exactly as before.

When :class:`~pipeline.components.token_patterns.TokenPatternMatcher` supports every token
pattern (ours all are), it replaces spaCy's matcher on those sentences: same matches, a fraction
of the time. Otherwise spaCy's matcher runs there, only on stretches of tokens that some pattern
could match at all (its words, or punctuation/space where a pattern asks for them), and only on
the stretches holding an anchor: for each pattern, one required (non-optional) token, the one
with the least common-looking words (longest shortest word). Every token of a match satisfies its
pattern token and every match holds its pattern's anchor, so no match is lost. When a pattern
uses any other predicate, or has no required word token, this pre-filter is switched off and
whole sentences are matched.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Any

import numpy
from spacy.attrs import IS_PUNCT, IS_SPACE, LOWER, SENT_START
from spacy.tokens import Doc, Span

from pipeline.components.token_patterns import TokenPatternMatcher

# medspaCy 1.3 keeps its sub-matchers in name-mangled attributes; we check for them at build time.
_CONTEXT_MATCHER = "_ConText__matcher"
_TOKEN_MATCHER = "_MedspacyMatcher__matcher"
_PHRASE_MATCHER = "_MedspacyMatcher__phrase_matcher"
_REGEX_MATCHER = "_MedspacyMatcher__regex_matcher"


class TargetSentenceMatcher:
    """Stands in for ConText's ``MedspacyMatcher``; everything but matching is delegated."""

    def __init__(self, inner: Any) -> None:
        for attr in (_TOKEN_MATCHER, _PHRASE_MATCHER, _REGEX_MATCHER):
            if not hasattr(inner, attr):
                raise RuntimeError(
                    f"E-NLP-001 medspaCy's matcher has no {attr}: this medspaCy version is not "
                    "supported by pipeline.components.context_scope; pin medspacy==1.3.1"
                )
        self._inner = inner
        self._vocabulary_for: int = -1
        self._vocabulary: _PatternVocabulary | None = None
        self._tokens_for: int = -1
        self._tokens: TokenPatternMatcher | None = None

    def _pattern_vocabulary(self, doc: Doc) -> _PatternVocabulary | None:
        """The words the token patterns can match, rebuilt when rules are added."""
        rules = self._inner.rules
        if self._vocabulary_for != len(rules):
            self._vocabulary = _PatternVocabulary.of(rules, doc)
            self._vocabulary_for = len(rules)
        return self._vocabulary

    def _token_patterns(self, doc: Doc) -> TokenPatternMatcher | None:
        """Our matcher for the token patterns, rebuilt when rules are added; None if unsupported.

        Only used when overlapping matches are pruned: pruning sorts matches by span, so the
        order in which spaCy lists them does not matter (ties are ruled out at compile time).
        """
        rules = self._inner.rules
        if self._tokens_for != len(rules):
            compiled = TokenPatternMatcher.compile(rules, doc.vocab.strings)
            self._tokens = compiled if self._inner._prune else None
            self._tokens_for = len(rules)
        return self._tokens

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __call__(self, doc: Doc) -> list[tuple[int, int, int]]:
        return self.match(doc, target_sentence_runs(doc))

    def match(self, doc: Doc, runs: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
        """Token-pattern matches inside ``runs``; phrase and regex matches in the whole doc."""
        from medspacy.common.util import prune_overlapping_matches

        inner = self._inner
        matches: list[tuple[int, int, int]] = []
        tokens = self._token_patterns(doc) if runs else None
        if tokens is not None:
            rows = tokens.rows(doc)
            for start, end in runs:
                matches.extend(tokens.match(rows, start, end))
        else:
            token_matcher = getattr(inner, _TOKEN_MATCHER)
            vocabulary = self._pattern_vocabulary(doc) if runs else None
            if vocabulary is not None:
                runs = vocabulary.stretches(doc, runs)
            for start, end in runs:
                span = doc[start:end]
                # spaCy's Matcher returns offsets relative to the span it is given.
                matches.extend((key, s + start, e + start) for key, s, e in token_matcher(span))
        matches += getattr(inner, _PHRASE_MATCHER)(doc)
        matches += getattr(inner, _REGEX_MATCHER)(doc)
        if inner._prune:
            matches = prune_overlapping_matches(matches)
        return matches


class _PatternVocabulary:
    """Which tokens can be part of a token-pattern match: by LOWER hash, IS_PUNCT, IS_SPACE."""

    def __init__(self, lowers: set[int], anchors: set[int], punct: bool, space: bool) -> None:
        self.lowers = numpy.array(sorted(lowers), dtype="uint64")
        self.anchors = numpy.array(sorted(anchors), dtype="uint64")
        self.punct = punct
        self.space = space

    @classmethod
    def of(cls, rules: Any, doc: Doc) -> _PatternVocabulary | None:
        """None when some pattern token uses a predicate this filter does not understand."""
        strings = doc.vocab.strings
        lowers: set[int] = set()
        anchors: set[int] = set()
        punct = space = False
        for rule in rules:
            pattern = getattr(rule, "pattern", None)
            if not isinstance(pattern, list):
                continue
            anchor: tuple[int, list[str]] | None = None
            for token in pattern:
                for key, value in token.items():
                    if key == "OP":
                        continue
                    if key in ("LOWER", "TEXT", "ORTH"):
                        values = value["IN"] if isinstance(value, dict) else [value]
                        if isinstance(value, dict) and set(value) != {"IN"}:
                            return None
                        if not values or not all(isinstance(v, str) for v in values):
                            return None
                        lowers.update(strings.add(v.lower()) for v in values)
                        rarity = min(len(v) for v in values)
                        if token.get("OP") in (None, "+"):
                            if anchor is None or rarity > anchor[0]:
                                anchor = (rarity, values)
                    elif key == "IS_PUNCT" and value is True:
                        punct = True
                    elif key == "IS_SPACE" and value is True:
                        space = True
                    else:
                        return None
                if len(token) == (1 if "OP" in token else 0) or token.get("OP") == "!":
                    return None  # a wildcard or negated token matches words outside the patterns
            if anchor is None:
                return None
            anchors.update(strings.add(v.lower()) for v in anchor[1])
        return cls(lowers, anchors, punct, space)

    def stretches(self, doc: Doc, runs: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """The maximal stretches of matchable tokens inside ``runs``."""
        attrs = doc.to_array([LOWER, IS_PUNCT, IS_SPACE])
        ok = numpy.isin(attrs[:, 0], self.lowers)
        if self.punct:
            ok |= attrs[:, 1] != 0
        if self.space:
            ok |= attrs[:, 2] != 0
        inside = numpy.zeros(len(doc) + 2, dtype=numpy.int8)
        for start, end in runs:
            inside[start + 1 : end + 1] = ok[start:end]
        edges = numpy.flatnonzero(numpy.diff(inside))
        anchored = numpy.cumsum(numpy.isin(attrs[:, 0], self.anchors))
        out = []
        for a, b in zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True):
            if anchored[b - 1] - (anchored[a - 1] if a else 0) > 0:
                out.append((a, b))
        return out


def sentence_starts(doc: Doc) -> list[int]:
    """Token indices where sentences start (SENT_START == 1), always beginning with 0."""
    starts: list[int] = numpy.flatnonzero(doc.to_array([SENT_START]).astype("int64") == 1).tolist()
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    return starts


def target_sentence_runs(
    doc: Doc, targets: Sequence[Span] | None = None, starts: list[int] | None = None
) -> list[tuple[int, int]]:
    """Token ranges of the runs of consecutive sentences that hold a target (default doc.ents)."""
    ents = doc.ents if targets is None else targets
    if not ents:
        return []
    if starts is None:
        starts = sentence_starts(doc)
    bounds = [*starts, len(doc)]
    runs: list[tuple[int, int]] = []
    for ent in ents:
        first = bisect.bisect_right(starts, ent.start) - 1
        last = bisect.bisect_right(starts, max(ent.start, ent.end - 1)) - 1
        s, e = bounds[first], bounds[last + 1]
        if runs and s <= runs[-1][1]:
            runs[-1] = (runs[-1][0], max(runs[-1][1], e))
        else:
            runs.append((s, e))
    return runs


def scope_context_to_target_sentences(context: Any) -> None:
    """Installs :class:`TargetSentenceMatcher` in a medspaCy ``ConText`` component."""
    if not hasattr(context, _CONTEXT_MATCHER):
        raise RuntimeError(
            f"E-NLP-002 {type(context).__name__} has no {_CONTEXT_MATCHER}; pin medspacy==1.3.1"
        )
    inner = getattr(context, _CONTEXT_MATCHER)
    if not isinstance(inner, TargetSentenceMatcher):
        setattr(context, _CONTEXT_MATCHER, TargetSentenceMatcher(inner))
