"""Assertion of a named target: locating it, the five flags, the rules behind them, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipeline.assertion import (
    Assertion,
    TargetNotFoundError,
    assert_target,
    judge_doc,
    locate_target,
    parse_request,
    quarantine_path_for,
)
from pipeline.cli import app
from pipeline.nlp import get_nlp

# --- locating the target ---------------------------------------------------------------------


def test_locate_ignores_case_and_spacing_differences() -> None:
    text = "The lungs are clear, no wheezes or   RALES."
    start, end = locate_target(text, "rales") or (0, 0)
    assert text[start:end] == "RALES"
    text = "Doppler showed DEEP   VEIN\tTHROMBOSIS today."
    start, end = locate_target(text, "deep vein thrombosis") or (0, 0)
    assert text[start:end] == "DEEP   VEIN\tTHROMBOSIS"
    # a space missing in the text, or in the target
    text = "Complains of SHORTNESSOF BREATH."
    start, end = locate_target(text, "shortness of breath") or (0, 0)
    assert text[start:end] == "SHORTNESSOF BREATH"
    start, end = locate_target("no chest pain", "chestpain") or (0, 0)
    assert (start, end) == (3, 13)


def test_locate_prefers_whole_words_and_the_upper_case_mention() -> None:
    # "mi" occurs inside "admitted" first; the whole word wins.
    text = "He was admitted to rule out MI."
    start, end = locate_target(text, "MI") or (0, 0)
    assert text[start:end] == "MI"
    # two mentions: the one written in upper case is the annotated one
    text = "Chest pain today, CHEST PAIN like the chest pain of last year."
    assert locate_target(text, "chest pain") == (18, 28)
    # without an upper-case mention, the first
    assert locate_target("chest pain, then chest pain", "chest pain") == (0, 10)


def test_locate_returns_none_when_absent() -> None:
    assert locate_target("Neck: Supple.", "Neck: Supple. No lymphadenopathy") is None
    assert locate_target("No fever.", "   ") is None


def test_target_span_is_used_even_when_a_longer_concept_overlaps() -> None:
    # The concept matcher finds "rheumatoid arthritis"; the target "arthritis" is judged as given,
    # and carries the overlapping concept's category.
    doc, span = judge_doc(get_nlp(), "Patient has rheumatoid arthritis.", "arthritis")
    assert span.text == "arthritis"
    assert list(doc.ents) == [span]
    assert span.label_ == "diagnosis"
    _, unknown = judge_doc(get_nlp(), "Saw a flibbertigibbet today.", "flibbertigibbet")
    assert unknown.label_ == "target"


def test_target_not_found_raises() -> None:
    with pytest.raises(TargetNotFoundError, match="E-ASSERT-003"):
        assert_target("No fever.", "cough")


# --- the flags ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "target", "expected"),
    [
        ("The lungs are clear, no wheezes or RALES.", "rales", Assertion(negated=True)),
        ("Patient denies CHEST PAIN.", "chest pain", Assertion(negated=True)),
        ("His mother had BREAST CANCER.", "breast cancer", Assertion(family=True)),
        ("PAST MEDICAL HISTORY: HYPERTENSION.", "hypertension", Assertion(historical=True)),
        ("She is s/p APPENDECTOMY.", "appendectomy", Assertion(historical=True)),
        ("Return to the clinic if she develops FEVER.", "fever", Assertion(hypothetical=True)),
        (
            "Admitted to r/o MYOCARDIAL INFARCTION.",
            "myocardial infarction",
            Assertion(uncertain=True),
        ),
        ("Findings suspicious for PNEUMONIA.", "pneumonia", Assertion(uncertain=True)),
        ("The patient has a COUGH.", "cough", Assertion()),
    ],
)
def test_flags(text: str, target: str, expected: Assertion) -> None:
    assert assert_target(text, target) == expected


@pytest.mark.parametrize(
    ("text", "target", "negated"),
    [
        # "-ve for" and "negative for" with layout spaces (our negative-for rule)
        ("GI ROS is -ve for change in bowel habit, BLEEDING or anemia.", "bleeding", True),
        ("Doppler of the legs negative   for DVT.", "DVT", True),
        # contrast words end the scope of a negation (our "but" rule carries them all)
        ("No numbness, though she does have PAIN in the fingers.", "pain", False),
        ("No fever, yet she reports CHILLS.", "chills", False),
        # a positive finding after a negated one
        ("MRI showed no dilatation and positive for CHOLELITHIASIS.", "cholelithiasis", False),
        # pseudo-negations: "no change", "not changed", "without difficulty", missing data
        ("No interval change in the NODULE.", "nodule", False),
        ("Screws in place without change and the CYSTS have not changed.", "cysts", False),
        ("She swallowed without difficulty and has ODYNOPHAGIA.", "odynophagia", False),
        ("Measurements not obtainable   indication: syncope and COLLAPSE", "collapse", False),
        # a cue inside the named phrase belongs to the phrase
        (
            "There was SIGMOID DIVERTICULOSIS WITHOUT DIVERTICULITIS.",
            "sigmoid diverticulosis without diverticulitis",
            False,
        ),
        (
            "The LUNGS SHOW NO AIRSPACE OPACITIES, or effusions.",
            "lungs show no airspace opacities",
            False,
        ),
    ],
)
def test_negation_rules(text: str, target: str, negated: bool) -> None:
    assert assert_target(text, target).negated is negated


def test_cue_inside_target_negates_with_medspacy_behaviour() -> None:
    text = "There was SIGMOID DIVERTICULOSIS WITHOUT DIVERTICULITIS."
    target = "sigmoid diverticulosis without diverticulitis"
    _, span = judge_doc(get_nlp(), text, target, cues_inside_target=True)
    assert span._.is_negated
    _, span = judge_doc(get_nlp(), text, target)
    assert not span._.is_negated


def test_presentation_ends_the_scope_of_history() -> None:
    text = "A woman with a history of CAD who presented with CHEST PAIN."
    assert not assert_target(text, "chest pain").historical
    assert assert_target(text, "CAD").historical
    text = "A man with a history of CAD, admitted with CHEST PAIN."
    assert not assert_target(text, "chest pain").historical


def test_history_header_is_the_reason_for_the_visit_but_social_history_is_past() -> None:
    assert not assert_target("HISTORY:  COUGH for two weeks.", "cough").historical
    assert assert_target("SOCIAL HISTORY: SMOKER for 60 years.", "smoker").historical


# --- request parsing and the CLI ---------------------------------------------------------------


def test_parse_request_reasons() -> None:
    assert parse_request(b'{"id": 7, "text": "No fever.", "target": "fever"}').id == "7"
    for raw, code in [
        (b"{not json", "E-ASSERT-001"),
        (b"[1, 2]", "E-ASSERT-001"),
        (b"\xff\xfe{}", "E-ASSERT-001"),
        (b'{"id": "a", "text": "No fever."}', "E-ASSERT-002"),
        (b'{"id": "a", "text": "", "target": "fever"}', "E-ASSERT-002"),
        (b'{"id": true, "text": "x", "target": "x"}', "E-ASSERT-002"),
    ]:
        with pytest.raises(ValueError, match=code):
            parse_request(raw)


def test_quarantine_path() -> None:
    assert quarantine_path_for(Path("a/out.jsonl")) == Path("a/out.quarantine.jsonl")
    assert quarantine_path_for(Path("a/out.txt")) == Path("a/out.txt.quarantine.jsonl")


def test_cli_judges_good_lines_and_quarantines_bad_ones(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "a", "text": "No wheezes or RALES.", "target": "rales"}).encode(),
        b"{malformed",
        json.dumps({"id": "c", "text": "Mother had DIABETES."}).encode(),
        json.dumps({"id": "d", "text": "No fever.", "target": "cough"}).encode(),
        b"",
        json.dumps({"id": "f", "text": "His father had a STROKE.", "target": "stroke"}).encode(),
        b'{"id": "g", "text": "caf\xe9", "target": "x"}',
    ]
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\n".join(lines) + b"\n")
    out = tmp_path / "out.jsonl"
    result = CliRunner().invoke(app, ["assertion", "--input", str(src), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "2 judged" in result.output and "4 quarantined" in result.output
    rows = [json.loads(x) for x in out.read_text().splitlines()]
    assert rows == [
        {
            "id": "a",
            "negated": True,
            "uncertain": False,
            "historical": False,
            "hypothetical": False,
            "family": False,
        },
        {
            "id": "f",
            "negated": False,
            "uncertain": False,
            "historical": False,
            "hypothetical": False,
            "family": True,
        },
    ]
    bad = [json.loads(x) for x in (tmp_path / "out.quarantine.jsonl").read_text().splitlines()]
    assert [(b["line"], b["reason"][:12]) for b in bad] == [
        (2, "E-ASSERT-001"),
        (3, "E-ASSERT-002"),
        (4, "E-ASSERT-003"),
        (7, "E-ASSERT-001"),
    ]
    assert [b["id"] for b in bad] == [None, "c", "d", None]
    assert all(b["source"] == str(src) for b in bad)
    # the quarantine never carries the text
    assert "fever" not in (tmp_path / "out.quarantine.jsonl").read_text().lower()


def test_cli_fails_when_nothing_can_be_judged(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text("{malformed\n")
    result = CliRunner().invoke(
        app, ["assertion", "--input", str(src), "-o", str(tmp_path / "o.jsonl")]
    )
    assert result.exit_code == 1
    assert "E-ASSERT-005" in result.output
    missing = CliRunner().invoke(
        app, ["assertion", "--input", str(tmp_path / "nope.jsonl"), "-o", str(tmp_path / "o.jsonl")]
    )
    assert missing.exit_code == 2
    assert "E-IO-001" in missing.output


# --- the rules resource --------------------------------------------------------------------


def test_context_rules_resource_is_well_formed() -> None:
    """Every rule of context_rules.json has only known fields and loads as a medspaCy rule."""
    from importlib import resources

    from medspacy.context import ConTextRule

    data = json.loads(
        resources.files("pipeline.resources").joinpath("context_rules.json").read_text("utf-8")
    )
    assert set(data) == {"source", "licence", "version", "context_rules", "remove_default"}
    fields = {"literal", "category", "direction", "pattern", "allowed_types", "max_scope"}
    categories = {
        "NEGATED_EXISTENCE", "POSSIBLE_EXISTENCE", "HISTORICAL", "HYPOTHETICAL", "FAMILY",
        "TERMINATE", "PSEUDO",
    }  # fmt: skip
    directions = {"FORWARD", "BACKWARD", "BIDIRECTIONAL", "TERMINATE", "PSEUDO"}
    for raw in data["context_rules"]:
        assert set(raw) <= fields, raw
        assert raw["category"] in categories and raw["direction"] in directions, raw
        if raw["category"] in {"TERMINATE", "PSEUDO"}:
            assert raw["direction"] == raw["category"], raw
        rule = dict(raw)
        if "allowed_types" in rule:
            rule["allowed_types"] = set(rule["allowed_types"])
        assert ConTextRule.from_dict(rule).literal == raw["literal"]
