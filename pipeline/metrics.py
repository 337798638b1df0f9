"""Precision, recall and F1 from counts: one definition for every evaluation command."""

from __future__ import annotations


def precision(tp: int, fp: int) -> float:
    return tp / (tp + fp) if tp + fp else 0.0


def recall(tp: int, fn: int) -> float:
    return tp / (tp + fn) if tp + fn else 0.0


def f1(tp: int, fp: int, fn: int) -> float:
    p, r = precision(tp, fp), recall(tp, fn)
    return 2 * p * r / (p + r) if p + r else 0.0


class PrecisionRecall:
    """precision / recall / f1 properties for a class with ``tp``, ``fp`` and ``fn`` counts."""

    __slots__ = ()
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float:
        return precision(self.tp, self.fp)

    @property
    def recall(self) -> float:
        return recall(self.tp, self.fn)

    @property
    def f1(self) -> float:
        return f1(self.tp, self.fp, self.fn)
