"""Term variants of the extended ICD-10-CM vocabulary: British spellings and plurals."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "build_extended_vocab.py"


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
