"""Content checks for the lexicon resources: concepts.json, drugs.json, labs.json.

The schema (pydantic, extra="forbid") is checked by loading; these tests check what the schema
cannot: ICD-10-CM codes exist, no phrase normalises to two different codes, the codes the
hand-written criteria model refers to are present, and the drug-class hierarchy is sound.
"""

from __future__ import annotations

import re
from collections import defaultdict

import pytest
import simple_icd_10_cm as cm

from pipeline.lexicon import ConceptFile, DrugFile, LabFile, load_concepts, load_drugs, load_labs

# Route names the note pipeline assigns (pipeline/facts.py) plus the few single-route specials.
KNOWN_ROUTES = {
    "oral",
    "iv",
    "im",
    "sc",
    "inhaled",
    "intranasal",
    "topical",
    "intra_articular",
    "subretinal",
    "intravesical",
    "intralesional",
}


@pytest.fixture(scope="module")
def concepts() -> ConceptFile:
    return load_concepts()


@pytest.fixture(scope="module")
def drugs() -> DrugFile:
    return load_drugs()


@pytest.fixture(scope="module")
def labs() -> LabFile:
    return load_labs()


def _owners(concepts: ConceptFile, drugs: DrugFile, labs: LabFile):
    """Every phrase the concept index registers, with the entry that owns it.

    Mirrors pipeline/concepts.py: preferred names and drug/lab names are indexed as terms too.
    """
    lower: dict[str, set[str]] = defaultdict(set)
    exact: dict[str, set[str]] = defaultdict(set)
    for c in concepts.concepts:
        key = f"{c.code_system}:{c.code}"
        for t in [c.preferred_name, *c.terms]:
            lower[t.lower()].add(key)
        for t in c.case_sensitive_terms:
            exact[t].add(key)
    for d in drugs.drugs:
        key = f"DRUG:{d.name}"
        for t in [d.name, *d.terms]:
            lower[t.lower()].add(key)
        for t in d.case_sensitive_terms:
            exact[t].add(key)
    for cls, phrases in drugs.class_terms.items():
        for t in phrases:
            lower[t.lower()].add(f"DRUGCLASS:{cls}")
    for lab in labs.labs:
        key = f"LAB:{lab.code}"
        for t in [lab.name, *lab.terms]:
            lower[t.lower()].add(key)
        for t in lab.case_sensitive_terms:
            exact[t].add(key)
    return lower, exact


def test_files_load_with_headers(concepts, drugs, labs):
    for f in (concepts, drugs, labs):
        assert f.source.strip() and f.licence.strip() and f.version.strip()
    assert len(concepts.concepts) >= 250
    assert len(drugs.drugs) >= 200
    assert len(labs.labs) >= 40


def test_icd10cm_codes_are_valid(concepts):
    bad = [
        c.code
        for c in concepts.concepts
        if c.code_system == "ICD10CM"
        and not (
            cm.is_valid_item(c.code)
            and (cm.is_category_or_subcategory(c.code) or cm.is_extended_subcategory(c.code))
        )
    ]
    assert bad == []


def test_code_systems_are_known(concepts):
    assert {c.code_system for c in concepts.concepts} <= {"ICD10CM", "ELIG"}
    elig = [c.code for c in concepts.concepts if c.code_system == "ELIG"]
    assert all(code == code.lower() and " " not in code for code in elig)


def test_entry_keys_are_unique(concepts, drugs, labs):
    keys = [(c.code_system, c.code) for c in concepts.concepts]
    assert len(keys) == len(set(keys))
    names = [d.name for d in drugs.drugs]
    assert len(names) == len(set(names))
    assert all(n == n.lower() for n in names)
    codes = [lab.code for lab in labs.labs]
    assert len(codes) == len(set(codes))


def test_no_phrase_normalises_to_two_entries(concepts, drugs, labs):
    lower, exact = _owners(concepts, drugs, labs)
    dup_lower = {t: sorted(o) for t, o in lower.items() if len(o) > 1}
    dup_exact = {t: sorted(o) for t, o in exact.items() if len(o) > 1}
    # A case-sensitive abbreviation is shadowed when another entry owns the same letters as a
    # case-insensitive term (the lower-case matcher would find it first).
    shadowed = {
        t: sorted(o | lower[t.lower()])
        for t, o in exact.items()
        if t.lower() in lower and lower[t.lower()] - o
    }
    assert dup_lower == {}
    assert dup_exact == {}
    assert shadowed == {}


def test_duplicate_detection_is_real(concepts, drugs, labs):
    """The collision check fails when two entries share a phrase."""
    first, second = concepts.concepts[0], concepts.concepts[1]
    clash = second.model_copy(update={"terms": [*second.terms, first.terms[0].upper()]})
    broken = concepts.model_copy(update={"concepts": [first, clash, *concepts.concepts[2:]]})
    lower, _ = _owners(broken, drugs, labs)
    assert len(lower[first.terms[0].lower()]) == 2


def test_terms_are_not_blank_and_abbreviations_are_short(concepts, drugs, labs):
    entries = [*concepts.concepts, *drugs.drugs, *labs.labs]
    for e in entries:
        assert all(t.strip() == t and t for t in e.terms), e
        assert all(t.strip() == t and t and len(t) <= 12 for t in e.case_sensitive_terms), e


REQUIRED_CONCEPTS: dict[tuple[str, str], tuple[list[str], list[str]]] = {
    ("ICD10CM", "K50"): (
        [
            "Crohn disease",
            "Crohn's disease",
            "Crohns disease",
            "Crohn's",
            "Crohn colitis",
            "ileocolonic Crohn",
            "regional enteritis",
        ],
        ["CD"],
    ),
    ("ICD10CM", "K51"): (["ulcerative colitis", "colitis, ulcerative"], ["UC"]),
    ("ELIG", "ibd"): (["inflammatory bowel disease"], ["IBD"]),
    ("ICD10CM", "M33"): (["dermatomyositis"], ["DM"]),
    ("ICD10CM", "M33.2"): (["polymyositis"], []),
    ("ICD10CM", "M33.1"): (["amyopathic dermatomyositis"], []),
    ("ICD10CM", "M06.1"): (
        [
            "adult-onset Still's disease",
            "adult onset Still disease",
            "Still disease",
            "Still's disease",
        ],
        ["AOSD"],
    ),
    ("ICD10CM", "M06.9"): (["rheumatoid arthritis", "seronegative RA"], ["RA"]),
    ("ICD10CM", "M05.9"): (["seropositive rheumatoid arthritis", "seropositive RA"], []),
    ("ICD10CM", "S06.9"): (
        ["head injury", "head trauma", "craniocerebral trauma", "traumatic brain injury"],
        ["TBI"],
    ),
    ("ICD10CM", "S06.0"): (["concussion"], []),
    ("ICD10CM", "G40.909"): (["epilepsy", "seizure disorder"], []),
    ("ICD10CM", "R56.9"): (["seizure", "seizures", "convulsion"], []),
    ("ICD10CM", "R40.20"): (
        [
            "loss of consciousness",
            "unconsciousness",
            "disturbance of consciousness",
            "conscious disturbance",
        ],
        ["LOC"],
    ),
    ("ICD10CM", "I63.9"): (
        [
            "stroke",
            "cerebral infarction",
            "ischemic stroke",
            "cerebral ischemia",
            "cerebrovascular ischemia",
        ],
        ["CVA"],
    ),
    ("ICD10CM", "G45.9"): (["transient ischemic attack"], ["TIA"]),
    ("ICD10CM", "I61.9"): (
        ["cerebral hemorrhage", "intracerebral hemorrhage", "hemorrhagic stroke", "brain bleed"],
        [],
    ),
    ("ICD10CM", "I60.9"): (["subarachnoid hemorrhage"], []),
    ("ICD10CM", "I62.00"): (["subdural hemorrhage"], []),
    ("ICD10CM", "I67.9"): (["cerebrovascular disease"], []),
    ("ELIG", "prolonged_qt"): (
        ["prolonged QT", "prolonged QTc", "QT prolongation", "QTc prolongation", "long QT"],
        [],
    ),
    ("ICD10CM", "I45.81"): (["long QT syndrome"], []),
    ("ICD10CM", "I47.2"): (["ventricular tachycardia"], ["VT"]),
    ("ICD10CM", "I49.01"): (["ventricular fibrillation"], []),
    ("ICD10CM", "I48.91"): (["atrial fibrillation"], ["AF", "AFib"]),
    ("ICD10CM", "I49.9"): (["arrhythmia", "severe arrhythmia"], []),
    ("ICD10CM", "I50.9"): (["heart failure"], ["CHF"]),
    ("ICD10CM", "I42.9"): (["cardiomyopathy"], []),
    ("ICD10CM", "I21.9"): (["myocardial infarction", "heart attack"], ["MI"]),
    ("ICD10CM", "I44.2"): (["complete heart block"], []),
    ("ICD10CM", "I25.10"): (["coronary artery disease"], ["CAD"]),
    ("ICD10CM", "I10"): (["hypertension"], ["HTN"]),
    ("ICD10CM", "I20.9"): (["angina"], []),
    ("ICD10CM", "I51.9"): (["heart disease", "cardiac disease"], []),
    ("ICD10CM", "Z33.1"): (["pregnant", "pregnancy", "gravid"], []),
    ("ICD10CM", "Z39.1"): (["lactating", "breastfeeding", "breast-feeding", "nursing"], []),
    ("ICD10CM", "Z78.0"): (["postmenopausal", "post-menopausal", "menopause"], []),
    ("ICD10CM", "Z90.710"): (["hysterectomy", "s/p hysterectomy"], []),
    ("ICD10CM", "Z90.722"): (["bilateral oophorectomy"], []),
    ("ICD10CM", "Z98.51"): (["tubal ligation", "tubal sterilization"], []),
    ("ELIG", "contraception_agreement"): (
        [
            "agrees to use contraception",
            "agreed to use effective contraception",
            "agrees to use highly effective contraception",
            "agrees to contraception",
            "contraception counselling completed and agreed",
            "will use contraception",
        ],
        [],
    ),
    ("ELIG", "informed_consent_signed"): (
        [
            "informed consent signed",
            "ICF signed",
            "consent signed",
            "signed the informed consent",
            "signed informed consent",
            "consent form signed",
            "ICF was signed",
            "consented",
        ],
        [],
    ),
    ("ELIG", "uncontrolled_disease"): (
        [
            "uncontrolled",
            "poorly controlled",
            "not controlled",
            "uncontrolled medical illness",
            "decompensated",
        ],
        [],
    ),
    ("ELIG", "controlled_comorbidity"): (
        [
            "well controlled",
            "well-controlled",
            "controlled",
            "stable on treatment",
            "diet-controlled",
        ],
        [],
    ),
    ("ELIG", "gene_therapy"): (["gene therapy", "gene therapy product", "gene therapies"], []),
    ("ELIG", "car_t_therapy"): (
        [
            "CAR-T",
            "CAR T",
            "CAR-T cell therapy",
            "CAR T-cell therapy",
            "chimeric antigen receptor T-cell",
        ],
        [],
    ),
    ("ELIG", "cell_therapy"): (["cellular therapy", "cell therapy"], []),
    ("ICD10CM", "B99.9"): (["infection", "infections", "active infection", "severe infection"], []),
    ("ICD10CM", "J18.9"): (["pneumonia"], []),
    ("ICD10CM", "A41.9"): (["sepsis"], []),
    ("ICD10CM", "L03.90"): (["cellulitis"], []),
    ("ICD10CM", "A15.9"): (["tuberculosis"], ["TB"]),
    ("ICD10CM", "N39.0"): (["urinary tract infection"], ["UTI"]),
    ("ICD10CM", "N30.90"): (["cystitis"], []),
    ("ICD10CM", "J02.9"): (["pharyngitis", "sore throat"], []),
    ("ICD10CM", "J02.0"): (["strep throat", "strep pharyngitis", "bacterial pharyngitis"], []),
    ("ICD10CM", "U07.1"): (["COVID-19"], []),
    ("ICD10CM", "J11.1"): (["influenza"], []),
    ("ICD10CM", "B02.9"): (["herpes zoster", "shingles"], []),
    ("ICD10CM", "B37.9"): (["candidiasis"], []),
    ("ICD10CM", "M86.9"): (["osteomyelitis"], []),
    ("ICD10CM", "I33.0"): (["endocarditis"], []),
    ("ICD10CM", "L02.91"): (["abscess"], []),
    ("ICD10CM", "A04.72"): (["C. difficile"], []),
    ("ICD10CM", "B19.10"): (["hepatitis B", "hep B"], ["HBV"]),
    ("ICD10CM", "B18.1"): (["chronic hepatitis B"], []),
    ("ICD10CM", "B19.20"): (["hepatitis C", "hep C"], ["HCV"]),
    ("ICD10CM", "B18.2"): (["chronic hepatitis C"], []),
    ("ICD10CM", "B20"): (["HIV infection", "human immunodeficiency virus"], ["HIV", "AIDS"]),
    ("ICD10CM", "Z21"): (["asymptomatic HIV"], []),
    ("ICD10CM", "E11.9"): (["type 2 diabetes", "diabetes mellitus", "diabetes"], ["T2DM", "DM2"]),
    ("ICD10CM", "E10.9"): (["type 1 diabetes"], ["T1DM"]),
    ("ICD10CM", "E03.9"): (["hypothyroidism"], []),
    ("ICD10CM", "N18.9"): (["chronic kidney disease"], ["CKD"]),
    ("ICD10CM", "K74.60"): (["cirrhosis"], []),
    ("ICD10CM", "J45.909"): (["asthma"], []),
    ("ICD10CM", "J44.9"): (["COPD"], []),
    ("ICD10CM", "C34.90"): (["lung cancer"], []),
    ("ICD10CM", "C50.919"): (["breast cancer"], []),
    ("ICD10CM", "C18.9"): (["colon cancer"], []),
    ("ICD10CM", "C61"): (["prostate cancer"], []),
    ("ICD10CM", "C85.90"): (["lymphoma"], []),
    ("ICD10CM", "C95.90"): (["leukemia", "leukaemia"], []),
    ("ICD10CM", "C80.1"): (["cancer", "malignancy", "carcinoma"], []),
    ("ICD10CM", "D64.9"): (["anemia", "anaemia"], []),
    ("ICD10CM", "M32.9"): (["lupus"], ["SLE"]),
    ("ICD10CM", "M34.9"): (["systemic sclerosis"], []),
    ("ICD10CM", "M35.00"): (["Sjogren syndrome"], []),
    ("ICD10CM", "M45.9"): (["ankylosing spondylitis"], []),
    ("ICD10CM", "L40.50"): (["psoriatic arthritis"], ["PsA"]),
    ("ICD10CM", "L40.9"): (["psoriasis"], []),
    ("ICD10CM", "M10.9"): (["gout"], []),
    ("ICD10CM", "F32.9"): (["depression"], []),
    ("ICD10CM", "F20.9"): (["schizophrenia"], []),
    ("ICD10CM", "G35"): (["multiple sclerosis"], []),
    ("ICD10CM", "G20"): (["Parkinson disease"], []),
    ("ICD10CM", "E66.9"): (["obesity"], []),
    ("ICD10CM", "I26.99"): (["pulmonary embolism"], ["PE"]),
    ("ICD10CM", "I82.409"): (["deep vein thrombosis"], ["DVT"]),
    ("ICD10CM", "R07.9"): (["chest pain"], []),
    ("ICD10CM", "R06.00"): (["dyspnea"], []),
    ("ICD10CM", "N17.9"): (["acute kidney injury"], ["AKI"]),
    ("ICD10CM", "I62.9"): (["intracranial hemorrhage"], []),
    ("ICD10CM", "Z92.850"): (["prior CAR-T"], []),
}

REQUIRED_CATEGORIES = {
    ("ICD10CM", "Z90.710"): "procedure",
    ("ELIG", "gene_therapy"): "procedure",
    ("ELIG", "car_t_therapy"): "procedure",
    ("ELIG", "contraception_agreement"): "other",
    ("ELIG", "informed_consent_signed"): "other",
}


def test_required_concepts_present(concepts):
    by_key = {(c.code_system, c.code): c for c in concepts.concepts}
    missing = [k for k in REQUIRED_CONCEPTS if k not in by_key]
    assert missing == []
    for key, (terms, cs_terms) in REQUIRED_CONCEPTS.items():
        entry = by_key[key]
        have = {t.lower() for t in [entry.preferred_name, *entry.terms]}
        assert {t.lower() for t in terms} <= have, key
        assert set(cs_terms) <= set(entry.case_sensitive_terms), key
    for key, category in REQUIRED_CATEGORIES.items():
        assert by_key[key].category == category, key


def test_ambiguous_abbreviations_are_case_sensitive_only(concepts, drugs, labs):
    lower, exact = _owners(concepts, drugs, labs)
    for abbreviation in ["cd", "uc", "dm", "ra", "mi", "af", "cr", "alt", "ast", "pe", "ef"]:
        assert abbreviation not in lower, abbreviation
    assert exact["DM"] == {"ICD10CM:M33"}
    assert exact["Cr"] == {"LAB:creatinine"}
    assert exact["CD"] == {"ICD10CM:K50"}


REQUIRED_CLASSES = [
    "biologic",
    "tnf_inhibitor",
    "il6_inhibitor",
    "il1_inhibitor",
    "il17_inhibitor",
    "il12_23_inhibitor",
    "integrin_inhibitor",
    "anti_cd20",
    "t_cell_costimulation_modulator",
    "jak_inhibitor",
    "dmard",
    "csdmard",
    "immunosuppressant",
    "thiopurine",
    "calcineurin_inhibitor",
    "glucocorticoid",
    "nsaid",
    "antimalarial",
    "ivig",
    "gene_therapy",
    "car_t",
    "antiviral",
    "antibiotic",
    "anticoagulant",
    "antiplatelet",
    "statin",
    "antihypertensive",
    "insulin",
    "chemotherapy",
    "checkpoint_inhibitor",
    "opioid",
    "anticonvulsant",
    "antiarrhythmic",
    "ppi",
    "analgesic",
    "aminosalicylate",
    "supplement",
]


def _closure(classes: list[str], parents: dict[str, list[str]]) -> set[str]:
    out: set[str] = set()
    stack = list(classes)
    while stack:
        c = stack.pop()
        if c not in out:
            out.add(c)
            stack.extend(parents.get(c, []))
    return out


def test_required_drug_classes_declared(drugs):
    assert set(REQUIRED_CLASSES) <= set(drugs.drug_classes)
    assert all(desc.strip() for desc in drugs.drug_classes.values())


def test_every_used_class_is_declared(drugs):
    used = {c for d in drugs.drugs for c in d.classes}
    used |= set(drugs.class_terms) | set(drugs.class_parents)
    used |= {p for ps in drugs.class_parents.values() for p in ps}
    assert used - set(drugs.drug_classes) == set()
    assert all(d.classes for d in drugs.drugs)


def test_class_parents_acyclic(drugs):
    parents = drugs.class_parents
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done

    def visit(node: str, path: tuple[str, ...]) -> None:
        if state.get(node) == 2:
            return
        assert state.get(node) != 1, f"cycle: {' -> '.join((*path, node))}"
        state[node] = 1
        for p in parents.get(node, []):
            visit(p, (*path, node))
        state[node] = 2

    for cls in parents:
        visit(cls, ())


def test_class_parents_are_transitively_closed(drugs):
    """Each class lists every ancestor, so a one-level lookup is enough for any consumer."""
    for cls, ps in drugs.class_parents.items():
        assert _closure(ps, drugs.class_parents) - {*ps} == set(), cls
        assert cls not in ps


REQUIRED_DRUGS: dict[str, tuple[list[str], list[str], set[str]]] = {
    "prednisone": ([], [], {"glucocorticoid"}),
    "prednisolone": ([], [], {"glucocorticoid"}),
    "methylprednisolone": (["Solu-Medrol", "Medrol"], [], {"glucocorticoid"}),
    "hydrocortisone": ([], [], {"glucocorticoid"}),
    "dexamethasone": ([], [], {"glucocorticoid"}),
    "budesonide": (["Entocort", "Uceris", "Pulmicort", "Symbicort"], [], {"glucocorticoid"}),
    "fluticasone": ([], [], {"glucocorticoid"}),
    "beclomethasone": ([], [], {"glucocorticoid"}),
    "triamcinolone": ([], [], {"glucocorticoid"}),
    "mometasone": ([], [], {"glucocorticoid"}),
    "deflazacort": ([], [], {"glucocorticoid"}),
    "cortisone": ([], [], {"glucocorticoid"}),
    "methotrexate": (["Trexall", "Otrexup"], ["MTX"], {"csdmard", "dmard", "immunosuppressant"}),
    "azathioprine": (["Imuran"], ["AZA"], {"thiopurine", "immunosuppressant"}),
    "mercaptopurine": (["Purinethol"], ["6-MP"], {"thiopurine", "immunosuppressant"}),
    "mycophenolate mofetil": (["CellCept", "mycophenolate"], ["MMF"], {"immunosuppressant"}),
    "mycophenolic acid": (["Myfortic"], [], {"immunosuppressant"}),
    "leflunomide": (["Arava"], ["LEF"], {"csdmard", "dmard"}),
    "sulfasalazine": (["Azulfidine"], ["SSZ"], {"csdmard", "dmard"}),
    "hydroxychloroquine": (["Plaquenil"], ["HCQ"], {"antimalarial", "csdmard", "dmard"}),
    "tacrolimus": (["Prograf"], ["TAC"], {"calcineurin_inhibitor", "immunosuppressant"}),
    "cyclosporine": (
        ["ciclosporin", "Neoral"],
        ["CsA"],
        {"calcineurin_inhibitor", "immunosuppressant"},
    ),
    "cyclophosphamide": (["Cytoxan"], ["CYC"], {"immunosuppressant", "chemotherapy"}),
    "thalidomide": ([], [], set()),
    "immune globulin": (["intravenous immunoglobulin"], ["IVIG"], {"ivig"}),
    "infliximab": (
        ["Remicade", "Inflectra", "Renflexis", "Avsola"],
        ["IFX"],
        {"tnf_inhibitor", "biologic", "dmard"},
    ),
    "adalimumab": (
        ["Humira", "Amjevita", "Hadlima", "Hyrimoz", "Idacio"],
        ["ADA"],
        {"tnf_inhibitor", "biologic"},
    ),
    "certolizumab pegol": (
        ["certolizumab", "setolizumab", "Cimzia"],
        ["CZP"],
        {"tnf_inhibitor", "biologic"},
    ),
    "golimumab": (["Simponi"], ["GOL"], {"tnf_inhibitor", "biologic"}),
    "etanercept": (["Enbrel"], ["ETN"], {"tnf_inhibitor", "biologic"}),
    "ustekinumab": (["Stelara"], [], {"il12_23_inhibitor", "biologic"}),
    "vedolizumab": (["Entyvio"], [], {"integrin_inhibitor", "biologic"}),
    "risankizumab": (["Skyrizi"], [], {"biologic"}),
    "tocilizumab": (["Actemra"], ["TCZ"], {"il6_inhibitor", "biologic", "dmard"}),
    "sarilumab": (["Kevzara"], [], {"il6_inhibitor", "biologic"}),
    "anakinra": (["Kineret"], [], {"il1_inhibitor", "biologic"}),
    "canakinumab": (["Ilaris"], [], {"il1_inhibitor", "biologic"}),
    "rilonacept": ([], [], {"il1_inhibitor", "biologic"}),
    "rituximab": (["Rituxan"], ["RTX"], {"anti_cd20", "biologic"}),
    "abatacept": (["Orencia"], [], {"t_cell_costimulation_modulator", "biologic", "dmard"}),
    "secukinumab": (["Cosentyx"], [], {"il17_inhibitor", "biologic"}),
    "ixekizumab": ([], [], {"il17_inhibitor"}),
    "natalizumab": ([], [], {"integrin_inhibitor"}),
    "belimumab": ([], [], {"biologic"}),
    "mirikizumab": ([], [], {"biologic"}),
    "guselkumab": ([], [], {"biologic"}),
    "tofacitinib": (["Xeljanz"], [], {"jak_inhibitor", "dmard"}),
    "upadacitinib": (["Rinvoq"], [], {"jak_inhibitor", "dmard"}),
    "baricitinib": (["Olumiant"], [], {"jak_inhibitor", "dmard"}),
    "filgotinib": ([], [], {"jak_inhibitor"}),
    "ozanimod": ([], [], set()),
    "etrasimod": ([], [], set()),
    "naproxen": ([], [], {"nsaid"}),
    "ibuprofen": ([], [], {"nsaid"}),
    "indomethacin": ([], [], {"nsaid"}),
    "diclofenac": ([], [], {"nsaid"}),
    "celecoxib": ([], [], {"nsaid"}),
    "meloxicam": ([], [], {"nsaid"}),
    "aspirin": ([], ["ASA"], {"nsaid", "antiplatelet"}),
    "tisagenlecleucel": (["Kymriah"], [], {"car_t", "gene_therapy"}),
    "axicabtagene ciloleucel": (["Yescarta"], [], {"car_t", "gene_therapy"}),
    "lisocabtagene maraleucel": (["Breyanzi"], [], {"car_t", "gene_therapy"}),
    "idecabtagene vicleucel": (["Abecma"], [], {"car_t", "gene_therapy"}),
    "ciltacabtagene autoleucel": (["Carvykti"], [], {"car_t", "gene_therapy"}),
    "brexucabtagene autoleucel": (["Tecartus"], [], {"car_t", "gene_therapy"}),
    "onasemnogene abeparvovec": (["Zolgensma"], [], {"gene_therapy"}),
    "voretigene neparvovec": (["Luxturna"], [], {"gene_therapy"}),
    "valoctocogene roxaparvovec": ([], [], {"gene_therapy"}),
    "etranacogene dezaparvovec": ([], [], {"gene_therapy"}),
    "exagamglogene autotemcel": (["Casgevy"], [], {"gene_therapy"}),
    "entecavir": ([], [], {"antiviral"}),
    "tenofovir disoproxil": (["tenofovir"], [], {"antiviral"}),
    "lamivudine": ([], [], {"antiviral"}),
    "sofosbuvir": ([], [], {"antiviral"}),
    "ledipasvir": (["Harvoni"], [], {"antiviral"}),
    "glecaprevir": (["Mavyret"], [], {"antiviral"}),
    "velpatasvir": (["Epclusa"], [], {"antiviral"}),
    "bictegravir": (["Biktarvy"], [], {"antiviral", "antiretroviral"}),
    "dolutegravir": ([], [], {"antiviral"}),
    "emtricitabine": ([], [], {"antiviral"}),
    "efavirenz": ([], [], {"antiviral"}),
    "valacyclovir": ([], [], {"antiviral"}),
    "acyclovir": ([], [], {"antiviral"}),
    "oseltamivir": ([], [], {"antiviral"}),
    "metformin": ([], [], set()),
    "insulin glargine": ([], [], {"insulin"}),
    "lisinopril": ([], [], {"antihypertensive"}),
    "amlodipine": ([], [], {"antihypertensive"}),
    "losartan": ([], [], {"antihypertensive"}),
    "metoprolol": ([], [], {"antihypertensive"}),
    "atorvastatin": ([], [], {"statin"}),
    "simvastatin": ([], [], {"statin"}),
    "warfarin": ([], [], {"anticoagulant"}),
    "apixaban": ([], [], {"anticoagulant"}),
    "rivaroxaban": ([], [], {"anticoagulant"}),
    "heparin": ([], [], {"anticoagulant"}),
    "enoxaparin": ([], [], {"anticoagulant"}),
    "clopidogrel": ([], [], {"antiplatelet"}),
    "levothyroxine": ([], [], set()),
    "omeprazole": ([], [], {"ppi"}),
    "pantoprazole": ([], [], {"ppi"}),
    "furosemide": ([], [], set()),
    "hydrochlorothiazide": ([], [], set()),
    "amiodarone": ([], [], {"antiarrhythmic"}),
    "digoxin": ([], [], set()),
    "levetiracetam": ([], [], {"anticonvulsant"}),
    "lamotrigine": ([], [], {"anticonvulsant"}),
    "valproate": ([], [], {"anticonvulsant"}),
    "phenytoin": ([], [], {"anticonvulsant"}),
    "carbamazepine": ([], [], {"anticonvulsant"}),
    "morphine": ([], [], {"opioid"}),
    "oxycodone": ([], [], {"opioid"}),
    "acetaminophen": (["paracetamol"], [], {"analgesic"}),
    "ceftriaxone": ([], [], {"antibiotic"}),
    "amoxicillin": ([], [], {"antibiotic"}),
    "nitrofurantoin": ([], [], {"antibiotic"}),
    "ciprofloxacin": ([], [], {"antibiotic"}),
    "azithromycin": ([], [], {"antibiotic"}),
    "vancomycin": ([], [], {"antibiotic"}),
    "piperacillin/tazobactam": ([], [], {"antibiotic"}),
    "cisplatin": ([], [], {"chemotherapy"}),
    "carboplatin": ([], [], {"chemotherapy"}),
    "paclitaxel": ([], [], {"chemotherapy"}),
    "pembrolizumab": ([], [], {"checkpoint_inhibitor"}),
    "nivolumab": ([], [], {"checkpoint_inhibitor"}),
    "trastuzumab": ([], [], set()),
    "loperamide": ([], [], set()),
    "mesalamine": (["5-ASA", "Asacol", "Lialda", "Pentasa"], [], {"aminosalicylate"}),
    "cholecalciferol": (["vitamin D"], [], {"supplement"}),
    "folic acid": ([], [], {"supplement"}),
}


def test_required_drugs_present(drugs):
    by_name = {d.name: d for d in drugs.drugs}
    missing = [n for n in REQUIRED_DRUGS if n not in by_name]
    assert missing == []
    for name, (terms, cs_terms, classes) in REQUIRED_DRUGS.items():
        d = by_name[name]
        assert {t.lower() for t in terms} <= {t.lower() for t in [d.name, *d.terms]}, name
        assert set(cs_terms) <= set(d.case_sensitive_terms), name
        assert classes <= _closure(d.classes, drugs.class_parents), name


def test_required_class_terms(drugs):
    expected = {
        "tnf_inhibitor": [
            "anti-TNF",
            "anti-TNF agent",
            "anti-TNF agents",
            "TNF inhibitor",
            "TNF inhibitors",
            "TNF-alpha inhibitor",
            "anti-TNFs",
        ],
        "biologic": [
            "biologic",
            "biologics",
            "biological agent",
            "biological agents",
            "biologic therapy",
        ],
        "dmard": [
            "DMARD",
            "DMARDs",
            "disease-modifying antirheumatic drug",
            "anti-rheumatic drugs",
            "antirheumatic drugs",
        ],
        "csdmard": ["conventional DMARD", "csDMARD"],
        "glucocorticoid": [
            "steroid",
            "steroids",
            "corticosteroid",
            "corticosteroids",
            "glucocorticoid",
            "glucocorticoids",
            "systemic steroids",
            "systemic corticosteroids",
            "systemic glucocorticoid",
        ],
        "nsaid": [
            "NSAID",
            "NSAIDs",
            "non-steroidal anti-inflammatory drugs",
            "nonsteroidal anti-inflammatory drug",
        ],
        "immunosuppressant": [
            "immunosuppressant",
            "immunosuppressants",
            "immunosuppressive agents",
            "immunosuppressive therapy",
        ],
        "thiopurine": ["thiopurine", "thiopurines"],
        "jak_inhibitor": ["JAK inhibitor", "JAK inhibitors"],
        "antiviral": ["antivirals", "antiviral therapy"],
        "antibiotic": ["antibiotics", "IV antibiotics"],
        "chemotherapy": ["chemotherapy", "chemo"],
    }
    for cls, phrases in expected.items():
        have = {t.lower() for t in drugs.class_terms.get(cls, [])}
        assert {p.lower() for p in phrases} <= have, cls
    # Gene therapy and CAR-T are named by concepts (ELIG:gene_therapy, ELIG:car_t_therapy), not class terms.
    assert drugs.class_terms.get("gene_therapy", []) == []
    assert drugs.class_terms.get("car_t", []) == []
    assert "hormone therapy" not in {t.lower() for ts in drugs.class_terms.values() for t in ts}


def test_class_parents_as_specified(drugs):
    closure = {c: _closure([c], drugs.class_parents) for c in drugs.drug_classes}
    for cls in [
        "tnf_inhibitor",
        "il6_inhibitor",
        "il1_inhibitor",
        "il17_inhibitor",
        "il12_23_inhibitor",
    ]:
        assert {"biologic", "dmard"} <= closure[cls], cls
    assert "dmard" in closure["csdmard"]
    assert "gene_therapy" in closure["car_t"]
    assert "immunosuppressant" in closure["thiopurine"]


def test_default_routes_are_known(drugs):
    routes = {d.default_route for d in drugs.drugs if d.default_route is not None}
    assert routes <= KNOWN_ROUTES
    by_name = {d.name: d for d in drugs.drugs}
    # Budesonide is oral and inhaled: its route must come from the note, never a default.
    assert by_name["budesonide"].default_route is None
    assert by_name["prednisone"].default_route == "oral"


def test_atc_codes_are_well_formed(drugs):
    pattern = re.compile(r"^[A-Z]\d\d[A-Z][A-Z]\d\d$")
    bad = [(d.name, d.atc) for d in drugs.drugs if d.atc is not None and not pattern.match(d.atc)]
    assert bad == []


REQUIRED_LABS: dict[str, dict[str, object]] = {
    "creatinine": {
        "terms": ["creatinine", "serum creatinine", "creat"],
        "cs": ["Cr", "Creat", "SCr"],
        "units": ["mg/dL", "mg/dl", "umol/L", "µmol/L", "μmol/L", "micromol/L", "mmol/L"],
        "unitless": True,
        "ref": (0.6, 1.3),
    },
    "alt": {
        "terms": ["alanine aminotransferase", "SGPT", "ALAT"],
        "cs": ["ALT"],
        "units": ["U/L", "IU/L"],
        "unitless": True,
        "ref": (7, 40),
    },
    "ast": {
        "terms": ["aspartate aminotransferase", "SGOT"],
        "cs": ["AST"],
        "units": ["U/L", "IU/L"],
        "unitless": True,
        "ref": (8, 40),
    },
    "bilirubin_total": {
        "terms": ["total bilirubin", "bilirubin", "T bili", "T. bili", "Tbili", "TBil", "t-bili"],
        "units": ["mg/dL", "umol/L"],
        "unitless": True,
        "ref": (0.2, 1.2),
    },
    "qtc": {
        "terms": ["QTc", "QTcF", "QTcB", "corrected QT", "QT interval"],
        "units": ["ms", "msec"],
        "unitless": True,
    },
    "tcell_proliferation": {
        "terms": [
            "T-cell proliferation",
            "T cell proliferation",
            "proliferation rate",
            "proliferation",
            "stimulation index",
            "fold expansion",
            "T-cell expansion",
            "expansion",
        ],
        "units": ["fold", "-fold", "x", "times"],
        "unitless": False,
    },
    "life_expectancy": {
        "terms": [
            "life expectancy",
            "estimated survival",
            "expected survival",
            "survival time",
            "prognosis",
        ],
        "units": ["weeks", "week", "wk", "wks", "months", "month", "years", "year"],
    },
    "hcg": {
        "terms": [
            "pregnancy test",
            "urine pregnancy test",
            "serum pregnancy test",
            "urine hCG",
            "serum hCG",
            "beta-hCG",
            "beta hCG",
            "serum beta-hCG",
            "hCG",
        ],
        "cs": ["UPT"],
        "qualitative": True,
    },
    "hbsag": {"terms": ["HBsAg", "hepatitis B surface antigen"], "qualitative": True},
    "anti_hbc": {
        "terms": ["anti-HBc", "HBcAb", "hepatitis B core antibody", "anti-HBc total"],
        "qualitative": True,
    },
    "anti_hbs": {"terms": ["anti-HBs", "HBsAb"], "qualitative": True},
    "hbv_dna": {"terms": ["HBV DNA", "hepatitis B DNA", "HBV viral load"], "qualitative": True},
    "hcv_ab": {
        "terms": ["HCV Ab", "HCV antibody", "anti-HCV", "hepatitis C antibody"],
        "qualitative": True,
    },
    "hcv_rna": {"terms": ["HCV RNA", "HCV viral load", "hepatitis C RNA"], "qualitative": True},
    "hiv_ag_ab": {
        "terms": [
            "HIV Ag/Ab",
            "HIV-1/2 Ag/Ab",
            "HIV test",
            "HIV screen",
            "HIV antibody",
            "HIV-1/2 antibody",
            "HIV serology",
        ],
        "qualitative": True,
    },
    "hiv_rna": {"terms": ["HIV viral load", "HIV RNA"], "units": ["copies/mL"]},
    "hemoglobin": {"cs": ["Hgb", "Hb"], "units": ["g/dL", "g/L"]},
    "wbc": {},
    "platelets": {"cs": ["Plt", "PLT"]},
    "anc": {},
    "crp": {"cs": ["CRP"], "units": ["mg/L", "mg/dL"]},
    "esr": {},
    "ck": {"terms": ["creatine kinase"], "cs": ["CK", "CPK"]},
    "ferritin": {},
    "albumin": {},
    "egfr": {"cs": ["eGFR"], "units": ["mL/min/1.73m2"]},
    "bun": {},
    "sodium": {},
    "potassium": {},
    "glucose": {},
    "hba1c": {"terms": ["HbA1c", "A1c"], "units": ["%"]},
    "inr": {},
    "troponin": {},
    "bnp": {},
    "ldh": {},
    "alp": {},
    "ggt": {},
    "tsh": {},
    "lvef": {"terms": ["LVEF", "ejection fraction"], "cs": ["EF"], "units": ["%"]},
    "ecog": {"terms": ["ECOG", "ECOG performance status"], "unitless": True},
    "karnofsky": {},
    "bmi": {},
    "fecal_calprotectin": {"units": ["ug/g"]},
    "cd4_count": {},
    "psa": {},
}


def test_required_labs_present(labs):
    by_code = {lab.code: lab for lab in labs.labs}
    missing = [c for c in REQUIRED_LABS if c not in by_code]
    assert missing == []
    for code, spec in REQUIRED_LABS.items():
        lab = by_code[code]
        terms = {t.lower() for t in [lab.name, *lab.terms]}
        assert {str(t).lower() for t in spec.get("terms", [])} <= terms, code
        assert set(spec.get("cs", [])) <= set(lab.case_sensitive_terms), code
        assert set(spec.get("units", [])) <= set(lab.units), code
        if "unitless" in spec:
            assert lab.unitless is spec["unitless"], code
        if "qualitative" in spec:
            assert lab.qualitative is spec["qualitative"], code
        if "ref" in spec:
            assert (lab.default_ref_low, lab.default_ref_high) == spec["ref"], code
        if lab.default_ref_low is not None and lab.default_ref_high is not None:
            assert lab.default_ref_low <= lab.default_ref_high, code


def test_quantitative_labs_have_units_or_are_unitless(labs):
    for lab in labs.labs:
        if not lab.qualitative:
            assert lab.units or lab.unitless, lab.code


def test_molar_conversion_analytes_exist(labs):
    # criteria_models/units.py keys its mg/dL <-> umol/L factors by these LAB codes.
    codes = {lab.code for lab in labs.labs}
    assert {"creatinine", "bilirubin_total", "bilirubin_direct", "glucose"} <= codes


def test_context_rules_file_is_valid_and_rejects_unknown_keys() -> None:
    import json

    import pydantic

    from pipeline.lexicon import ContextRuleFile, load_context_rules

    rules = load_context_rules()
    assert len(rules.context_rules) > 50
    raw = json.loads(json.dumps(rules.model_dump(exclude_none=True)))
    raw["context_rules"][0]["colour"] = "red"
    with pytest.raises(pydantic.ValidationError):
        ContextRuleFile.model_validate(raw)


def test_inn_stems_class_extended_drugs_and_spare_look_alikes() -> None:
    from pipeline.concepts import concept_index, drug_stems, stem_class_of

    stems = drug_stems()
    assert stem_class_of("pitavastatin", stems) == "statin"
    assert stem_class_of("nystatin", stems) is None  # an antifungal, not a statin
    assert stem_class_of("stanozolol", stems) is None  # an anabolic steroid, not a beta blocker
    assert stem_class_of("peficitinib", stems) == "jak_inhibitor"  # before the "-tinib" rule
    assert stem_class_of("fedratinib", stems) == "jak_inhibitor"  # named: its stem misleads
    assert stem_class_of("trametinib", stems) == "antineoplastic"  # MEK, not tyrosine kinase
    assert stem_class_of("fostamatinib", stems) is None  # a SYK inhibitor for ITP
    assert stem_class_of("piperacillin and tazobactam", stems) == "antibiotic"
    index = concept_index()
    assert "lipid_lowering" in index.records["DRUG:pitavastatin"].drug_classes
    assert "psychotropic" in index.records["DRUG:bromazepam"].drug_classes


def test_status_codes_for_devices_surgeries_and_social_circumstances() -> None:
    """ICD-10-CM Z codes name what criteria ask about a person's state ("prisoners", "hearing
    aid users", "s/p splenectomy"); words shared with a disease name stay with the disease."""
    from pipeline.facts import facts_from_doc
    from pipeline.nlp import get_nlp

    text = (
        "He is s/p splenectomy and wears hearing aids. Lives alone; homeless since May. "
        "Incarcerated inguinal hernia repaired."
    )
    codes = {f.code for f in facts_from_doc(get_nlp()(text), "p", "n", None)}
    assert {"Z90.81", "Z97.4", "Z60.2", "Z59.00"} <= codes
    assert "Z65.1" not in codes  # an incarcerated hernia is not imprisonment
