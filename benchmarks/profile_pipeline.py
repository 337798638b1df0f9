"""Where the note pipeline spends its time: per-component milliseconds per note and a cProfile.

Usage: ``python benchmarks/profile_pipeline.py [N_NOTES] [--cprofile]`` (MTSamples, first N
non-empty notes, default 200). The tokenizer is warmed on the notes first, as in ``elig bench``.
Prints timings only, never note text.
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import time
from collections import defaultdict

from pipeline.bench import DEFAULT_MTSAMPLES, read_mtsamples
from pipeline.facts import facts_from_doc
from pipeline.nlp import build_nlp


def main(argv: list[str]) -> None:
    n = int(argv[0]) if argv and argv[0].isdigit() else 200
    texts = [note.text for note in read_mtsamples(DEFAULT_MTSAMPLES, n)]
    nlp = build_nlp()
    for text in texts:
        nlp.tokenizer(text)
    timings: dict[str, float] = defaultdict(float)
    profiler = cProfile.Profile() if "--cprofile" in argv else None
    if profiler:
        profiler.enable()
    t_all = time.perf_counter()
    for text in texts:
        t0 = time.perf_counter()
        doc = nlp.make_doc(text)
        timings["tokenizer"] += time.perf_counter() - t0
        for name, proc in nlp.pipeline:
            t0 = time.perf_counter()
            doc = proc(doc)
            timings[name] += time.perf_counter() - t0
        t0 = time.perf_counter()
        facts_from_doc(doc, "profile", "note", None)
        timings["facts_from_doc"] += time.perf_counter() - t0
    total = time.perf_counter() - t_all
    if profiler:
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
    print(f"{len(texts)} notes, {len(texts) / total:.1f} notes/s")
    for name, seconds in timings.items():
        print(f"  {name:<22} {1000 * seconds / len(texts):6.2f} ms/note")


if __name__ == "__main__":
    main(sys.argv[1:])
