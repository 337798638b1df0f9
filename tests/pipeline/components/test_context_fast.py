"""The lean ConText and its token-pattern matcher against medspaCy's and spaCy's own."""

from __future__ import annotations

import random
from typing import Any

import pytest
import spacy
from medspacy.context import ConText
from spacy.matcher import Matcher
from spacy.tokens import Doc, Span

from pipeline.components.context_fast import SentenceScopedConText
from pipeline.components.token_patterns import TokenPatternMatcher
from pipeline.nlp import build_nlp, get_nlp

TEXTS = [
    "Denies rheumatoid arthritis. Patient denies chest pain.\nNo history of asthma.",
    "Mother has asthma.\nHe was not on methotrexate, which was ruled out.",
    "PAST MEDICAL HISTORY: hypertension. Possible tuberculosis, may be ruled out.",
    "No evidence of pneumonia or tuberculosis but positive for asthma and no fever.",
    "History: none. Negative for\n\nhepatitis B, HIV: no. Family history of Crohn's disease.",
    "Should the patient develop psoriasis, stop adalimumab; not associated with asthma.",
    "no no no asthma asthma, denies denies tuberculosis\n\n\nrisk of sepsis because of diabetes",
]


def _graph(doc: Doc) -> list[Any]:
    ents = [
        (
            e.start,
            e.end,
            e.label_,
            [(m.modifier_span, m.scope_span, m.category) for m in e._.modifiers],
            [e._.is_negated, e._.is_uncertain, e._.is_historical, e._.is_hypothetical],
            e._.is_family,
        )
        for e in doc.ents
    ]
    graph = doc._.context_graph
    mods = [
        (m.modifier_span, m.scope_span, [(t.start, t.end) for t in m._targets])
        for m in graph.modifiers
    ]
    return [ents, mods, [((t.start, t.end), m.modifier_span) for t, m in graph.edges]]


def _run(text: str, medspacy_call: bool) -> Doc:
    nlp = get_nlp()
    doc = nlp.make_doc(text)
    for _, proc in nlp.pipeline:
        if isinstance(proc, SentenceScopedConText) and medspacy_call:
            doc = ConText.__call__(proc, doc)
        else:
            doc = proc(doc)
    return doc


@pytest.mark.parametrize("text", TEXTS)
def test_same_modifiers_scopes_and_edges_as_medspacy(text: str) -> None:
    ours = _graph(_run(text, medspacy_call=False))
    assert ours == _graph(_run(text, medspacy_call=True))
    assert ours[1]  # the texts do exercise ConText


def test_pipeline_uses_the_lean_context_and_our_token_matcher() -> None:
    context: Any = get_nlp().get_pipe("medspacy_context")
    assert isinstance(context, SentenceScopedConText)
    doc = get_nlp().make_doc("asthma")
    assert context._ConText__matcher._token_patterns(doc) is not None


def test_cross_sentence_modifier_falls_back_to_all_pairs() -> None:
    # "negative for" across a line break is one modifier spanning two sentences.
    text = "Asthma: negative\nfor hepatitis B. No fever, no asthma."
    assert _graph(_run(text, medspacy_call=False)) == _graph(_run(text, medspacy_call=True))


class _Rule:
    def __init__(self, i: int, pattern: list[dict[str, Any]]) -> None:
        self._rule_id = f"R{i}"
        self.pattern = pattern
        self.on_match = None


def _spacy_matches(rules: list[_Rule], doc: Doc) -> list[tuple[int, int, int]]:
    matcher = Matcher(doc.vocab)
    for rule in rules:
        matcher.add(rule._rule_id, [rule.pattern])
    return sorted(matcher(doc), key=lambda m: (m[1], m[2]))


def test_token_matcher_finds_what_spacy_finds_on_random_patterns() -> None:
    nlp = spacy.blank("en")
    rng = random.Random(3)
    compared = 0
    for _ in range(300):
        rules = []
        for i in range(rng.randint(1, 3)):
            pattern: list[dict[str, Any]] = []
            for _ in range(rng.randint(1, 4)):
                token: dict[str, Any] = rng.choice(
                    [{"LOWER": rng.choice("abc")}, {"LOWER": {"IN": rng.sample("abc", 2)}}]
                )
                if rng.random() < 0.1:
                    token = {"IS_PUNCT": True}
                op = rng.choice([None, None, "?", "*", "+"])
                if op:
                    token["OP"] = op
                pattern.append(token)
            rules.append(_Rule(i, pattern))
        ours = TokenPatternMatcher.compile(rules, nlp.vocab.strings)
        if ours is None:  # rules that could match the same tokens are left to spaCy
            continue
        for _ in range(5):
            words = [rng.choice(["a", "b", "c", "A", "d", "."]) for _ in range(rng.randint(1, 8))]
            doc = Doc(nlp.vocab, words=words)
            assert ours.match(ours.rows(doc), 0, len(doc)) == _spacy_matches(rules, doc), words
            compared += 1
    assert compared > 500


def test_token_matcher_refuses_what_it_does_not_support() -> None:
    strings = spacy.blank("en").vocab.strings
    assert TokenPatternMatcher.compile([_Rule(0, [{"LOWER": "a", "OP": "!"}])], strings) is None
    assert TokenPatternMatcher.compile([_Rule(0, [{"POS": "NOUN"}])], strings) is None
    assert TokenPatternMatcher.compile([_Rule(0, [{"LOWER": {"NOT_IN": ["a"]}}])], strings) is None
    tie = [_Rule(0, [{"LOWER": "a"}]), _Rule(1, [{"LOWER": {"IN": ["a", "b"]}}])]
    assert TokenPatternMatcher.compile(tie, strings) is None
    apart = [_Rule(0, [{"LOWER": "a"}]), _Rule(1, [{"LOWER": "b"}])]
    assert TokenPatternMatcher.compile(apart, strings) is not None


def test_token_matcher_keeps_spacy_case_rules() -> None:
    nlp = spacy.blank("en")
    rules = [_Rule(0, [{"TEXT": ":"}, {"LOWER": "no"}]), _Rule(1, [{"LOWER": "Neg"}])]
    ours = TokenPatternMatcher.compile(rules, nlp.vocab.strings)
    assert ours is not None
    doc = nlp.make_doc("History : NO neg Neg")
    found = ours.match(ours.rows(doc), 0, len(doc))
    assert found == _spacy_matches(rules, doc)
    assert [(s, e) for _, s, e in found] == [(1, 3)]


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        # Cues strictly inside a target: medspaCy's overlap test lets them modify it.
        ("Seen today with chronic no evidence of disease syndrome here.", 3, 9),
        ("Seen today. Possible past history of ruled out asthma ok", 4, 10),
    ],
)
def test_targets_holding_a_cue_are_judged_as_medspacy_does(text: str, start: int, end: int) -> None:
    def run(medspacy_call: bool) -> list[Any]:
        nlp = get_nlp()
        doc = nlp.get_pipe("elig_sentences")(nlp.make_doc(text))
        doc.ents = [Span(doc, start, end, label="diagnosis")]
        context = nlp.get_pipe("medspacy_context")
        doc = ConText.__call__(context, doc) if medspacy_call else context(doc)
        return _graph(doc)

    ours = run(medspacy_call=False)
    assert ours == run(medspacy_call=True)
    assert ours[2]  # the inner cue does modify the target


def test_spacy_matcher_fallback_gives_the_same_graph() -> None:
    """With our token matcher switched off, spaCy's (on anchored stretches) finds the same."""
    nlp = build_nlp()
    matcher: Any = nlp.get_pipe("medspacy_context")._ConText__matcher  # type: ignore[attr-defined]
    matcher._tokens_for, matcher._tokens = len(matcher.rules), None
    for text in TEXTS:
        assert _graph(nlp(text)) == _graph(get_nlp()(text))
    assert matcher._pattern_vocabulary(nlp.make_doc("x")) is not None  # stretches were in use
