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


def test_a_single_curated_word_blocks_an_alias_only_outside_what_its_concept_covers() -> None:
    blocked = _script().alias_blocked
    curated = {"cancer", "fracture", "breast cancer"}
    covers = {"cancer": ["C"], "fracture": ["T14.8"]}
    assert not blocked("parotid gland cancer", "C07", curated, covers)  # a kind of cancer
    assert blocked("skull fracture", "S02.91", curated, covers)  # T14.8 does not cover S02
    assert blocked("male breast cancer", "C50.92", curated, covers)  # a curated phrase inside
    assert blocked("cancer", "C80.1", curated, covers)  # the curated term itself
    assert not blocked("thigh tumour", "D16.2", curated, covers)  # no curated word at all


def test_generated_vocabulary_codes_site_cancers_specifically() -> None:
    from pipeline.concepts import concept_index

    terms = concept_index().terms
    assert terms["parotid gland cancer"] == "ICD10CM:C07"
    # the fracture group (concept_groups.json) covers S02: the alias codes the site
    assert terms["skull fracture"] == "ICD10CM:S02.91"


# --- HPO part, on a made-up obo file ----------------------------------------------------------
# HP:0000118 is the real "Phenotypic abnormality" root; every other id and word below is made up
# or chosen to exercise one filter.
TINY_OBO = """format-version: 1.2
data-version: hp/releases/2099-01-01

[Term]
id: HP:0000001
name: All

[Term]
id: HP:0000118
name: Phenotypic abnormality
is_a: HP:0000001 ! All

[Term]
id: HP:0000100
name: Intrauterine growth retardation
def: "Growth of the fetus is restricted; an odd pattern of IUGR." []
synonym: "Intrauterine growth restriction" EXACT []
synonym: "IUGR" EXACT abbreviation []
synonym: "Fetal growth restriction" RELATED []
is_a: HP:0000118 ! Phenotypic abnormality

[Term]
id: HP:0000101
name: Oppositional defiance
synonym: "ODD" EXACT abbreviation []
synonym: "OD" EXACT abbreviation []
synonym: "Irritable" EXACT layperson []
synonym: "Defiance hyperirritabilitia" EXACT []
is_a: HP:0000118 ! Phenotypic abnormality

[Term]
id: HP:0000102
name: Abnormality of the spleen
synonym: "Splenic anomalies" EXACT []
is_a: HP:0000118 ! Phenotypic abnormality

[Term]
id: HP:0000103
name: Pain
is_a: HP:0000118 ! Phenotypic abnormality

[Term]
id: HP:0000104
name: Neck pain
synonym: "Cervical tumor pain" EXACT []
is_a: HP:0000103 ! Pain

[Term]
id: HP:0000105
name: Obsolete growth failure
synonym: "Growth stall" EXACT []
is_a: HP:0000118 ! Phenotypic abnormality
is_obsolete: true

[Term]
id: HP:0000106
name: Hyperfoo syndrome
synonym: "ZQX" EXACT abbreviation []
synonym: "Foo spasticity" EXACT []
is_a: HP:0000118 ! Phenotypic abnormality

[Term]
id: HP:0000107
name: Foo spasticity
synonym: "ZQX" EXACT abbreviation []
is_a: HP:0000118 ! Phenotypic abnormality

[Term]
id: HP:0000108
name: Growth stall
is_a: HP:0000105 ! Obsolete growth failure

[Term]
id: HP:0000200
name: Age of onset
is_a: HP:0000001 ! All

[Term]
id: HP:0000201
name: Juvenile onset bruxoid
synonym: "Juvenile bruxoid" EXACT []
is_a: HP:0000200 ! Age of onset

[Term]
id: HP:0000109
name: Renal tumor
synonym: "Kidney tumor bleeding" EXACT []
synonym: "MDX" EXACT abbreviation []
is_a: HP:0000118 ! Phenotypic abnormality

[Typedef]
id: part_of
name: part of
"""


def _tiny_hpo(taken: set[str] | None = None, abbreviations: set[str] | None = None) -> dict:
    script = _script()
    data = script.build_hpo(
        TINY_OBO, taken or {"renal tumor", "tumor"}, abbreviations or {"MDX"}, "0.0"
    )
    return {e["id"]: e for e in data["terms"]} | {"_file": data}


def test_obo_parser_reads_terms_synonyms_parents_and_release() -> None:
    terms, release = _script().parse_obo(TINY_OBO)
    assert release == "hp/releases/2099-01-01"
    assert "part_of" not in terms  # a [Typedef] stanza is not a term
    iugr = terms["HP:0000100"]
    assert iugr["name"] == "Intrauterine growth retardation"
    assert iugr["parents"] == ["HP:0000118"]
    assert ("IUGR", "EXACT", "abbreviation") in iugr["synonyms"]
    assert ("Fetal growth restriction", "RELATED", "") in iugr["synonyms"]
    assert terms["HP:0000105"]["obsolete"] and not iugr["obsolete"]


def test_hpo_keeps_phenotypic_abnormalities_only_and_not_obsolete_ones() -> None:
    terms, _ = _script().parse_obo(TINY_OBO)
    under = _script().hpo_descendants(terms, "HP:0000118")
    assert {"HP:0000100", "HP:0000104"} <= under
    assert "HP:0000201" not in under  # "Age of onset" branch
    assert "HP:0000105" not in under and "HP:0000108" not in under  # obsolete, and below it


def test_hpo_names_and_exact_synonyms_with_variants() -> None:
    iugr = _tiny_hpo()["HP:0000100"]
    assert "intrauterine growth retardation" in iugr["terms"]
    assert "intrauterine growth restriction" in iugr["terms"]  # EXACT synonym
    assert "fetal growth restriction" not in iugr["terms"]  # RELATED is not the same meaning
    assert iugr["name"] == "Intrauterine growth retardation"


def test_hpo_abbreviations_upper_case_three_letters_not_ordinary_words() -> None:
    out = _tiny_hpo()
    assert out["HP:0000100"]["abbreviations"] == ["IUGR"]  # upper-case in the definition only
    # "ODD" is "odd" in a definition; "OD" has two letters.
    assert out["HP:0000101"]["abbreviations"] == []
    # "ZQX" names two terms: ambiguous, dropped for both.
    assert out["HP:0000106"]["abbreviations"] == [] and out["HP:0000107"]["abbreviations"] == []
    # "MDX" is a curated case-sensitive abbreviation already.
    assert "HP:0000109" not in out or out["HP:0000109"]["abbreviations"] == []


def test_hpo_generic_vague_and_ordinary_words_are_dropped() -> None:
    out = _tiny_hpo()
    assert "HP:0000103" not in out  # "Pain" alone is a generic word
    assert "HP:0000102" not in out  # "Abnormality of ...": a grouping class, synonyms included
    odd = out["HP:0000101"]["terms"]
    assert "irritable" not in odd  # an everyday one-word synonym
    assert "defiance hyperirritabilitia" in odd and "oppositional defiance" in odd


def test_hpo_terms_owned_by_curated_or_icd_terms_are_dropped() -> None:
    out = _tiny_hpo()
    neck = out["HP:0000104"]["terms"]
    assert "neck pain" in neck
    assert "cervical tumor pain" not in neck  # contains the taken term "tumor"
    assert "HP:0000109" not in out  # "renal tumor" is taken, "kidney tumor bleeding" contains it


def test_hpo_phrase_of_two_terms_goes_to_the_term_it_names() -> None:
    out = _tiny_hpo()
    # "Foo spasticity" is HP:0000107's name and HP:0000106's synonym: the name wins.
    assert "foo spasticity" in out["HP:0000107"]["terms"]
    assert "foo spasticity" not in out["HP:0000106"]["terms"]


def test_hpo_output_is_deterministic_and_states_source_and_licence() -> None:
    a = _script().dump(_tiny_hpo()["_file"])
    b = _script().dump(_tiny_hpo()["_file"])
    assert a == b
    data = _tiny_hpo()["_file"]
    assert data["version"] == "2099-01-01"
    assert "2099-01-01" in data["source"] and "2099-01-01" in data["licence"]
    assert "attribution" in data["licence"]
    ids = [e["id"] for e in data["terms"]]
    assert ids == sorted(ids)
    assert all(e["terms"] == sorted(e["terms"]) for e in data["terms"])
