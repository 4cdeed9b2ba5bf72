"""Split and suggest a 30-paragraph declaration; train every suggester.

    .venv/bin/python bench/bench_split_suggest.py [--repeat 5] [--json FILE]

A declaration of the compilation's first 30 statements, numbered under "HEREBY DECLARE:", is
split and suggested with suggesters trained once; training is timed apart (the first training,
with imports and caches, reported on its own). Medians in milliseconds and the process's peak
resident memory; CPU times beside the wall times. Uses only the public API, so the same file
measures an older checkout (PYTHONPATH=that/src) for a side-by-side baseline.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
from pathlib import Path

from rcm.parse import read_compilation, split_declaration
from rcm.suggest import Suggester, label_compendium


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    c = label_compendium(read_compilation())
    paragraphs = [s.text for s in c.statements if not s.items][:30]
    text = "DECLARATION\n\nHEREBY DECLARE:\n\n" + "\n\n".join(
        f"{n}. {p}" for n, p in enumerate(paragraphs, 1)
    )
    train, both, train_cpu, both_cpu = [], [], [], []
    start = time.perf_counter()
    suggester = Suggester.train(c)  # the first: with scikit-learn's import and the tables' caches
    first = (time.perf_counter() - start) * 1000
    for _ in range(args.repeat):
        start, cpu = time.perf_counter(), time.process_time()
        Suggester.train(c)
        train.append((time.perf_counter() - start) * 1000)
        train_cpu.append((time.process_time() - cpu) * 1000)
        start, cpu = time.perf_counter(), time.process_time()
        read = split_declaration(text)
        suggester.suggest_many([s.text for s in read.statements])
        both.append((time.perf_counter() - start) * 1000)
        both_cpu.append((time.process_time() - cpu) * 1000)
    report = {
        "paragraphs": len(paragraphs),
        "split_and_suggest_ms": round(statistics.median(both), 1),
        "train_all_ms": round(statistics.median(train), 1),
        "first_train_ms": round(first, 1),
        # CPU time of the process (all its threads): steadier than wall time on a shared machine
        "split_and_suggest_cpu_ms": round(statistics.median(both_cpu), 1),
        "train_all_cpu_ms": round(statistics.median(train_cpu), 1),
        "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }
    print(json.dumps(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
