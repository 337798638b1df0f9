"""The cheap pre-checks in pipeline.facts must never hide a match of the pattern they guard."""

from __future__ import annotations

import re
import re._constants as sre  # the parsed form is the only way to read a pattern's alternatives
import re._parser as sre_parse
from typing import Any

import pytest

from pipeline.facts import (
    _COURSE_PREFILTERS,
    _CURRENT_PREFILTER,
    _OUTCOME_PREFILTER,
    _OUTCOMES,
    _ROUTE_EXACT,
    _ROUTE_NEEDLES,
    _ROUTES,
    _first,
    _first_route,
    _Prefiltered,
)

PREFILTERS = {
    "outcome": _OUTCOME_PREFILTER,
    "current": _CURRENT_PREFILTER,
    **{f"course_{name}": prefilter for name, prefilter in _COURSE_PREFILTERS},
}


def _covered(items: list[tuple[Any, Any]], needles: tuple[str, ...], lower: bool = True) -> bool:
    """Whether every string a parsed sequence matches contains one of ``needles`` (compared
    lower-cased, or as written when ``lower`` is False)."""
    run = ""
    for op, av in [*items, (None, None)]:
        if op is sre.LITERAL:
            run += chr(av).lower() if lower else chr(av)
            continue
        if any(n in run for n in needles):
            return True
        run = ""
        if op is sre.SUBPATTERN and _covered(list(av[-1].data), needles, lower):
            return True
        if op is sre.BRANCH and all(_covered(list(alt.data), needles, lower) for alt in av[1]):
            return True
    return False


@pytest.mark.parametrize("name", sorted(PREFILTERS))
def test_every_alternative_holds_a_needle(name: str) -> None:
    prefilter = PREFILTERS[name]
    parsed = sre_parse.parse(prefilter.pattern.pattern, prefilter.pattern.flags)
    assert _covered(list(parsed.data), prefilter.needles), name
    assert prefilter.lower is not prefilter.pattern  # the faster case-sensitive form is in use


@pytest.mark.parametrize("name", [name for name, _ in _OUTCOMES])
def test_every_outcome_pattern_is_covered_by_the_combined_prefilter(name: str) -> None:
    pattern = dict(_OUTCOMES)[name]
    parsed = sre_parse.parse(pattern.pattern, pattern.flags)
    assert _covered(list(parsed.data), _OUTCOME_PREFILTER.needles), name


@pytest.mark.parametrize("name", [name for name, _ in _ROUTES])
def test_every_route_match_holds_a_route_needle(name: str) -> None:
    pattern = dict(_ROUTES)[name]
    parsed = list(sre_parse.parse(pattern.pattern, pattern.flags).data)
    if pattern.flags & re.IGNORECASE:
        assert _covered(parsed, _ROUTE_NEEDLES), name
    else:
        # Case-sensitive: "IV" must be written so; lower-case needles hold in lower-cased text.
        needles = (*_ROUTE_EXACT, *(n for n in _ROUTE_NEEDLES if n.islower()))
        assert _covered(parsed, needles, lower=False), name


def test_covered_is_able_to_fail() -> None:
    parsed = sre_parse.parse(r"\b(failed|no\s+response|toxic)\b", re.I)
    assert not _covered(list(parsed.data), ("fail", "toxic"))
    assert _covered(list(parsed.data), ("fail", "toxic", "response"))
    exact = sre_parse.parse(r"\b(IV|intravenous)\b")
    assert not _covered(list(exact.data), ("iv", "intra"), lower=False)
    assert _covered(list(exact.data), ("IV", "intra"), lower=False)


@pytest.mark.parametrize(
    "text",
    [
        "stopped for RASH",
        "Infliximab 2018-2020, LOSS OF RESPONSE.",
        "methotrexate 15 mg weekly, metformin 500 mg",
        "was ineffective",
        "still active disease",
        "in deep remission on MTX",
        "Currently on MTX",
        "remains ON methotrexate",
        "on MTX daily",
        "MTX was STOPPED",
        "no longer  taking MTX",
        "tapered off",
        "still taking it",
        "holder",
        "Intolérance reported",  # non-ASCII: the regex decides
        "",
    ],
)
@pytest.mark.parametrize("name", sorted(PREFILTERS))
def test_prefilter_agrees_with_the_regex(text: str, name: str) -> None:
    prefilter = PREFILTERS[name]
    assert prefilter.found(text) == bool(prefilter.pattern.search(text))


def test_prefilter_without_needle_misses_matches() -> None:
    # A needle list that does not cover the pattern would hide matches: the check above matters.
    weak = _Prefiltered(re.compile(r"\b(fail|toxic)\b", re.I), ("fail",))
    assert not weak.found("toxic") and weak.pattern.search("toxic")


def test_one_route_scan_agrees_with_route_by_route() -> None:
    words = [w for _, p in _ROUTES for w in re.findall(r"[A-Za-z]{2,}", p.pattern)]
    words += ["p.o.", "by mouth", "nasal spray", "knee injection", "intra-articular", "iv", "Iv"]
    texts = [" ".join(words[i : i + k]) for k in (1, 2, 3) for i in range(len(words))]
    texts += [w.upper() for w in words] + [w.title() for w in words] + ["", "no route here"]
    for text in texts:
        assert _first_route(text) == _first(_ROUTES, text), text
    assert _first_route("IV then PO") == "iv"
    assert _first_route("po then IV") == "oral"


@pytest.mark.parametrize(
    ("text", "precision"),
    [
        ("seen 2020-03-14 in clinic", "day"),
        ("since 2020-03, stable", "month"),
        ("on 3/14/2020 started", "day"),
        ("from 03/2020 onwards", "month"),
        ("Mar. 14th, 2020 visit", "day"),
        ("March\u00a02020 visit", "month"),  # non-ASCII white space before the year
        ("Sept\t2019", "month"),
        ("diagnosed in 2019.", "year"),
    ],
)
def test_date_pattern_gating_keeps_every_kind(text: str, precision: str) -> None:
    # find_dates skips patterns whose year neighbourhood ("-" after, "/" or space before) is
    # absent from the text; each kind must still be found where it is present.
    from pipeline.dates import find_dates

    found = find_dates(text, None)
    assert [d.precision for d in found] == [precision], text
