"""Unit conversion for thresholds: mass/volume units and analyte-specific molar conversions.

Conversions between mg/dL and umol/L depend on the analyte's molar mass, so they are keyed by
analyte code (the LAB codes of pipeline/resources/labs.json). Kept here, not in the NLP package,
because the evaluator compares a criterion's threshold unit with a fact's unit.
"""

from __future__ import annotations

import re

# umol/L per mg/dL, by analyte code (creatinine 88.42, bilirubin 17.1: standard factors).
MOLAR_FACTORS: dict[str, float] = {
    "LAB:creatinine": 88.42,
    "LAB:bilirubin_total": 17.1,
    "LAB:bilirubin_direct": 17.1,
    "LAB:glucose": 55.51,
}

# Pure scale factors to a base unit within one dimension.
_SCALE: dict[str, tuple[str, float]] = {
    "mg/dl": ("mass_per_volume", 10.0),  # in mg/L
    "mg/l": ("mass_per_volume", 1.0),
    "g/dl": ("mass_per_volume", 10000.0),
    "g/l": ("mass_per_volume", 1000.0),
    "ug/ml": ("mass_per_volume", 1.0),
    "umol/l": ("molar", 1.0),
    "mmol/l": ("molar", 1000.0),
    "ms": ("time", 0.001),
    "s": ("time", 1.0),
    "days": ("duration", 1.0),
    "weeks": ("duration", 7.0),
    "months": ("duration", 30.4375),
    "years": ("duration", 365.25),
    "u/l": ("activity", 1.0),
    "iu/l": ("activity", 1.0),
    "fold": ("ratio", 1.0),
    "%": ("percent", 1.0),
    # Cell counts, in cells per microlitre (= per mm3): 10^9/L = 10^3/uL.
    "/ul": ("count", 1.0),
    "x10^3/ul": ("count", 1e3),
    "x10^9/l": ("count", 1e3),
    "x10^6/ul": ("count", 1e6),
    "x10^12/l": ("count", 1e6),
    # Ratios to urine creatinine (albumin or protein): 1 mg/mmol = 8.84 mg/g (creatinine
    # 113.12 g/mol).
    "mg/g": ("per_creatinine", 1.0),
    "mg/mmol": ("per_creatinine", 8.84),
    "ug/mg": ("per_creatinine", 1.0),
    "g/g": ("per_creatinine", 1000.0),
}

# Spellings of the count units, after lower-casing and removing blanks, x/× and micro signs.
_COUNT_UNITS: dict[str, str] = {
    "/ul": "/ul",
    "/mm3": "/ul",
    "/mm^3": "/ul",
    "cells/ul": "/ul",
    "cells/mm3": "/ul",
    "cells/mm^3": "/ul",
    "10^3/ul": "x10^3/ul",
    "10^3/mm3": "x10^3/ul",
    "10^3/mm^3": "x10^3/ul",
    "k/ul": "x10^3/ul",
    "thou/ul": "x10^3/ul",
    "10^9/l": "x10^9/l",
    "g/l": "g/l",  # giga per litre is ambiguous with grams per litre: kept as g/l
    "10^6/ul": "x10^6/ul",
    "m/ul": "x10^6/ul",
    "10^12/l": "x10^12/l",
}

_ALIASES: dict[str, str] = {
    "µmol/l": "umol/l",
    "μmol/l": "umol/l",
    "mcmol/l": "umol/l",
    "msec": "ms",
    "week": "weeks",
    "wk": "weeks",
    "wks": "weeks",
    "month": "months",
    "mo": "months",
    "year": "years",
    "yr": "years",
    "yrs": "years",
    "day": "days",
    "x": "fold",
    "-fold": "fold",
    "times": "fold",
    "iu/ml": "iu/ml",
}


def normalise_unit(unit: str | None) -> str | None:
    if unit is None:
        return None
    u = unit.strip().lower().replace(" ", "")
    u = _ALIASES.get(u, u)
    if "/" in u and ("10" in u or "ul" in u or "mm" in u or "µ" in u or "μ" in u or "mc" in u):
        count = re.sub(r"^[x×*]", "", u.replace("µ", "u").replace("μ", "u").replace("mcl", "ul"))
        count = re.sub(r"10[e*]", "10^", count).replace("³", "^3")
        if count in _COUNT_UNITS:
            return _COUNT_UNITS[count]
    return u


def convert(value: float, from_unit: str | None, to_unit: str | None, analyte: str) -> float | None:
    """Convert ``value`` to ``to_unit``; None when the units cannot be related."""
    src, dst = normalise_unit(from_unit), normalise_unit(to_unit)
    if src == dst or src is None or dst is None:
        return value if src == dst or dst is None else None
    if src not in _SCALE or dst not in _SCALE:
        return None
    (src_dim, src_f), (dst_dim, dst_f) = _SCALE[src], _SCALE[dst]
    if src_dim == dst_dim:
        return value * src_f / dst_f
    factor = MOLAR_FACTORS.get(analyte)
    if factor is None:
        return None
    if src_dim == "mass_per_volume" and dst_dim == "molar":
        mg_dl = value * src_f / _SCALE["mg/dl"][1]
        return mg_dl * factor / dst_f
    if src_dim == "molar" and dst_dim == "mass_per_volume":
        umol_l = value * src_f
        mg_dl = umol_l / factor
        return mg_dl * _SCALE["mg/dl"][1] / dst_f
    return None


def unitless_count(value: float, threshold: float, unit: str | None) -> float:
    """A cell count written without a unit ("Plt 188", "ANC 1.2"), in ``unit`` of a count
    threshold. Counts are written either per microlitre (150000) or in thousands per
    microlitre (= 10^9/L: 150, 1.5); three orders of magnitude separate the two, so when the
    value and the threshold are 100-fold or more apart the value is read in the other scale.
    Any other unit: the value as it stands."""
    u = normalise_unit(unit)
    if u not in _SCALE or _SCALE[u][0] != "count" or value <= 0 or threshold <= 0:
        return value
    per_ul = _SCALE[u][1]
    if threshold / value >= 100:  # "188" against 100,000/mm3: thousands per microlitre
        return value * 1e3 / per_ul
    if value / threshold >= 100:  # "1500" against 1.5 x10^9/L: per microlitre
        return value / per_ul
    return value
