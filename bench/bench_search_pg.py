"""PostgreSQL search benchmark: `rcm` search *including every facet count* beside the raw backend
query alone, in the same process, interleaved, on synthetic databases loaded by
``bench/pg_load.py`` (``make bench-pg``).

    .venv/bin/python bench/bench_search_pg.py \
        postgresql+psycopg://postgres@127.0.0.1/rcm_bench_100k \
        [--repeat 15] [--json bench/results/search_pg.json]

Raw queries (top 20, the very tsquery ``rcm`` searches: the query parsed and expanded through the
thesaurus, ``rcm.search.parsed_query``):
  raw_cd   ``tsv @@@ q ORDER BY ts_rank_cd(tsv, q) DESC LIMIT 20`` (GIN: ranks every match;
           ``@@@`` is ``@@`` that only the GIN index serves, as in ``rcm.search``);
  raw_rank ``tsv @@@ q ORDER BY ts_rank(tsv, q) DESC LIMIT 20`` (GIN: ranks every match);
  raw_rum  ``tsv @@ q ORDER BY tsv <=> q LIMIT 20`` (RUM: ranked inside the index), when the
           database has the RUM index;
  raw_cd_server  ``raw_cd`` with the server's own settings: the others run with the settings
           ``rcm`` gives its searches (``rcm.store.SEARCH_SETTINGS``), where the code has them.
``rcm_gin`` and ``rcm_rum`` are ``rcm.search.search`` (page, every facet count, snippets, hit
details) with the database's ranking set to GIN and to RUM (``index_state.ranking``; RUM only when
the database has the RUM index). ``rcm`` is the ranking the database had when loaded. Each
database is measured in a fresh subprocess so its peak memory (max RSS) is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

QUERIES = [
    "trafficking",
    "human rights",
    "migrants",
    '"unaccompanied migrant children"',
    "return reintegration",
    "smuggl*",
    "consular protection -detention",
    "refugees OR asylum",
    "natural disasters",
    "labor",
]

RAW = {
    "raw_cd": "ORDER BY ts_rank_cd(tsv, q, 1) DESC, docid LIMIT 20",
    "raw_cd_server": "ORDER BY ts_rank_cd(tsv, q, 1) DESC, docid LIMIT 20",
    "raw_rank": "ORDER BY ts_rank(tsv, q) DESC, docid LIMIT 20",
    "raw_rum": "ORDER BY tsv <=> q LIMIT 20",
}
# The raw queries run with the settings ``rcm`` gives its searches (``Store.tune_search``:
# work_mem, random_page_cost, jit), so that the ratios are ``rcm``'s own work over the same
# database work; ``raw_cd_server`` is ``raw_cd`` with the server's own settings.
SERVER_SETTINGS = {"raw_cd_server"}


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = (len(ordered) - 1) * p
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def stats(times: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(times, 0.5), 2),
        "p95": round(percentile(times, 0.95), 2),
        "worst": round(max(times), 2),
    }


def measure(url: str, repeat: int, queries: list[str]) -> dict[str, Any]:
    from sqlalchemy import text

    from rcm.search import SearchRequest, parsed_query, pg_tsquery, search
    from rcm.store import Store

    store = Store(url)
    with store.connection() as conn:
        has_rum = bool(
            conn.exec_driver_sql(
                "SELECT 1 FROM pg_indexes WHERE indexname = 'ix_statement_search_rum'"
            ).scalar()
        )
        n = conn.exec_driver_sql("SELECT COUNT(*) FROM statement_search").scalar()
        loaded = conn.exec_driver_sql("SELECT ranking FROM index_state").scalar() or "gin"
    kinds = [k for k in RAW if k != "raw_rum" or has_rum]
    rankings = ["gin", "rum"] if has_rum else ["gin"]
    mine = [f"rcm_{r}" for r in rankings]

    def use(ranking: str) -> None:
        # The ranking recorded as ``search_index.use_ranking`` records it, but the RUM index kept
        # while GIN ranks: ``use_ranking("gin")`` drops it (an unused index is still written to),
        # and building it again each round took 25 s at 1M statements.
        with store.transaction() as conn:
            conn.execute(
                text("UPDATE index_state SET ranking = :r, generation = generation + 1"),
                {"r": ranking},
            )

    rows: dict[str, Any] = {}
    every: dict[str, list[float]] = {k: [] for k in [*kinds, *mine]}
    for query in queries:
        params: dict[str, Any] = {}
        pos, neg = pg_tsquery(parsed_query(query), params)
        rest = f" AND NOT (tsv @@ ({neg}))" if neg else ""
        times: dict[str, list[float]] = {k: [] for k in [*kinds, *mine]}
        totals: dict[str, int] = {}
        for i in range(repeat + 1):
            for kind in kinds:
                # The GIN rows with ``@@@`` (``@@`` that only GIN indexes), as rcm.search does:
                # the server crashed once in RUM's bitmap scan at 1M statements.
                match = "tsv @@ q" if kind == "raw_rum" else "tsv @@@ q"
                sql = (
                    f"SELECT docid FROM statement_search, (SELECT {pos} AS q) AS query "
                    f"WHERE {match}{rest} {RAW[kind]}"
                )
                with store.connection() as conn:
                    if kind not in SERVER_SETTINGS and hasattr(store, "tune_search"):
                        store.tune_search(conn)  # this transaction only
                    t0 = time.perf_counter()
                    conn.execute(text(sql), params).all()
                    t1 = time.perf_counter()
                if i:  # the first round warms the caches
                    times[kind].append((t1 - t0) * 1000)
            for ranking in rankings:
                use(ranking)  # outside the timing: a write, as an administrator's choice
                t0 = time.perf_counter()
                result = search(store, SearchRequest(query, limit=20))
                t1 = time.perf_counter()
                totals[ranking] = result.total
                if i:
                    times[f"rcm_{ranking}"].append((t1 - t0) * 1000)
        if len(set(totals.values())) != 1:
            raise SystemExit(f"{query}: GIN and RUM disagree on the total: {totals}")
        for k, v in times.items():
            every[k] += v
        row: dict[str, Any] = {"matches": totals["gin"]}
        for k, v in times.items():
            row[k] = stats(v)
        # Each path beside its own raw query: GIN beside ts_rank_cd, RUM beside tsv <=> q.
        row["ratio_p50_gin_vs_raw_cd"] = round(
            percentile(times["rcm_gin"], 0.5) / percentile(times["raw_cd"], 0.5), 2
        )
        if has_rum:
            row["ratio_p50_rum_vs_raw_rum"] = round(
                percentile(times["rcm_rum"], 0.5) / percentile(times["raw_rum"], 0.5), 2
            )
        rows[query] = row
    use(loaded)
    store.close()
    summary: dict[str, Any] = {k: stats(v) for k, v in every.items()}
    summary["ratio_of_sums_gin_vs_raw_cd"] = round(sum(every["rcm_gin"]) / sum(every["raw_cd"]), 2)
    summary["ratio_p95_gin_vs_raw_cd"] = round(
        percentile(every["rcm_gin"], 0.95) / percentile(every["raw_cd"], 0.95), 2
    )
    if has_rum:
        summary["ratio_of_sums_rum_vs_raw_rum"] = round(
            sum(every["rcm_rum"]) / sum(every["raw_rum"]), 2
        )
        summary["ratio_p95_rum_vs_raw_rum"] = round(
            percentile(every["rcm_rum"], 0.95) / percentile(every["raw_rum"], 0.95), 2
        )
    return {
        "database": url.rsplit("/", 1)[-1],
        "statements": n,
        "rum_index": has_rum,
        "loadavg": list(os.getloadavg()),
        "queries": rows,
        "all": summary,
        "max_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("urls", nargs="+")
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--query", action="append", help="only these queries (repeatable)")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    queries = args.query or QUERIES
    if args.child:
        print(json.dumps(measure(args.urls[0], args.repeat, queries)))
        return
    reports = []
    for url in args.urls:
        extra = [a for q in args.query or [] for a in ("--query", q)]
        child = subprocess.run(
            [sys.executable, __file__, "--child", "--repeat", str(args.repeat), *extra, url],
            check=False,
            capture_output=True,
            text=True,
        )
        if child.returncode:
            raise SystemExit(f"{url}: {child.stderr.strip()[-2000:]}")
        report = json.loads(child.stdout)
        reports.append(report)
        kinds = [k for k in [*RAW, "rcm_gin", "rcm_rum"] if k in report["all"]]
        print(
            f"\n{report['database']} ({report['statements']:,} statements, RUM "
            f"{'yes' if report['rum_index'] else 'no'}), ms p50/p95 over {args.repeat} runs, "
            f"max RSS {report['max_rss_mib']} MiB"
        )
        head = "".join(f"{k:>16}" for k in kinds)
        print(f"{'query':<34} {'matches':>9}{head}  gin/raw_cd rum/raw_rum (p50)")
        for q, r in report["queries"].items():
            cells = "".join(f"{r[k]['p50']:>8}/{r[k]['p95']:<7}" for k in kinds)
            print(
                f"{q:<34} {r['matches']:>9,}{cells}  {r['ratio_p50_gin_vs_raw_cd']:>10} "
                f"{r.get('ratio_p50_rum_vs_raw_rum', '-'):>11}"
            )
        a = report["all"]
        cells = "".join(f"{a[k]['p50']:>8}/{a[k]['p95']:<7}" for k in kinds)
        print(f"{'all queries':<34} {'':>9}{cells}")
        print(
            "  ratio of sums: GIN path / raw ts_rank_cd "
            f"{a['ratio_of_sums_gin_vs_raw_cd']}, RUM path / raw tsv <=> q "
            f"{a.get('ratio_of_sums_rum_vs_raw_rum', '-')}; load average {report['loadavg']}"
        )
    if args.json:
        args.json.write_text(json.dumps(reports, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
