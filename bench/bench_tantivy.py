"""The limit, measured: an embedded engine that stops early on top-k (tantivy, PyPI ``tantivy``,
installed beside the project for this benchmark only) on the same synthetic statements, beside the
raw FTS5 query and ``rcm.search`` on SQLite, in the same process, interleaved.

    pip install tantivy
    .venv/bin/python bench/bench_tantivy.py bench/data/synthetic-100k.db [--repeat 15] \
        [--json bench/results/tantivy.json]

tantivy indexes the same stemmed bodies (``statement_search.body``, stems from ``rcm.analyze``)
with a whitespace tokenizer, and the facet combination as a fast field; the query is the same
unexpanded stems as the raw FTS5 row. Rows:
  fts5_raw       FTS5 MATCH ... ORDER BY bm25 LIMIT 20
  tantivy_topk   top 20 by BM25 (block-max WAND: stops early)
  tantivy_facets top 20 and a count of matches per facet combination (every match visited)
  rcm            rcm.search.search: page, every facet, snippets, expansion
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

QUERIES = [
    "trafficking",
    "human rights",
    "migrants",
    "return reintegration",
    "natural disasters",
    "labor",
]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def build_index(db: Path, where: Path) -> Any:
    import tantivy

    sb = tantivy.SchemaBuilder()
    sb.add_text_field("body", stored=False, tokenizer_name="whitespace")
    sb.add_integer_field("docid", stored=True, fast=True, indexed=False)
    sb.add_integer_field("combo", stored=False, fast=True, indexed=True)
    index = tantivy.Index(sb.build(), path=str(where))
    writer = index.writer(heap_size=256_000_000)
    src = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    for docid, body in src.execute("SELECT docid, body FROM statement_search"):
        writer.add_document(tantivy.Document(body=body, docid=docid, combo=(docid >> 32) & 0xFFFFF))
    writer.commit()
    writer.wait_merging_threads()
    index.reload()
    return index


def measure(db: Path, repeat: int) -> dict[str, Any]:
    from rcm.search import SearchRequest, fts5_match, parse_query, search
    from rcm.store import Store

    store = Store(f"sqlite:///{db}")
    raw = store.engine.raw_connection()
    raw_sql = (
        "SELECT rowid, bm25(statement_fts) FROM statement_fts WHERE statement_fts MATCH ? "
        "ORDER BY bm25(statement_fts) LIMIT 20"
    )
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        index = build_index(db, Path(tmp))
        build_s = time.perf_counter() - t0
        searcher = index.searcher()
        rows: dict[str, Any] = {}
        every: dict[str, list[float]] = {}
        for query in QUERIES:
            parsed = parse_query(query)
            match, _ = fts5_match(parsed)
            stems = [t.stems("en")[0] for c in parsed.positive for t in c.terms]
            tq = index.parse_query(" AND ".join(stems), ["body"])
            times: dict[str, list[float]] = {
                k: [] for k in ("fts5_raw", "tantivy_topk", "tantivy_facets", "rcm")
            }
            matches = 0
            for i in range(repeat + 1):
                t0 = time.perf_counter()
                cur = raw.cursor()
                cur.execute(raw_sql, (match,))
                cur.fetchall()
                t1 = time.perf_counter()
                searcher.search(tq, 20)
                t2 = time.perf_counter()
                # Facets: every match's combination, read from the fast field (tantivy's own
                # terms aggregation), beside the top 20.
                searcher.search(tq, 20)
                agg = searcher.aggregate(
                    tq, {"combos": {"terms": {"field": "combo", "size": 1 << 20}}}
                )
                t3 = time.perf_counter()
                result = search(store, SearchRequest(query, limit=20))
                t4 = time.perf_counter()
                matches = result.total
                if i:
                    times["fts5_raw"].append((t1 - t0) * 1000)
                    times["tantivy_topk"].append((t2 - t1) * 1000)
                    times["tantivy_facets"].append((t3 - t2) * 1000)
                    times["rcm"].append((t4 - t3) * 1000)
            counted = sum(b["doc_count"] for b in agg["combos"]["buckets"])
            row: dict[str, Any] = {"matches_rcm": matches, "matches_tantivy": counted}
            for k, v in times.items():
                every.setdefault(k, []).extend(v)
                row[k] = {
                    "p50": round(percentile(v, 0.5), 2),
                    "p95": round(percentile(v, 0.95), 2),
                }
            rows[query] = row
    store.close()
    summary = {
        k: {"p50": round(percentile(v, 0.5), 2), "p95": round(percentile(v, 0.95), 2)}
        for k, v in every.items()
    }
    sums = {k: sum(v) for k, v in every.items()}
    return {
        "database": str(db),
        "tantivy_build_s": round(build_s, 1),
        "queries": rows,
        "all": summary,
        "ratio_of_sums_to_tantivy_facets": {
            k: round(v / sums["tantivy_facets"], 2) for k, v in sums.items()
        },
        "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "loadavg": [round(x, 2) for x in os.getloadavg()],  # the machine is shared
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("database", type=Path)
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    report = measure(args.database, args.repeat)
    kinds = list(report["all"])
    print(
        f"{args.database}: tantivy index built in {report['tantivy_build_s']} s, "
        f"max RSS {report['max_rss_mib']} MiB; ms p50/p95"
    )
    print(f"{'query':<22} {'matches':>8}" + "".join(f"{k:>18}" for k in kinds))
    for q, r in report["queries"].items():
        cells = "".join(f"{r[k]['p50']:>9}/{r[k]['p95']:<8}" for k in kinds)
        print(f"{q:<22} {r['matches_rcm']:>8}{cells}")
    a = report["all"]
    print(f"{'all':<22} {'':>8}" + "".join(f"{a[k]['p50']:>9}/{a[k]['p95']:<8}" for k in kinds))
    print("ratio of sums to tantivy with facets:", report["ratio_of_sums_to_tantivy_facets"])
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
