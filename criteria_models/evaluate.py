"""Three-valued (Kleene) evaluation of a criteria model against one patient's facts.

Each requirement node gives met / not_met / unknown (plus not_applicable for a criterion whose
applicability is false), with the facts that decided it as evidence and a one-line reason.
Silence is ``unknown`` unless the node says otherwise (``when_silent``): a trial team must see
the difference between "the notes say no" and "the notes do not say".
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from operator import attrgetter
from typing import TypeVar

from criteria_models.doses import comparable_dose
from criteria_models.facts import PatientContext, PatientFact
from criteria_models.model import (
    AllOf,
    AnyOf,
    AtLeast,
    Comparator,
    ConceptRef,
    Condition,
    Criterion,
    Demographic,
    DoseBound,
    Label,
    Measurement,
    Medication,
    Not,
    Protocol,
    Requirement,
    TimeWindow,
)
from criteria_models.units import convert, normalise_unit, unitless_count


@dataclass(frozen=True, slots=True)
class EvidenceRef:
    note_id: str
    start: int
    end: int
    text: str

    @classmethod
    def of(cls, fact: PatientFact) -> EvidenceRef:
        return cls(fact.note_id, fact.start, fact.end, fact.snippet or fact.lexical_variant)


@dataclass(frozen=True, slots=True)
class Verdict:
    label: Label
    reason: str = ""
    evidence: tuple[EvidenceRef, ...] = ()


@dataclass(frozen=True, slots=True)
class PatientResult:
    patient_id: str
    trial_id: str
    overall: str
    cohort: str
    score: float
    criteria: dict[str, Verdict] = field(default_factory=dict)


def _compare(a: float, comparator: Comparator, b: float) -> bool:
    if comparator == ">":
        return a > b
    if comparator == ">=":
        return a >= b
    if comparator == "<":
        return a < b
    if comparator == "<=":
        return a <= b
    return abs(a - b) < 1e-9


_HEDGED = {"probable", "possible", "suspected"}  # criterion qualifiers a hedged mention meets

# Set by the note pipeline on a drug dated by its note ("Current meds: X"): in use then, not
# started then.
_IN_USE_AT_NOTE = "date=in_use_at_note"
# Modifier of a fact dated by a start ("since 2022"): in use from that date on.
_SINCE = "date=since"


def _sort_key(fact: PatientFact) -> tuple[dt.date, int]:
    return (fact.note_date or dt.date.min, fact.start)


def _evidence(facts: Iterable[PatientFact], limit: int = 3) -> tuple[EvidenceRef, ...]:
    seen: list[EvidenceRef] = []
    for f in sorted(facts, key=_sort_key, reverse=True):
        ref = EvidenceRef.of(f)
        if ref not in seen:
            seen.append(ref)
        if len(seen) >= limit:
            break
    return tuple(seen)


class _RefMatcher:
    """``ConceptRef.matches`` over a list of refs, with each (system, code) answer remembered.

    Matching is the inner loop of evaluation (every requirement node against every fact of every
    patient), and the same few hundred codes recur across patients, so each code is tested once
    per ref list; a patient's codes are then selected with set operations. The refs are kept as
    a snapshot of their content, so editing a model later cannot change a cached answer.
    """

    __slots__ = ("hits", "refs", "seen")

    def __init__(self, refs: tuple[tuple[str, str, bool], ...]) -> None:
        self.refs = refs
        self.seen: set[tuple[str, str]] = set()
        self.hits: set[tuple[str, str]] = set()

    def select(self, codes: set[tuple[str, str]]) -> set[tuple[str, str]]:
        """The (system, code) keys of ``codes`` that one of the refs matches."""
        unseen = codes - self.seen
        if unseen:
            for system, code in unseen:
                for r_system, r_code, descendants in self.refs:
                    if system == r_system and (
                        code == r_code or (descendants and code.startswith(r_code))
                    ):
                        self.hits.add((system, code))
                        break
            self.seen |= unseen
        return codes & self.hits

    def __call__(self, system: str, code: str) -> bool:
        return bool(self.select({(system, code)}))

    def has(self, key: tuple[str, str]) -> bool:
        """Whether one of the refs matches ``key`` (system, code)."""
        if not self.refs:
            return False
        if key not in self.seen:
            self.select({key})
        return key in self.hits


# Keyed by the refs' content (system, code, descendants), not by object identity: models are
# mutable, and a ref list edited in place must not keep its old answers.
_RefKey = tuple[tuple[str, str, bool], ...]
_MATCHERS: dict[_RefKey, _RefMatcher] = {}


_REF_FIELDS = attrgetter("system", "code", "include_descendants")


def _key(refs: Sequence[ConceptRef]) -> _RefKey:
    return tuple(map(_REF_FIELDS, refs)) if refs else ()


def _relevance(node: Condition) -> _RefMatcher:
    """Matches a code named by any of the node's concepts, positive/negative tests or absent_if."""
    return _matcher([*node.concepts, *node.positive_tests, *node.negative_tests, *node.absent_if])


_K = TypeVar("_K")
_V = TypeVar("_V")


def _remembered(cache: dict[_K, _V], key: _K, make: Callable[[], _V]) -> _V:
    """``cache[key]``, made on first use; the cache is emptied when it grows past 100,000."""
    found = cache.get(key)
    if found is None:
        if len(cache) > 100_000:
            cache.clear()
        found = cache[key] = make()
    return found


def _matcher(refs: Sequence[ConceptRef]) -> _RefMatcher:
    key = _key(refs)
    found = _MATCHERS.get(key)  # the hot path: no call when the matcher exists
    return found if found is not None else _remembered(_MATCHERS, key, lambda: _RefMatcher(key))


def _matches(refs: Sequence[ConceptRef], fact: PatientFact) -> bool:
    if not refs:
        return False
    key = (fact.code_system, fact.code)
    matcher = _matcher(refs)
    if key not in matcher.seen:
        matcher.select({key})
    return key in matcher.hits


def _days_before(date: dt.date, context: PatientContext) -> int | None:
    if context.screening_date is None:
        return None
    return (context.screening_date - date).days


def _in_window(date: dt.date, window: TimeWindow, context: PatientContext) -> bool | None:
    days = _days_before(date, context)
    if days is None:
        return None
    if window.min_days_before is not None and days < window.min_days_before:
        return False
    if window.max_days_before is not None and (days > window.max_days_before or days < 0):
        return False
    return True


class Evaluator:
    """Evaluates requirement trees for one patient; facts are read, never changed."""

    def __init__(self, context: PatientContext, facts: Sequence[PatientFact]) -> None:
        self.context = context
        self.facts = [f for f in facts if not f.family]
        self._keys = [(f.code_system, f.code) for f in self.facts]
        self._codes = set(self._keys)
        self._rows: dict[tuple[str, str], list[int]] = {}
        for i, key in enumerate(self._keys):
            self._rows.setdefault(key, []).append(i)
        self._drug_rows = [i for i, f in enumerate(self.facts) if f.category == "drug"]
        # Denials of ICD-10-CM concepts, which may deny a narrower concept a node names.
        self._icd_denials: dict[str, list[int]] = {}
        for i, f in enumerate(self.facts):
            if f.negated and f.code_system == "ICD10CM" and not f.hypothetical:
                self._icd_denials.setdefault(f.code, []).append(i)
        self._diagnoses_by_sentence: dict[tuple[str, str], list[PatientFact]] = {}
        for f in self.facts:
            if f.category == "diagnosis":
                self._diagnoses_by_sentence.setdefault((f.note_id, f.sentence), []).append(f)

    def _is_about(
        self, fact: PatientFact, about: Sequence[ConceptRef], not_about: Sequence[ConceptRef]
    ) -> bool:
        named = self._diagnoses_by_sentence.get((fact.note_id, fact.sentence), [])
        if not_about and any(_matches(not_about, d) for d in named):
            return False
        return not about or not named or any(_matches(about, d) for d in named)

    # -- groups -----------------------------------------------------------------------------
    def evaluate(self, node: Requirement) -> Verdict:
        if isinstance(node, AllOf):
            return self._all_of(node)
        if isinstance(node, AnyOf):
            return self._any_of(node)
        if isinstance(node, AtLeast):
            return self._at_least(node)
        if isinstance(node, Not):
            return self._not(node)
        if isinstance(node, Condition):
            return self._condition(node)
        if isinstance(node, Medication):
            return self._medication(node)
        if isinstance(node, Measurement):
            return self._measurement(node)
        return self._demographic(node)

    def _children(self, items: Sequence[Requirement]) -> list[Verdict]:
        return [v for v in (self.evaluate(i) for i in items) if v.label != "not_applicable"]

    def _all_of(self, node: AllOf) -> Verdict:
        kids = self._children(node.items)
        failed = [v for v in kids if v.label == "not_met"]
        if failed:
            return Verdict("not_met", failed[0].reason, _merge(failed))
        if all(v.label == "met" for v in kids):
            return Verdict("met", "; ".join(v.reason for v in kids if v.reason), _merge(kids))
        open_ = [v for v in kids if v.label == "unknown"]
        return Verdict("unknown", "; ".join(v.reason for v in open_), _merge(kids))

    def _any_of(self, node: AnyOf) -> Verdict:
        kids = self._children(node.items)
        passed = [v for v in kids if v.label == "met"]
        if passed:
            return Verdict("met", passed[0].reason, _merge(passed))
        if kids and all(v.label == "not_met" for v in kids):
            return Verdict("not_met", "; ".join(v.reason for v in kids), _merge(kids))
        return Verdict("unknown", "; ".join(v.reason for v in kids if v.label == "unknown"))

    def _at_least(self, node: AtLeast) -> Verdict:
        kids = self._children(node.items)
        met = [v for v in kids if v.label == "met"]
        unknown = [v for v in kids if v.label == "unknown"]
        if len(met) >= node.n:
            return Verdict("met", f"{len(met)} of {node.n} required met", _merge(met))
        if len(met) + len(unknown) < node.n:
            return Verdict("not_met", f"only {len(met)} of {node.n} required met", _merge(met))
        return Verdict("unknown", f"{len(met)} of {node.n} met, {len(unknown)} unknown")

    def _not(self, node: Not) -> Verdict:
        inner = self.evaluate(node.item)
        flipped: dict[str, Label] = {"met": "not_met", "not_met": "met"}
        return Verdict(
            flipped.get(inner.label, inner.label), f"not ({inner.reason})", inner.evidence
        )

    # -- leaves -----------------------------------------------------------------------------
    def _condition(self, node: Condition) -> Verdict:
        positive: list[PatientFact] = []
        negative: list[PatientFact] = []
        uncertain: list[PatientFact] = []
        relevant = _relevance(node)
        # The node's ref lists as matchers, built once here rather than once per fact.
        concepts, exceptions = _matcher(node.concepts), _matcher(node.exceptions)
        positive_tests, negative_tests = (
            _matcher(node.positive_tests),
            _matcher(node.negative_tests),
        )
        absent_if = _matcher(node.absent_if)
        # Only facts naming one of the node's concepts or tests (or drugs, for drug classes),
        # in their original order: most facts of a patient concern other criteria.
        rows = [i for key in relevant.select(self._codes) for i in self._rows[key]]
        if node.drug_classes:
            rows += self._drug_rows
        ancestors: set[int] = set()
        if self._icd_denials:
            denies = _ancestor_denials(node)
            ancestors = {
                i for code, found in self._icd_denials.items() if denies(code) for i in found
            }
            rows += ancestors
        for i in sorted(set(rows)):
            f = self.facts[i]
            if f.hypothetical:
                continue
            key = self._keys[i]
            if concepts.has(key):
                if exceptions.has(key) or not self._is_about(f, node.about, node.not_about):
                    continue
                if f.negated:
                    negative.append(f)
                elif f.uncertain:
                    uncertain.append(f)
                elif f.historical and node.status == "current":
                    continue
                else:
                    positive.append(f)
            elif (
                node.drug_classes
                and f.category == "drug"
                and (set(node.drug_classes) & set(f.drug_classes))
            ):
                if f.negated:
                    negative.append(f)
                elif not f.uncertain:
                    positive.append(f)
            elif positive_tests.has(key) and f.result and not f.negated:
                (positive if f.result == "positive" else negative).append(f)
            elif negative_tests.has(key) and f.result == "negative" and not f.negated:
                negative.append(f)
            elif absent_if.has(key) and not (f.negated or f.uncertain):
                negative.append(f)
            elif i in ancestors:
                # "no heart failure" rules out "heart failure with reduced ejection fraction"
                negative.append(f)
        # Reasons name the condition's own concepts; evidence of absence is named after "by".
        own = [f for f in positive + negative + uncertain if _matches(node.concepts, f)]
        names = sorted({f.preferred_name for f in own} or {f.preferred_name for f in positive})
        what = ", ".join(names) or (node.concepts[0].name or node.concepts[0].code)
        if positive and negative:
            # The latest statement wins: later note, then later in the same note. A denial of
            # one member of a group ("no ICH") says nothing of another ("ischemic stroke"): a
            # denied concept cancels only mentions of itself or of its descendants.
            positive = [
                p
                for p in positive
                if not any(_sort_key(n) > _sort_key(p) and _cancels(n, p, node) for n in negative)
            ]
        if positive and uncertain:
            # A later "cannot be confirmed" / "provisional" reopens an earlier affirmation.
            latest_uncertain = max(uncertain, key=_sort_key)
            if _sort_key(latest_uncertain) > _sort_key(max(positive, key=_sort_key)):
                reason = f"{what}: latest statement is uncertain"
                return Verdict("unknown", reason, _evidence([latest_uncertain]))
        if not positive and not negative and uncertain and _HEDGED & set(node.qualifiers):
            # "probable Alzheimer disease", "suspected infection": a hedged diagnosis is what
            # the criterion asks for.
            positive = uncertain
        if positive and _UNCONTROLLED in node.qualifiers:
            control = _control(positive, what)
            if control is not None:
                return control
        if positive:
            if node.window is not None:
                return self._condition_window(node, positive, what)
            return Verdict("met", f"{what} documented", _evidence(positive))
        if negative:
            others = sorted({f.preferred_name for f in negative if not _matches(node.concepts, f)})
            by = f" (by {', '.join(others)})" if others else ""
            return Verdict("not_met", f"{what}: documented as absent{by}", _evidence(negative))
        if uncertain:
            return Verdict("unknown", f"{what}: uncertain or suspected only", _evidence(uncertain))
        return Verdict(node.when_silent, f"{what}: not mentioned")

    def _condition_window(self, node: Condition, positive: list[PatientFact], what: str) -> Verdict:
        assert node.window is not None
        if node.status == "current" and node.window.min_days_before is None and positive:
            # An active condition now ("active autoimmune disease ... in the past 2 years") is
            # inside any window ending at screening, whenever it began: a stated date is its onset.
            return Verdict("met", f"{what} documented as current", _evidence(positive))
        dated = [f for f in positive if f.event_date is not None]
        if not dated:
            return Verdict("unknown", f"{what} documented, date not found", _evidence(positive))
        # The earliest dated mention is the diagnosis; the latest is the most recent activity.
        pick = min if node.window.min_days_before is not None else max
        fact = pick(dated, key=lambda f: f.event_date or dt.date.min)
        assert fact.event_date is not None
        inside = _in_window(fact.event_date, node.window, self.context)
        days = _days_before(fact.event_date, self.context)
        detail = f"{what} dated {fact.event_date.isoformat()} ({days} days before screening)"
        if inside is None:
            return Verdict("unknown", f"{detail}; screening date missing", _evidence([fact]))
        return Verdict("met" if inside else "not_met", detail, _evidence([fact]))

    def _medication(self, node: Medication) -> Verdict:
        taken: list[PatientFact] = []
        denied: list[PatientFact] = []
        possible: list[PatientFact] = []  # "cannot be confirmed", "possibly received"
        excluded_routes = {r.lower() for r in node.exclude_routes}
        for f in self.facts:
            if f.category != "drug" or f.hypothetical:
                continue
            if not (_matches(node.drugs, f) or set(node.drug_classes) & set(f.drug_classes)):
                continue
            if f.route and f.route.lower() in excluded_routes:
                continue
            if f.uncertain:
                possible.append(f)
            else:
                (denied if f.negated else taken).append(f)
        if node.outcomes:
            # "in remission on adalimumab" is exposure without failure: it does not count.
            responded = {f.code for f in taken if f.outcome == "response"}
            # "in remission on csDMARDs" speaks for every agent of the class.
            responded_classes = {
                f.code for f in taken if f.code_system == "DRUGCLASS" and f.outcome == "response"
            }
            taken = [
                f
                for f in taken
                if f.code not in responded and not (responded_classes & set(f.drug_classes))
            ]
        if node.dose is not None:
            return self._dosed(node, taken, denied, possible, node.dose)
        return self._exposure(node, taken, denied, possible)

    def _dosed(
        self,
        node: Medication,
        taken: list[PatientFact],
        denied: list[PatientFact],
        possible: list[PatientFact],
        bound: DoseBound,
    ) -> Verdict:
        """Exposure counted only at a dose within the bound. Each agent's latest stated dose
        decides; an agent taken at an unstated dose leaves a verdict short of met unknown."""
        within, doses, outside, undosed = _by_dose(taken, bound)
        verdict = self._exposure(node, within, denied, possible)
        if verdict.label == "met":
            return Verdict("met", f"{verdict.reason} ({'; '.join(doses)})", verdict.evidence)
        if undosed:
            names = ", ".join(sorted({f.preferred_name for f in undosed}))
            return Verdict(
                "unknown",
                f"{names} taken, dose not stated (criterion: {_bound(bound)})",
                _evidence(undosed),
            )
        if outside and verdict.label != "not_met":
            shown = "; ".join(why for _, why in outside)
            return Verdict("not_met", shown, _evidence([f for f, _ in outside]))
        return verdict

    def _exposure(
        self,
        node: Medication,
        taken: list[PatientFact],
        denied: list[PatientFact],
        possible: list[PatientFact],
    ) -> Verdict:
        what = ", ".join(node.drug_classes + [d.name or d.code for d in node.drugs])
        if node.window is not None:
            return self._medication_window(node, taken, denied, what)
        if node.current:
            taken, denied = _current_use(taken, denied)
        agents = sorted({f.preferred_name for f in taken if f.code_system != "DRUGCLASS"})
        # A class mention with a count ("two anti-TNF agents") stands for that many agents.
        class_counts = [int(f.value_as_number or 1) for f in taken if f.code_system == "DRUGCLASS"]
        count = max(len(agents), max(class_counts, default=0))
        shown = ", ".join(agents) or ", ".join(sorted({f.lexical_variant or f.code for f in taken}))
        if count >= node.min_distinct_agents:
            reason = f"{count} agent(s) of {what}: {shown}"
            return Verdict("met", reason, _evidence(taken, limit=max(3, len(agents))))
        if taken:
            reason = f"only {count} of {node.min_distinct_agents} {what}: {shown}"
            # Unconfirmed exposures that could make up the count leave the question open.
            maybe = {f.preferred_name for f in possible} - set(agents)
            possible_count = max(
                len(maybe), max((int(f.value_as_number or 1) for f in possible), default=0)
            )
            if count + possible_count >= node.min_distinct_agents:
                return Verdict(
                    "unknown", f"{reason}; more unconfirmed", _evidence(taken + possible)
                )
            return Verdict("not_met", reason, _evidence(taken))
        if denied:
            return Verdict("not_met", f"no {what} documented", _evidence(denied))
        return Verdict(node.when_silent, f"{what}: not mentioned")

    def _medication_window(
        self,
        node: Medication,
        taken: list[PatientFact],
        denied: list[PatientFact],
        what: str,
    ) -> Verdict:
        assert node.window is not None
        # A denial with a date ("no steroids since 2024-10-28") dates the last exposure.
        dated = [f for f in taken + denied if f.event_date is not None]
        if node.window.min_days_before is not None:
            # "for at least 3 months": a date that only says the drug was in use at a note is no
            # start date.
            dated = [f for f in dated if _IN_USE_AT_NOTE not in f.term_modifiers]
        if node.window.max_days_before is not None:
            # "losartan 100 mg daily (since 2022)" in a list of current drugs: in use at the note.
            dated = [_ongoing_at_note(f) for f in dated]
        inside = [f for f in dated if _in_window(f.event_date, node.window, self.context)]  # type: ignore[arg-type]
        inside = [
            f for f in inside if not (f.negated and f.event_date == self.context.screening_date)
        ]
        if inside:
            last = max(inside, key=lambda f: f.event_date or dt.date.min)
            days = _days_before(last.event_date, self.context) if last.event_date else None
            reason = f"{last.preferred_name} on {last.event_date} ({days} days before screening)"
            return Verdict("met", reason, _evidence([last]))
        if dated or denied:
            latest = max(dated or denied, key=lambda f: (f.event_date or dt.date.min, _sort_key(f)))
            when = latest.event_date.isoformat() if latest.event_date else "undated"
            return Verdict(
                "not_met", f"no {what} in window; latest dated mention {when}", _evidence([latest])
            )
        if taken:
            return Verdict("unknown", f"{what} mentioned without date", _evidence(taken))
        return Verdict(node.when_silent, f"{what}: not mentioned")

    def _measurement(self, node: Measurement) -> Verdict:
        if node.sex is not None and self.context.sex and self.context.sex != node.sex:
            return Verdict("not_met", f"rule applies to sex {node.sex} only")
        codes = _matcher(node.analytes).select(self._codes)
        facts = [
            f
            for f, key in zip(self.facts, self._keys, strict=True)
            if key in codes and not f.negated and not f.hypothetical
        ]
        if node.result is not None:
            return self._qualitative(node, facts)
        facts = [f for f in facts if f.value_as_number is not None]
        if not facts:
            name = node.analytes[0].name or node.analytes[0].code
            return Verdict(node.when_silent, f"{name}: no value found")
        verdicts = [self._compare_value(node, f) for f in self._latest_per_analyte(facts)]
        met = [v for v in verdicts if v.label == "met"]
        if met:
            return Verdict("met", "; ".join(v.reason for v in met), _merge(met))
        if all(v.label == "not_met" for v in verdicts):
            return Verdict("not_met", "; ".join(v.reason for v in verdicts), _merge(verdicts))
        return Verdict("unknown", "; ".join(v.reason for v in verdicts), _merge(verdicts))

    @staticmethod
    def _latest_per_analyte(facts: list[PatientFact]) -> list[PatientFact]:
        latest: dict[str, PatientFact] = {}
        for f in sorted(facts, key=lambda f: (f.event_date or f.note_date or dt.date.min, f.start)):
            latest[f.code] = f
        return list(latest.values())

    def _qualitative(self, node: Measurement, facts: list[PatientFact]) -> Verdict:
        resulted = [f for f in facts if f.result]
        name = node.analytes[0].name or node.analytes[0].code
        if not resulted:
            if facts:
                return Verdict("unknown", f"{name}: result pending or not stated", _evidence(facts))
            return Verdict(node.when_silent, f"{name}: not found")
        last = max(resulted, key=_sort_key)
        label: Label = "met" if last.result == node.result else "not_met"
        return Verdict(label, f"{last.preferred_name} {last.result}", _evidence([last]))

    def _compare_value(self, node: Measurement, fact: PatientFact) -> Verdict:
        assert fact.value_as_number is not None
        value = fact.value_as_number
        shown = f"{fact.preferred_name} {value:g} {fact.unit or ''}".strip()
        if node.uln_multiple is not None:
            multiple = fact.uln_multiple
            if multiple is None and fact.ref_high:
                multiple = value / fact.ref_high
            if multiple is None:
                return Verdict("unknown", f"{shown}: no reference range for ULN", _evidence([fact]))
            ok = _compare(multiple, node.comparator, node.uln_multiple)
            sign = node.comparator if ok else _negate(node.comparator)
            reason = f"{shown} = {multiple:.2f} x ULN {sign} {node.uln_multiple:g}"
            return Verdict("met" if ok else "not_met", reason, _evidence([fact]))
        assert node.value is not None
        converted = convert(value, fact.unit, node.unit, fact.code_system + ":" + fact.code)
        if converted is None and fact.unit is None:
            converted = unitless_count(value, node.value, node.unit)
        if converted is None:
            reason = f"{shown}: cannot convert {fact.unit} to {node.unit}"
            return Verdict("unknown", reason, _evidence([fact]))
        unit = normalise_unit(node.unit) or ""
        if fact.value_comparator in (">", ">=", "<", "<="):
            return self._compare_bound(node, fact, converted, shown)
        ok = _compare(converted, node.comparator, node.value)
        sign = node.comparator if ok else _negate(node.comparator)
        shown_conv = (
            shown if normalise_unit(fact.unit) == unit else f"{shown} = {converted:.3g} {unit}"
        )
        reason = f"{shown_conv} {sign} {node.value:g} {unit}".strip()
        return Verdict("met" if ok else "not_met", reason, _evidence([fact]))

    def _compare_bound(
        self, node: Measurement, fact: PatientFact, bound: float, shown: str
    ) -> Verdict:
        """A fact that is itself a bound ("life expectancy > 12 weeks")."""
        assert node.value is not None
        lower = fact.value_comparator in (">", ">=")
        wants_high = node.comparator in (">", ">=")
        if lower == wants_high and _compare(bound, ">=" if wants_high else "<=", node.value):
            label: Label = "met"
        elif lower != wants_high and _compare(bound, "<=" if wants_high else ">=", node.value):
            label = "not_met"
        else:
            label = "unknown"
        reason = f"{shown} stated as {fact.value_comparator} {bound:g}; rule {node.comparator} {node.value:g}"
        return Verdict(label, reason, _evidence([fact]))

    def _demographic(self, node: Demographic) -> Verdict:
        if node.attribute == "sex":
            if not self.context.sex:
                return Verdict("unknown", "sex not recorded")
            ok = self.context.sex.upper()[:1] == str(node.value).upper()[:1]
            return Verdict("met" if ok else "not_met", f"sex {self.context.sex}")
        years = self.context.age_years()
        if years is None:
            return Verdict("unknown", "age not known")
        bound = float(node.value)
        # Ages in whole years are completed years (65 and a half is 65, not > 65); a bound in
        # months ("2-18 months" is 0.17-1.5 years) compares the exact age.
        age: float = float(int(years)) if bound.is_integer() else years
        ok = _compare(age, node.comparator, bound)
        shown = f"{age:.0f}" if bound.is_integer() else f"{age:.2f}"
        return Verdict("met" if ok else "not_met", f"age {shown} {node.comparator} {node.value}")


def _ongoing_at_note(fact: PatientFact) -> PatientFact:
    """A drug taken "since" a date, neither stopped nor denied, was still in use at its note:
    its last exposure is the note's date, not the start date."""
    if (
        _SINCE in fact.term_modifiers
        and not fact.negated
        and fact.outcome != "stopped"
        and fact.note_date is not None
        and fact.event_date is not None
        and fact.note_date > fact.event_date
    ):
        return replace(fact, event_date=fact.note_date)
    return fact


def _current_use(
    taken: list[PatientFact], denied: list[PatientFact]
) -> tuple[list[PatientFact], list[PatientFact]]:
    """Agents in use now: for each agent the latest statement (later note, then later in the
    note) decides; a stop ("discontinued 2023", "off apixaban") or a denial ends use. A class
    denial ("not on any anticoagulant") after an agent's last use ends that agent too."""
    latest: dict[str, PatientFact] = {}
    for f in sorted(taken + denied, key=_sort_key):
        latest[f.code] = f
    class_denials = [f for f in denied if f.code_system == "DRUGCLASS"]
    now: list[PatientFact] = []
    ended: list[PatientFact] = []
    for f in latest.values():
        stopped = f.negated or f.outcome == "stopped"
        later_denial = any(
            _sort_key(d) > _sort_key(f) and d.code in f.drug_classes for d in class_denials
        )
        (ended if stopped or later_denial else now).append(f)
    return now, ended


def _cancels(denial: PatientFact, mention: PatientFact, node: Condition) -> bool:
    """Whether a later denial cancels an earlier mention. A test result, a stated absence
    (``absent_if``: "HTN controlled") or a denial of the concept the criterion names ("no
    infection") speaks for the whole condition; a denied member of the set only for itself and
    its descendants ("no stroke" cancels "ischemic stroke"; "no ICH" does not)."""
    if not _matches(node.concepts, denial) or denial.category == "lab":
        return True
    named = denial.preferred_name.lower()
    if any((c.name or "").lower() == named for c in node.concepts):
        return True  # the concept the criterion names ("no infection" for "active infection")
    if f"{denial.code_system}:{denial.code}" in GROUP_HEADS:
        return True  # a denial of a whole group ("no other infections", "no malignancy")
    if denial.code_system != mention.code_system:
        return False
    code = _denial_scope(denial.code) if denial.code_system == "ICD10CM" else denial.code
    # "no psoriasis" (L40.9, unspecified) denies psoriasis vulgaris (L40.0)
    return mention.code.startswith(code)


def _denial_scope(code: str) -> str:
    """What a denied ICD-10-CM code covers: its category when it is an unspecified code."""
    return code[:3] if _UNSPECIFIED_CODE.match(code) else code


class _AncestorDenials:
    """Whether an ICD-10-CM denial covers every concept a node names (a broader concept
    denied: "no heart failure" for "HFrEF"), remembered per code: the same few denials recur
    across patients, and this runs for every condition node of every patient."""

    __slots__ = ("answers", "exceptions", "icd")

    def __init__(self, node: Condition) -> None:
        self.icd = [c.code for c in node.concepts if c.system == "ICD10CM"]
        self.exceptions = _matcher(node.exceptions)
        self.answers: dict[str, bool] = {}

    def __call__(self, code: str) -> bool:
        """For a denied ICD-10-CM ``code``."""
        answer = self.answers.get(code)
        if answer is None:
            scope = _denial_scope(code)
            answer = (
                bool(self.icd)
                and all(c.startswith(scope) for c in self.icd)
                and not self.exceptions("ICD10CM", code)
            )
            self.answers[code] = answer
        return answer


_ANCESTORS: dict[tuple[_RefKey, _RefKey], _AncestorDenials] = {}


def _ancestor_denials(node: Condition) -> _AncestorDenials:
    key = (_key(node.concepts), _key(node.exceptions))
    return _remembered(_ANCESTORS, key, lambda: _AncestorDenials(node))


# An ICD-10-CM "unspecified" subcode (L40.9, C85.90, I50.9) names its whole category.
_UNSPECIFIED_CODE = re.compile(r"^[A-Z]\d\d\.9[09]?$")


# The codes the concept layer gives a group name ("infection" B99.9, "malignancy" C80.1,
# "stroke" I63.9, ...: pipeline/resources/concept_groups.json, kept in step by a test). A denial
# of one of them denies every member of the group, not just that code.
GROUP_HEADS = frozenset(
    {
        "ICD10CM:B99.9",
        "ICD10CM:C80.1",
        "ICD10CM:C85.90",
        "ICD10CM:C95.90",
        "ICD10CM:D64.9",
        "ICD10CM:D68.9",
        "ICD10CM:D84.9",
        "ICD10CM:E07.9",
        "ICD10CM:E88.9",
        "ICD10CM:F03.90",
        "ICD10CM:F12.20",
        "ICD10CM:F19.10",
        "ICD10CM:F19.20",
        "ICD10CM:F99",
        "ICD10CM:G62.9",
        "ICD10CM:G98.8",
        "ICD10CM:I49.9",
        "ICD10CM:I51.9",
        "ICD10CM:I63.9",
        "ICD10CM:I67.9",
        "ICD10CM:J98.9",
        "ICD10CM:K75.9",
        "ICD10CM:K76.9",
        "ICD10CM:K92.9",
        "ICD10CM:M31.9",
        "ICD10CM:M35.9",
        "ICD10CM:N28.9",
        "ICD10CM:R41.89",
        "ICD10CM:T14.8",
        "ICD10CM:Z85.9",
        "ICD10CM:Z86.711",
        "ICD10CM:Z86.718",
        "ICD10CM:Z86.73",
    }
)


_UNCONTROLLED = "uncontrolled"
_NOT_CONTROLLED = re.compile(
    r"\b(?:uncontrolled|poorly[-\s]controlled|not\s+(?:well[-\s])?controlled|"
    r"inadequately[-\s]controlled|sub-?optimally[-\s]controlled|out\s+of\s+control|"
    r"refractory|resistant|despite|decompensat\w*|worsen\w*|labile|brittle|above\s+goal|"
    r"not\s+at\s+goal)\b",
    re.I,
)
_CONTROLLED = re.compile(
    r"\b(?:(?:well|adequately|optimally|fairly)[-\s])?controlled|\bat\s+goal\b|"
    r"\bin\s+(?:remission|control)\b|\bstable\b|\bnormotensive\b|\beuglycemic\b",
    re.I,
)


def _control(positive: list[PatientFact], what: str) -> Verdict | None:
    """An "uncontrolled" condition ("uncontrolled hypertension") read on the sentences of its
    coded mentions: stated uncontrolled (met), stated controlled (not_met), or control not
    stated (unknown: the disease alone is not what the criterion asks). Local concepts that
    are themselves the qualifier (``ELIG:uncontrolled_disease``) decide on their own (None)."""
    coded = [f for f in positive if f.code_system != "ELIG"]
    if not coded or len(coded) < len(positive):
        return None
    latest = max(coded, key=_sort_key)
    sentence = latest.sentence or latest.snippet
    if _NOT_CONTROLLED.search(sentence):
        return Verdict("met", f"{what} documented as not controlled", _evidence([latest]))
    if _CONTROLLED.search(sentence):
        return Verdict("not_met", f"{what} documented as controlled", _evidence([latest]))
    return Verdict("unknown", f"{what} documented; control not stated", _evidence(coded))


def _bound(bound: DoseBound) -> str:
    equivalent = f" {bound.equivalent}-equivalent" if bound.equivalent else ""
    return f"{bound.comparator} {bound.value:g} {bound.unit}{equivalent}"


def _by_dose(
    taken: list[PatientFact], bound: DoseBound
) -> tuple[list[PatientFact], list[str], list[tuple[PatientFact, str]], list[PatientFact]]:
    """Agents' mentions split by their latest stated dose: within the bound (with the
    arithmetic), outside it (with the arithmetic), or not stated (class mentions and agents
    never given a dose)."""
    latest: dict[str, PatientFact] = {}
    for f in sorted(taken, key=_sort_key):
        if f.code_system != "DRUGCLASS" and f.unit is not None and f.value_as_number is not None:
            latest[f.code] = f
    within: list[PatientFact] = []
    doses: list[str] = []
    outside: list[tuple[PatientFact, str]] = []
    # A class mention ("steroids") next to a dosed agent of the class is about that agent.
    dosed_classes = {c for f in latest.values() for c in f.drug_classes}
    undosed = [
        f
        for f in taken
        if f.code not in latest and not (f.code_system == "DRUGCLASS" and f.code in dosed_classes)
    ]
    for f in latest.values():
        assert f.value_as_number is not None and f.unit is not None
        dose = comparable_dose(f.value_as_number, f.unit, f.preferred_name, bound)
        if dose is None:
            undosed.append(f)
            continue
        value, note = dose
        stated = f"{f.preferred_name} {f.value_as_number:g} {f.unit}{note}"
        if _compare(value, bound.comparator, bound.value):
            within.extend(g for g in taken if g.code == f.code)
            doses.append(f"{stated} {_bound(bound)}")
        else:
            outside.append((f, f"{stated}: not {_bound(bound)}"))
    return within, doses, outside, undosed


def _negate(comparator: Comparator) -> str:
    return {">": "<=", ">=": "<", "<": ">=", "<=": ">", "==": "!="}[comparator]


def _merge(verdicts: Iterable[Verdict]) -> tuple[EvidenceRef, ...]:
    out: list[EvidenceRef] = []
    for v in verdicts:
        for e in v.evidence:
            if e not in out:
                out.append(e)
    return tuple(out)


def evaluate_criterion(criterion: Criterion, evaluator: Evaluator) -> Verdict:
    if not criterion.computable or criterion.requirement is None:
        return Verdict("unknown", f"not computable ({criterion.category or 'free text'})")
    if criterion.applicability is not None:
        applies = evaluator.evaluate(criterion.applicability)
        if applies.label == "not_met":
            return Verdict("not_applicable", f"does not apply: {applies.reason}", applies.evidence)
    return evaluator.evaluate(criterion.requirement)


OVERALL_BASE = {"eligible": 3.0, "needs_review": 2.0, "not_eligible": 1.0, "excluded": 0.0}


def evaluate_protocol(
    protocol: Protocol, context: PatientContext, facts: Sequence[PatientFact]
) -> PatientResult:
    """Evaluate every criterion, then the protocol rule, into an overall label and score."""
    evaluator = Evaluator(context, facts)
    verdicts = {c.id: evaluate_criterion(c, evaluator) for c in protocol.criteria}
    scored = {c.id for c in protocol.criteria if c.scored}
    rule = protocol.rule

    def label(cid: str) -> Label:
        return verdicts[cid].label

    exclusions = [e for e in rule.exclusions if e in scored]
    commons = [c for c in rule.common_inclusions if c in scored]
    # A cohort inclusion that does not apply to the patient (contraception for a man) is
    # satisfied, as a common inclusion is; a cohort still needs one inclusion actually met.
    met_cohorts = [
        ch
        for ch in rule.cohorts
        if all(label(i) in ("met", "not_applicable") for i in ch.criteria)
        and any(label(i) == "met" for i in ch.criteria)
    ]
    possible = [ch for ch in rule.cohorts if not any(label(i) == "not_met" for i in ch.criteria)]
    commons_ok = all(label(c) in ("met", "not_applicable") for c in commons)
    if any(label(e) == "met" for e in exclusions):
        overall = "excluded"
    elif met_cohorts and commons_ok:
        overall = "eligible"
    elif not possible:
        overall = "not_eligible"
    else:
        overall = "needs_review"
    cohort = met_cohorts[0].id if met_cohorts else "none"

    best = max(
        rule.cohorts,
        key=lambda ch: sum(label(i) == "met" for i in ch.criteria) / max(1, len(ch.criteria)),
        default=None,
    )
    inclusions = (best.criteria if best else []) + commons
    inc_share = sum(label(i) in ("met", "not_applicable") for i in inclusions) / max(
        1, len(inclusions)
    )
    exc_share = sum(label(e) in ("not_met", "not_applicable") for e in exclusions) / max(
        1, len(exclusions)
    )
    score = OVERALL_BASE[overall] + 0.5 * inc_share + 0.5 * exc_share
    return PatientResult(
        context.patient_id, protocol.trial_id, overall, cohort, round(score, 4), verdicts
    )
