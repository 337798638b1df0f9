"""Notes to facts: each extractor rule with a case that fails without it."""

from __future__ import annotations

import datetime as dt

import pytest
from note_facts import NOTE_DATE, facts, one

from criteria_models.facts import PatientFact
from pipeline.facts import facts_from_doc
from pipeline.nlp import get_nlp


def test_abbreviation_and_synonym_normalise_to_one_code() -> None:
    assert one("Ileocolonic Crohn's disease.", "K50").code_system == "ICD10CM"
    assert one("Active CD with ulcers.", "K50").preferred_name


def test_negation_over_a_list() -> None:
    found = facts("No history of seizures, head injury, stroke, TIA or loss of consciousness.")
    assert len(found) >= 5
    assert all(f.negated for f in found)


def test_family_history_is_family() -> None:
    f = one("FH: Mother has epilepsy (on lamotrigine).", "G40.909")
    assert f.family and not f.negated


def test_planned_treatment_is_hypothetical() -> None:
    assert one("Will start prednisone 20 mg daily if CK rises.", "prednisone").hypothetical
    assert one("Discussed tisagenlecleucel as a possible option.", "tisagenlecleucel").hypothetical


def test_resolved_infection_is_historical() -> None:
    assert one("COVID-19 in 11/2024, fully recovered.", "U07.1").historical


def test_lab_value_unit_range_and_uln() -> None:
    f = one("Labs: ALT 145 U/L (ref 7-40); AST 30 U/L.", "alt")
    assert (f.value_as_number, f.unit, f.ref_high) == (145.0, "U/L", 40.0)
    assert f.uln_multiple == pytest.approx(145 / 40, rel=1e-3)


def test_default_reference_range_is_marked() -> None:
    f = one("Transaminases mildly elevated (ALT 98, AST 71).", "alt")
    assert f.value_as_number == 98.0
    assert "reference_range=default" in f.term_modifiers


def test_si_units_are_kept_for_conversion() -> None:
    f = one("Creatinine 240 umol/L.", "creatinine")
    assert (f.value_as_number, f.unit) == (240.0, "umol/L")


def test_shared_result_over_a_coordinated_list() -> None:
    found = {f.code: f for f in facts("HBsAg/anti-HBc/HCV Ab negative.")}
    assert {found[c].result for c in ("hbsag", "anti_hbc", "hcv_ab")} == {"negative"}


def test_condition_named_with_a_result_is_a_test() -> None:
    assert one("HIV negative.", "B20").negated
    assert not one("HIV positive, on ART.", "Z21").negated


def test_inhaled_route_and_drug_classes() -> None:
    f = one("Continues inhaled budesonide (Pulmicort) only.", "budesonide")
    assert f.route == "inhaled"
    assert "glucocorticoid" in f.drug_classes


def test_class_mention_with_count() -> None:
    f = one("Refractory to steroids and two anti-TNF agents.", "tnf_inhibitor")
    assert f.value_as_number == 2.0
    assert "biologic" in f.drug_classes


def test_drug_dated_by_latest_exact_date() -> None:
    f = one("Prednisone 40 mg from 08/2024, tapered off 2024-09-20.", "prednisone")
    assert f.event_date == dt.date(2024, 9, 20)


def test_dated_denial_of_steroids() -> None:
    f = one("No systemic corticosteroids since 2024-10-28.", "glucocorticoid")
    assert f.negated and f.event_date == dt.date(2024, 10, 28)


def test_pseudo_negation_keeps_the_drug() -> None:
    f = one("No response to prednisone 1 mg/kg.", "prednisone")
    assert not f.negated
    assert f.outcome == "inadequate_response"


def test_outcome_before_coordinated_drugs() -> None:
    found = {f.code: f for f in facts("In sustained remission on MTX/HCQ since 2020.")}
    assert found["methotrexate"].outcome == "response"
    assert found["hydroxychloroquine"].outcome == "response"


def test_consent_statement_needs_affirmation() -> None:
    signed = [
        f
        for f in facts("ICF: signed by patient 2025-04-07.")
        if f.code == "informed_consent_signed"
    ]
    declined = [
        f for f in facts("Patient declined to sign the ICF.") if f.code == "informed_consent_signed"
    ]
    assert signed and not signed[0].negated and not signed[0].uncertain
    assert declined and declined[0].negated


def test_heading_label_is_not_an_assertion() -> None:
    codes = [f.code for f in facts("Infection: no fever, no active infection.") if not f.negated]
    assert "B99.9" not in codes


def test_sentence_split_on_attached_full_stop() -> None:
    doc = get_nlp()("QTc 424 ms. HIV neg. No history of hepatitis B. Started MTX 2019.")
    assert len(list(doc.sents)) == 4


def test_offsets_point_at_the_mention() -> None:
    text = "HPI: ulcerative colitis diagnosed 05/2019 at colonoscopy."
    f = one(text, "K51")
    assert text[f.start : f.end] == f.lexical_variant
    assert f.event_date == dt.date(2019, 5, 31)


def test_parallel_extraction_equals_serial() -> None:
    from pipeline.facts import extract_note_facts, extract_note_facts_parallel

    notes = [
        ("P1", "N1", NOTE_DATE, "Crohn disease since 2016. ALT 145 U/L (ref 7-40). No seizures."),
        ("P2", "N2", NOTE_DATE, "RA on MTX; HIV negative. Prednisone stopped 2024-12-01."),
        ("P3", "N3", NOTE_DATE, "Mother has epilepsy. Patient has psoriasis."),
    ]
    serial = list(extract_note_facts(get_nlp(), notes))
    parallel = list(extract_note_facts_parallel(notes, n_process=2, chunk_size=1))
    assert serial and parallel == serial


def test_negation_stops_at_attribution() -> None:
    f = one("No active infection (fevers attributed to AOSD).", "M06.1")
    assert not f.negated


def test_unconfirmed_is_uncertain() -> None:
    assert one("RA classification cannot be confirmed until serology is back.", "M06.9").uncertain


def test_source_text_shortcut_gives_identical_facts() -> None:
    text = "HPI: UC since 2019; failed IFX and ADA.\nLabs: ALT 145 U/L (ref 7-40). No seizures."
    doc = get_nlp()(text)
    assert facts_from_doc(doc, "P", "N", NOTE_DATE, text) == facts_from_doc(
        doc, "P", "N", NOTE_DATE
    )


@pytest.mark.parametrize(
    "text",
    [
        "She read about CAR-T therapy in the news.",
        "Self-referred after reading online about CAR-T for myositis.",
    ],
)
def test_reading_about_a_therapy_is_not_receiving_it(text: str) -> None:
    assert one(text, "car_t_therapy").hypothetical


def _lab(text: str, code: str) -> PatientFact:
    return next(f for f in facts(text) if f.category == "lab" and f.code == code)


def test_plain_text_table_row_keeps_its_unit() -> None:
    f = _lab("LABS:\nALT | 212 | U/L | 10-40\n", "alt")
    assert (f.value_as_number, f.unit, f.ref_low, f.ref_high) == (212.0, "U/L", 10.0, 40.0)


def test_stated_flag_and_flag_from_the_stated_range() -> None:
    assert "flag=L" in _lab("Hemoglobin 9.1 g/dL (L)", "hemoglobin").term_modifiers
    assert "flag=H" in _lab("Creatinine | 1.9 | mg/dL | 0.6-1.2 | H", "creatinine").term_modifiers
    assert "flag=H" in _lab("ALT 212 U/L (ref 10-40)", "alt").term_modifiers
    assert not any(
        m.startswith("flag=") for m in _lab("ALT 30 U/L (ref 7-40)", "alt").term_modifiers
    )


def test_default_range_is_converted_to_the_value_unit() -> None:
    # 168 umol/L is 1.9 mg/dL: about 1.5x the default upper limit, not 129x.
    f = _lab("Creatinine 168 umol/L", "creatinine")
    assert "reference_range=default" in f.term_modifiers
    assert f.ref_high is not None and 100 < f.ref_high < 130
    assert f.uln_multiple is not None and 1.3 < f.uln_multiple < 1.6


def test_treatment_course_stopped_or_ongoing_when_no_response_is_stated() -> None:
    by_code = {f.code: f for f in facts("Infliximab ongoing. Hydroxychloroquine was discontinued.")}
    assert by_code["infliximab"].outcome == "ongoing"
    assert by_code["hydroxychloroquine"].outcome == "stopped"
    # A stated response wins over the course word next to it.
    f = next(
        f for f in facts("Adalimumab stopped due to loss of response.") if f.code == "adalimumab"
    )
    assert f.outcome == "inadequate_response"


def test_side_or_organism_letters_are_not_lab_flags() -> None:
    k = _lab("Potassium 4.1 mmol/L (3.5-5.1), H. pylori antigen positive.", "potassium")
    assert not any(m.startswith("flag=") for m in k.term_modifiers)
    c = _lab("Creatinine 1.0 mg/dL (L) knee effusion noted.", "creatinine")
    assert not any(m.startswith("flag=") for m in c.term_modifiers)


def test_w_slash_o_negates_like_without() -> None:
    assert one("Major depressive disorder, severe w/o psychotic features.", "F29").negated
    assert not one("Major depressive disorder, severe w/o psychotic features.", "F32.9").negated


def test_a_blood_pressure_pair_gives_systolic_and_diastolic_values() -> None:
    found = {f.code: f.value_as_number for f in facts("BP 92/60 mmHg at triage.")}
    assert found["systolic_bp"] == 92 and found["diastolic_bp"] == 60
    assert "systolic_bp" not in {f.code for f in facts("BP checked daily.")}


def test_off_a_drug_is_not_taking_it() -> None:
    assert one("Off metoprolol since June.", "metoprolol").negated
    assert not one("Fell off a ladder; on aspirin.", "aspirin").negated


def test_present_tense_use_dates_the_drug_to_the_note() -> None:
    date = dt.date(2025, 11, 1)
    (f,) = [x for x in facts_from_doc(get_nlp()("She takes sertraline 50 mg."), "p", "n", date)]
    assert f.event_date == date


def test_a_roman_numeral_grade_is_the_scores_value_in_a_note() -> None:
    assert one("NYHA class III symptoms on exertion.", "nyha_class").value_as_number == 3


def test_never_on_a_list_of_drugs_negates_each() -> None:
    found = facts("Never on tofacitinib, baricitinib or upadacitinib.")
    assert len(found) == 3 and all(f.negated for f in found)


def test_a_current_medication_list_dates_the_drug_as_in_use_at_the_note() -> None:
    (f,) = facts_from_doc(
        get_nlp()("Current meds: donepezil 10 mg daily."), "p", "n", dt.date(2025, 5, 1)
    )
    assert f.event_date == dt.date(2025, 5, 1) and "date=in_use_at_note" in f.term_modifiers


def test_drug_dose_on_the_fact() -> None:
    pred = one(
        "Current medications: prednisone 7.5 mg daily, methotrexate 20 mg weekly.", "prednisone"
    )
    assert (pred.value_as_number, pred.unit) == (7.5, "mg/day")
    mtx = one(
        "Current medications: prednisone 7.5 mg daily, methotrexate 20 mg weekly.", "methotrexate"
    )
    assert (mtx.value_as_number, mtx.unit) == (20.0, "mg/week")
    assert one("She stopped prednisone in May.", "prednisone").unit is None


def test_a_drug_taken_since_a_date_is_marked_ongoing() -> None:
    text = "Medications: losartan 100 mg daily (since 2022), amlodipine 5 mg daily."
    losartan = one(text, "losartan")
    assert losartan.event_date == dt.date(2022, 12, 31) and "date=since" in losartan.term_modifiers
    # the date closes the losartan item: amlodipine is not dated by it
    assert one(text, "amlodipine").event_date != dt.date(2022, 12, 31)
    assert "date=since" not in one("Prednisone from 2019 to 2020.", "prednisone").term_modifiers


def test_consent_in_a_labelled_field() -> None:
    fact = one("Consent: signed 2026-01-20.", "informed_consent_signed")
    assert not fact.negated and not fact.uncertain


def test_crypt_abscesses_are_colitis_histology_not_a_skin_abscess() -> None:
    found = facts("Biopsies showed chronic active colitis with crypt abscesses.")
    assert not any(f.code.startswith("L02") for f in found)
    assert any(f.code == "K63.89" for f in found)
