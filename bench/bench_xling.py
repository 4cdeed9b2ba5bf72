"""Cross-language search, measured on paired queries (bench/paired_queries.tsv: a Spanish and an
English query of the same intent, written before the thesaurus was built).

    PYTHONPATH=src python bench/bench_xling.py [--postgres URL] [--repeat 5]
        [--json bench/results/xling.json]

Two directions, on SQLite and (with --postgres) PostgreSQL:
- es->en: over the English compilation, the Spanish query's results against the English query's
  (recall: share of the English query's statements the Spanish query finds; precision: share of
  the Spanish query's statements the English query finds);
- en->es: over Spanish statements (bench/statements_es.txt, written for this benchmark and added
  with lang "es"), the English query's results against the Spanish query's.
A pair whose reference query finds nothing in that direction is left out of that direction's
figures (counted as "undefined"). Times: the cross-language query's median time over the
same-language one's (``ratio``), expansion included.
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

from rcm.model import Statement
from rcm.parse.compilation import read_compilation
from rcm.search import SearchRequest, search
from rcm.store import Store

HERE = Path(__file__).parent
LIMIT = 500


def pairs() -> list[tuple[str, str]]:
    with (HERE / "paired_queries.tsv").open(encoding="utf-8") as fh:
        return [(r["es"], r["en"]) for r in csv.DictReader(fh, delimiter="\t")]


def spanish_statements(meeting: str) -> list[Statement]:
    lines = (HERE / "statements_es.txt").read_text(encoding="utf-8").splitlines()
    texts = [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]
    return [
        Statement(id=f"{meeting}-{9000 + n}", meeting=meeting, text=t, lang="es")
        for n, t in enumerate(texts, 1)
    ]


def build(url: str) -> Store:
    compendium = read_compilation()
    meeting = compendium.statements[-1].meeting
    extra = spanish_statements(meeting)
    store = Store(url, create=True)
    store.ingest(replace(compendium, statements=[*compendium.statements, *extra]))
    return store


def ids(store: Store, query: str, expand: bool = True) -> set[str]:
    result = search(store, SearchRequest(query, limit=LIMIT, expand=expand))
    return {h.id for h in result.hits}


def _timed(store: Store, query: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        search(store, SearchRequest(query, limit=20))
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def measure(store: Store, spanish_ids: set[str], repeat: int = 3) -> dict[str, object]:
    """Recall, precision and time ratio in both directions (see the module's docstring)."""
    out: dict[str, object] = {}
    for direction in ("es->en", "en->es"):
        recalls, precisions, ratios, misses = [], [], [], []
        undefined = 0
        for es, en in pairs():
            query, reference = (es, en) if direction == "es->en" else (en, es)
            subset = (
                (lambda s: s - spanish_ids)
                if direction == "es->en"
                else (lambda s: s & spanish_ids)
            )
            want = subset(ids(store, reference))
            if not want:
                undefined += 1
                continue
            got = subset(ids(store, query))
            hit = len(got & want)
            recalls.append(hit / len(want))
            precisions.append(hit / len(got) if got else 0.0)
            if hit < len(want) or hit < len(got):
                misses.append(
                    {
                        "query": query,
                        "reference": reference,
                        "found": hit,
                        "expected": len(want),
                        "returned": len(got),
                    }
                )
            if repeat:
                ratios.append(_timed(store, query, repeat) / _timed(store, reference, repeat))
        out[direction] = {
            "pairs": len(recalls),
            "undefined": undefined,
            "recall": round(statistics.mean(recalls), 4),
            "precision": round(statistics.mean(precisions), 4),
            "time_ratio_median": round(statistics.median(ratios), 3) if ratios else None,
            "time_ratio_mean": round(statistics.mean(ratios), 3) if ratios else None,
            "imperfect": misses,
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--postgres", help="an empty PostgreSQL database's URL")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path, default=HERE / "results" / "xling.json")
    args = parser.parse_args(argv)
    import tempfile

    results: dict[str, object] = {"pairs": len(pairs())}
    with tempfile.TemporaryDirectory() as tmp:
        urls = {"sqlite": f"sqlite:///{tmp}/xling.db"}
        if args.postgres:
            urls["postgresql"] = args.postgres
        for name, url in urls.items():
            store = build(url)
            spanish = {s.id for s in spanish_statements(read_compilation().statements[-1].meeting)}
            results[name] = measure(store, spanish, args.repeat)
            store.close()
    args.json.write_text(json.dumps(results, ensure_ascii=False, indent=1) + "\n")
    for name in ("sqlite", "postgresql"):
        if name in results:
            for d, r in results[name].items():  # type: ignore[union-attr]
                print(name, d, {k: v for k, v in r.items() if k != "imperfect"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
