"""Fictional clinical notes in OMOP NOTE shape, for scale tests and benchmarks.

Why: real notes cannot leave a site, yet batch runs must be measured on realistic volumes. Notes
are assembled from varied templates (consult, progress, discharge), diagnoses, drugs with
outcomes, labs with values and units, negations, family history and hypotheticals, so every
pipeline stage does real work. Everything is invented; a seed makes a corpus reproducible.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pandas as pd

DIAGNOSES = [
    "ulcerative colitis",
    "Crohn's disease",
    "rheumatoid arthritis",
    "dermatomyositis",
    "adult-onset Still's disease",
    "type 2 diabetes mellitus",
    "hypertension",
    "chronic kidney disease stage 3",
    "heart failure with reduced ejection fraction",
    "atrial fibrillation",
    "asthma",
    "hypothyroidism",
    "major depressive disorder",
    "osteoarthritis",
    "iron-deficiency anemia",
]
NEGATABLE = [
    "hepatitis B",
    "hepatitis C",
    "HIV",
    "tuberculosis",
    "stroke",
    "seizures",
    "myocardial infarction",
    "pregnancy",
    "malignancy",
    "pneumonia",
]
DRUGS = [
    ("prednisone", "40 mg daily"),
    ("methotrexate", "20 mg weekly"),
    ("azathioprine", "150 mg daily"),
    ("infliximab", "5 mg/kg q8w"),
    ("adalimumab", "40 mg every other week"),
    ("tocilizumab", "8 mg/kg monthly"),
    ("rituximab", "1 g x2"),
    ("vedolizumab", "300 mg q8w"),
    ("metformin", "1000 mg twice daily"),
    ("lisinopril", "10 mg daily"),
    ("atorvastatin", "40 mg nightly"),
    ("hydroxychloroquine", "200 mg twice daily"),
    ("mycophenolate mofetil", "1 g twice daily"),
    ("budesonide inhaler", "2 puffs twice daily"),
]
OUTCOMES = [
    "with no response",
    "stopped for intolerance (nausea)",
    "with initial response then loss of response",
    "stopped after elevated transaminases",
    "ongoing, tolerating well",
    "",
]
LABS = [
    ("creatinine", 0.5, 2.4, "mg/dL"),
    ("ALT", 12, 180, "U/L"),
    ("AST", 10, 160, "U/L"),
    ("total bilirubin", 0.2, 3.5, "mg/dL"),
    ("hemoglobin", 7.5, 15.5, "g/dL"),
    ("platelets", 60, 420, "x10^9/L"),
    ("CRP", 1, 90, "mg/L"),
    ("HbA1c", 5.0, 11.0, "%"),
    ("WBC", 2.0, 15.0, "x10^9/L"),
    ("LVEF", 25, 65, "%"),
]
TITLES = [
    "RHEUMATOLOGY CONSULT",
    "GASTROENTEROLOGY PROGRESS NOTE",
    "INTERNAL MEDICINE CLINIC NOTE",
    "DISCHARGE SUMMARY",
    "CARDIOLOGY FOLLOW-UP",
]
NOTE_COLUMNS = [
    "note_id",
    "person_id",
    "note_date",
    "note_datetime",
    "note_type_concept_id",
    "note_class_concept_id",
    "note_title",
    "note_text",
    "encoding_concept_id",
    "language_concept_id",
    "provider_id",
    "visit_occurrence_id",
    "visit_detail_id",
    "note_source_value",
    "note_event_id",
    "note_event_field_concept_id",
]


def _lab_line(rng: random.Random) -> str:
    name, lo, hi, unit = rng.choice(LABS)
    value = round(rng.uniform(lo, hi), 1)
    style = rng.randrange(3)
    if style == 0:
        return f"{name} {value} {unit}"
    if style == 1:
        return f"{name}: {value} {unit} (ref range provided by lab)"
    return f"{name} was {value} {unit} on recheck"


def synth_note(rng: random.Random, age: int, sex: str, date: dt.date) -> str:
    """One fictional note: history, medications, labs, negations, plan (order varies)."""
    sx = "F" if sex == "F" else "M"
    dx = rng.sample(DIAGNOSES, k=rng.randint(1, 3))
    year = date.year - rng.randint(1, 12)
    hpi = (
        f"HPI: {age} yo {sx} with {dx[0]} diagnosed in {year}"
        f"{' on biopsy' if rng.random() < 0.4 else ''}. "
        + rng.choice(
            [
                "Presents for routine follow-up.",
                "Referred for evaluation of refractory disease.",
                "Reports worsening symptoms over the past month.",
                "Here to discuss clinical trial options.",
            ]
        )
    )
    meds = []
    for drug, dose in rng.sample(DRUGS, k=rng.randint(1, 4)):
        out = rng.choice(OUTCOMES)
        start = year + rng.randint(0, max(0, date.year - year))
        meds.append(f"- {drug} {dose} since {start}{', ' + out if out else ''}.")
    negs = rng.sample(NEGATABLE, k=rng.randint(1, 3))
    neg_line = rng.choice(
        [
            "Denies " + ", ".join(negs) + ".",
            "No history of " + " or ".join(negs) + ".",
            "Negative for " + ", ".join(negs) + ".",
        ]
    )
    extra = []
    if rng.random() < 0.3:
        extra.append(f"FH: mother with {rng.choice(DIAGNOSES)}.")
    if rng.random() < 0.2:
        extra.append(f"If symptoms worsen, consider evaluation for {rng.choice(NEGATABLE)}.")
    if rng.random() < 0.25:
        extra.append(f"Possible {rng.choice(NEGATABLE)}, to be ruled out.")
    labs = "; ".join(_lab_line(rng) for _ in range(rng.randint(1, 5)))
    sections = [
        hpi,
        "PMH: " + ", ".join(dx) + ".",
        "Medications:\n" + "\n".join(meds),
        "ROS: " + neg_line,
        *extra,
        f"Labs ({date.isoformat()}): {labs}.",
        "Plan: "
        + rng.choice(
            [
                "continue current therapy, recheck labs in 4 weeks.",
                "taper steroids, screen for trial eligibility.",
                "start biologic pending insurance approval.",
                "refer to specialist, return in 3 months.",
            ]
        ),
    ]
    head, body = sections[:2], sections[2:]
    rng.shuffle(body)
    return "\n\n".join([rng.choice(TITLES), *head, *body]) + "\n"


def synth_notes(n_notes: int, seed: int = 0, notes_per_person: int = 3) -> pd.DataFrame:
    """``n_notes`` NOTE rows (CDM v5.4 columns) for ``ceil(n / notes_per_person)`` persons."""
    rng = random.Random(seed)
    rows = []
    person: tuple[int, int, str] | None = None
    for i in range(n_notes):
        if i % notes_per_person == 0:
            person = (100000 + i // notes_per_person, rng.randint(18, 85), rng.choice("FM"))
        assert person is not None
        pid, age, sex = person
        date = dt.date(2025, 1, 1) + dt.timedelta(days=rng.randint(0, 364))
        title = rng.choice(TITLES)
        rows.append(
            {
                "note_id": 1_000_000 + i,
                "person_id": pid,
                "note_date": date,
                "note_datetime": dt.datetime.combine(date, dt.time(9, rng.randint(0, 59))),
                "note_type_concept_id": 32817,  # EHR
                "note_class_concept_id": 0,
                "note_title": title.title(),
                "note_text": synth_note(rng, age, sex, date),
                "encoding_concept_id": 32678,  # UTF-8
                "language_concept_id": 4180186,  # English
                "provider_id": None,
                "visit_occurrence_id": None,
                "visit_detail_id": None,
                "note_source_value": "synth",
                "note_event_id": None,
                "note_event_field_concept_id": 0,
            }
        )
    frame = pd.DataFrame(rows, columns=NOTE_COLUMNS)
    for name in ("provider_id", "visit_occurrence_id", "visit_detail_id", "note_event_id"):
        frame[name] = frame[name].astype("Int64")
    return frame


def write_synth(path: str | Path, n_notes: int, seed: int = 0) -> int:
    """Write a synthetic NOTE table (.parquet, .csv or .jsonl by extension); returns row count."""
    frame = synth_notes(n_notes, seed)
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix == ".csv":
        frame.to_csv(p, index=False)
    elif suffix == ".jsonl":
        frame.to_json(p, orient="records", lines=True, date_format="iso")
    else:
        frame.to_parquet(p, index=False)
    return len(frame)
