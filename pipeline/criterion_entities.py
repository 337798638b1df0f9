"""Typed entities of criteria text: what a reviewer sees named in each criterion.

The concept layer's coded mentions (the note pipeline's lexicons, so criteria and notes meet on
the same codes), uncoded clinical mentions by head word and word ending (``pipeline/mentions.py``),
abbreviations defined in the text, and value comparisons and time anchors, each typed with the
entity types of the Leaf Clinical Trials (LCT) annotation scheme for eligibility criteria:
Condition, Drug, Procedure, Observation, Allergy, Immunization, Modifier and Eq-Comparison.

Uncoded condition mentions get an ICD-10-CM code from ``pipeline/linker.py`` when one title fits
their phrase unambiguously, else a Human Phenotype Ontology (HPO) code when one HPO term does;
so do uncoded observation mentions (symptoms: "lumbar pain" is ICD-10-CM's "Low back pain",
"neck pain" only HPO's; "smokers" is "Tobacco use"). Multi-word HPO terms
and HPO's abbreviations ("IUGR") are also looked up in the text itself, longest match first:
they add a coded entity where no coded one overlaps, replacing the uncoded mentions they contain.
Criteria side only: notes never carry HPO codes.

The parser writes them on each criterion (``Criterion.entities``); ``elig eval lct`` scores the
same function against the LCT expert annotations.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pipeline.mentions import abbreviation_mentions, clinical_mentions, head_type

CATEGORY_TO_TYPE = {
    "diagnosis": "Condition",
    "finding": "Condition",
    "drug": "Drug",
    "procedure": "Procedure",
    "lab": "Observation",
}

_NUMBER_WORDS = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|eighteen|"
    r"twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred)"
)
_VALUE = re.compile(
    r"(?P<op>(?:≥|≤|>=|<=|=>|=<|>|<|=|\bat\s+least|\bno\s+(?:more|less|greater)\s+than|"
    r"\bmore\s+than|\bless\s+than|\bgreater\s+than|\bolder\s+than|\byounger\s+than|\bover|"
    r"\bunder|\bup\s+to|\bwithin|\bbetween|\bminimum\s+of|\bmaximum\s+of|\bexceeding)\s*)?"
    r"(?P<num>\d+(?:[.,]\d+)?|\b" + _NUMBER_WORDS + r"\b)"
    r"(?P<range>\s*(?:-|–|~|to|and|or)\s*(?:\d+(?:[.,]\d+)?|\b" + _NUMBER_WORDS + r"\b))?"
    r"(?P<unit>\s*(?:%|mg/d[lL]|g/d[lL]|g/[lL]|mmol/[lL]|µmol/[lL]|umol/[lL]|msec|ms|kg/m2|kg/m²|"
    r"kg|mm\s*hg|mmhg|(?:x|×)\s*10\^?\d+\s*/\s*[lL]|/mm3|/µ[lL]|/u[lL]|cells/mm3|u/[lL]|iu/[lL]|"
    r"ml/min(?:/1\.73\s*m2)?|years?|yrs?|months?|weeks?|days?|hours?|times|x\s*uln|uln)\b)?",
    re.IGNORECASE,
)


# Time anchors of a criterion: LCT marks "history of", "current", "previous", "within the last
# year" as comparisons on time (Eq-Comparison with a temporal value).
_TEMPORAL = re.compile(
    r"\b(?:(?:prior|previous|past|medical|family)\s+)?history\b|\bcurrent(?:ly)?\b|"
    r"\bprevious(?:ly)?\b|\bprior\b(?!\s+to\b)|\bactive\b|\bongoing\b|\brecent(?:ly)?\b|"
    r"\bpast\b|\bformer\b|\bpre-?\s?existing\b|\bnewly\b|\bundergo(?:ing|ne)\b|"
    r"\b(?:taking|receiving|scheduled|planned)\b|\b(?:within|in|during)\s+the\s+(?:last|past|previous|"
    r"preceding|prior)\b(?:\s+(?:\d+|"
    + _NUMBER_WORDS
    + r"))?(?:\s+(?:years?|months?|weeks?|days?|hours?))?|"
    r"\bone\s+or\s+more\b",
    re.IGNORECASE,
)

_GAP = re.compile(r"[ \t]*-?[ \t]*")
# "non-" glued to a concept's name negates it: "non-melanoma", "non-smoker".
_NON_PREFIX = re.compile(r"\bnon-$", re.IGNORECASE)

_MODALITY = re.compile(r"therap(?:y|ies)\b|radiation", re.IGNORECASE)
# A drug (class) named with a treatment head is the treatment: "antimicrobial treatment",
# "immunosuppressive regimen", "TB prophylaxis" are Procedures in LCT.
_TREATMENT_HEAD = re.compile(
    r"\b(?:treatments?|therap(?:y|ies)|regimens?|prophylaxis)\s*$", re.IGNORECASE
)
# A drug word ending in "-ation"/"-ion" names the act or the state, not the substance:
# "anticoagulation" (giving anticoagulants), "immunosuppression" (the state).
_ACT_OR_STATE = re.compile(r"[a-z]{4,}ions?\s*$", re.IGNORECASE)


# LCT types a few kinds of condition-like mentions apart: allergies are "Allergy", symptoms,
# injuries and behaviours ("low back pain", "head injury", "current smoker") are "Observation".
_ALLERGY = re.compile(r"\ballerg(?:y|ies|ic)\b", re.IGNORECASE)
_MODIFIER_ONLY = re.compile(
    r"(?:uncontrolled|refractory|severe|active|chronic|acute|progressive|stable)", re.IGNORECASE
)


# Vaccines and vaccination are LCT's Immunization type, neither Drug nor Procedure.
_VACCINE = re.compile(r"\bvaccin\w*|\bimmuni[sz](?:ation|ed)\b", re.IGNORECASE)
# The ASA physical status score, written "ASA" like aspirin's abbreviation.
# A grade after "ASA" ("ASA I-II", "ASA class 3", "ASA <= II"): the physical status score, not
# aspirin, whose dose comes with a unit. One run of blanks per optional part: nested optional
# "\s*" backtrack cubically on long blank runs. Shared with the criteria parser.
ASA_GRADE = re.compile(
    r"\s*(?:(?:physical\s+status|class(?:ification)?|grade|score|status|PS)\s*)?"
    r"(?:(?:of|:|=)\s*)?(?:[1-6]|I{1,3}|IV|VI?)\b(?!\s*(?:mg|g|mcg|tab))|"
    r"\s*(?:(?:physical\s+status|class|grade|score|status|PS)\s*)?(?:[<>≤≥]|=<|>=)",
    re.I,
)


def _lct_condition_type(text: str) -> str:
    """LCT type of a coded condition mention: Condition, or Allergy / Observation by its head."""
    if _ALLERGY.search(text):
        return "Allergy"
    if _MODIFIER_ONLY.fullmatch(text.strip()):
        return "Modifier"
    return "Observation" if head_type(text) == "Observation" else "Condition"


@dataclass(frozen=True)
class Entity:
    type: str
    start: int
    end: int
    text: str
    kb_id: str = ""  # SYSTEM:CODE of the concept layer or the linker, "" for an uncoded mention
    name: str = ""  # the linked concept's name, for a code the concept index may not hold


def value_spans(text: str) -> Iterator[tuple[int, int]]:
    """Value comparisons: an operator, a range or a unit with a number ("≥ 18", "0-1", "470 ms").

    A bare number (a list number, a year) is not a comparison.
    """
    spans = [m.span() for m in _VALUE.finditer(text) if m["op"] or m["range"] or m["unit"]]
    spans += [m.span() for m in _TEMPORAL.finditer(text)]
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1] + 1 and not text[merged[-1][1] : start].strip():
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    yield from merged


def entities_of(text: str, doc: Any = None) -> list[Entity]:
    """Concept mentions of the shared concept layer plus value comparisons, typed as LCT types.

    ``doc`` is the note pipeline's Doc of ``text`` when the caller has one already.
    """
    from pipeline.concepts import concept_index
    from pipeline.nlp import get_nlp

    index = concept_index()
    if doc is None:
        doc = get_nlp()(text)
    out: list[Entity] = []
    for ent in doc.ents:
        record = index.records.get(ent.kb_id_)
        if record is None:
            continue
        etype = CATEGORY_TO_TYPE.get(record.category)
        if etype is None:
            continue
        if record.code_system == "DRUGCLASS" and _MODALITY.search(ent.text):
            etype = "Procedure"  # "chemotherapy", "immunotherapy": a treatment modality
        elif etype == "Drug" and _TREATMENT_HEAD.search(ent.text):
            etype = "Procedure"
        elif etype == "Drug" and _ACT_OR_STATE.search(ent.text):
            etype = head_type(ent.text) or "Procedure"
        if etype == "Condition":
            etype = _lct_condition_type(ent.text)
        if _VACCINE.search(ent.text):
            etype = "Immunization"
        elif etype == "Drug" and ASA_GRADE.match(text, ent.end_char) and ent.text == "ASA":
            etype = "Observation"  # "ASA 1-3", "ASA class II": the anaesthesia risk score
        # "non-" glued to the name negates the concept ("non-melanoma skin cancer" names no
        # melanoma): the mention stays, without its code.
        negated = _NON_PREFIX.search(text, 0, ent.start_char) is not None
        kb_id = "" if negated else ent.kb_id_
        out.append(Entity(etype, ent.start_char, ent.end_char, ent.text, kb_id))
    coded = [(e.type, e.start, e.end) for e in out]
    for etype, start, end in clinical_mentions(text):
        if _VACCINE.search(text, start, end):
            continue  # LCT's own Immunization type
        if not any(t == etype and s < end and start < e for t, s, e in coded):
            out.append(Entity(etype, start, end, text[start:end]))
    typed = [(e.type, e.start, e.end) for e in out]
    for etype, start, end in abbreviation_mentions(text, typed):
        if not any(t == etype and s < end and start < e for t, s, e in typed):
            out.append(Entity(etype, start, end, text[start:end]))
    for start, end in value_spans(text):
        out.append(Entity("Eq-Comparison", start, end, text[start:end]))
    return _with_phenotypes([_linked(e, text) for e in _join_touching(out, text)], text)


# What each uncoded mention type may link to: conditions and observations (symptoms, findings)
# to ICD-10-CM, else HPO. ICD-10-CM's chapter R names symptoms too ("Low back pain").
_LINK_SYSTEMS = {"Condition": ("ICD10CM", "HPO"), "Observation": ("ICD10CM", "HPO")}


def _linked(entity: Entity, text: str) -> Entity:
    """An uncoded condition or observation mention with the code the linker finds for its
    phrase."""
    from pipeline.linker import link_mention

    systems = _LINK_SYSTEMS.get(entity.type)
    if entity.kb_id or systems is None:
        return entity
    link = link_mention(text, entity.start, entity.end, systems)
    if link is None:
        return entity
    return Entity(entity.type, entity.start, entity.end, entity.text, link.key, link.name)


# Uncoded mentions an HPO term containing them replaces; others it contains (a Modifier such as
# "progressive", a Procedure) stay next to it.
_PHENOTYPE_REPLACES = frozenset({"Condition", "Observation", "Allergy"})


def _with_phenotypes(entities: list[Entity], text: str) -> list[Entity]:
    """Entities plus the HPO terms named in the text (:func:`pipeline.linker.hpo_matches`).

    A term is skipped where it overlaps a coded entity (curated and ICD-10-CM codes always win)
    or an uncoded entity it does not contain; the uncoded condition-like mentions it contains
    ("pain" in "neck pain") give way to it. Its type is read like a coded condition's (LCT types
    symptoms as Observation).
    """
    from pipeline.linker import hpo_matches

    out = list(entities)
    added = False
    for start, end, link in hpo_matches(text):
        overlapping = [
            e for e in out if e.type != "Eq-Comparison" and e.start < end and start < e.end
        ]
        if any(e.kb_id or e.start < start or e.end > end for e in overlapping):
            continue
        if any(e.type != "Eq-Comparison" and _modifies(text, end, e.start) for e in out):
            continue  # "ST-segment elevation myocardial infarction": part of the next concept
        etype = _lct_condition_type(text[start:end])
        out = [e for e in out if e not in overlapping or e.type not in _PHENOTYPE_REPLACES]
        out.append(Entity(etype, start, end, text[start:end], link.key, link.name))
        added = True
    return sorted(out, key=lambda e: (e.start, e.end, e.type)) if added else entities


def _modifies(text: str, end: int, next_start: int) -> bool:
    """Whether a term ending at ``end`` runs straight into the entity starting at
    ``next_start`` (only spaces or a hyphen between them)."""
    return next_start >= end and _GAP.fullmatch(text, end, next_start) is not None


def _join_touching(entities: list[Entity], text: str) -> list[Entity]:
    """One entity for same-type mentions separated only by spaces or a hyphen.

    "bypass" (coded) next to "surgery" (uncoded) names one procedure, not two.
    """
    out: list[Entity] = []
    for ent in sorted(entities, key=lambda e: (e.type, e.start, -e.end)):
        prev = out[-1] if out else None
        if (
            prev is not None
            and prev.type == ent.type
            and ent.start >= prev.end
            and _GAP.fullmatch(text[prev.end : ent.start])
        ):
            end = max(prev.end, ent.end)
            owner = prev if prev.kb_id else ent
            out[-1] = Entity(
                prev.type, prev.start, end, text[prev.start : end], owner.kb_id, owner.name
            )
            continue
        out.append(ent)
    return sorted(out, key=lambda e: (e.start, e.end, e.type))
