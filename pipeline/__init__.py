"""NLP and matching for eligibility-pipeline: notes and criteria text to concepts, facts, verdicts.

Nothing heavy happens at import time: pipelines and lexicons load lazily on first use.
"""

__version__ = "0.3.0"
