"""What an ICD-10-CM concept named in a criterion covers: the group it names, or its category.

Why: notes are coded as specifically as they are written ("breast cancer" C50.919, "systolic
heart failure" I50.2x), and a criterion is usually written more generally ("malignancy", "heart
failure"). ICD-10-CM's hierarchy does not put a specific code under the lexicon's code for the
general name: "unspecified" codes (I50.9, C85.90) are siblings of the specific ones, and group
names ("liver disease" K76.9) stand for whole blocks. A criterion's concept therefore becomes:

* for a group name listed in ``resources/concept_groups.json``: every ICD-10-CM category of the
  chapters, blocks and categories it covers, written as the fewest code prefixes (all of
  C00-C96 is the one prefix "C"), each matching its descendants;
* for an unspecified or default code ("Heart failure, unspecified", "Type 2 diabetes mellitus
  without complications"): its ancestor up to the three-character category, as long as each step
  up is itself unspecified or default ("Bipolar disorder, unspecified" -> F31);
* otherwise the code itself.

Exceptions in a criterion keep their exact code: "malignancy other than basal cell carcinoma"
must not except every skin cancer.
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources

import simple_icd_10_cm as cm
from pydantic import BaseModel, ConfigDict, Field

from criteria_models.model import ConceptRef


class ConceptGroup(BaseModel):
    model_config = ConfigDict(extra="forbid")
    concept: str = Field(description="SYSTEM:CODE of the lexicon concept that names the group")
    name: str
    covers: list[str] = Field(min_length=1, description="ICD-10-CM chapters, blocks, categories")


class ConceptGroupFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    source: str
    licence: str
    version: str
    groups: list[ConceptGroup]


_RESIDUAL_TITLE = re.compile(r"\s*other\b", re.I)
_DEFAULT_TITLE = re.compile(r"\bunspecified\b|\bwithout complications?\b|\bNOS\b", re.I)


@cache
def concept_groups() -> dict[str, ConceptGroup]:
    raw = resources.files("pipeline.resources").joinpath("concept_groups.json").read_text("utf-8")
    data = ConceptGroupFile.model_validate(json.loads(raw))
    for group in data.groups:
        invalid = [c for c in group.covers if not cm.is_valid_item(c)]
        if invalid:
            raise ValueError(
                f"E-LEX-011 concept_groups.json: {group.concept}: not ICD-10-CM items {invalid}"
            )
    return {g.concept: g for g in data.groups}


@cache
def _all_categories() -> tuple[str, ...]:
    return tuple(c for c in cm.get_all_codes(False) if cm.is_category(c))


def _categories(item: str) -> set[str]:
    """The categories (three characters) of a chapter or block, or the item itself."""
    if cm.is_block(item) and "-" in item:
        # A block is a range of categories in code order ("C4A" sorts between "C49" and "C50");
        # the library's tree does not list every super-block's members, the range does.
        low, high = item.split("-")
        return {c for c in _all_categories() if low <= c <= high}
    if not cm.is_chapter(item):
        return {item}
    out: set[str] = set()
    for child in cm.get_children(item):  # blocks nest: walk them down to the categories
        out |= {child} if cm.is_category(child) else _categories(child)
    return out


def covering_prefixes(items: list[str]) -> list[str]:
    """The fewest code prefixes whose descendants are exactly the items' codes.

    A letter is used when every category with that letter is covered, then two characters, then
    the category; subcategories ("N39.0") are kept as they are.
    """
    wanted: set[str] = set()
    for item in items:
        wanted |= _categories(item)
    categories = {c for c in wanted if len(c) == 3}
    out: set[str] = {c for c in wanted if len(c) != 3}
    universe = _all_categories()
    for width in (1, 2):
        for prefix in sorted({c[:width] for c in categories}):
            members = {c for c in universe if c.startswith(prefix)}
            if members and members <= categories:
                out.add(prefix)
                categories -= members
    out |= categories
    # A subcategory under a covered prefix adds nothing.
    return sorted(c for c in out if not any(c != p and c.startswith(p) for p in out))


def _general_code(code: str) -> str:
    """Up from an unspecified or default code to the concept it is the default of.

    Each step up needs the current title to be unspecified or default, the parent's title to
    add no words to it, and not to be a residual class ("Other and unspecified malignant neoplasm of skin" is not what
    "basal cell carcinoma of skin, unspecified" means); it ends at the category.
    """
    if not cm.is_valid_item(code):
        return code
    current = code
    while len(cm.remove_dot(current)) > 3 and _DEFAULT_TITLE.search(cm.get_description(current)):
        parent = cm.get_parent(current)
        if (
            not parent
            or parent == current
            or not (cm.is_subcategory(parent) or cm.is_category(parent))
            or _RESIDUAL_TITLE.match(cm.get_description(parent))
            or not _title_words(parent) <= _title_words(current)
        ):
            break
        current = parent
    return current


_FUNCTION_WORDS = {"of", "the", "and", "with", "in", "or"}


def _title_words(code: str) -> set[str]:
    """Content words of a code's title, parenthetical notes left out.

    A parent whose title says no more than the child's ("Heart failure" over "Heart failure,
    unspecified") is the concept the child is the default of; one that adds words ("Benign
    neoplasm of colon, rectum, anus and anal canal" over "Benign neoplasm of colon,
    unspecified") is a wider concept and is not taken.
    """
    title = re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", cm.get_description(code).lower())
    return set(re.findall(r"[a-z0-9]+", title)) - _FUNCTION_WORDS


def criterion_refs(system: str, code: str, name: str) -> list[ConceptRef]:
    """The concept refs a criterion naming this concept asks for (see the module docstring)."""
    if system != "ICD10CM":
        return [ConceptRef(system=system, code=code, name=name, include_descendants=False)]
    group = concept_groups().get(f"{system}:{code}")
    if group is not None:
        return [
            ConceptRef(system=system, code=prefix, name=name, include_descendants=True)
            for prefix in _cached_prefixes(tuple(group.covers))
        ]
    return [
        ConceptRef(system=system, code=_general_code(code), name=name, include_descendants=True)
    ]


@cache
def _cached_prefixes(items: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(covering_prefixes(list(items)))
