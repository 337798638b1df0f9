"""Uncoded clinical mentions: unspecified mentions, word shapes, misuse phrases, abbreviations."""

from __future__ import annotations

from pipeline.mentions import (
    abbreviation_mentions,
    clinical_mentions,
    generic_mentions,
    head_type,
    mention_rules,
)


def _found(text: str) -> set[tuple[str, str]]:
    return {(t, text[s:e].lower()) for t, s, e in clinical_mentions(text)}


def test_generic_mentions_skip_study_products_unless_asked() -> None:
    text = "No other medications except the study drug"
    plain = {text[s:e] for _, s, e in generic_mentions(text)}
    assert plain == {"medications"}
    every = {text[s:e] for _, s, e in generic_mentions(text, study_products=True)}
    assert every == {"medications", "drug"}


def test_disease_word_endings_are_conditions() -> None:
    found = _found("Known glomerulonephritis, osteonecrosis or a schwannoma")
    assert {("Condition", "glomerulonephritis"), ("Condition", "osteonecrosis")} <= found
    assert ("Condition", "schwannoma") in found


def test_ordinary_words_with_a_disease_ending_are_excluded() -> None:
    found = _found("Diagnosis confirmed by analysis; prognosis unknown")
    assert not any(t == "Condition" for t, _ in found)


def test_procedure_word_endings_and_heads() -> None:
    found = _found("Prior cholecystectomy, arthroplasty or a pacemaker; postoperative period")
    assert {("Procedure", "cholecystectomy"), ("Procedure", "arthroplasty")} <= found
    assert ("Procedure", "pacemaker") in found and ("Procedure", "postoperative") in found
    assert not any(w == "cooperative" for _, w in _found("A cooperative patient"))


def test_drug_stems_and_classes() -> None:
    found = _found("Treated with trastuzumab, imatinib or other anticoagulants")
    assert {("Drug", "trastuzumab"), ("Drug", "imatinib"), ("Drug", "anticoagulants")} <= found
    assert ("Drug", "investigational product") in _found("any investigational product")


def test_hyphenated_word_parts_are_checked() -> None:
    found = _found("prior anti-cancer therapy")
    assert ("Condition", "cancer") in found and ("Procedure", "therapy") in found


def test_touching_mentions_of_one_type_are_merged() -> None:
    text = "needs hearing aids or a cochlear implant device"
    spans = [(t, text[s:e]) for t, s, e in clinical_mentions(text)]
    assert ("Procedure", "implant device") in spans


def test_substance_misuse_is_a_condition_not_a_drug() -> None:
    found = _found("History of alcohol or drug abuse")
    assert ("Condition", "alcohol or drug abuse") in found
    assert not any(t == "Drug" for t, _ in found)


def test_observation_heads() -> None:
    assert ("Observation", "smokers") in _found("Current smokers")
    assert head_type("chronic low back pain") == "Observation"
    assert head_type("kidney stone") is None


def test_defined_abbreviation_takes_the_type_everywhere() -> None:
    text = "Known periventricular leukomalacia (PVL). Patients with PVL or PL are excluded."
    long_form = text.index("periventricular")
    typed = [("Condition", long_form, long_form + len("periventricular leukomalacia"))]
    found = [text[s:e] for t, s, e in abbreviation_mentions(text, typed) if t == "Condition"]
    assert found.count("PVL") == 2 and "PL" not in found


def test_abbreviation_must_spell_the_long_form() -> None:
    text = "severe asthma (COPD) or COPD"
    assert abbreviation_mentions(text, [("Condition", 7, 13)]) == []


def test_rule_file_lists_each_type_once() -> None:
    types = [r.type for r in mention_rules().rules]
    assert sorted(types) == sorted(set(types))


def test_anti_class_plurals_are_drugs() -> None:
    found = _found("No antiseptics or anti-emetics; antibodies allowed")
    assert {("Drug", "antiseptics"), ("Drug", "anti-emetics")} <= found
    assert not any(w == "antibodies" for _, w in found)


def test_medicine_as_a_discipline_is_not_a_drug() -> None:
    assert not any(t == "Drug" for t, _ in _found("Patients of the internal medicine clinic"))
    assert ("Drug", "medicine") in _found("Any herbal medicine")


def test_anti_words_name_agents_not_the_disease() -> None:
    found = _found("No anti-inflammatory drugs; prior anti-VEGF therapy")
    assert ("Drug", "anti-inflammatory drugs") in found
    assert ("Procedure", "anti-vegf therapy") in found
    assert not any(t == "Condition" for t, _ in found)
    assert ("Condition", "cancer") in _found("prior anti-cancer drugs")


def test_abbreviation_defined_by_a_head_word_mention_spells_its_modifiers() -> None:
    text = "Known subdural hematoma (SDH); no SDH"
    head = text.index("hematoma")
    typed = [("Condition", head, head + len("hematoma"))]
    found = [text[s:e] for t, s, e in abbreviation_mentions(text, typed) if t == "Condition"]
    assert found == ["SDH", "SDH"]


def test_eligibility_condition_and_procedure_phrases() -> None:
    found = _found(
        "Women of child-bearing potential not using birth control or condoms; a language "
        "barrier; prior acupuncture or spinal manipulation; events from other causes"
    )
    assert {
        ("Condition", "child-bearing potential"),
        ("Procedure", "birth control"),
        ("Procedure", "condoms"),
        ("Condition", "language barrier"),
        ("Procedure", "acupuncture"),
        ("Procedure", "manipulation"),
        ("Condition", "events"),
        ("Condition", "causes"),
    } <= found
    assert ("Drug", "oils") in _found("No essential oils")


def test_abbreviation_written_before_its_long_form() -> None:
    text = "Excluded: CKD (chronic kidney disease). Stable CKD allowed. XY (long walks)."
    head = text.index("disease")
    walks = text.index("walks")
    typed = [("Condition", head, head + len("disease")), ("Procedure", walks, walks + 5)]
    found = [(t, text[s:e]) for t, s, e in abbreviation_mentions(text, typed)]
    assert found == [("Condition", "CKD"), ("Condition", "CKD")]


def test_new_head_words_and_drug_class_plurals() -> None:
    found = _found("Mechanically ventilated; rectal perforation; fluoroquinolones; no hemorrhoids")
    assert {
        ("Procedure", "ventilated"),
        ("Condition", "perforation"),
        ("Drug", "fluoroquinolones"),
    } <= found
    assert ("Drug", "hemorrhoids") not in found


def test_recreational_substance_use_is_a_condition() -> None:
    assert ("Condition", "drug use") in _found("illicit drug use or alcohol withdrawal")
    assert ("Condition", "alcohol withdrawal") in _found("illicit drug use or alcohol withdrawal")
    assert not any(t == "Condition" for t, _ in _found("concomitant medication use"))
    assert not any(t == "Condition" for t, _ in _found("any study drug use"))
