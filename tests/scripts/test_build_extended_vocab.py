"""Term variants of the extended ICD-10-CM vocabulary: British spellings, plurals and the
clinician-style alias rules (each tested on made-up titles so that it fails without the rule)."""

from __future__ import annotations

import functools
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "build_extended_vocab.py"


@functools.cache
def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_extended_vocab_under_test", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_british_spellings_of_american_word_parts() -> None:
    british = _script().british_spelling
    assert british("hemolytic anemia") == "haemolytic anaemia"
    assert british("ischemic colitis") == "ischaemic colitis"
    assert british("esophageal edema") == "oesophageal oedema"
    assert british("gonorrhea") == "gonorrhoea"
    assert british("hemiplegia") is None  # "hemi-" is not "haem-"
    assert british("asthma") is None


def test_plural_of_countable_heads_only() -> None:
    plural = _script().plural_form
    assert plural("kidney stone") == "kidney stones"
    assert plural("esophageal varix") == "esophageal varices"
    assert plural("lipoma") == "lipomas"
    assert plural("asthma") is None and plural("diabetes mellitus") is None


def test_variants_combine_plural_and_spelling() -> None:
    variants = _script().term_variants("hematoma")
    assert variants == ["hematoma", "hematomas", "haematoma", "haematomas"]


def test_generated_vocabulary_holds_the_variants() -> None:
    from pipeline.concepts import concept_index

    terms = concept_index().terms
    assert terms["haemopericardium"] == terms["hemopericardium"]
    assert terms["septicaemia"] == terms["septicemia"]


# --- Clinician-style aliases (made-up titles: each rule must derive the alias itself) ---------


def _aliases(
    title: str, excluded: set[str] | None = None, all_terms: set[str] | None = None
) -> list[str]:
    aliases: list[str] = _script().title_aliases(title, [], all_terms or set(), excluded or set())
    return aliases


def test_without_complications_is_dropped() -> None:
    assert "zorbic gland fever" in _aliases("Zorbic gland fever without complications")
    assert "zorbic fever" in _aliases("Zorbic fever, unspecified, without complications")


def test_optional_word_in_parentheses_is_kept_and_dropped() -> None:
    aliases = _aliases("Frobnic (valve) insufficiency")
    assert "frobnic valve insufficiency" in aliases
    assert _script().clean_title("Frobnic (valve) insufficiency") == "frobnic insufficiency"


def test_parentheses_that_are_not_optional_modifiers_stay_out() -> None:
    # A list of alternatives, or a qualifier before "of", is not a word of the name.
    assert not [a for a in _aliases("Frobnal (externum) (internum) cyst") if "externum" in a]
    assert not [a for a in _aliases("Zorb blister (nonthermal) of elbow") if "nonthermal" in a]


def test_default_qualifier_is_dropped_when_unambiguous() -> None:
    assert "zorbic valve stenosis" in _aliases("Nonrheumatic zorbic valve stenosis")
    assert "zorbic hemorrhage lesion" in _aliases("Nontraumatic zorbic hemorrhage lesion")


def test_default_qualifier_stays_when_icd_excludes_or_a_counterpart_exists() -> None:
    excluded = {"zorbic valve stenosis"}  # an Excludes1 note sends the bare name elsewhere
    assert "zorbic valve stenosis" not in _aliases("Nonrheumatic zorbic valve stenosis", excluded)
    cause = {"zorbic valve disorders of unspecified cause"}
    assert "zorbic valve stenosis" not in _aliases("Nonrheumatic zorbic valve stenosis", cause)
    counterpart = {"traumatic zorbic hemorrhage lesion"}
    aliases = _aliases("Nontraumatic zorbic hemorrhage lesion", all_terms=counterpart)
    assert "zorbic hemorrhage lesion" not in aliases


def test_acute_and_chronic_are_kept_distinct() -> None:
    assert not [a for a in _aliases("Acute zorbitis of gland") if "acute" not in a]
    assert not [a for a in _aliases("Chronic frobnic gland fever") if "chronic" not in a]


def test_pain_in_site_becomes_site_pain() -> None:
    assert "zorbic knuckle pain" in _aliases("Pain in zorbic knuckle")
    assert "zorbic knuckle pain" in _aliases("Pain in right zorbic knuckle")


def test_lesion_of_anatomical_site_is_reordered() -> None:
    rewrite = _script().rewrite_term
    assert rewrite("cyst of spleen") == ["spleen cyst", "splenic cyst"]
    assert rewrite("sprain of thumb") == ["thumb sprain"]
    assert rewrite("cyst of frobnication") == []  # not an anatomical site
    assert rewrite("zorbosis of spleen") == []  # not a lesion noun clinicians put last
    assert rewrite("cyst of base of spleen") == []  # nested relation


def test_malignant_neoplasm_becomes_cancer_names() -> None:
    rewrite = _script().rewrite_term
    out = rewrite("malignant neoplasm of zorb gland")
    assert {"zorb gland cancer", "cancer of the zorb gland", "carcinoma of zorb gland"} <= set(out)
    assert "pancreatic cancer" in rewrite("malignant neoplasm of pancreas")
    assert not [a for a in rewrite("malignant neoplasm of bone") if "carcinoma" in a]
    assert rewrite("malignant neoplasm of upper lobe of zorb") == []


def test_secondary_and_benign_neoplasms() -> None:
    rewrite = _script().rewrite_term
    assert "zorb metastases" in rewrite("secondary malignant neoplasm of zorb")
    assert "zorb cancer" not in rewrite("secondary malignant neoplasm of zorb")
    assert "benign zorb tumor" in rewrite("benign neoplasm of zorb")


def test_no_single_word_or_with_clause_aliases() -> None:
    ok = _script().alias_ok
    assert not ok("pain") and not ok("fracture")
    assert not ok("disease pain")  # all generic words
    assert not ok("zorbitis with fistula")
    assert not ok("left knee pain")
    assert ok("knee pain")


def test_alias_claimed_by_several_codes_goes_to_the_common_ancestor() -> None:
    resolve = _script().resolve_alias_owners
    # Pain in right / left shoulder -> Pain in shoulder (M25.51).
    assert resolve({"a": ["M25511", "M25512"]}) == {"a": "M25.51"}
    assert resolve({"a": ["M2551", "M25511"]}) == {"a": "M25.51"}
    # Nonrheumatic vs rheumatic aortic insufficiency: no common code, the alias is dropped.
    assert resolve({"a": ["I351", "I061"]}) == {}
