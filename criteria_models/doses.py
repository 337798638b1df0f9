"""Dose comparison for Medication dose bounds: periods and glucocorticoid equivalence.

Kept here, not in the NLP package, because the evaluator compares a criterion's dose bound
("prednisone > 10 mg/day or equivalent") with the dose on a drug fact ("methylprednisolone
16 mg daily"). Units are those ``pipeline/doses.py`` writes: mg or IU, then the periods the text
states ("mg/day", "mg/week", "mg/kg/day"); a bare "mg" is one dose of unstated frequency.
"""

from __future__ import annotations

from criteria_models.model import DoseBound

# mg of prednisone that 1 mg of each systemic glucocorticoid stands for, from the usual
# equivalent anti-inflammatory doses (5 mg prednisone = 5 mg prednisolone = 4 mg
# methylprednisolone = 4 mg triamcinolone = 0.75 mg dexamethasone = 0.6 mg betamethasone =
# 20 mg hydrocortisone = 25 mg cortisone; Liu D et al., Allergy Asthma Clin Immunol 2013;9:30,
# Table 1) and 6 mg deflazacort (its prescribing information).
PREDNISONE_MG_PER_MG: dict[str, float] = {
    "prednisone": 1.0,
    "prednisolone": 1.0,
    "methylprednisolone": 1.25,
    "triamcinolone": 1.25,
    "dexamethasone": 5 / 0.75,
    "betamethasone": 5 / 0.6,
    "hydrocortisone": 0.25,
    "cortisone": 0.2,
    "deflazacort": 5 / 6,
}


def _split(unit: str) -> tuple[str, tuple[str, ...]]:
    parts = unit.lower().split("/")
    return parts[0], tuple(parts[1:])


def comparable_dose(
    value: float, unit: str, agent: str, bound: DoseBound
) -> tuple[float, str] | None:
    """``value`` ``unit`` of ``agent`` in the bound's unit, with a note on any assumption, or
    None when they cannot be compared (another base unit, a per-kilogram bound without a
    per-kilogram dose, a glucocorticoid equivalence for a drug that is not one).

    A dose of unstated frequency ("prednisone 20 mg") is read as one dose per the bound's
    period: notes write a steroid's daily dose and methotrexate's weekly dose that way."""
    base, periods = _split(unit)
    bound_base, bound_periods = _split(bound.unit)
    if base != bound_base:
        return None
    note = ""
    if bound.equivalent == "prednisone":
        factor = PREDNISONE_MG_PER_MG.get(agent.lower())
        if factor is None:
            return None
        if factor != 1.0:
            note = f" = {round(value * factor, 1):g} mg prednisone-equivalent"
        value *= factor
    per_body = [p for p in bound_periods if p in ("kg", "m2")]
    if [p for p in periods if p in ("kg", "m2")] != per_body:
        return None
    time = [p for p in periods if p not in ("kg", "m2")]
    bound_time = [p for p in bound_periods if p not in ("kg", "m2")]
    if time == bound_time:
        return value, note
    if not time and bound_time:
        return value, f"{note} (frequency not stated: one dose per {bound_time[0]})"
    if time == ["week"] and bound_time == ["day"]:
        return value / 7.0, f"{note} (= {round(value / 7.0, 2):g} a day)"
    if time == ["day"] and bound_time == ["week"]:
        return value * 7.0, f"{note} (= {value * 7.0:g} a week)"
    return None
