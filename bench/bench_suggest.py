"""Suggestion benchmark: what a reviewer waits for when a declaration is added.

    .venv/bin/python bench/bench_suggest.py [--repeat 7] [--json bench/results/suggest.json]

Measures (medians, milliseconds), in one process, side by side:
- training the three suggesters on the compilation (129 statements, curated labels);
- suggesting for the statements of the English sample declaration, beside the baseline that
  needs no model at all (the keyword rules: governing-verb cue and theme-title overlap);
- `rcm declaration add` end to end (split, train, suggest, store) into a fresh SQLite database;
and the process's maximum resident set size. The ratio is suggesters / keyword rules.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from rcm import review
from rcm.parse import read_compilation, read_declaration
from rcm.store import Store
from rcm.suggest import Suggester, label_compendium
from rcm.suggest.category import governing_cue
from rcm.suggest.evaluate import theme_vocabulary
from rcm.suggest.themes import keyword_themes

SAMPLE = Path(__file__).resolve().parents[1] / "tests" / "data" / "declarations" / "xxii_rcm_en.txt"


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    fn()  # warm-up: imports, caches
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    compendium = label_compendium(read_compilation())
    declaration = read_declaration(SAMPLE)
    texts = [s.text for s in declaration.statements]
    suggester = Suggester.train(compendium)
    vocabulary = theme_vocabulary(compendium)

    def rules() -> None:
        for text in texts:
            governing_cue(text)
            keyword_themes(text, vocabulary)

    def add() -> None:
        with tempfile.TemporaryDirectory() as folder:
            store = Store(f"sqlite:///{folder}/bench.db", create=True)
            store.ingest(compendium)
            start = time.perf_counter()
            review.add_declaration(store, declaration, meeting="XXII", year=2017, actor="bench")
            add_times.append((time.perf_counter() - start) * 1000)
            store.close()

    add_times: list[float] = []
    results = {
        "train": timed(lambda: Suggester.train(compendium), args.repeat),
        "suggest": timed(lambda: suggester.suggest_many(texts), args.repeat),
        "rules": timed(rules, args.repeat),
    }
    timed(add, args.repeat)
    results["declaration_add"] = add_times[1:]
    medians = {k: round(statistics.median(v), 2) for k, v in results.items()}
    report = {
        "statements": len(texts),
        "medians_ms": medians,
        "suggest_per_statement_ms": round(medians["suggest"] / len(texts), 2),
        "suggest_vs_rules": round(medians["suggest"] / medians["rules"], 1),
        "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "repeat": args.repeat,
    }
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
