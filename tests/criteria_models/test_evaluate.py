"""Three-valued evaluation: groups, silence, windows, counts, units, ULN, applicability, overall."""

from __future__ import annotations

import datetime as dt

import pytest

from criteria_models import (
    AllOf,
    AnyOf,
    AtLeast,
    Cohort,
    ConceptRef,
    Condition,
    Criterion,
    Demographic,
    DoseBound,
    Evaluator,
    Measurement,
    Medication,
    Not,
    PatientContext,
    PatientFact,
    Protocol,
    ProtocolRule,
    TimeWindow,
    evaluate_criterion,
    evaluate_protocol,
)

SCREEN = dt.date(2025, 3, 1)
CTX = PatientContext("P1", "F", dt.date(1980, 1, 1), SCREEN)
CROHN = ConceptRef(system="ICD10CM", code="K50", name="Crohn disease")
UTI = ConceptRef(system="ICD10CM", code="N39.0")


def fact(
    code: str, system: str = "ICD10CM", category: str = "diagnosis", **kw: object
) -> PatientFact:
    base: dict[str, object] = {
        "patient_id": "P1",
        "note_id": "N1",
        "note_date": kw.pop("note_date", SCREEN),
        "category": category,
        "code_system": system,
        "code": code,
        "preferred_name": code,
    }
    base.update(kw)
    return PatientFact(**base)  # type: ignore[arg-type]


def label(node: object, facts: list[PatientFact], ctx: PatientContext = CTX) -> str:
    return Evaluator(ctx, facts).evaluate(node).label  # type: ignore[arg-type]


def test_condition_present_negated_silent() -> None:
    node = Condition(concepts=[CROHN])
    assert label(node, [fact("K50.90")]) == "met"
    assert label(node, [fact("K50.90", negated=True)]) == "not_met"
    assert label(node, []) == "unknown"
    assert label(Condition(concepts=[CROHN], when_silent="not_met"), []) == "not_met"


def test_family_and_hypothetical_never_count() -> None:
    node = Condition(concepts=[CROHN])
    assert label(node, [fact("K50", family=True)]) == "unknown"
    assert label(node, [fact("K50", hypothetical=True)]) == "unknown"


def test_current_status_ignores_historical_but_ever_counts_it() -> None:
    facts = [fact("K50", historical=True)]
    assert label(Condition(concepts=[CROHN], status="current"), facts) == "unknown"
    assert label(Condition(concepts=[CROHN], status="ever"), facts) == "met"


def test_exception_codes_do_not_count() -> None:
    node = Condition(concepts=[ConceptRef(system="ICD10CM", code="N")], exceptions=[UTI])
    assert label(node, [fact("N39.0")]) == "unknown"
    assert label(node, [fact("N10")]) == "met"


def test_latest_statement_wins() -> None:
    node = Condition(concepts=[CROHN])
    old_pos = fact("K50", note_date=dt.date(2024, 1, 1))
    new_neg = fact("K50", negated=True, note_date=dt.date(2025, 1, 1))
    assert label(node, [old_pos, new_neg]) == "not_met"
    assert (
        label(node, [fact("K50", negated=True, note_date=dt.date(2024, 1, 1)), fact("K50")])
        == "met"
    )
    same_note = [fact("K50", start=5), fact("K50", negated=True, start=50)]
    assert label(node, same_note) == "not_met"


def test_diagnosis_window() -> None:
    node = Condition(concepts=[CROHN], window=TimeWindow(min_days_before=182))
    assert label(node, [fact("K50", event_date=dt.date(2020, 5, 1))]) == "met"
    assert label(node, [fact("K50", event_date=dt.date(2025, 1, 1))]) == "not_met"
    assert label(node, [fact("K50")]) == "unknown"


def test_positive_and_negative_tests() -> None:
    node = Condition(
        concepts=[ConceptRef(system="ICD10CM", code="B18.1")],
        positive_tests=[ConceptRef(system="LAB", code="hbsag")],
    )
    assert label(node, [fact("hbsag", "LAB", "lab", result="positive")]) == "met"
    assert label(node, [fact("hbsag", "LAB", "lab", result="negative")]) == "not_met"


def test_distinct_agent_count() -> None:
    node = Medication(drug_classes=["biologic"], min_distinct_agents=2)
    ifx = fact("infliximab", "DRUG", "drug", drug_classes=("tnf_inhibitor", "biologic"))
    ada = fact("adalimumab", "DRUG", "drug", drug_classes=("tnf_inhibitor", "biologic"))
    assert label(node, [ifx, ifx]) == "not_met"
    assert label(node, [ifx, ada]) == "met"
    assert (
        label(
            node,
            [
                ifx,
                fact("adalimumab", "DRUG", "drug", drug_classes=("biologic",), hypothetical=True),
            ],
        )
        == "not_met"
    )


def test_class_mention_with_count() -> None:
    node = Medication(drug_classes=["biologic"], min_distinct_agents=2)
    two = fact(
        "tnf_inhibitor",
        "DRUGCLASS",
        "drug",
        drug_classes=("tnf_inhibitor", "biologic"),
        value_as_number=2.0,
    )
    assert label(node, [two]) == "met"


def test_medication_window_and_route() -> None:
    node = Medication(
        drug_classes=["glucocorticoid"],
        exclude_routes=["inhaled"],
        window=TimeWindow(max_days_before=28),
    )
    recent = fact(
        "prednisone",
        "DRUG",
        "drug",
        drug_classes=("glucocorticoid",),
        event_date=dt.date(2025, 2, 20),
    )
    old = fact(
        "prednisone",
        "DRUG",
        "drug",
        drug_classes=("glucocorticoid",),
        event_date=dt.date(2024, 10, 1),
    )
    inhaled = fact(
        "budesonide",
        "DRUG",
        "drug",
        drug_classes=("glucocorticoid",),
        route="inhaled",
        event_date=SCREEN,
    )
    assert label(node, [recent]) == "met"
    assert label(node, [old]) == "not_met"
    assert label(node, [inhaled]) == "unknown"
    assert label(node, [old, inhaled]) == "not_met"


def test_measurement_units_and_uln() -> None:
    creat = Measurement(
        analytes=[ConceptRef(system="LAB", code="creatinine")],
        comparator=">",
        value=2.5,
        unit="mg/dL",
    )
    assert (
        label(creat, [fact("creatinine", "LAB", "lab", value_as_number=240.0, unit="umol/L")])
        == "met"
    )
    assert (
        label(creat, [fact("creatinine", "LAB", "lab", value_as_number=200.0, unit="umol/L")])
        == "not_met"
    )
    alt = Measurement(
        analytes=[ConceptRef(system="LAB", code="alt")], comparator=">", uln_multiple=3
    )
    assert label(alt, [fact("alt", "LAB", "lab", value_as_number=145.0, ref_high=40.0)]) == "met"
    assert label(alt, [fact("alt", "LAB", "lab", value_as_number=98.0, ref_high=40.0)]) == "not_met"
    assert label(alt, [fact("alt", "LAB", "lab", value_as_number=98.0)]) == "unknown"


def test_latest_lab_value_wins() -> None:
    alt = Measurement(
        analytes=[ConceptRef(system="LAB", code="alt")], comparator=">", uln_multiple=3
    )
    old = fact(
        "alt", "LAB", "lab", value_as_number=300.0, ref_high=40.0, note_date=dt.date(2024, 1, 1)
    )
    new = fact("alt", "LAB", "lab", value_as_number=30.0, ref_high=40.0)
    assert label(alt, [old, new]) == "not_met"


def test_bound_facts() -> None:
    node = Measurement(
        analytes=[ConceptRef(system="LAB", code="life_expectancy")],
        comparator=">",
        value=12,
        unit="weeks",
    )
    gt = fact(
        "life_expectancy", "LAB", "lab", value_as_number=12.0, value_comparator=">", unit="weeks"
    )
    lt = fact(
        "life_expectancy", "LAB", "lab", value_as_number=2.0, value_comparator="<", unit="months"
    )
    assert label(node, [gt]) == "met"
    assert label(node, [lt]) == "not_met"


@pytest.mark.parametrize(
    ("kids", "all_of", "any_of", "at_least_2"),
    [
        (["met", "met"], "met", "met", "met"),
        (["met", "not_met"], "not_met", "met", "not_met"),
        (["met", "unknown"], "unknown", "met", "unknown"),
        (["not_met", "unknown"], "not_met", "unknown", "not_met"),
        (["not_met", "not_met"], "not_met", "not_met", "not_met"),
    ],
)
def test_kleene_groups(kids: list[str], all_of: str, any_of: str, at_least_2: str) -> None:
    def leaf(x: str) -> Condition:
        return Condition(concepts=[ConceptRef(system="T", code=x)], when_silent=x)  # type: ignore[arg-type]

    items = [leaf(k) for k in kids]
    assert label(AllOf(items=items), []) == all_of
    assert label(AnyOf(items=items), []) == any_of
    assert label(AtLeast(n=2, items=items), []) == at_least_2
    assert label(Not(item=leaf("met")), []) == "not_met"
    assert label(Not(item=leaf("unknown")), []) == "unknown"


def test_applicability_gives_not_applicable() -> None:
    crit = Criterion(
        id="INC-PREG",
        kind="inclusion",
        text="negative pregnancy test",
        applicability=Demographic(attribute="sex", value="F"),
        requirement=Measurement(analytes=[ConceptRef(system="LAB", code="hcg")], result="negative"),
    )
    man = PatientContext("P2", "M", None, SCREEN)
    assert evaluate_criterion(crit, Evaluator(man, [])).label == "not_applicable"
    assert evaluate_criterion(crit, Evaluator(CTX, [])).label == "unknown"
    neg = fact("hcg", "LAB", "lab", result="negative")
    assert evaluate_criterion(crit, Evaluator(CTX, [neg])).label == "met"


def _protocol() -> Protocol:
    def crit(cid: str, kind: str, code: str) -> Criterion:
        return Criterion(
            id=cid,
            kind=kind,
            text=cid,  # type: ignore[arg-type]
            requirement=Condition(concepts=[ConceptRef(system="T", code=code)], status="ever"),
        )

    return Protocol(
        trial_id="T",
        criteria=[
            crit("INC-A", "inclusion", "a"),
            crit("INC-B", "inclusion", "b"),
            crit("INC-C", "inclusion", "c"),
            crit("EXC-X", "exclusion", "x"),
        ],
        rule=ProtocolRule(
            cohorts=[Cohort(id="A", criteria=["INC-A"]), Cohort(id="B", criteria=["INC-B"])],
            common_inclusions=["INC-C"],
            exclusions=["EXC-X"],
        ),
    )


def t(code: str, **kw: object) -> PatientFact:
    return fact(code, "T", "diagnosis", **kw)


def test_overall_labels() -> None:
    p = _protocol()
    eligible = evaluate_protocol(p, CTX, [t("a"), t("c"), t("x", negated=True)])
    assert (eligible.overall, eligible.cohort) == ("eligible", "A")
    excluded = evaluate_protocol(p, CTX, [t("a"), t("c"), t("x")])
    assert (excluded.overall, excluded.cohort) == ("excluded", "A")
    not_eligible = evaluate_protocol(p, CTX, [t("a", negated=True), t("b", negated=True)])
    assert not_eligible.overall == "not_eligible"
    review = evaluate_protocol(p, CTX, [t("a")])
    assert review.overall == "needs_review"
    assert eligible.score > review.score > not_eligible.score > excluded.score


def test_evidence_and_reason_on_verdicts() -> None:
    node = Measurement(
        analytes=[ConceptRef(system="LAB", code="alt")], comparator=">", uln_multiple=3
    )
    f = fact(
        "alt",
        "LAB",
        "lab",
        value_as_number=145.0,
        ref_high=40.0,
        unit="U/L",
        start=10,
        end=13,
        snippet="ALT 145 U/L",
    )
    v = Evaluator(CTX, [f]).evaluate(node)
    assert v.label == "met"
    assert "3.62 x ULN" in v.reason
    assert v.evidence[0].note_id == "N1" and v.evidence[0].start == 10


def test_later_uncertain_statement_reopens_an_affirmation() -> None:
    node = Condition(concepts=[CROHN])
    early = fact("K50", note_date=dt.date(2024, 1, 1))
    late_doubt = fact("K50", uncertain=True, note_date=dt.date(2025, 1, 1))
    assert label(node, [early, late_doubt]) == "unknown"
    assert label(node, [late_doubt, fact("K50", note_date=dt.date(2025, 2, 1))]) == "met"


def test_unconfirmed_agents_leave_a_count_open() -> None:
    node = Medication(drug_classes=["biologic"], min_distinct_agents=2)
    ifx = fact("infliximab", "DRUG", "drug", drug_classes=("biologic",))
    maybe = fact("tnf_inhibitor", "DRUGCLASS", "drug", drug_classes=("biologic",), uncertain=True)
    assert label(node, [ifx]) == "not_met"
    assert label(node, [ifx, maybe]) == "unknown"


def test_code_match_cache_follows_each_requirement_node() -> None:
    # Matching answers are remembered per ref list; a new node with other concepts (possibly at a
    # reused memory address) must get its own answers.
    facts = [fact("K50.90", note_date=dt.date(2025, 1, 1)), fact("N39.0", negated=True)]
    for _ in range(50):
        assert label(Condition(concepts=[CROHN]), facts) == "met"
        assert label(Condition(concepts=[UTI]), facts) == "not_met"
        assert label(Condition(concepts=[ConceptRef(system="ICD10CM", code="K51")]), facts) == (
            "unknown"
        )
    node = Condition(concepts=[CROHN, UTI])
    verdict = Evaluator(CTX, facts).evaluate(node)
    # the later "no UTI" denies one member of the set, not the documented Crohn disease
    assert verdict.label == "met" and len(verdict.evidence) == 1


def test_drug_class_condition_sees_drug_facts_without_a_named_code() -> None:
    node = Condition(
        concepts=[ConceptRef(system="ELIG", code="immunocompromised")],
        drug_classes=["tnf_inhibitor"],
    )
    drug = fact("infliximab", system="DRUG", category="drug", drug_classes=("tnf_inhibitor",))
    assert label(node, [fact("I10"), drug]) == "met"


def test_a_requirement_edited_in_place_is_evaluated_afresh() -> None:
    node = Condition(concepts=[ConceptRef(system="ICD10CM", code="I10")])
    facts = [fact("E11.9")]
    assert label(node, facts) == "unknown"
    node.concepts[0].code = "E11"  # a reviewer corrects the code in a notebook
    assert label(node, facts) == "met"


def test_a_current_condition_is_inside_a_window_ending_at_screening() -> None:
    """'Active Crohn disease in the past 2 years': onset in 2015 does not put it outside."""
    window = TimeWindow(max_days_before=730)
    onset = fact("K50", event_date=dt.date(2015, 6, 1))
    assert label(Condition(concepts=[CROHN], status="current", window=window), [onset]) == "met"
    # an 'ever' condition keeps its date: a flare in 2015 is not within the past 2 years
    assert label(Condition(concepts=[CROHN], status="ever", window=window), [onset]) == "not_met"
    # and a bound on the onset ('diagnosed >= 6 months before') still reads the date
    recent = fact("K50", event_date=SCREEN - dt.timedelta(days=30))
    node = Condition(concepts=[CROHN], status="current", window=TimeWindow(min_days_before=182))
    assert label(node, [recent]) == "not_met"


def _one_cohort_protocol(*criteria: Criterion) -> Protocol:
    return Protocol(
        trial_id="T",
        criteria=list(criteria),
        rule=ProtocolRule(cohorts=[Cohort(id="MAIN", criteria=[c.id for c in criteria])]),
    )


def test_a_cohort_inclusion_that_does_not_apply_is_satisfied() -> None:
    """Contraception for women of childbearing potential does not make a man ineligible."""
    crohn = Criterion(
        id="INC-01", kind="inclusion", text="Crohn", requirement=Condition(concepts=[CROHN])
    )
    contraception = Criterion(
        id="INC-02",
        kind="inclusion",
        text="Contraception",
        applicability=Demographic(attribute="sex", value="F"),
        requirement=Condition(concepts=[ConceptRef(system="ELIG", code="contraception_agreement")]),
    )
    man = PatientContext("P2", "M", dt.date(1980, 1, 1), SCREEN)
    result = evaluate_protocol(_one_cohort_protocol(crohn, contraception), man, [fact("K50.90")])
    assert result.criteria["INC-02"].label == "not_applicable"
    assert result.overall == "eligible"
    # but a cohort of inclusions that all do not apply is no cohort met
    only_na = evaluate_protocol(_one_cohort_protocol(contraception), man, [])
    assert only_na.overall != "eligible"


def test_age_is_compared_in_completed_years() -> None:
    sixty_five_and_a_half = PatientContext("P3", "F", dt.date(1959, 9, 1), SCREEN)
    assert (
        label(Demographic(attribute="age", comparator="<=", value=65), [], sixty_five_and_a_half)
        == "met"
    )
    assert (
        label(Demographic(attribute="age", comparator=">", value=65), [], sixty_five_and_a_half)
        == "not_met"
    )


def test_current_use_is_decided_by_the_latest_statement_per_agent() -> None:
    node = Medication(drug_classes=["anticoagulant"], current=True)
    ever = Medication(drug_classes=["anticoagulant"])

    def drug(code: str, start: int, **kw: object) -> PatientFact:
        return fact(code, "DRUG", "drug", drug_classes=("anticoagulant",), start=start, **kw)

    stopped = [drug("warfarin", 0), drug("warfarin", 10, outcome="stopped")]
    assert label(node, stopped) == "not_met"
    assert label(ever, stopped) == "met"  # prior use still counts when current use is not asked
    class_denial = [
        drug("apixaban", 0),
        fact(
            "anticoagulant",
            "DRUGCLASS",
            "drug",
            drug_classes=("anticoagulant",),
            start=20,
            negated=True,
        ),
    ]
    assert label(node, class_denial) == "not_met"
    assert label(node, [drug("apixaban", 0)]) == "met"


def test_a_drug_dated_only_by_its_note_shows_no_start_date() -> None:
    """'On donepezil' in a note of screening day: in use then, for how long is not said."""
    node = Medication(
        drugs=[ConceptRef(system="DRUG", code="donepezil")], window=TimeWindow(min_days_before=90)
    )
    in_use = fact(
        "donepezil", "DRUG", "drug", event_date=SCREEN, term_modifiers=("date=in_use_at_note",)
    )
    assert label(node, [in_use]) == "unknown"
    started = fact("donepezil", "DRUG", "drug", event_date=dt.date(2023, 1, 1))
    assert label(node, [in_use, started]) == "met"


def test_a_hedged_mention_meets_a_criterion_asking_for_the_hedged_diagnosis() -> None:
    probable = [fact("K50", uncertain=True)]
    assert label(Condition(concepts=[CROHN], qualifiers=["probable"]), probable) == "met"
    assert label(Condition(concepts=[CROHN]), probable) == "unknown"


def test_dose_bound_counts_only_agents_within_it() -> None:
    steroid = ("glucocorticoid",)
    bound = DoseBound(comparator=">", value=10, unit="mg/day", equivalent="prednisone")
    node = Medication(drugs=[ConceptRef(system="DRUG", code="prednisone")], dose=bound)
    node.drug_classes.append("glucocorticoid")

    def pred(value: float | None, unit: str | None, code: str = "prednisone") -> PatientFact:
        return fact(code, "DRUG", "drug", drug_classes=steroid, value_as_number=value, unit=unit)

    assert label(node, [pred(20, "mg/day")]) == "met"
    assert label(node, [pred(5, "mg/day")]) == "not_met"
    assert label(node, [pred(None, None)]) == "unknown"  # taken, dose not stated
    assert label(node, []) == "unknown"  # silent
    # 16 mg methylprednisolone = 20 mg prednisone; 1 mg dexamethasone = 6.7 mg prednisone
    assert label(node, [pred(16, "mg/day", "methylprednisolone")]) == "met"
    assert label(node, [pred(1, "mg/day", "dexamethasone")]) == "not_met"
    # the latest stated dose decides
    early = fact(
        "prednisone",
        "DRUG",
        "drug",
        drug_classes=steroid,
        value_as_number=40,
        unit="mg/day",
        note_date=dt.date(2024, 1, 1),
    )
    assert label(node, [early, pred(5, "mg/day")]) == "not_met"
    # a weekly amount compared per day; a per-kilogram bound needs a per-kilogram dose
    assert label(node, [pred(140, "mg/week")]) == "met"
    per_kg = Medication(
        drugs=[ConceptRef(system="DRUG", code="prednisone")],
        dose=DoseBound(comparator=">=", value=0.5, unit="mg/kg/day"),
    )
    assert label(per_kg, [pred(30, "mg/day")]) == "unknown"
    # without equivalence another glucocorticoid's dose is not comparable
    plain = Medication(
        drug_classes=["glucocorticoid"], dose=bound.model_copy(update={"equivalent": None})
    )
    assert label(plain, [pred(16, "mg/day", "methylprednisolone")]) == "met"


def test_dose_reason_shows_the_arithmetic() -> None:
    node = Medication(
        drug_classes=["glucocorticoid"],
        dose=DoseBound(comparator=">", value=10, unit="mg/day", equivalent="prednisone"),
    )
    f = fact(
        "methylprednisolone",
        "DRUG",
        "drug",
        drug_classes=("glucocorticoid",),
        value_as_number=16,
        unit="mg/day",
    )
    verdict = Evaluator(CTX, [f]).evaluate(node)
    assert verdict.label == "met"
    assert "20 mg prednisone-equivalent" in verdict.reason


def test_a_denied_member_does_not_cancel_another_member_of_the_group() -> None:
    stroke = Condition(concepts=[ConceptRef(system="ICD10CM", code="I6")])
    ischemic = fact("I63.9", note_date=dt.date(2025, 1, 1))
    no_ich = fact("I61.9", negated=True)
    assert label(stroke, [ischemic, no_ich]) == "met"
    # a later denial of the same concept or of a broader one still wins
    assert label(stroke, [ischemic, fact("I63.9", negated=True)]) == "not_met"
    assert label(stroke, [ischemic, fact("I63", negated=True)]) == "not_met"


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("Hypertension, poorly controlled despite three agents.", "met"),
        ("HTN, well controlled on amlodipine.", "not_met"),
        ("History of hypertension.", "unknown"),
    ],
)
def test_uncontrolled_qualifier_is_read_on_the_mention(sentence: str, expected: str) -> None:
    node = Condition(
        concepts=[ConceptRef(system="ICD10CM", code="I10")], qualifiers=["uncontrolled"]
    )
    assert label(node, [fact("I10", sentence=sentence)]) == expected


def test_a_denied_unspecified_code_denies_its_category() -> None:
    psoriasis = Condition(concepts=[ConceptRef(system="ICD10CM", code="L40")])
    vulgaris = fact("L40.0", note_date=dt.date(2025, 1, 1))
    assert label(psoriasis, [vulgaris, fact("L40.9", negated=True)]) == "not_met"
    assert label(psoriasis, [vulgaris, fact("L40.5", negated=True)]) == "met"


def test_a_denied_broader_concept_rules_out_a_narrower_one() -> None:
    hfref = Condition(concepts=[ConceptRef(system="ICD10CM", code="I50.2")])
    assert label(hfref, [fact("I50.9", negated=True)]) == "not_met"  # "no heart failure"
    assert label(hfref, [fact("I50.3", negated=True)]) == "unknown"  # another kind denied


def test_a_drug_taken_since_a_date_is_in_use_at_its_note() -> None:
    arb = Medication(
        drug_classes=["arb"], window=TimeWindow(max_days_before=28, text="within 4 weeks")
    )
    since = fact(
        "losartan",
        "DRUG",
        "drug",
        drug_classes=("arb",),
        event_date=dt.date(2022, 1, 1),
        term_modifiers=("date=since",),
    )
    assert label(arb, [since]) == "met"  # listed on the screening day: in use now
    started = fact(
        "losartan", "DRUG", "drug", drug_classes=("arb",), event_date=dt.date(2022, 1, 1)
    )
    assert label(arb, [started]) == "not_met"  # a dated course in 2022 only
    stopped = fact(
        "losartan",
        "DRUG",
        "drug",
        drug_classes=("arb",),
        event_date=dt.date(2022, 1, 1),
        outcome="stopped",
        term_modifiers=("date=since",),
    )
    assert label(arb, [stopped]) == "not_met"
