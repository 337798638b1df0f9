"""Administrative statements (protocol compliance, a phone or the internet, health insurance,
legal protection, residence, literacy), other-study phrasings and procedure concepts: criteria a
note or a screening record can state, so matching can use them."""

from __future__ import annotations

import datetime as dt

import pytest

from criteria_models.evaluate import Evaluator
from criteria_models.facts import PatientContext, PatientFact
from criteria_models.model import Condition, Not, Requirement
from pipeline.facts import facts_from_doc
from pipeline.nlp import get_nlp
from pipeline.parse_criteria import criterion_requirement

# A signed consent shows the capacity to consent: either answers "able to give consent".
_CAPACITY = {"consent_capacity", "informed_consent_signed"}


def _leaf(node: Requirement | None) -> tuple[set[str], bool]:
    """The codes of a (possibly negated) condition and whether it is negated."""
    negated = isinstance(node, Not)
    inner = node.item if isinstance(node, Not) else node
    assert isinstance(inner, Condition), node
    return {c.code for c in inner.concepts}, negated


@pytest.mark.parametrize(
    ("text", "kind", "codes", "negated", "category"),
    [
        ("Willing and able to comply with scheduled visits", "inclusion", {"protocol_compliance"}, False, "compliance"),
        ("Unable to complete follow-up visits", "exclusion", {"protocol_compliance"}, True, "compliance"),
        ("Patient unwillingness or inability to follow study procedures", "exclusion", {"protocol_compliance"}, True, "compliance"),
        ("Not available for follow-up", "exclusion", {"protocol_compliance"}, True, "compliance"),
        ("Own a smartphone (Apple or Android)", "inclusion", {"device_access"}, False, "logistics"),
        ("Do not have a smart phone", "exclusion", {"device_access"}, True, "logistics"),
        ("Regular internet access", "inclusion", {"device_access"}, False, "logistics"),
        ("Affiliation to social security", "inclusion", {"health_insurance"}, False, "legal_status"),
        ("Person not affiliated to the national health insurance system", "exclusion", {"health_insurance"}, True, "legal_status"),
        ("Lack of medical insurance", "exclusion", {"health_insurance"}, True, "legal_status"),
        ("Patient under guardianship or under curatorship", "exclusion", {"legal_protection"}, False, "legal_status"),
        ("not subject to a judicial protection measure", "inclusion", {"legal_protection"}, True, "legal_status"),
        ("Must have a permanent residence in Sweden", "inclusion", {"study_area_residence"}, False, "logistics"),
        ("No immediate plan for relocation during the study", "inclusion", {"study_area_residence"}, False, "logistics"),
        ("Planning to move away during the study period", "inclusion", {"study_area_residence"}, True, "logistics"),
        ("Residence outside the catchment area", "exclusion", {"study_area_residence"}, True, "logistics"),
        ("Incarceration", "exclusion", {"Z65.1"}, False, "legal_status"),
        ("Prisoners", "exclusion", {"Z65.1"}, False, "legal_status"),
        ("Patients who lack capacity", "exclusion", _CAPACITY, True, "consent"),
        ("Person deemed mentally incompetent", "exclusion", _CAPACITY, True, "consent"),
        ("Willingness to participate in this study", "inclusion", {"informed_consent_signed"}, False, "consent"),
        ("Children who are unwilling to participate", "exclusion", {"informed_consent_signed"}, True, "consent"),
        ("Wards of the state", "exclusion", {"legal_protection"}, False, "legal_status"),
        ("Able to read and write", "inclusion", {"Z55.0"}, True, "condition"),
        ("Inability to read", "exclusion", {"Z55.0"}, False, "condition"),
    ],
)  # fmt: skip
def test_administrative_statement_is_coded(
    text: str, kind: str, codes: set[str], negated: bool, category: str
) -> None:
    requirement, found = criterion_requirement(text, kind)
    assert _leaf(requirement) == (codes, negated)
    assert found == category


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        # the investigator's judgement of what a condition prevents is not a stated fact
        ("Any condition that would preclude compliance with the study visits", "exclusion"),
        ("Unable to comply with the protocol in the judgment of the investigator", "exclusion"),
        # compliance with the criteria, a completed screener, a number: not the concepts
        ("Lack of compliance with any inclusion criteria", "exclusion"),
        ("Inability to complete the telephone screener", "exclusion"),
        ("Willing to provide a valid social security number", "inclusion"),
        # an exclusion naming an area: the concept has no place to hold it
        ("Residing in urban areas", "exclusion"),
        ("Residence with the child", "inclusion"),
        # another person's willingness is not the patient's consent
        ("At least two relatives willing to participate in the screening programme", "inclusion"),
    ],
)
def test_not_an_administrative_statement(text: str, kind: str) -> None:
    requirement, _ = criterion_requirement(text, kind)
    assert requirement is None


@pytest.mark.parametrize(
    "text",
    [
        "Have joined other clinical trials",
        "Ongoing participation in another study",
        "Patient in an exclusion period determined by another study",
        "Participating in a study with medicines or medical devices",
        "Registration in any other interventional study",
        "Patient already participating in a category 1 research study",
    ],
)
def test_other_study_phrasings(text: str) -> None:
    requirement, category = criterion_requirement(text, "exclusion")
    assert _leaf(requirement) == ({"investigational_product"}, False)
    assert category == "study_participation"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("Thymectomy performed < 12 months prior to screening", "thymectomy"),
        ("Prior adenoidectomy", "tonsillectomy"),
        ("History of mitral valvuloplasty", "valvuloplasty"),
        ("Previous spinal manipulation within the past month", "spinal_manipulation"),
        ("Patients with median sternotomy", "sternotomy"),
        ("Scheduled for pancreaticoduodenectomy", "pancreatectomy"),
        ("Indication for cardiac resynchronization therapy", "cardiac_resynchronization"),
        ("Implantable cardiac defibrillator", "Z95.810"),
        ("Hospitalised within 3 months prior to screening", "hospitalization"),
        ("Admitted to the ICU for at least 24 hours", "icu_admission"),
        ("Hemodynamic instability", "hemodynamic_instability"),
        ("Difficult airway", "difficult_airway"),
        ("Cognitively impaired", "R41.8"),
        ("Multifetal gestations", "O30"),
        ("Metallic implants", "metal_implant"),
        ("Non-ambulatory", "Z74.09"),
        ("Lead poisoning", "T56.0"),
        ("Have given birth within the past 3 months", "obstetric_delivery"),
    ],
)
def test_procedure_concepts(text: str, code: str) -> None:
    requirement, _ = criterion_requirement(text, "exclusion")
    assert code in _leaf(requirement)[0]


def _note(text: str, code: str) -> list[PatientFact]:
    facts = facts_from_doc(get_nlp()(text), "P", "N", dt.date(2025, 1, 1))
    return [f for f in facts if f.code == code]


@pytest.mark.parametrize(
    ("text", "code", "negated"),
    [
        ("The patient will comply with the trial protocol.", "protocol_compliance", False),
        ("He was lost to follow-up after discharge.", "protocol_compliance", True),
        ("She has a smartphone and internet access at home.", "device_access", False),
        ("Patient does not have a cell phone.", "device_access", True),
        ("Uninsured; no health insurance.", "health_insurance", True),
        ("Covered by national health insurance.", "health_insurance", False),
        ("He lacks decision-making capacity.", "consent_capacity", True),
        ("She has decision-making capacity.", "consent_capacity", False),
    ],
)
def test_notes_affirm_or_deny_the_statement(text: str, code: str, negated: bool) -> None:
    found = _note(text, code)
    assert found and all(f.negated == negated and not f.uncertain for f in found)


def test_a_bare_mention_is_uncertain_and_silence_unknown() -> None:
    # "follow-up visits" said of the schedule is not a statement about the patient's compliance
    found = _note("Follow-up visits in two weeks.", "protocol_compliance")
    assert all(f.uncertain for f in found)
    requirement, _ = criterion_requirement("Able to attend all study visits", "inclusion")
    assert requirement is not None
    assert (
        Evaluator(PatientContext("P", "F", None, dt.date(2025, 1, 1)), [])
        .evaluate(requirement)
        .label
        == "unknown"
    )


def _all_codes(node: object) -> set[str]:
    if isinstance(node, Condition):
        return {c.code for c in node.concepts}
    inner = getattr(node, "item", None)
    items = getattr(node, "items", None) or ([inner] if inner is not None else [])
    return set().union(*(_all_codes(i) for i in items)) if items else set()


def test_capacity_to_consent_kept_beside_other_requirements() -> None:
    # the capacity to consent is one requirement among others, not lost to them
    requirement, _ = criterion_requirement(
        "Unable to provide informed consent or communicate in English", "exclusion"
    )
    assert {"consent_capacity", "language_english"} <= _all_codes(requirement)


def test_a_signed_consent_shows_the_capacity_to_consent() -> None:
    requirement, _ = criterion_requirement("Able to provide written informed consent", "inclusion")
    assert requirement is not None
    signed = _note("Informed consent was signed by the patient.", "informed_consent_signed")
    context = PatientContext("P", "F", None, dt.date(2025, 1, 1))
    assert Evaluator(context, signed).evaluate(requirement).label == "met"


@pytest.mark.parametrize(
    ("text", "codes"),
    [
        # beside a condition the stay only places it: any hospitalization would not exclude
        ("Hospitalized for atrial fibrillation in the past three months", {"I48.91"}),
        ("Previous episode of sepsis during that hospital admission", {"A41.9"}),
        ("Hospitalised within 3 months prior to screening", {"hospitalization"}),
    ],
)
def test_a_hospital_stay_is_the_requirement_only_alone(text: str, codes: set[str]) -> None:
    requirement, _ = criterion_requirement(text, "exclusion")
    assert _all_codes(requirement) == codes
